// struct io_pagetable (drivers/iommu/iommufd/io_pagetable.c, pages.c): the IOVA → user-memory
// map of one IOAS. Areas are slices of iopt_pages (a user VA range pinned from one mm); the
// IOVA space is narrowed by reserved ranges (reserved_itree: domain apertures and each attached
// device's reserved regions, owned by what reserved them) and, for IOVA allocation only, by the
// allowed ranges userspace sets. Every domain attached (iopt->domains) is filled with every
// area, pinning the pages the first time (iopt_fill_domain); areas mapped while no domain is
// attached hold a lazy reference and pin nothing.
//
// Each check returns the kernel's errno in the kernel's order, because the order decides
// which errno a request with several faults gets.

import { EADDRINUSE, EEXIST, EINVAL, ENOENT, ENOSPC, EOVERFLOW, EPERM } from '../../uapi/errno.js';
import type { IommuDomain } from '../iommu/core.js';
import type { AddressSpace } from '../mm.js';
import type { IommuProt } from '../../hw/iommu/iommu.js';

export const ULONG_MAX = (1n << 64n) - 1n;

/**
 * The file behind IOPT_ADDRESS_FILE pages (IOMMU_IOAS_MAP_FILE): whether memfd_pin_folios()
 * takes it (shmem_file() or hugetlbfs), its i_size, and where its pages are.
 */
export interface FilePages {
  readonly shmem: boolean;
  readonly size: bigint;
  /** Physical address of the file's byte 0 (a shmem file's pages, contiguous in the model). */
  readonly phys: bigint;
}

/** A file memfd_pin_folios() refuses (an eventfd, a device fd, /dev/iommu ...). */
export const NOT_SHMEM: FilePages = { shmem: false, size: 0n, phys: 0n };

/**
 * struct iopt_pages: a user VA range of one mm (IOPT_ADDRESS_USER) or a byte range of a file
 * (IOPT_ADDRESS_FILE), shared by the areas (and copies) that slice it.
 */
export interface IoptPages {
  /**
   * The user address the range starts at (pages->uptr + the offset in its first page), or
   * for a file the file offset (pages->start + the offset in its first page).
   */
  uaddr: bigint;
  length: bigint;
  /** Pinned for write (FOLL_WRITE): a READ-only mapping's pages cannot be copied writeable. */
  writable: boolean;
  mm: AddressSpace;
  /** IOPT_ADDRESS_FILE: the file (pages->file); absent for user memory. */
  file?: FilePages;
}

/** struct iopt_area: [iova, last] maps pages from startByte. */
export interface IoptArea {
  iova: bigint;
  /** Inclusive. */
  last: bigint;
  pages: IoptPages;
  startByte: bigint;
  prot: IommuProt;
}

/** A range [start, last] of the reserved or allowed trees. */
export interface IovaRange {
  start: bigint;
  /** Inclusive. */
  last: bigint;
}

export interface Reserved extends IovaRange {
  owner: object;
}

const overlaps = (a: IovaRange, start: bigint, last: bigint): boolean => a.start <= last && start <= a.last;

/** roundup_pow_of_two(). */
function roundupPow2(v: bigint): bigint {
  let p = 1n;
  while (p < v) p <<= 1n;
  return p;
}

/** 1 << __ffs64(v) (v non-zero). */
const lowestBit = (v: bigint): bigint => v & -v;

/** ALIGN(). */
const align = (v: bigint, a: bigint): bigint => (v + a - 1n) & ~(a - 1n) & ULONG_MAX;

export class IoPagetable {
  /** area_itree, kept sorted by IOVA. */
  readonly areas: IoptArea[] = [];
  readonly allowed: IovaRange[] = [];
  private readonly reserved: Reserved[] = [];
  /** iopt->domains, in attach order. */
  readonly domains: IommuDomain[] = [];
  /** iopt->iova_alignment: 1 until a domain needs more (its smallest page). */
  iovaAlignment = 1n;
  disableLargePages = false;

  constructor(
    private readonly pageSize: bigint,
    /** Era.iommufdUnmapEmptyOk: an unmap that finds nothing succeeds. */
    private readonly emptyUnmapOk = false,
  ) {}

  // ---- lookups --------------------------------------------------------------------------------

  private areaFirst(start: bigint, last: bigint): IoptArea | undefined {
    return this.areas.find((a) => a.iova <= last && start <= a.last);
  }

