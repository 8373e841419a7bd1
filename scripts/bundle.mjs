// Bundles the compiled CLI into one CommonJS file and a V8 code cache for it.
//
// Start time is what users feel: a hundred ES modules from tsc take 5x a bare `node -e 0` to
// load (reference/node-stack.md). One bundle is parsed and compiled once; the code cache,
// made here by the same Node that will run it, lets bin/vfio-emu.mjs skip even that. The cache
// is warmed by running a shipped scenario in-process, so the functions a run needs are in it.
// If a different Node rejects the cache, the loader compiles from source as usual.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import vm from 'node:vm';

const out = 'dist/vfio-emu.cjs';
await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const { wrap, codeCachePath } = await import('../bin/load-bundle.mjs');
const file = resolve(out);
const script = new vm.Script(wrap(readFileSync(file, 'utf8')), { filename: file });
const mod = { exports: {} };
script.runInThisContext()(mod.exports, createRequire(file), mod, file, resolve('dist'));
await mod.exports.warm(readFileSync('scenarios/seeds/000-allow-unsafe-delivered.vfio', 'utf8'));
writeFileSync(codeCachePath(file), script.createCachedData());
