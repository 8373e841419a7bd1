// The command line as a user meets it: exit statuses, file:line:col errors, no stack traces.
// Runs the built bundle (npm ci builds it), as the README's commands do.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, scenario, tmp } from './run-cli.js';

describe('run', () => {
  // The README's command prints the seed-000 story: the EPERM and the kernel's warning.
  it('seed 000', () => {
    const r = cli(['run', 'scenarios/seeds/000-doorbell-safety-v2m.vfio']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ioctl(3, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) = -1 EPERM (Operation not permitted)');
    expect(r.stdout).toContain(
      '[kernel] vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "allow_unsafe_interrupts" to enable VFIO IOMMU support on this platform',
    );
    expect(r.stderr).toBe('');
  });

  // A failed expectation: exit 1, and the line says what was expected and what came.
  it('failed expectation exits 1', () => {
    const f = scenario('fail.vfio', 'kernel 6.1\nplatform qemu-virt-smmuv3 gic=v2\nbind 0000:00:01.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/0 as g\nioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nexpect ok\n');
    const r = cli(['run', f]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('✗ expect ok: expected success, got -1 EPERM');
  });

  // A scenario mistake: file:line:col, what was expected, exit 2, no stack trace.
  it('scenario error exits 2 with file:line:col', () => {
    const f = scenario('bad.vfio', 'platform qemu-virt-smmuv3\nopen /dev/vfio/vfio as c\nioctl c GET_INFOO\n');
    const r = cli(['run', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:9: unknown request "GET_INFOO" for a container fd: expected one of `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  // A syntax error stops everything before it runs.
  it('syntax error runs nothing', () => {
    const f = scenario('syntax.vfio', 'platform qemu-virt-smmuv3\nopen /dev/vfio/vfio as c\nexpect dmesg "unterminated\n');
    const r = cli(['run', f]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`${f}:3:14: unterminated string: expected a closing "`);
  });

  // `-` reads the scenario from stdin.
  it('stdin', () => {
    const r = cli(['run', '-'], 'platform qemu-q35-vtd\nkernel 6.1\n');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('<stdin>:2:1: "kernel" must come before "platform"\n');
  });

  // --json prints one object per event, u64 values as hex strings.
  it('--json', () => {
    const r = cli(['run', '--json', 'scenarios/seeds/000-doorbell-safety-v2m.vfio']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const eperm = lines.find((l) => l.type === 'syscall' && l.errno === 1);
    expect(eperm.text).toContain('VFIO_SET_IOMMU');
    expect(lines.every((l) => typeof l.at.line === 'number')).toBe(true);
  });

  // --trace records the run as vfio-trace/1, and the recording replays with no difference.
  it('--trace round trip', () => {
    const out = join(tmp, 'seed.jsonl');
    expect(cli(['run', '--trace', out, 'scenarios/seeds/000-allow-unsafe.vfio']).status).toBe(0);
    const header = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]);
    expect(header).toMatchObject({ trace: 'vfio-trace/1', kernel: 'rfc-v10', arch: 'aarch64', platform: { preset: 'amd-overdrive' } });
    const r = cli(['replay', out]);
    expect(r.stdout).toMatch(/\d+ events, \d+ match, 0 differ, \d+ skipped/);
    expect(r.status).toBe(0);
  });
});

describe('check', () => {
  // The closing line counts scenarios; a failing one is reported as file:line.
  it('closing line', () => {
    const ok = scenario('ok.vfio', 'platform qemu-virt-smmuv3\nopen /dev/vfio/vfio as c\nexpect ok\n');
    const bad = scenario('bad2.vfio', 'platform qemu-virt-smmuv3\nopen /dev/vfio/9\nexpect ok\n');
    const r = cli(['check', ok, bad]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(`${bad}:3: expected success, got -1 ENOENT\n1 passed, 1 failed (scenario files)\n`);
  });

  // JUnit XML for CI.
  it('junit', () => {
    const out = join(tmp, 'report.xml');
    cli(['check', 'scenarios/seeds', '--reporter', 'junit', '--out', out]);
    expect(readFileSync(out, 'utf8')).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuite name="vfio-emu check" tests="\d+" failures="0" errors="0"/);
  });
});

describe('decode', () => {
  // The recorded 6.1 GET_INFO answer, chain included.
  it('GET_INFO', () => {
    const r = cli(['decode', 'VFIO_IOMMU_GET_INFO', '74000000030000000010204000000000180000000000000002000100380000000000000000000000001000000000000000000010000000000300010044000000ffff0000010001000000000002000000000000000000000000000000ffffdffe000000000000f0fe00000000ffffffff7f000000', '--kernel', '6.1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('cap IOVA_RANGE@68{nr_iovas=2, [0x0-0xfedfffff], [0xfef00000-0x7fffffffff]} v1 next=0');
  });

  // A cyclic chain is described, not followed; odd hex is a usage error.
  it('malformed buffers', () => {
    const cyclic = '40000000030000000010204000000000180000000000000003000100180000000000000000000000';
    expect(cli(['decode', 'GET_INFO', cyclic, '--fd', 'container']).stdout).toContain('capability chain: capability chain loops back to offset 24');
    const r = cli(['decode', 'GET_INFO', 'abc', '--fd', 'container']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('"abc" is not hex bytes (two hex digits per byte)\n');
  });
});

describe('listings', () => {
  it('platforms and kernels', () => {
    expect(cli(['platforms']).stdout).toContain('option gic=v3|v2 (default v3)');
    expect(cli(['kernels']).stdout).toMatch(/^rfc-v10 /m);
  });

  // Unknown options are usage errors: exit 2.
  it('bad usage', () => {
    expect(cli(['run', '--frobnicate', 'x']).status).toBe(2);
  });
});