  private reservedFirst(start: bigint, last: bigint): Reserved | undefined {
    return this.reserved.find((r) => overlaps(r, start, last));
  }

  /**
   * IOMMU_IOAS_IOVA_RANGES: the holes of the reserved tree over [0, ULONG_MAX]
   * (interval_tree_for_each_span over reserved_itree), lowest first.
   */
  usableRanges(): IovaRange[] {
    return holes(this.reserved, 0n, ULONG_MAX);
  }

  // ---- IOVA allocation and checks ----------------------------------------------------------------

  /**
   * iopt_alloc_iova(): the lowest IOVA (never 0: the search starts at PAGE_SIZE) in an allowed
   * range (all of [PAGE_SIZE, ULONG_MAX - PAGE_SIZE] when none is set) that is neither reserved
   * nor mapped, aligned to min(roundup_pow_of_two(length), the lowest set bit of uptr) and
   * keeping uptr's offset in its page.
   */
  allocIova(uptr: bigint, length: bigint): bigint | number {
    const page = this.pageSize;
    const pageOffset = uptr % page;
    if (length === 0n || length >= ULONG_MAX / 2n) return -EOVERFLOW;
    const pow = roundupPow2(length);
    const alignment = uptr === 0n ? pow : pow < lowestBit(uptr) ? pow : lowestBit(uptr);
    if (alignment < this.iovaAlignment) return -EINVAL;
    const lo = page;
    const hi = ULONG_MAX - page;
    const spans = this.allowed.length
      ? this.allowed.filter((a) => overlaps(a, lo, hi)).map((a) => ({ start: a.start < lo ? lo : a.start, last: a.last > hi ? hi : a.last }))
      : [{ start: lo, last: hi }];
    const fits = (s: IovaRange): bigint | undefined => {
      if (s.last - s.start < length - 1n) return undefined;
      const start = align(s.start, alignment) | pageOffset;
      if (start > s.last || s.last - start < length - 1n) return undefined;
      return start;
    };
    const used = [...this.reserved, ...this.areas.map((a) => ({ start: a.iova, last: a.last }))];
    for (const span of spans.sort((a, b) => (a.start < b.start ? -1 : 1))) {
      if (fits(span) === undefined) continue;
      for (const hole of holes(used, span.start, span.last)) {
        const at = fits(hole);
        if (at !== undefined) return at;
      }
    }
    return -ENOSPC;
  }

  /** iopt_check_iova(): a FIXED_IOVA range must be aligned, not wrap, not reserved, not mapped. */
  checkIova(iova: bigint, length: bigint): number {
    if (iova & (this.iovaAlignment - 1n)) return -EINVAL;
    const last = iova + length - 1n;
    if (last > ULONG_MAX) return -EOVERFLOW;
    if (this.reservedFirst(iova, last)) return -EINVAL;
    if (this.areaFirst(iova, last)) return -EEXIST;
    return 0;
  }

  // ---- mapping ---------------------------------------------------------------------------------

  /**
   * iopt_map_pages(): the slices `list` (pages, startByte, length each) placed one after the
   * other at *iova (allocated when `alloc`), then filled into every domain. The IOVA, or -errno.
   */
  mapPages(list: readonly { pages: IoptPages; startByte: bigint; length: bigint }[], length: bigint, iova: bigint, alloc: boolean, prot: IommuProt): bigint | number {
    // iopt_alloc_area_pages()
    if (length & (this.iovaAlignment - 1n) || length === 0n) return -EINVAL;
    if (alloc) {
      const first = list[0];
      const at = this.allocIova(first.pages.uaddr + first.startByte, length);
      if (typeof at === 'number') return at;
      iova = at;
    } else {
      const rc = this.checkIova(iova, length);
      if (rc) return rc;
    }
    const made: IoptArea[] = [];
    let at = iova;
    for (const elm of list) {
      // iopt_insert_area()
      let rc = 0;
      if (prot.write && !elm.pages.writable) rc = -EPERM;
      else if (((elm.pages.uaddr + elm.startByte) % this.pageSize) & (this.iovaAlignment - 1n)) rc = -EINVAL;
      if (rc) {
        for (const a of made) this.removeArea(a);
        return rc;
      }
      const area: IoptArea = { iova: at, last: at + elm.length - 1n, pages: elm.pages, startByte: elm.startByte, prot };
      this.insertArea(area);
      made.push(area);
      at += elm.length;
    }
    // iopt_fill_domains_pages(): all or nothing.
    for (let i = 0; i < made.length; i++) {
      const rc = this.fillDomains(made[i]);
      if (rc) {
        for (let u = 0; u < i; u++) this.unfillDomains(made[u]);
        for (const a of made) this.removeArea(a);
        return rc;
      }
    }
    return iova;
  }

