// Scenario-language additions and output conventions of issue 11 (§6, §7): open of a missing
// node, sparse-area expectations, the `expect bytes` diff, strace's `=>` and `"\x.."`, and
// one notation for ranges.

import { describe, expect, it } from 'vitest';
import { bytesDiff } from '../../src/script/verbs/expect.js';
import { at as of, run_, scenarioError } from './run-scenario.js';

// e1000e on 4.10: its MSI-X table at BAR3 0x0-0xfff, so one sparse area 0x1000-0x3fff.
const E1000E_410 =
  'kernel 4.10\nplatform qemu-q35-vtd\nbind 0000:00:02.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/2 as g\n' +
  'ioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nioctl g GET_DEVICE_FD 0000:00:02.0 as dev\n';
const BAR3_INFO = E1000E_410 + 'ioctl dev GET_REGION_INFO index=BAR3 argsz=64\n'; // line 9

describe('open of a path the machine lacks (open(2): ENOENT)', () => {
  it('/dev/mem is -1 ENOENT', () => {
    const evs = run_('platform qemu-q35-vtd\nopen /dev/mem\nexpect errno=ENOENT\n');
    expect(of(evs, 'syscall', 2).map((e) => e.text)).toEqual(['open("/dev/mem", O_RDWR) = -1 ENOENT (No such file or directory)']);
    expect(of(evs, 'expect', 3)[0].ok).toBe(true);
  });

  it('a group number with no group is -1 ENOENT', () => {
    const evs = run_('platform qemu-q35-vtd\nopen /dev/vfio/7\n');
    expect(of(evs, 'syscall', 2)[0]).toMatchObject({ ret: '-1', errno: 2 });
  });

  // sysfs and procfs files are served whole: `open` of one says to use read/write.
  it('open of a sysfs file is a scenario error', () => {
    expect(scenarioError('platform qemu-q35-vtd\nopen /sys/kernel/iommu_groups/1/type\n')).toBe(
      't.vfio:2:6: open: "/sys/kernel/iommu_groups/1/type" is a sysfs file; use "read" or "write" for it',
    );
  });
});

describe('expect cap SPARSE_MMAP area=N', () => {
  it('areas[0] matches', () => {
    const evs = run_(BAR3_INFO + 'expect cap SPARSE_MMAP area=0 offset=0x1000 size=0x3000\n');
    expect(of(evs, 'expect', 10)[0]).toMatchObject({ ok: true, expected: 'SPARSE_MMAP area=0 offset=0x1000 size=0x3000' });
  });

  it('a differing field says what it is', () => {
    const evs = run_(BAR3_INFO + 'expect cap SPARSE_MMAP area=0 offset=0x2000 size=0x3000\n');
    expect(of(evs, 'expect', 10)[0]).toMatchObject({ ok: false, expected: 'SPARSE_MMAP area=0 offset=0x2000 size=0x3000', got: 'offset=0x1000' });
  });

  it('an area past nr_areas is absent', () => {
    const evs = run_(BAR3_INFO + 'expect cap SPARSE_MMAP area=1\n');
    expect(of(evs, 'expect', 10)[0]).toMatchObject({ ok: false, got: 'area=1 absent (1 areas)' });
  });

  it('a key that is not an area field is a scenario error', () => {
    expect(scenarioError(BAR3_INFO + 'expect cap SPARSE_MMAP area=0 nr_areas=1\n')).toBe(
      't.vfio:10:31: SPARSE_MMAP area= takes the entry\'s fields (offset, size), not "nr_areas="',
    );
  });

  // IOVA_RANGE's array the same way: iova_ranges[1] on q35 6.12 starts after the MSI window.
  it('iova_range=1 on 6.12', () => {
    const evs = run_(
      'platform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/1 as g\nioctl g SET_CONTAINER c\n' +
        'ioctl c SET_IOMMU TYPE1v2\nioctl c GET_INFO argsz=120\nexpect cap IOVA_RANGE iova_range=1 start=0xfef00000 end=0x7fffffffff\n',
    );
    expect(of(evs, 'expect', 8)[0].ok).toBe(true);
  });
});

