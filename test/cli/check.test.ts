// `check` for CI (issue 11, "CI output"): JSON lines, JUnit, the kernel matrix, filters and
// shards. Counts are of scenario files (file × kernel in a matrix), and the closing line says so.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, scenario, tmp } from './run-cli.js';

mkdirSync(join(tmp, 'ci'), { recursive: true });
const GOOD = scenario('ci/good.vfio', 'kernel 6.1\nplatform qemu-q35-vtd\nopen /dev/vfio/vfio as c\nexpect ok\n');
const BAD = scenario('ci/bad.vfio', 'kernel 6.1\nplatform qemu-q35-vtd\nopen /dev/vfio/vfio as c\nexpect errno=EPERM\n');
const BROKEN = scenario('ci/broken.vfio', 'platform qemu-q35-vtd\nfrobnicate\n');
const CLASS = join(tmp, 'ci').split('/').filter(Boolean).join('.');

describe('check --json', () => {
  // An event per failed expectation, per file, and a summary; nothing else on stdout.
  it('failed expectation, file and summary events', () => {
    const r = cli(['check', '--json', GOOD, BAD]);
    expect(r.status).toBe(1);
    const ev = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    for (const e of ev) if (e.type === 'file') e.seconds = 0;
    expect(ev).toEqual([
      { type: 'file', file: GOOD, status: 'passed', expectations: { held: 1, failed: 0 }, seconds: 0 },
      { type: 'expect', ok: false, file: BAD, line: 4, text: 'errno=EPERM', expected: '-1 EPERM', got: '3' },
      { type: 'file', file: BAD, status: 'failed', expectations: { held: 0, failed: 1 }, seconds: 0 },
      { type: 'summary', unit: 'file', passed: 1, failed: 1, errors: 0, notRun: 0, expectations: { held: 1, failed: 1 } },
    ]);
  });

  // A scenario error is an event with file, line and column, not a line on stderr.
  it('scenario error', () => {
    const r = cli(['check', '--json', BROKEN]);
    expect(r.status).toBe(2);
    const ev = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(ev[0].type).toBe('error');
    expect([ev[0].file, ev[0].line, ev[0].col]).toEqual([BROKEN, 2, 1]);
    expect(ev[0].message.startsWith('unknown command "frobnicate"')).toBe(true);
    expect(r.stderr).toBe('');
  });
});

describe('check options', () => {
  // A bad era is one line on stderr, before any file runs.
  it('bad --kernel once', () => {
    const r = cli(['check', '--kernel', '6.1,nope', GOOD, BAD]);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr.split('\n').length).toBe(2);
    expect(r.stderr.startsWith('--kernel: unknown kernel "nope"')).toBe(true);
  });

  // --kernel A,B: each file per era, each reported with its era.
  it('kernel matrix', () => {
    const r = cli(['check', '--kernel', '5.4,6.1', '-v', GOOD]);
    expect([r.status, r.stdout]).toEqual([0, `ok ${GOOD} (kernel 5.4)\nok ${GOOD} (kernel 6.1)\n2 passed, 0 failed (scenario files × kernels 5.4, 6.1)\n`]);
  });

  // -k filters by path; -v lists the passing files.
  it('-k and -v', () => {
    const r = cli(['check', '-k', 'goo', '-v', GOOD, BAD]);
    expect([r.status, r.stdout]).toEqual([0, `ok ${GOOD}\n1 passed, 0 failed (scenario files)\n`]);
  });

  // --bail stops at the first failing file and says how many did not run.
  it('--bail', () => {
    const r = cli(['check', '--bail', BAD, GOOD]);
    expect([r.status, r.stdout]).toEqual([1, `${BAD}:4: expected -1 EPERM, got 3\n0 passed, 1 failed, 1 not run (--bail) (scenario files)\n`]);
  });

  // --shard i/n: contiguous parts of the sorted list, as vitest.
  it('--shard', () => {
    const r = cli(['check', '-v', '--shard', '2/2', join(tmp, 'ci')]);
    expect([r.status, r.stdout]).toEqual([0, `ok ${GOOD}\n1 passed, 0 failed (scenario files)\n`]);
    expect(cli(['check', '--shard', '3/2', GOOD]).stderr).toBe('--shard: "3/2": expected i/n with 1 ≤ i ≤ n, e.g. 1/3\n');
  });

  // A path given twice runs once.
  it('paths given twice', () => {
    expect(cli(['check', GOOD, GOOD]).stdout).toBe('1 passed, 0 failed (scenario files)\n');
  });
});

