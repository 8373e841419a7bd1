#!/usr/bin/env node
// The vfio-emu executable. It loads the bundled CLI (dist/vfio-emu.cjs, built by `npm run
// build`, which `npm ci` runs) with the V8 code cache made beside it at build time, so a run
// skips parsing and compiling the bundle. A cache this Node rejects, or a missing one, only
// costs that compile.
// CommonJS on purpose: Node starts a CommonJS entry point faster than an ES module.
//
// Start time here is mostly memory touched for the first time, so the loader copies as
// little as it can: the bundle file is already the function Node would wrap a module in
// (scripts/bundle.mjs writes it so), and compiles as read, without a wrapped copy; source and
// cache are read through one buffer, the cache over the source's bytes once they are a string.
'use strict';
const { closeSync, existsSync, fstatSync, openSync, readSync } = require('node:fs');
const { isAscii } = require('node:buffer');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

/** The head of every bundle file: the wrapper Node itself puts around a CommonJS module. */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) {';
const WRAP_TAIL = '\n})';
const wrap = (src) => `${WRAP_HEAD}${src}${WRAP_TAIL}`;
const codeCachePath = (file) => file.replace(/\.cjs$/, '.v8cache');

/** An open file and its size. */
function openSized(file) {
  const fd = openSync(file, 'r');
  return { fd, size: fstatSync(fd).size };
}

/** Reads all `size` bytes of `fd` into the start of `buf`. */
function readAll(fd, buf, size) {
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) throw new Error(`unexpected end of file at ${off} of ${size} bytes`);
    off += n;
  }
  return buf.subarray(0, size);
}

/** Compiles a bundle (with its code cache when there is one) and runs its module body. */
function loadBundle(file) {
  const src = openSized(file);
  const cache = existsSync(codeCachePath(file)) ? openSized(codeCachePath(file)) : undefined;
  let text;
  let cachedData;
  try {
    const buf = Buffer.allocUnsafeSlow(Math.max(src.size, cache ? cache.size : 0));
    const bytes = readAll(src.fd, buf, src.size);
    // esbuild writes ASCII (its default charset), whose Latin-1 reading is the UTF-8 one.
    text = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
    if (cache) cachedData = readAll(cache.fd, buf, cache.size);
  } finally {
    closeSync(src.fd);
    if (cache) closeSync(cache.fd);
  }
  const script = new vm.Script(text, { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, file, dirname(file));
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
