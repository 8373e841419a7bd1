// A domain's page table, kept as ranges rather than pages so a 1 TiB mapping costs one entry.
// The models differ in what they refuse (an IOVA beyond the input address size), not in how
// they store translations, so they share this table and pass their own limit check.

import { RangeTree } from '../../lib/range-tree.js';
import type { IommuDomainHw, IommuProt } from './iommu.js';
import { EINVAL } from '../../uapi/errno.js';


export interface PageTableLimits {
  pgsizeBitmap: bigint;
  /** Inclusive domain geometry. */
  aperture: { start: bigint; end: bigint };
  /**
   * What the driver's map returns for an IOVA beyond what it can translate
   * (io-pgtable's -ERANGE on ARM, intel-iommu's -EFAULT on VT-d).
   */
  beyondApertureErrno: number;
}

export class RangePageTable implements IommuDomainHw {
  private readonly ranges = new RangeTree<{ pa: bigint; prot: IommuProt }>();

  constructor(private readonly limits: PageTableLimits) {}

  get aperture(): { start: bigint; end: bigint } {
    return this.limits.aperture;
  }

  get mappedRanges(): number {
    return this.ranges.size;
  }

  map(iova: bigint, pa: bigint, size: bigint, prot: IommuProt): number {
    // iommu_map(): everything aligned to the smallest supported page.
    const bitmap = this.limits.pgsizeBitmap;
    const minPage = bitmap & -bitmap;
    if (size === 0n || ((iova | pa | size) & (minPage - 1n)) !== 0n) return -EINVAL;
    const last = iova + size - 1n;
    if (iova < this.limits.aperture.start || last > this.limits.aperture.end) return -this.limits.beyondApertureErrno;
    if (this.ranges.firstOverlap(iova, iova + size)) return -17; // EEXIST: a PTE is already there
    this.ranges.insert(iova, iova + size, { pa, prot });
    return 0;
  }

  unmap(iova: bigint, size: bigint): bigint {
    let freed = 0n;
    const end = iova + size;
    for (const r of this.ranges.overlapping(iova, end)) {
      this.ranges.delete(r);
      // Keep the parts outside [iova, end): a 4K-granular table can split a range.
      if (r.start < iova) this.ranges.insert(r.start, iova, r.value);
      if (r.end > end) this.ranges.insert(end, r.end, { ...r.value, pa: r.value.pa + (end - r.start) });
      const s = r.start > iova ? r.start : iova;
      const e = r.end < end ? r.end : end;
      freed += e - s;
    }
    return freed;
  }

  translate(iova: bigint): { pa: bigint; prot: IommuProt } | undefined {
    const r = this.ranges.containing(iova);
    return r ? { pa: r.value.pa + (iova - r.start), prot: r.value.prot } : undefined;
  }
}
