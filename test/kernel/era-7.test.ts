// The rules that changed after 6.12, one stanza per rule, each against the answer Debian's
// 7.2.13 gave under QEMU (test/fixtures/real-kernel-7.2*/; the label of the recorded event is
// named) and 6.12's answer to the same request.

import { describe, expect, it } from 'vitest';
import { EINVAL, ENODEV, ENOTTY, EOVERFLOW } from '../../src/uapi/errno.js';
import { Machine, hex } from './fixture.js';

const K = 0x400n;
const EDU = '0000:00:01.0';
const E1000E = '0000:00:02.0';
const TOP = 0xffff_ffff_ffff_f000n; // the last page of the 64-bit space

const name = (s: string): Uint8Array => Uint8Array.from([...Buffer.from(s), 0]);

/** A container with edu's group and type1v2, and a 1 MiB buffer to map from. */
function ready(era: string): { m: Machine; buf: bigint } {
  const m = new Machine(era, 'qemu-q35-vtd');
  m.setup(EDU);
  return { m, buf: m.mmap(1n << 20n) };
}

describe('type1 nesting removed (6.13)', () => {
  // "no-group": CHECK_EXTENSION(6) answers 0 on 7.2, 1 on 6.12.
  it('CHECK_EXTENSION(TYPE1_NESTING)', () => {
    for (const [era, want] of [['6.12', 1], ['6.13', 0], ['7.2', 0]] as const) {
      const m = new Machine(era, 'qemu-q35-vtd');
      m.container = m.open('/dev/vfio/vfio');
      expect(m.check_extension(6), era).toBe(want);
    }
  });

  // vfio_ioctl_set_iommu() only offers the type to a driver whose CHECK_EXTENSION answers
  // > 0: with nesting gone no driver does, so SET_IOMMU(6) is ENODEV (6.12: the nesting attach
  // fails, EINVAL).
  it('SET_IOMMU(6)', () => {
    for (const [era, errno] of [['7.2', ENODEV], ['6.12', EINVAL]] as const) {
      const m = new Machine(era, 'qemu-q35-vtd');
      m.group_open(EDU);
      m.set_iommu_err(errno, 6);
    }
  });
});

describe('MAP_DMA overflow (6.18)', () => {
  // "iova+size overflows u64": iova 2^64-4K, size 8K → EOVERFLOW; the buffer is not written.
  it('iova wraps', () => {
    const { m, buf } = ready('7.2');
    const o = m.map_dma_(buf, TOP, 8n * K);
    expect(o.errno).toBe(EOVERFLOW);
    expect(hex(o.buf)).toBe('20000000' + '03000000' + hex(o.buf.subarray(8, 16)) + '00f0ffffffffffff' + '0020000000000000');
    expect(ready('6.18').m.map_dma_(buf, TOP, 8n * K).errno).toBe(EOVERFLOW); // Debian 6.18.15 too
    expect(ready('6.17').m.map_dma_(buf, TOP, 8n * K).errno).toBe(EINVAL);
    expect(ready('6.12').m.map_dma_(buf, TOP, 8n * K).errno).toBe(EINVAL);
  });

  // "vaddr+size overflows u64": vaddr 2^64-4K → EOVERFLOW (6.12: EINVAL).
  it('vaddr wraps', () => {
    expect(ready('7.2').m.map_dma_(TOP, 0x400000n, 8n * K).errno).toBe(EOVERFLOW);
    expect(ready('6.12').m.map_dma_(TOP, 0x400000n, 8n * K).errno).toBe(EINVAL);
  });

  // The overflow check runs right after the size-0 check: before the READ/WRITE/VADDR flag
  // check and the alignment check (random traces: "iova:huge size:misaligned" → EOVERFLOW).
  it('before the flag and alignment checks', () => {
    const { m, buf } = ready('7.2');
    expect(m.map_dma_(buf, TOP, 8n * K, 0n).errno).toBe(EOVERFLOW);
    expect(m.map_dma_(buf, TOP, 8n * K + 1n).errno).toBe(EOVERFLOW);
    expect(m.map_dma_(buf, TOP, 0n).errno).toBe(EINVAL);
    const old = ready('6.12');
    expect(old.m.map_dma_(old.buf, TOP, 8n * K, 0n).errno).toBe(EINVAL);
  });
});

