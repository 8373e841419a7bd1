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

// commander loads node:child_process (and with it node:net) at startup for executable
// subcommands, which vfio-emu does not have: give it a stub that says so if ever reached.
const noChildProcess = {
  name: 'no-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('node_modules/commander/') ? { path: 'child_process', namespace: 'stub' } : undefined,
    );
    b.onLoad({ filter: /^child_process$/, namespace: 'stub' }, () => ({
      contents: "const no = () => { throw new Error('vfio-emu has no executable subcommands'); }; module.exports = { spawn: no, execFileSync: no };",
      loader: 'js',
    }));
  },
};

// chalk probes the terminal (node:os, node:tty, the environment) when it is imported, for
// its default instance, which vfio-emu never uses: cli/render.ts builds its own Chalk from
// the terminal, NO_COLOR and FORCE_COLOR. Give chalk a probe that finds nothing.
const noColorProbe = {
  name: 'no-color-probe',
  setup(b) {
    b.onResolve({ filter: /^#supports-color$/ }, () => ({ path: 'supports-color', namespace: 'stub' }));
    b.onLoad({ filter: /^supports-color$/, namespace: 'stub' }, () => ({
      contents: 'export default { stdout: false, stderr: false };',
      loader: 'js',
    }));
  },
};

// Two bundles: the whole command line, and `run FILE…` alone (src/cli/main-run.ts), which
// bin/vfio-emu.cjs loads for a plain run so that a cold start skips commander and the other
// commands. Each gets its own code cache, warmed by the same shipped scenario.
const { codeCachePath, loadBundle } = createRequire(import.meta.url)('../bin/vfio-emu.cjs');
const warmText = readFileSync('scenarios/seeds/000-allow-unsafe-delivered.vfio', 'utf8');
for (const [entry, out] of [
  ['dist/cli/main.js', 'dist/vfio-emu.cjs'],
  ['dist/cli/main-run.js', 'dist/vfio-emu-run.cjs'],
]) {
  await build({
    plugins: [noChildProcess, noColorProbe],
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const file = resolve(out);
  const { exports, script } = loadBundle(file);
  await exports.warm(warmText);
  writeFileSync(codeCachePath(file), script.createCachedData());
}