describe('expect bytes shows where the buffers differ', () => {
  it('same length', () => {
    expect(bytesDiff(Uint8Array.of(0x86, 0x80, 0x12, 0x34), Uint8Array.of(0x86, 0x80, 0xd3, 0x10))).toBe(
      '8680d310 — first difference at offset 2 (0x2): expected 1234, got d310',
    );
  });

  it('a shorter expectation', () => {
    expect(bytesDiff(Uint8Array.of(0x86, 0x80), Uint8Array.of(0x86, 0x80, 0xd3, 0x10))).toBe(
      '8680d310 — first difference at offset 2 (0x2): expected nothing (the buffer ends), got d310; 4 bytes, expected 2',
    );
  });

  it('a long buffer shows 64 bytes and 8 from the difference', () => {
    const want = new Uint8Array(100).fill(0xaa);
    const got = want.slice();
    got[70] = 0;
    expect(bytesDiff(want, got)).toBe(
      `${'aa'.repeat(64)}… (100 bytes) — first difference at offset 70 (0x46): expected ${'aa'.repeat(8)}…, got 00${'aa'.repeat(7)}…`,
    );
  });

  it('equal buffers have no diff', () => {
    expect(bytesDiff(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(undefined);
  });

  it('in a scenario', () => {
    const evs = run_(E1000E_410 + 'pread dev region=CONFIG offset=0 len=4\nexpect bytes 86801234\n');
    expect(of(evs, 'expect', 10)[0]).toMatchObject({
      ok: false,
      expected: '86801234',
      got: '8680d310 — first difference at offset 2 (0x2): expected 1234, got d310',
    });
  });
});

describe("strace's conventions", () => {
  // strace -xx: every byte \xNN.
  it('pread buffer', () => {
    const evs = run_(E1000E_410 + 'pread dev region=CONFIG offset=0 len=4\n');
    expect(of(evs, 'syscall', 9)[0].text).toBe('pread64(5, "\\x86\\x80\\xd3\\x10", 4, 0x70000000000) = 4');
  });

  // At most 32 bytes (strace's default -s), then "...".
  it('a long buffer is cut at 32 bytes', () => {
    const evs = run_(E1000E_410 + 'pread dev region=CONFIG offset=0 len=64\n');
    expect(of(evs, 'syscall', 9)[0].text).toMatch(/^pread64\(5, "(\\x[0-9a-f]{2}){32}"\.\.\., 64, 0x70000000000\) = 64$/);
  });

  it('pwrite buffer', () => {
    const evs = run_(E1000E_410 + 'pwrite dev region=CONFIG offset=0x3c data=0b\n');
    expect(of(evs, 'syscall', 9)[0].text).toBe('pwrite64(5, "\\x0b", 1, 0x7000000003c) = 1');
  });

  // In/out fields: before => after. Sparse areas as the bytes they cover, END inclusive.
  it('=> for values the kernel wrote back, ranges START-END', () => {
    expect(of(run_(BAR3_INFO), 'syscall', 9)[0].text).toBe(
      'ioctl(5, VFIO_DEVICE_GET_REGION_INFO, {argsz=64, flags=0 => READ|WRITE|MMAP|CAPS, index=BAR3, cap_offset=0 => 32, size=0x0 => 0x4000, offset=0x0 => 0x30000000000} caps=[SPARSE_MMAP@32{nr_areas=1, [0x1000-0x3fff]}]) = 0',
    );
  });
});

describe('a second bind (drivers_probe of a bound device)', () => {
  it('changes nothing and returns the group again', () => {
    const evs = run_('platform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nbind 0000:00:01.0 vfio-pci as again\nexpect ret=1\nopen /dev/vfio/1\nexpect ok\n');
    expect(of(evs, 'syscall', 3)[0]).toMatchObject({ text: 'bind(0000:00:01.0, vfio-pci) [iommu_group 1] = 1', ret: '1', errno: 0 });
    expect(of(evs, 'expect', 4)[0].ok).toBe(true);
    expect(of(evs, 'expect', 6)[0].ok).toBe(true);
  });
});
