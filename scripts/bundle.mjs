// Bundles the compiled CLI into a few ES modules: a handful of files starts much faster than the
// ~100 modules tsc emits (reference/node-stack.md: 5.4x → 1.35x a bare `node -e 0`).
import { build } from 'esbuild';

await build({
  entryPoints: { 'vfio-emu': 'dist/cli/main.js' },
  outdir: 'dist/bundle',
  outExtension: { '.js': '.mjs' },
  // Commands a run does not need (replay, decode, trace recording) load on demand.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // commander is CommonJS: give the bundle a require() for its node: built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
