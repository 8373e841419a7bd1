// Bundles the compiled CLI into one CommonJS file and a V8 code cache for it.
//
// Start time is what users feel: a hundred ES modules from tsc take 5x a bare `node -e 0` to
// load (reference/node-stack.md). One bundle is parsed and compiled once; the code cache,
// made here by the same Node that will run it, lets bin/vfio-emu.cjs skip even that. The cache
// is warmed by running a shipped scenario in-process, so the functions a run needs are in it.
// If a different Node rejects the cache, the loader compiles from source as usual.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

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

const { codeCachePath, loadBundle } = createRequire(import.meta.url)('../bin/vfio-emu.cjs');
const file = resolve(out);
const { exports, script } = loadBundle(file);
await exports.warm(readFileSync('scenarios/seeds/000-allow-unsafe-delivered.vfio', 'utf8'));
writeFileSync(codeCachePath(file), script.createCachedData());
