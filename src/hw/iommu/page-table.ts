// A domain's page table, kept as ranges rather than pages so a 1 TiB mapping costs one entry.
// The models differ in what they refuse (an IOVA beyond the input address size), not in how
// they store translations, so they share this table and pass their own limit check.

import { NO_ROW, RangeTable } from '../../lib/range-table.js';
import type { IommuDirtyOps, IommuDomainHw, IommuProt } from './iommu.js';
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
  /** What the driver prints when it refuses a range beyond the aperture (before returning the errno). */
  onBeyondAperture?: (iova: bigint, pa: bigint, size: bigint) => void;
  /** The domain keeps dirty bits (allocated for dirty tracking on hardware with it). */
  dirtyTracking?: boolean;
  /**
   * What the driver's map answers for a prot with neither READ nor WRITE (a caller such as
   * iommufd's VFIO compat MAP_DMA with flags 0 passes one). Unset: mapped as asked.
   */
  noAccess?: () => number;
}

/** Dirty bits per smallest page, set by translated writes while tracking is on. */
class DirtyBits implements IommuDirtyOps {
  tracking = false;
  private readonly pages = new Set<bigint>();

  constructor(private readonly page: bigint) {}

  setTracking(enable: boolean): void {
    this.tracking = enable;
  }

  recordWrite(iova: bigint): void {
    if (this.tracking) this.pages.add(iova / this.page);
  }

  readAndClear(iova: bigint, size: bigint, noClear: boolean): bigint[] {
    const out: bigint[] = [];
    for (const p of [...this.pages].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const at = p * this.page;
      if (at + this.page <= iova || at >= iova + size) continue;
      out.push(at);
      if (!noClear) this.pages.delete(p);
    }
    return out;
  }
}

// Permissions as two bits per row; translate() hands out one shared object per combination,
// so no mapping carries an object of its own.
const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_MMIO = 4;
const PROTS: readonly IommuProt[] = Array.from({ length: 8 }, (_, b) =>
  Object.freeze(
    b & PROT_MMIO
      ? { read: (b & PROT_READ) !== 0, write: (b & PROT_WRITE) !== 0, mmio: true }
      : { read: (b & PROT_READ) !== 0, write: (b & PROT_WRITE) !== 0 },
  ),
);

function protBits(prot: IommuProt): number {
  return (prot.read ? PROT_READ : 0) | (prot.write ? PROT_WRITE : 0) | (prot.mmio ? PROT_MMIO : 0);
}

export class RangePageTable implements IommuDomainHw {
  /** One row per mapped range: [iova, end) → pa, with the prot bits as the row's flags. */
  private readonly ranges = new RangeTable();
  /** The smallest page (lowest bit of pgsize_bitmap) less one: the alignment mask of iommu_map(). */
  private readonly pageMask: bigint;
  /** The smallest page as a number (mapExact's alignment check), or 0 when not below 2^53. */
  private readonly pageN: number;

  readonly dirty?: IommuDirtyOps;

  constructor(private readonly limits: PageTableLimits) {
    const bitmap = limits.pgsizeBitmap;
    this.pageMask = (bitmap & -bitmap) - 1n;
    const page = Number(this.pageMask + 1n);
    this.pageN = page <= Number.MAX_SAFE_INTEGER ? page : 0;
    if (limits.dirtyTracking) this.dirty = new DirtyBits(this.pageMask + 1n);
  }

  get aperture(): { start: bigint; end: bigint } {
    return this.limits.aperture;
  }

  get mappedRanges(): number {
    return this.ranges.size;
  }

  map(iova: bigint, pa: bigint, size: bigint, prot: IommuProt): number {
    // iommu_map(): everything aligned to the smallest supported page.
    if (size === 0n || ((iova | pa | size) & this.pageMask) !== 0n) return -EINVAL;
    const limits = this.limits;
    if (!prot.read && !prot.write && limits.noAccess) return limits.noAccess();
    const end = iova + size;
    if (iova < limits.aperture.start || end - 1n > limits.aperture.end) {
      limits.onBeyondAperture?.(iova, pa, size);
      return -limits.beyondApertureErrno;
    }
    if (this.ranges.someOverlap(iova, end) !== NO_ROW) return -17; // EEXIST: a PTE is already there
    this.ranges.insert(iova, end, pa, protBits(prot));
    return 0;
  }

  unmap(iova: bigint, size: bigint): bigint {
    const t = this.ranges;
    const end = iova + size;
    let freed = 0n;
    // The common case first, a range mapped at iova (or where the last one ended): found and
    // removed in one walk of the table.
    let from = iova;
    for (let at = from < end ? t.removeAt(from) : NO_ROW; at !== NO_ROW; at = from < end ? t.removeAt(from) : NO_ROW) {
      const rend = t.end(at);
      if (rend > end) {
        // Keep the part past the unmap.
        t.insert(end, rend, t.addr(at) + (end - from), t.flags(at));
        return freed + (end - from);
      }
      freed += rend - from;
      from = rend;
    }
    if (from >= end) return freed;
    for (const row of t.overlapping(from, end)) {
      const start = t.start(row);
      const rend = t.end(row);
      const pa = t.addr(row);
      const bits = t.flags(row);
      t.delete(row);
      // Keep the parts outside [from, end): a 4K-granular table can split a range.
      if (start < from) t.insert(start, from, pa, bits);
      if (rend > end) t.insert(end, rend, pa + (end - start), bits);
      const s = start > from ? start : from;
      const e = rend < end ? rend : end;
      freed += e - s;
    }
    return freed;
  }

  /**
   * map() of exact numbers (iova + size and pa + size below 2^53): the same checks in the same
   * order, the row stored in the same form (a RangeTable keeps values below 2^53 as numbers).
   */
  mapExact(iova: number, pa: number, size: number, prot: IommuProt): number {
    const page = this.pageN;
    if (page === 0) return this.map(BigInt(iova), BigInt(pa), BigInt(size), prot);
    // A power of two: a remainder is the bits under the mask.
    if (size === 0 || iova % page !== 0 || pa % page !== 0 || size % page !== 0) return -EINVAL;
    const limits = this.limits;
    if (!prot.read && !prot.write && limits.noAccess) return limits.noAccess();
    const end = iova + size;
    // (A number compares with a bigint exactly.)
    if (iova < limits.aperture.start || end - 1 > limits.aperture.end) {
      limits.onBeyondAperture?.(BigInt(iova), BigInt(pa), BigInt(size));
      return -limits.beyondApertureErrno;
    }
    if (this.ranges.someOverlap(iova, end) !== NO_ROW) return -17; // EEXIST, as map()
    this.ranges.insert(iova, end, pa, protBits(prot));
    return 0;
  }

  /**
   * unmap() of exact numbers (iova + size below 2^53). The usual case, one row exactly
   * [iova, iova + size), is removed here; anything else (a split, several rows, a row ending
   * at or past 2^53) goes to unmap().
   */
  unmapExact(iova: number, size: number): number {
    const t = this.ranges;
    const end = iova + size;
    const row = t.containing(iova);
    if (row !== NO_ROW && t.startKey(row) === iova && t.endKey(row) === end && size !== 0) {
      t.delete(row);
      return size;
    }
    return Number(this.unmap(BigInt(iova), BigInt(size)));
  }

  translate(iova: bigint): { pa: bigint; prot: IommuProt } | undefined {
    const row = this.ranges.containing(iova);
    if (row === NO_ROW) return undefined;
    return { pa: this.ranges.addr(row) + (iova - this.ranges.start(row)), prot: PROTS[this.ranges.flags(row)] };
  }
}