describe('UNMAP_DMA overflow and inclusive end (6.18)', () => {
  // "iova+size overflow": EOVERFLOW, and the struct is not copied back (size stays 0x2000).
  it('a wrapping range', () => {
    const { m } = ready('7.2');
    const o = m.unmap_dma_(TOP, 8n * K);
    expect(o.errno).toBe(EOVERFLOW);
    expect(hex(o.buf)).toBe('18000000' + '00000000' + '00f0ffffffffffff' + '0020000000000000');
    expect(ready('6.12').m.unmap_dma_(TOP, 8n * K).errno).toBe(EINVAL);
  });

  // UNMAP keeps its alignment checks first: a misaligned iova that would also wrap is EINVAL.
  it('alignment before overflow', () => {
    expect(ready('7.2').m.unmap_dma_(TOP + 1n, 8n * K).errno).toBe(EINVAL);
  });

  // "size = ~0 (to end of space)": iova 0x2000000, size 2^64 - 0x2000000 unmaps the 16K
  // mapping above it (size 0x4000); 6.12's wrapped end found nothing and kept it.
  it('a range ending at 2^64', () => {
    for (const [era, unmapped] of [['7.2', 16n * K], ['6.12', 0n]] as const) {
      const { m, buf } = ready(era);
      m.map_dma(buf, 0x2000000n, 16n * K);
      const o = m.unmap_dma_(0x2000000n, (1n << 64n) - 0x2000000n);
      expect(o.errno, era).toBe(0);
      expect(hex(o.buf), era).toBe('18000000' + '00000000' + '0000000200000000' + hex(o.buf.subarray(16, 24)));
      expect(o.size, era).toBe(unmapped);
      expect(m.unmap_dma(0n, 0n, 2n), era).toBe(16n * K - unmapped);
    }
  });
});

/** A device fd of `bdf` in a type1v2 container. */
function deviceFd(era: string, bdf: string): { m: Machine; dev: number } {
  const m = new Machine(era, 'qemu-q35-vtd');
  m.setup(bdf);
  const r = m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', name(bdf));
  expect(r.errno).toBe(0);
  return { m, dev: r.ret };
}

describe('PCI reset warning (6.13)', () => {
  // e1000e-type1v2: the first open enables the device (the ACPI link), then
  // pci_try_reset_function() warns around the FLR; DEVICE_RESET does the same.
  it('open and DEVICE_RESET', () => {
    const { m, dev } = deviceFd('7.2', E1000E);
    expect(m.dmesg().slice(-3)).toEqual([
      'ACPI: \\_SB_.GSIG: Enabled at IRQ 22',
      'vfio-pci 0000:00:02.0: resetting',
      'vfio-pci 0000:00:02.0: reset done',
    ]);
    const n = m.dmesg().length;
    expect(m.ioctl_(dev, 'VFIO_DEVICE_RESET').errno).toBe(0);
    expect(m.dmesg().slice(n)).toEqual(['vfio-pci 0000:00:02.0: resetting', 'vfio-pci 0000:00:02.0: reset done']);
  });

  // 6.12 resets silently; edu has no reset method, so 7.2 says nothing either.
  it('silent before 6.13 and without a reset method', () => {
    const old = deviceFd('6.12', E1000E);
    expect(old.m.dmesg().slice(-1)).toEqual(['ACPI: \\_SB_.GSIG: Enabled at IRQ 22']);
    const edu = deviceFd('7.2', EDU);
    expect(edu.m.dmesg().filter((l) => l.includes('reset'))).toEqual([]);
  });
});

