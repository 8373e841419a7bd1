// The package as users get it: `npm pack` ships the built CLI, the docs, the man page, the
// shipped scenarios and the library's types; installed from the tarball into an empty
// project (dependencies from the registry), `npx vfio-emu` runs, and the library API imports
// and type-checks. The build must have run (npm ci runs it), as for the other CLI tests.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { env } from './run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'vfio-emu-pack-'));
const proj = join(work, 'project');

function run(cmd: string, args: string[], cwd: string, e: NodeJS.ProcessEnv = env) {
  const r = spawnSync(cmd, args, { cwd, env: e, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

let files: string[] = [];

beforeAll(() => {
  // --ignore-scripts: `prepare` would rebuild; the tree is built already.
  const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], '.', process.env);
  expect(pack.stderr).not.toMatch(/ERR!/);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  files = info!.files.map((f) => f.path);
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const inst = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, info!.filename)], proj, process.env);
  expect(inst.stderr).not.toMatch(/ERR!/);
  expect(inst.status).toBe(0);
}, 120_000);

describe('npm pack', () => {
  // What a user needs is in the tarball, and nothing of the repository's own.
  test('contents', () => {
    for (const f of ['bin/vfio-emu.cjs', 'dist/vfio-emu.cjs', 'dist/vfio-emu.v8cache', 'dist/vfio-emu-run.cjs', 'dist/vfio-emu-run.v8cache', 'dist/index.js', 'dist/index.d.ts', 'docs/scenario-language.md', 'docs/trace-format.md', 'man/vfio-emu.1', 'scenarios/seeds/000-doorbell-safety-v2m.vfio', 'package.json', 'README.md']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^(src|test|tools|scripts)\//.test(f) || f.startsWith('tsconfig'))).toEqual([]);
  });
});

describe('installed from the tarball', () => {
  const npx = (...args: string[]) => run('npx', ['--no-install', 'vfio-emu', ...args], proj);

  // The README's first command, on the shipped copy of its scenario.
  test('npx vfio-emu run', () => {
    const r = npx('run', 'node_modules/vfio-emu/scenarios/seeds/000-doorbell-safety-v2m.vfio');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ioctl(3, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) = -1 EPERM (Operation not permitted)');
  });

  test('npx vfio-emu kernels, help', () => {
    const k = npx('kernels');
    expect(k.status).toBe(0);
    expect(k.stdout).toBe(run(process.execPath, ['bin/vfio-emu.cjs', 'kernels'], '.').stdout);
    const h = npx('help', 'trace');
    expect(h.status).toBe(0);
    expect(h.stdout).toBe(readFileSync('docs/trace-format.md', 'utf8'));
  });

  // The README's library example runs against the installed package.
  test('the library API from JS', () => {
    const readme = readFileSync('README.md', 'utf8');
    const example = /```js\n([\s\S]*?)```/.exec(readme)![1]!;
    writeFileSync(join(proj, 'readme.mjs'), `${example}\nconsole.log(JSON.stringify({ ret: String(r.ret), errno: r.errno, ok: run.ok, events: run.events.map((e) => e.type) }));\n`);
    const r = run(process.execPath, ['readme.mjs'], proj);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ ret: '1', errno: 0, ok: true, events: ['setup', 'syscall', 'syscall', 'expect'] });
  });

  // A TypeScript consumer type-checks against dist/*.d.ts (and a wrong type is caught).
  test('the .d.ts', () => {
    const ts = `import { boot, runScenario, requestNr, type Machine, type RunEvent, type SysResult } from 'vfio-emu';
const m: Machine = boot('6.12', 'qemu-q35-vtd');
const open: SysResult = m.kernel.open(m.proc, '/dev/vfio/vfio');
const buf = new Uint8Array(16).fill(0xaa);
const r: SysResult = m.kernel.ioctl(m.proc, Number(open.ret), requestNr('VFIO_IOMMU_GET_INFO'), { value: 0n, buf });
const events: RunEvent[] = runScenario('platform qemu-q35-vtd\\n').events;
export const errno: number = r.errno + events.length;
`;
    writeFileSync(join(proj, 'ok.ts'), ts);
    writeFileSync(join(proj, 'bad.ts'), `import { boot } from 'vfio-emu';\nexport const s: string = boot('6.12', 'qemu-q35-vtd');\n`);
    // One compiler run over both (tsc's start is most of its time); no @types/node: the
    // declarations must stand on their own.
    const options = { noEmit: true, strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: [] };
    writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files: ['ok.ts', 'bad.ts'] }));
    const r = run(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], proj);
    expect(r.stdout).toBe("bad.ts(2,14): error TS2322: Type 'Machine' is not assignable to type 'string'.\n");
    expect(r.status).toBe(2);
  });
});