  /** iopt_get_pages(): the slices covering [iova, iova + length), which must be mapped contiguously. */
  getPages(iova: bigint, length: bigint): { pages: IoptPages; startByte: bigint; length: bigint }[] | number {
    if (length === 0n) return -EINVAL;
    const last = iova + length - 1n;
    if (last > ULONG_MAX) return -EOVERFLOW;
    const out: { pages: IoptPages; startByte: bigint; length: bigint }[] = [];
    let cur = iova;
    for (;;) {
      const area = this.areas.find((a) => a.iova <= cur && cur <= a.last);
      if (!area) return -ENOENT;
      const end = last < area.last ? last : area.last;
      out.push({ pages: area.pages, startByte: area.startByte + (cur - area.iova), length: end - cur + 1n });
      if (end === last) return out;
      cur = end + 1n;
    }
  }

  /**
   * iopt_unmap_iova_range(): every area inside [start, last] goes; an area reaching outside the
   * range stops the walk with -ENOENT (areas before it, in IOVA order, are already gone). Nothing
   * in the range is -ENOENT, or 0 where the era's rc starts at 0. Returns the bytes unmapped and the result.
   */
  unmapRange(start: bigint, last: bigint): { rc: number; unmapped: bigint } {
    let unmapped = 0n;
    for (let area = this.areaFirst(start, last); area; area = this.areaFirst(start, last)) {
      if (area.iova < start || area.last > last) return { rc: -ENOENT, unmapped };
      this.unfillDomains(area);
      this.removeArea(area);
      unmapped += area.last - area.iova + 1n;
    }
    return { rc: unmapped || this.emptyUnmapOk ? 0 : -ENOENT, unmapped };
  }

  /** iopt_unmap_iova(): length 0 is -EINVAL, a wrapping range -EOVERFLOW. */
  unmapIova(iova: bigint, length: bigint): { rc: number; unmapped: bigint } {
    if (length === 0n) return { rc: -EINVAL, unmapped: 0n };
    if (iova + length - 1n > ULONG_MAX) return { rc: -EOVERFLOW, unmapped: 0n };
    return this.unmapRange(iova, iova + length - 1n);
  }

  /**
   * iopt_area_split(): the area holding `iova` becomes [iova of the area, iova] and
   * [iova + 1, last], both slicing the same pages (VFIO compat poking a hole in a mapping).
   * Nothing to do at either end; the new start and its byte in the pages must meet the IOVA
   * alignment, and an area a domain may hold with large pages is never split (-EINVAL).
   */
  private splitArea(area: IoptArea, iova: bigint): number {
    if (iova === area.iova || iova === area.last) return 0;
    const newStart = iova + 1n;
    const mask = this.iovaAlignment - 1n;
    // iopt_area_start_byte(): from the page-aligned start of the pages.
    const startByte = (b: bigint): bigint => (area.pages.uaddr & (this.pageSize - 1n)) + area.startByte + (b - area.iova);
    if (newStart & mask || startByte(newStart) & mask) return -EINVAL;
    // area->storage_domain && !disable_large_pages: filled into a domain that may use large pages.
    if (this.domains.length && !this.disableLargePages) return -EINVAL;
    const lhs: IoptArea = { ...area, last: iova };
    const rhs: IoptArea = { ...area, iova: newStart, startByte: area.startByte + (newStart - area.iova) };
    this.removeArea(area);
    this.insertArea(lhs);
    this.insertArea(rhs);
    return 0;
  }

  /** iopt_cut_iova(): split the areas holding each IOVA so that each is an area's last byte. */
  cutIova(iovas: readonly bigint[]): number {
    for (const iova of iovas) {
      const area = this.areaFirst(iova, iova);
      if (!area) continue;
      const rc = this.splitArea(area, iova);
      if (rc) return rc;
    }
    return 0;
  }

