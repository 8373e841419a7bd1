#!/usr/bin/env node
// The vfio-emu executable. It loads the bundled CLI (dist/vfio-emu.cjs, built by `npm run
// build`, which `npm ci` runs) with the V8 code cache made beside it at build time, so a run
// skips parsing and compiling the bundle. A cache this Node rejects only costs that compile.
// CommonJS on purpose: Node starts a CommonJS entry point faster than an ES module.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');

/** The wrapper Node itself puts around a CommonJS module. */
const wrap = (src) => `(function (exports, require, module, __filename, __dirname) {${src}\n})`;
const codeCachePath = (file) => file.replace(/\.cjs$/, '.v8cache');

function loadBundle(file) {
  const cache = codeCachePath(file);
  const script = new vm.Script(wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData: existsSync(cache) ? readFileSync(cache) : undefined,
  });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, file, join(file, '..'));
  return { exports: mod.exports, script };
}

/**
 * `vfio-emu run FILE…` and nothing else: commander would read every argument as a file (none
 * starts with "-", or it is "-" for stdin) and no option. That runs from the small bundle
 * (src/cli/main-run.ts), which leaves out commander and the other commands.
 */
const plainRun = (argv) => argv[2] === 'run' && argv.length > 3 && argv.slice(3).every((a) => a === '-' || !a.startsWith('-'));

module.exports = { wrap, codeCachePath, loadBundle, plainRun };

if (require.main === module) {
  const bundle = join(__dirname, '..', 'dist', plainRun(process.argv) ? 'vfio-emu-run.cjs' : 'vfio-emu.cjs');
  if (!existsSync(bundle)) {
    process.stderr.write(`vfio-emu: ${bundle} is missing: run \`npm run build\` (npm ci runs it)\n`);
    process.exit(2);
  }
  loadBundle(bundle).exports.main(process.argv);
}