describe('irq bypass line (6.17)', () => {
  // "MSI-X one eventfd on 4 vectors": the later vectors' registrations fail with -EBUSY and
  // each is logged; 7.2 names the eventfd, 6.12 the token.
  it.each([
    ['7.2', 'eventfd'],
    ['6.12', 'token'],
  ] as const)('%s', (era, word) => {
    const { m, dev } = deviceFd(era, E1000E);
    const efd = Number(m.kernel.eventfd(m.proc).ret);
    const set = new Uint8Array(36);
    const dv = new DataView(set.buffer);
    dv.setUint32(0, 36, true);
    dv.setUint32(4, 0x24, true); // DATA_EVENTFD | ACTION_TRIGGER
    dv.setUint32(8, 2, true); // MSI-X
    dv.setUint32(16, 4, true);
    for (let i = 0; i < 4; i++) dv.setInt32(20 + 4 * i, efd, true);
    const n = m.dmesg().length;
    expect(m.ioctl_(dev, 'VFIO_DEVICE_SET_IRQS', set).errno).toBe(0);
    const lines = m.dmesg().slice(n);
    expect(lines.length).toBe(3);
    for (const l of lines) expect(l).toMatch(new RegExp(`^vfio-pci 0000:00:02\\.0: irq bypass producer \\(${word} [0-9a-f]{16}\\) registration fails: -16$`));
    expect(new Set(lines).size).toBe(1);
  });
});

/** VFIO_DEVICE_FEATURE with `flags` and `data` after the 8-byte header. */
function feature(m: Machine, dev: number, flags: number, data: number[] = []): number {
  const b = new Uint8Array(8 + 4 * data.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, b.length, true);
  dv.setUint32(4, flags, true);
  data.forEach((v, i) => dv.setUint32(8 + 4 * i, v, true));
  return m.ioctl_(dev, 'VFIO_DEVICE_FEATURE', b).errno;
}
const GET = 1 << 16;
const SET = 1 << 17;
const PROBE = 1 << 18;

describe('device features after 6.12', () => {
  // DMA_BUF (11, 6.19): "PROBE 11" and "PROBE|GET 11" → 0, "PROBE|SET 11" and "none 11" →
  // EINVAL; 6.12 does not know it (ENOTTY).
  it('DMA_BUF probes', () => {
    const { m, dev } = deviceFd('7.2', EDU);
    expect([PROBE, PROBE | GET, PROBE | SET, 0].map((f) => feature(m, dev, f | 11))).toEqual([0, 0, EINVAL, EINVAL]);
    const old = deviceFd('6.12', EDU);
    expect(feature(old.m, old.dev, PROBE | 11)).toBe(ENOTTY);
  });

  // vfio_pci_core_feature_dma_buf(): no ranges or non-zero flags → EINVAL; the ROM (index 6)
  // is not a BAR → ENODEV. {region_index, open_flags, flags, nr_ranges}.
  it('DMA_BUF GET checks', () => {
    const { m, dev } = deviceFd('7.2', EDU);
    expect(feature(m, dev, GET | 11, [0, 2, 0, 0])).toBe(EINVAL);
    expect(feature(m, dev, GET | 11, [0, 2, 1, 1])).toBe(EINVAL);
    expect(feature(m, dev, GET | 11, [6, 2, 0, 1])).toBe(ENODEV);
  });

  // MIG_PRECOPY_INFOv2 (12): the core refuses a device without PRE_COPY migration, whatever
  // the flags ("PROBE 12" … "none 12" → EINVAL); 6.12 hands it to vfio-pci (ENOTTY).
  it('MIG_PRECOPY_INFOv2', () => {
    const { m, dev } = deviceFd('7.2', EDU);
    expect([PROBE, PROBE | GET, PROBE | SET, SET, 0].map((f) => feature(m, dev, f | 12))).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, EINVAL]);
    const old = deviceFd('6.12', EDU);
    expect(feature(old.m, old.dev, PROBE | 12)).toBe(ENOTTY);
  });
});

describe('IOMMU groups at bus scan on QEMU virt (6.15)', () => {
  // arm64-7.2-gicv3: the bind events say edu is group 1 and e1000e group 2 (6.12: 0 and 1).
  it.each([
    ['7.2', 1, 2],
    ['6.12', 0, 1],
  ] as const)('%s', (era, edu, e1000e) => {
    const m = new Machine(era, 'qemu-virt-smmuv3', { gic: 'v3' });
    expect(Number(m.kernel.bind(EDU, 'vfio-pci').ret)).toBe(edu);
    expect(Number(m.kernel.bind(E1000E, 'vfio-pci').ret)).toBe(e1000e);
  });
});