  /** iopt_unmap_all(): an empty IOAS unmaps nothing and succeeds. */
  unmapAll(): { rc: number; unmapped: bigint } {
    const r = this.unmapRange(0n, ULONG_MAX);
    return r.rc === -ENOENT ? { rc: 0, unmapped: r.unmapped } : r;
  }

  private insertArea(a: IoptArea): void {
    const at = this.areas.findIndex((x) => x.iova > a.iova);
    this.areas.splice(at < 0 ? this.areas.length : at, 0, a);
  }

  private removeArea(a: IoptArea): void {
    const at = this.areas.indexOf(a);
    if (at >= 0) this.areas.splice(at, 1);
  }

  // ---- domains ---------------------------------------------------------------------------------

  /** The user memory behind an area as physically contiguous pieces: [iova, pa, size]. */
  private pieces(area: IoptArea): [bigint, bigint, bigint][] {
    const file = area.pages.file;
    if (file) return [[area.iova, file.phys + area.pages.uaddr + area.startByte, area.last - area.iova + 1n]];
    const va = area.pages.uaddr + area.startByte;
    const end = va + (area.last - area.iova + 1n);
    const out: [bigint, bigint, bigint][] = [];
    for (const v of area.pages.mm.list()) {
      if (v.end <= va || v.start >= end) continue;
      const s = v.start > va ? v.start : va;
      const e = v.end < end ? v.end : end;
      out.push([area.iova + (s - va), v.phys + (s - v.start), e - s]);
    }
    return out;
  }

  /**
   * Pins an area's pages: pin_user_pages of the range (FOLL_WRITE when writable), 0 or -EFAULT;
   * for a file pin_memfd_pages(), whose memfd_pin_folios() answers -EINVAL for a file that is
   * not shmem and for whole pages reaching i_size or past it (`end >= i_size_read()`).
   */
  private pin(area: IoptArea): number {
    const { pages } = area;
    const first = pages.uaddr + area.startByte;
    if (pages.file) {
      const page = this.pageSize;
      const end = ((first + (area.last - area.iova)) & ~(page - 1n)) + page - 1n;
      return pages.file.shmem && end < pages.file.size ? 0 : -EINVAL;
    }
    return pages.mm.pin(first, area.last - area.iova + 1n, pages.writable);
  }

  /** iopt_area_fill_domain(): map the area in one domain. */
  private fillDomain(area: IoptArea, d: IommuDomain): number {
    const rc = this.pin(area);
    if (rc) return rc;
    const done: [bigint, bigint][] = [];
    for (const [iova, pa, size] of this.pieces(area)) {
      const r = d.hw.map(iova, pa, size, area.prot);
      if (r) {
        for (const [i, s] of done) d.hw.unmap(i, s);
        return r;
      }
      done.push([iova, size]);
    }
    return 0;
  }

  private fillDomains(area: IoptArea): number {
    for (let i = 0; i < this.domains.length; i++) {
      const rc = this.fillDomain(area, this.domains[i]);
      if (rc) {
        for (let u = 0; u < i; u++) this.domains[u].hw.unmap(area.iova, area.last - area.iova + 1n);
        return rc;
      }
    }
    return 0;
  }

  private unfillDomains(area: IoptArea): void {
    for (const d of this.domains) d.hw.unmap(area.iova, area.last - area.iova + 1n);
  }

  /** All existing areas conform to a larger alignment (iopt_check_iova_alignment): 0 or -EADDRINUSE. */
  private checkAlignment(alignment: bigint): number {
    const mask = alignment - 1n;
    for (const a of this.areas) {
      if (a.iova & mask || (a.last - a.iova + 1n) & mask || ((a.pages.uaddr + a.startByte) % this.pageSize) & mask) return -EADDRINUSE;
    }
    return 0;
  }

  /**
   * iopt_table_add_domain(): the domain's smallest page becomes the IOVA alignment (above
   * PAGE_SIZE it cannot be: -EINVAL; existing areas must conform: -EADDRINUSE), IOVA outside
   * its aperture is reserved, and every area is mapped in it.
   */
  addDomain(d: IommuDomain): number {
    const smallest = lowestBit(d.pgsizeBitmap);
    const alignment = smallest > this.iovaAlignment ? smallest : this.iovaAlignment;
    if (alignment > this.pageSize) return -EINVAL;
    if (alignment !== this.iovaAlignment) {
      const rc = this.checkAlignment(alignment);
      if (rc) return rc;
    }
    const ap = d.hw.aperture;
    let rc = 0;
    if (ap.start !== 0n) rc = this.reserve(0n, ap.start - 1n, d);
    if (!rc && ap.end !== ULONG_MAX) rc = this.reserve(ap.end + 1n, ULONG_MAX, d);
    if (rc) {
      this.removeReserved(d);
      return rc;
    }
    for (let i = 0; i < this.areas.length; i++) {
      rc = this.fillDomain(this.areas[i], d);
      if (rc) {
        for (let u = 0; u < i; u++) d.hw.unmap(this.areas[u].iova, this.areas[u].last - this.areas[u].iova + 1n);
        this.removeReserved(d);
        return rc;
      }
    }
    this.iovaAlignment = alignment;
    this.domains.push(d);
    return 0;
  }

