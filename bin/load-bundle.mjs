// Loads the bundled CLI (dist/vfio-emu.cjs) with its V8 code cache, made at build time by
// scripts/bundle.mjs. A cache the running Node rejects costs nothing but the compile it
// would have saved.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import vm from 'node:vm';

/** The CommonJS wrapper Node itself puts around a module. */
export const wrap = (src) => `(function (exports, require, module, __filename, __dirname) {${src}\n})`;

export const codeCachePath = (file) => file.replace(/\.cjs$/, '.v8cache');

export function loadBundle(file) {
  const cache = codeCachePath(file);
  const script = new vm.Script(wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData: existsSync(cache) ? readFileSync(cache) : undefined,
  });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, dirname(file));
  return mod.exports;
}
