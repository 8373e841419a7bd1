// bin/vfio-emu.cjs, the loader: it compiles a bundle file as read (scripts/bundle.mjs writes
// each as the function Node wraps a CommonJS module in) with the V8 code cache beside it. The
// cache only saves time: without it, or with one this Node rejects, the output is the same.
// Copies of the loader and a bundle go to a temporary folder, where the cache can be taken
// away or spoilt; they run under a plain `node`, whose flags the cache was made with.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, env, scenario, tmp } from './run-cli.js';

const SEED = resolve('scenarios/seeds/000-doorbell-safety-v2m.vfio');
const HEAD = '(function (exports, require, module, __filename, __dirname) {';

/** A copy of bin/ and of the run bundle under tmp/NAME, with or without its cache. */
function install(name: string, withCache: boolean): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'dist'), { recursive: true });
  copyFileSync('bin/vfio-emu.cjs', join(root, 'bin/vfio-emu.cjs'));
  copyFileSync('dist/vfio-emu-run.cjs', join(root, 'dist/vfio-emu-run.cjs'));
  if (withCache) copyFileSync('dist/vfio-emu-run.v8cache', join(root, 'dist/vfio-emu-run.v8cache'));
  return root;
}

function node(args: string[], e: NodeJS.ProcessEnv = env) {
  const r = spawnSync(process.execPath, args, { env: e, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Whether V8 rejected the cache of `root`'s run bundle, as the loader loads it. */
function rejected(root: string): string {
  const code = `const { loadBundle } = require(${JSON.stringify(join(root, 'bin/vfio-emu.cjs'))});
    process.stdout.write(String(loadBundle(${JSON.stringify(join(root, 'dist/vfio-emu-run.cjs'))}).script.cachedDataRejected));`;
  return node(['-e', code]).stdout;
}

describe('bundle files', () => {
  // Each bundle is the module already wrapped, so the loader compiles the file's text as it
  // is (a wrapped copy would be a second string of the bundle's size).
  test('begin with the CommonJS wrapper', () => {
    for (const f of ['dist/vfio-emu.cjs', 'dist/vfio-emu-run.cjs']) {
      expect(readFileSync(f, 'latin1').slice(0, HEAD.length)).toBe(HEAD);
      expect(readFileSync(f, 'latin1').slice(-3)).toBe('\n})');
    }
  });
});

describe('code cache', () => {
  const reference = cli(['run', SEED]);

  // The cache made at build time is the one this Node takes.
  test('accepted as built', () => {
    expect(rejected(resolve('.'))).toBe('false');
  });

  // No cache: the bundle is compiled from its text, and runs alike.
  test('missing', () => {
    const root = install('no-cache', false);
    const r = node([join(root, 'bin/vfio-emu.cjs'), 'run', SEED]);
    expect(r).toEqual(reference);
    expect(reference.status).toBe(0);
  });

  // A cache V8 will not take (here: bytes of another file) is rejected, and the run is the same.
  test('rejected', () => {
    const root = install('bad-cache', true);
    writeFileSync(join(root, 'dist/vfio-emu-run.v8cache'), readFileSync('dist/vfio-emu-run.cjs').subarray(0, 4096));
    expect(rejected(root)).toBe('true');
    const r = node([join(root, 'bin/vfio-emu.cjs'), 'run', SEED]);
    expect(r).toEqual(reference);
  });

  // A cache larger than its bundle is read through the same buffer as the bundle's text.
  test('larger than the bundle', () => {
    const root = install('big-cache', true);
    writeFileSync(join(root, 'dist/vfio-emu-run.cjs'), `${HEAD}module.exports.main = () => process.stdout.write('small\\n');\n})`);
    writeFileSync(join(root, 'dist/vfio-emu-run.v8cache'), Buffer.alloc(1 << 16, 0xaa));
    expect(node([join(root, 'bin/vfio-emu.cjs'), 'run', SEED])).toEqual({ status: 0, stdout: 'small\n', stderr: '' });
  });
});

describe('bundle text', () => {
  // esbuild writes ASCII, read as Latin-1; a bundle with other characters is read as UTF-8.
  test('UTF-8 beyond ASCII', () => {
    const root = install('utf8', false);
    writeFileSync(join(root, 'dist/vfio-emu-run.cjs'), `${HEAD}module.exports.main = () => process.stdout.write('✓ é\\n');\n})`, 'utf8');
    expect(node([join(root, 'bin/vfio-emu.cjs'), 'run', SEED])).toEqual({ status: 0, stdout: '✓ é\n', stderr: '' });
  });
});

describe('colour', () => {
  // chalk loads on first use in the bundles (a run without colour never loads it); with
  // FORCE_COLOR the plain-run bundle and the full one colour alike, as chalk does.
  const file = scenario('colour.vfio', 'platform amd-overdrive\nbind 0000:01:00.0 vfio-pci\nexpect ret=0\nopen /dev/vfio/nope as x\n');
  const coloured = [
    '\x1b[2m   2 \x1b[22m\x1b[36m# kernel 7.2, platform amd-overdrive\x1b[39m',
    '\x1b[2m   2 \x1b[22mbind(0000:01:00.0, vfio-pci) [iommu_group 0] = 0',
    '\x1b[2m   3 \x1b[22m\x1b[32m✓ expect ret=0\x1b[39m',
    '\x1b[2m   4 \x1b[22m\x1b[31mopen("/dev/vfio/nope", O_RDWR) = -1 ENOENT (No such file or directory)\x1b[39m',
    '',
  ].join('\n');
  const colourEnv = { ...env, NO_COLOR: undefined, FORCE_COLOR: '1' };

  test('FORCE_COLOR=1', () => {
    expect(node(['bin/vfio-emu.cjs', 'run', file], colourEnv)).toEqual({ status: 0, stdout: coloured, stderr: '' });
    expect(node(['bin/vfio-emu.cjs', 'run', '--kernel', '7.2', file], colourEnv)).toEqual({ status: 0, stdout: coloured, stderr: '' });
  });

  // FORCE_COLOR=0 is no colour: the text as it is.
  test('FORCE_COLOR=0', () => {
    expect(node(['bin/vfio-emu.cjs', 'run', file], { ...colourEnv, FORCE_COLOR: '0' }).stdout).toBe(coloured.replace(/\x1b\[\d+m/g, ''));
  });
});