  /** iopt_table_remove_domain(): unmap everything from it, drop its reservations, recompute the alignment. */
  removeDomain(d: IommuDomain): void {
    const at = this.domains.indexOf(d);
    if (at < 0) return;
    this.domains.splice(at, 1);
    for (const a of this.areas) d.hw.unmap(a.iova, a.last - a.iova + 1n);
    this.removeReserved(d);
    this.calculateAlignment();
  }

  /** iopt_calculate_iova_alignment(). */
  private calculateAlignment(): number {
    let alignment = this.disableLargePages ? this.pageSize : 1n;
    for (const d of this.domains) {
      const s = lowestBit(d.pgsizeBitmap);
      if (s > alignment) alignment = s;
    }
    if (alignment > this.iovaAlignment) {
      const rc = this.checkAlignment(alignment);
      if (rc) return rc;
    }
    this.iovaAlignment = alignment;
    return 0;
  }

  /** iopt_disable_large_pages(): refused once a domain has pages mapped in it. */
  setLargePages(enable: boolean): number {
    if (enable) {
      this.disableLargePages = false;
      this.calculateAlignment();
      return 0;
    }
    if (this.disableLargePages) return 0;
    if (this.domains.length && this.areas.length) return -EINVAL;
    this.disableLargePages = true;
    const rc = this.calculateAlignment();
    if (rc) this.disableLargePages = false;
    return rc;
  }

  // ---- reserved and allowed ranges ---------------------------------------------------------------

  /** iopt_reserve_iova(): -EADDRINUSE over a mapped area or an allowed range. */
  reserve(start: bigint, last: bigint, owner: object): number {
    if (this.areaFirst(start, last) || this.allowed.some((a) => overlaps(a, start, last))) return -EADDRINUSE;
    this.reserved.push({ start, last, owner });
    this.reserved.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    return 0;
  }

  /** iopt_remove_reserved_iova(): everything `owner` reserved. */
  removeReserved(owner: object): void {
    for (let i = this.reserved.length - 1; i >= 0; i--) if (this.reserved[i].owner === owner) this.reserved.splice(i, 1);
  }

  /** The reserved tree, lowest first, with each range's owner (for `show reserved`). */
  get reservations(): readonly Readonly<Reserved>[] {
    return this.reserved;
  }

  /** Ranges `owner` reserved (for the MSI window narrowing and `show`). */
  reservedBy(owner: object): IovaRange[] {
    return this.reserved.filter((r) => r.owner === owner).map((r) => ({ start: r.start, last: r.last }));
  }

  /** iopt_set_allow_iova(): swapped in whole, or -EADDRINUSE (and unchanged) over a reserved range. */
  setAllowed(ranges: readonly IovaRange[]): number {
    if (ranges.some((a) => this.reservedFirst(a.start, a.last))) return -EADDRINUSE;
    this.allowed.splice(0, this.allowed.length, ...[...ranges].sort((a, b) => (a.start < b.start ? -1 : 1)));
    return 0;
  }
}

/** The holes of `used` (any order, may overlap) inside [lo, hi], lowest first. */
export function holes(used: readonly IovaRange[], lo: bigint, hi: bigint): IovaRange[] {
  const sorted = used.filter((u) => overlaps(u, lo, hi)).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: IovaRange[] = [];
  let at = lo;
  let done = false;
  for (const u of sorted) {
    if (u.start > at) out.push({ start: at, last: u.start - 1n });
    if (u.last >= hi) {
      done = true;
      break;
    }
    if (u.last + 1n > at) at = u.last + 1n;
  }
  if (!done && at <= hi) out.push({ start: at, last: hi });
  return out;
}
