// RangePageTable (src/hw/iommu/page-table.ts): the shared range-based page table, as
// iommu_map()/iommu_unmap() see it.

import { describe, expect, it } from 'vitest';
import { RangePageTable } from '../../src/hw/iommu/page-table.js';
import { EFAULT, EINVAL } from '../../src/uapi/errno.js';

const RW = { read: true, write: true };
const RO = { read: true, write: false };
const pt = () =>
  new RangePageTable({ pgsizeBitmap: 0x4020_1000n, aperture: { start: 0n, end: (1n << 48n) - 1n }, beyondApertureErrno: EFAULT });

describe('RangePageTable', () => {
  // iommu_map(): aligned to the smallest page, inside the aperture, never over a PTE.
  it('map refusals', () => {
    const t = pt();
    expect(t.map(0x1800n, 0xa000n, 0x1000n, RW)).toBe(-EINVAL);
    expect(t.map(0x1000n, 0xa000n, 0n, RW)).toBe(-EINVAL);
    expect(t.map(1n << 48n, 0xa000n, 0x1000n, RW)).toBe(-EFAULT);
    expect(t.map(0x1000n, 0xa000n, 0x2000n, RW)).toBe(0);
    expect(t.map(0x2000n, 0xb000n, 0x1000n, RW)).toBe(-17);
    expect(t.map(0x0n, 0xb000n, 0x2000n, RW)).toBe(-17);
    expect(t.mappedRanges).toBe(1);
  });

  // translate(): the PA at the offset, and the permissions the range was mapped with.
  it('translate', () => {
    const t = pt();
    t.map(0x1000n, 0xa000n, 0x2000n, RO);
    t.map(0x8000n, 0xc000n, 0x1000n, { read: false, write: true, mmio: true });
    expect(t.translate(0x2abcn)).toEqual({ pa: 0xbabcn, prot: { read: true, write: false } });
    expect(t.translate(0x8000n)).toEqual({ pa: 0xc000n, prot: { read: false, write: true, mmio: true } });
    expect(t.translate(0x3000n)).toBe(undefined);
  });

  // iommu_unmap(): whole ranges, consecutive ones in one call, and the bytes freed.
  it('unmap whole ranges', () => {
    const t = pt();
    t.map(0x1000n, 0xa000n, 0x1000n, RW);
    t.map(0x2000n, 0xb000n, 0x2000n, RW);
    t.map(0x6000n, 0xe000n, 0x1000n, RW);
    expect(t.unmap(0x1000n, 0x3000n)).toBe(0x3000n);
    expect(t.mappedRanges).toBe(1);
    expect(t.unmap(0x5000n, 0x3000n)).toBe(0x1000n);
    expect(t.unmap(0x5000n, 0x3000n)).toBe(0n);
    expect(t.mappedRanges).toBe(0);
  });

  // A 4K-granular table splits: what lies outside the unmap stays mapped at its PA.
  it('unmap splits', () => {
    const t = pt();
    t.map(0x10000n, 0xa0000n, 0x4000n, RW);
    expect(t.unmap(0x10000n, 0x1000n)).toBe(0x1000n);
    expect(t.translate(0x11000n)).toEqual({ pa: 0xa1000n, prot: RW });
    expect(t.unmap(0x12000n, 0x1000n)).toBe(0x1000n);
    expect(t.translate(0x11000n)).toEqual({ pa: 0xa1000n, prot: RW });
    expect(t.translate(0x12000n)).toBe(undefined);
    expect(t.translate(0x13000n)).toEqual({ pa: 0xa3000n, prot: RW });
    expect(t.mappedRanges).toBe(2);
  });
});