describe('check --out (JUnit)', () => {
  // --out alone implies junit: a testcase per file, a failure per expectation with file and
  // line, the trace in system-out, the directory as classname.
  it('report', () => {
    const out = join(tmp, 'ci.xml');
    const r = cli(['check', '--out', out, GOOD, BAD]);
    expect(r.status).toBe(1);
    const xml = readFileSync(out, 'utf8').replace(/time="[0-9.]+"/g, 'time="T"');
    expect(xml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuite name="vfio-emu check" tests="2" failures="1" errors="0" time="T">',
        `  <testcase classname="${CLASS}" name="good.vfio" file="${GOOD}" time="T">`,
        '    <system-out>   3 # kernel 6.1, platform qemu-q35-vtd intremap=on',
        '   3 open(&quot;/dev/vfio/vfio&quot;, O_RDWR) = 3',
        '   4 ✓ expect ok</system-out>',
        '  </testcase>',
        `  <testcase classname="${CLASS}" name="bad.vfio" file="${BAD}" time="T">`,
        `    <failure message="${BAD}:4: expected -1 EPERM, got 3" type="expect">${BAD}:4: expect errno=EPERM: expected -1 EPERM, got 3</failure>`,
        '    <system-out>   3 # kernel 6.1, platform qemu-q35-vtd intremap=on',
        '   3 open(&quot;/dev/vfio/vfio&quot;, O_RDWR) = 3',
        '   4 ✗ expect errno=EPERM: expected -1 EPERM, got 3</system-out>',
        '  </testcase>',
        '</testsuite>',
        '',
      ].join('\n'),
    );
  });
});

describe('run --json', () => {
  // A syscall event names the request, the fd and the errno, and gives the caps as data.
  it('syscall facts', () => {
    const f = scenario('ci/json.vfio', 'kernel 6.1\nplatform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/1 as g\nioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nioctl c GET_INFO argsz=116\nioctl c MAP_DMA flags=READ vaddr=0 iova=0 size=4K\n');
    const ev = cli(['run', '--json', f]).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const info = ev.find((e) => e.request === 'VFIO_IOMMU_GET_INFO');
    expect([info.op, info.fd, info.errnoName]).toEqual(['ioctl', 3, undefined]);
    expect(info.caps[2]).toEqual({
      name: 'IOVA_RANGE',
      offset: 68,
      version: 1,
      fields: { id: '0x1', version: '0x1', next: '0x0', nr_iovas: '0x2', reserved: '0x0' },
      entries: [{ start: '0x0', end: '0xfedfffff' }, { start: '0xfef00000', end: '0x7fffffffff' }],
    });
    const map = ev.find((e) => e.request === 'VFIO_IOMMU_MAP_DMA');
    expect([map.fd, map.errno, map.errnoName]).toEqual([3, 14, 'EFAULT']);
  });
});

describe('scenario language help', () => {
  // "did you mean" for verbs, requests, errno names and flags.
  it('did you mean', () => {
    const err = (t: string) => cli(['run', '-'], `platform qemu-q35-vtd\nopen /dev/vfio/vfio as c\n${t}\n`).stderr.replace(/expected one of .*;/, '…;');
    expect(err('opne /dev/vfio/vfio')).toBe('<stdin>:3:1: unknown command "opne": …; did you mean "open"?\n');
    expect(err('ioctl c GET_INFOO')).toBe('<stdin>:3:9: unknown request "GET_INFOO" for a container fd: …; did you mean "GET_INFO"?\n');
    expect(err('expect errno=EPRM')).toBe('<stdin>:3:14: unknown errno "EPRM": expected a name such as EPERM, EINVAL or ENOTTY, or a number; did you mean "EPERM"?\n');
    expect(err('ioctl c MAP_DMA flags=REDA vaddr=0 iova=0 size=4K')).toBe(
      '<stdin>:3:23: unknown vfio_iommu_type1_dma_map.flags flag "REDA": expected READ, WRITE, VADDR (optionally prefixed VFIO_DMA_MAP_FLAG_), or a number; did you mean "READ"?\n',
    );
  });

  // A kernel newer than the newest era runs as it, said once on stderr.
  it('kernel 7.3', () => {
    mkdirSync(join(tmp, 'ci-k7'), { recursive: true });
    const f = scenario('ci-k7/k7.vfio', 'kernel 7.3\nplatform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\n');
    scenario('ci-k7/k7b.vfio', 'kernel 7.3\nplatform qemu-q35-vtd\nbind 0000:00:02.0 vfio-pci\n');
    const r = cli(['check', f, f.replace('k7.vfio', 'k7b.vfio')]);
    expect(r.stderr).toBe('vfio-emu: kernel 7.3 is newer than the newest modelled era: it runs as 7.2\n');
  });

  // A trace given to run, a scenario given to replay: a hint, not a parser error.
  it('wrong command for the file', () => {
    const t = scenario('x.jsonl', '{}\n');
    expect(cli(['run', t]).stderr).toBe(`${t}: a vfio-trace/1 recording, not a scenario: replay it with "vfio-emu replay ${t}"\n`);
    const s = scenario('y.vfio', 'platform qemu-q35-vtd\n');
    expect(cli(['replay', s]).stderr).toBe(`${s}: a scenario, not a vfio-trace/1 recording: run it with "vfio-emu run ${s}" (or record one with --trace)\n`);
  });
});
