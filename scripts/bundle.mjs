// Bundles the compiled CLI into one CommonJS file and a V8 code cache for it.
//
// Start time is what users feel: a hundred ES modules from tsc take 5x a bare `node -e 0` to
// load (reference/node-stack.md). One bundle is parsed and compiled once; the code cache,
// made here by the same Node that will run it, lets bin/vfio-emu.cjs skip even that. The cache
// is warmed by running a shipped scenario in-process, so the functions a run needs are in it.
// If a different Node rejects the cache, the loader compiles from source as usual.
import { build } from 'esbuild';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

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

// Modules whose own load is work a plain run does not need: zod builds a class for each of its
// types (and a run builds no schema unless something needs checking beyond the fast paths:
// every schema of ours is made on first use, lib/lazy.ts); chalk builds its styles (and a run
// without colour prints with none, cli/render.ts). In the bundles, `import * as NAME from
// 'MODULE'` becomes an object whose properties load MODULE on first use, so a run that does not
// use it never evaluates it, nor keeps it in the heap. Its properties are the names our modules
// use (`NAME.x`), which also keeps the module tree-shaken.
const LAZY = [
  { module: 'zod/mini', as: 'z' },
  { module: 'chalk', as: 'chalk' },
];
const jsFiles = readdirSync('dist', { recursive: true }).filter((f) => f.endsWith('.js')).map((f) => join('dist', f));
for (const lazy of LAZY) {
  lazy.import = `import * as ${lazy.as} from '${lazy.module}';`;
  const exported = await import(lazy.module);
  const used = new Set();
  for (const f of jsFiles) {
    const text = readFileSync(f, 'utf8');
    if (!text.includes(`'${lazy.module}'`)) continue;
    if (text.split(lazy.import).length !== 2) throw new Error(`${f}: imports ${lazy.module} other than by \`${lazy.import}\``);
    for (const m of text.matchAll(new RegExp(`\\b${lazy.as}\\.([A-Za-z_$][\\w$]*)`, 'g'))) if (m[1] in exported) used.add(m[1]);
  }
  lazy.names = [...used].sort();
}
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    b.onLoad({ filter: /\/dist\/.*\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      const found = LAZY.filter((l) => text.includes(l.import));
      for (const l of found) text = text.replace(l.import, `import { ${l.as} } from 'lazy:${l.module}';`);
      return found.length ? { contents: text, loader: 'js' } : undefined;
    });
    b.onResolve({ filter: /^(lazy|used):/ }, (args) => ({ path: args.path, namespace: 'lazy-modules' }));
    for (const l of LAZY) {
      b.onLoad({ filter: new RegExp(`^used:${l.module}$`), namespace: 'lazy-modules' }, () => ({
        contents: `export { ${l.names.join(', ')} } from '${l.module}';`,
        loader: 'js',
        resolveDir: process.cwd(),
      }));
      // `require` makes esbuild evaluate the module (wrapped, as it does for a required ES
      // module) on the first call, not at load.
      b.onLoad({ filter: new RegExp(`^lazy:${l.module}$`), namespace: 'lazy-modules' }, () => ({
        contents: [
          'let loaded;',
          `const load = () => (loaded ??= require('used:${l.module}'));`,
          `export const ${l.as} = { ${l.names.map((n) => `get ${n}() { return load().${n}; }`).join(', ')} };`,
        ].join('\n'),
        loader: 'js',
        resolveDir: process.cwd(),
      }));
    }
  },
};

// Two bundles: the whole command line, and `run FILE…` alone (src/cli/main-run.ts), which
// bin/vfio-emu.cjs loads for a plain run so that a cold start skips commander and the other
// commands. Each gets its own code cache, warmed by the same shipped scenario.
const { codeCachePath, loadBundle, wrap } = createRequire(import.meta.url)('../bin/vfio-emu.cjs');
const warmText = readFileSync('scenarios/seeds/000-allow-unsafe-delivered.vfio', 'utf8');
for (const [entry, out] of [
  ['dist/cli/main.js', 'dist/vfio-emu.cjs'],
  ['dist/cli/main-run.js', 'dist/vfio-emu-run.cjs'],
]) {
  const { outputFiles } = await build({
    plugins: [noChildProcess, noColorProbe, lazyModules],
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  // The file is the module wrapped as Node would wrap it, so the loader compiles it as read.
  writeFileSync(out, wrap(outputFiles[0].text));
  const file = resolve(out);
  const { exports, script } = loadBundle(file);
  await exports.warm(warmText);
  writeFileSync(codeCachePath(file), script.createCachedData());
}
