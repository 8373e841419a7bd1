// vfio_iommu_type1 (drivers/vfio/vfio_iommu_type1.c): the container backend that maps user
// memory for DMA through IOMMU domains.
//
// Checks run in the kernel's order (abi.md §3.2–§3.4), because the order decides which errno a
// request with several faults gets. The posted series' additions (the reserved MSI window
// registered with DMA_MAP flag bit 2, the MSI_GEOMETRY and MSI_RESV capabilities, abi.md §1)
// are switched on by the era, as is everything upstream added later.

import type { Era } from '../era.js';
import { EACCES, EBUSY, EEXIST, EFAULT, EINVAL, ENODEV, ENOENT, ENOSPC, ENOTTY, EOVERFLOW, EPERM } from '../../uapi/errno.js';
import type { UserArg } from '../file.js';
import type { IommuCore, IommuDomain, IommuGroup } from '../iommu/core.js';
import type { KernelLog } from '../log.js';
import type { AddressSpace } from '../mm.js';
import { ALLOW_UNSAFE, DMA_ENTRY_LIMIT, type ModuleParams } from '../params.js';
import type { Process } from '../process.js';
import { attachAllowed, safetyFacts, UNSAFE_INTERRUPTS_WARNING, type SafetySources } from '../irq/isolation.js';
import type { MsiDoorbellRegistry } from '../irq/msi-doorbell.js';
import type { MsiController } from '../../hw/msi/msi-controller.js';
import type { IommuDomainHw, IommuProt, ReservedRegion } from '../../hw/iommu/iommu.js';
import { type Bound, NO_ROW, RangeTable } from '../../lib/range-table.js';
import { CapChain } from '../../uapi/caps.js';
import { flagBit, KStruct, offsetofend, structField } from '../../uapi/struct.js';
import {
  CAP_DMA_AVAIL,
  CAP_IOVA_RANGE,
  CAP_MIGRATION,
  CAP_MSI_GEOMETRY,
  CAP_MSI_RESV,
  DIRTY_PAGES_FLAGS,
  DMA_MAP_FLAGS,
  DMA_UNMAP_FLAGS,
  IOMMU_INFO_FLAGS,
  IOVA_RANGE_ENTRY,
  VFIO_BITMAP,
  VFIO_DIRTY_BITMAP_GET,
  VFIO_IOMMU_TYPE1_DIRTY_BITMAP,
  VFIO_IOMMU_TYPE1_DMA_MAP,
  VFIO_IOMMU_TYPE1_DMA_UNMAP,
  VFIO_IOMMU_TYPE1_INFO,
} from '../../uapi/structs.js';
import {
  requestNr,
  VFIO_DMA_CC_IOMMU,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1_NESTING_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
} from '../../uapi/requests.js';
import type { IommuState, Type1AttachFacts, VfioDmaInfo, VfioIommu, VfioIommuDriver } from './iommu-driver.js';
import type { Blocked } from '../would-block.js';
import { ffs, U64_MAX } from '../../lib/bits.js';

const VFIO_CHECK_EXTENSION = requestNr('VFIO_CHECK_EXTENSION');
const VFIO_IOMMU_GET_INFO = requestNr('VFIO_IOMMU_GET_INFO');
const VFIO_IOMMU_MAP_DMA = requestNr('VFIO_IOMMU_MAP_DMA');
const VFIO_IOMMU_UNMAP_DMA = requestNr('VFIO_IOMMU_UNMAP_DMA');
const VFIO_IOMMU_DIRTY_PAGES = requestNr('VFIO_IOMMU_DIRTY_PAGES');

// The uapi bits, from the flag tables that encode and display them (ioctl/structs.ts).
const DIRTY_START = flagBit(DIRTY_PAGES_FLAGS, 'START');
const DIRTY_STOP = flagBit(DIRTY_PAGES_FLAGS, 'STOP');
const DIRTY_GET_BITMAP = flagBit(DIRTY_PAGES_FLAGS, 'GET_BITMAP');


const MAP_READ = flagBit(DMA_MAP_FLAGS, 'READ');
const MAP_WRITE = flagBit(DMA_MAP_FLAGS, 'WRITE');
const MAP_BIT2 = flagBit(DMA_MAP_FLAGS, 'VADDR'); // VADDR upstream, RESERVED_MSI_IOVA in the series
const UNMAP_GET_DIRTY_BITMAP = flagBit(DMA_UNMAP_FLAGS, 'GET_DIRTY_BITMAP');
const UNMAP_ALL = flagBit(DMA_UNMAP_FLAGS, 'ALL');
const UNMAP_VADDR = flagBit(DMA_UNMAP_FLAGS, 'VADDR');

const INFO_PGSIZES = flagBit(IOMMU_INFO_FLAGS, 'PGSIZES');
const INFO_CAPS = flagBit(IOMMU_INFO_FLAGS, 'CAPS');

/** DIRTY_BITMAP_SIZE_MAX: bytes of bitmap for INT_MAX pages. */
const DIRTY_BITMAP_SIZE_MAX = 0x1000_0000n;


/** struct vfio_dma. */
export interface VfioDma extends VfioDmaInfo {
  /** The address space the pages were pinned from (dma->mm). */
  mm: AddressSpace;
}

// struct vfio_dma as a row of the container's dma table (lib/range-table.ts): [iova, iova +
// size) with vaddr as the row's address, dma->mm as its reference, and these bits as its flags.
// 10^6 live mappings must fit in a few hundred bytes each, so there is no object per mapping.
const DMA_READ = 1;
const DMA_WRITE = 2;
/** The series' VFIO_IOVA_RESERVED_MSI window (otherwise VFIO_IOVA_USER). */
const DMA_RESERVED_MSI = 4;
/** dma->vaddr_invalid (UNMAP with the VADDR flag). */
const DMA_VADDR_INVALID = 8;

/** The IOMMU prot of a row's READ/WRITE bits: shared, so a mapping allocates none. */
const DMA_PROT: readonly IommuProt[] = [0, 1, 2, 3].map((b) =>
  Object.freeze({ read: (b & DMA_READ) !== 0, write: (b & DMA_WRITE) !== 0 }),
);

interface IovaNode {
  start: bigint;
  /** Inclusive. */
  end: bigint;
}

/** A container domain (struct vfio_domain) and the groups in it. */
interface VfioDomain {
  domain: IommuDomain;
  groups: IommuGroup[];
}

/** What type1 needs from the rest of the kernel. */
export interface Type1Context {
  era: Era;
  log: KernelLog;
  params: ModuleParams;
  iommu: IommuCore;
  controllers: readonly MsiController[];
  doorbells?: MsiDoorbellRegistry;
  /** The host's PAGE_SIZE (the platform's). */
  pageSize: bigint;
}

export class Type1Driver implements VfioIommuDriver {
  readonly name = 'vfio-iommu-type1';
  readonly backend = 'type1';

  constructor(private readonly ctx: Type1Context) {}

  checkExtension(ext: bigint): number {
    return checkExtension(this.ctx.era, undefined, ext);
  }

  /** A new container has no domain: no MSI window is needed yet. */
  attachFacts(group: IommuGroup): Type1AttachFacts {
    return { kind: 'type1', ...safetyFacts(group, safetySources(this.ctx, [])) };
  }

  open(arg: bigint): VfioIommu | number {
    // vfio_iommu_type1_open(): the type decides v1/v2; nesting implies v2.
    switch (arg) {
      case BigInt(VFIO_TYPE1_IOMMU):
        return new Type1(this.ctx, false, false);
      case BigInt(VFIO_TYPE1_NESTING_IOMMU):
        // 6.13 removed nesting: the reserved number opens a plain v2 container.
        return new Type1(this.ctx, true, this.ctx.era.nestingExtension);
      case BigInt(VFIO_TYPE1v2_IOMMU):
        return new Type1(this.ctx, true, false);
      default:
        return -EINVAL;
    }
  }
}

/** vfio_iommu_type1_check_extension(). */
function checkExtension(era: Era, iommu: Type1 | undefined, ext: bigint): number {
  switch (ext) {
    case BigInt(VFIO_TYPE1_IOMMU):
    case BigInt(VFIO_TYPE1v2_IOMMU):
      return 1;
    case BigInt(VFIO_TYPE1_NESTING_IOMMU):
      return era.nestingExtension ? 1 : 0;
    case BigInt(VFIO_UNMAP_ALL):
      return era.unmapAllVaddr ? 1 : 0;
    case BigInt(VFIO_UPDATE_VADDR):
      // 5.12 answered 1 outright; later, only once an IOMMU is open (and no emulated groups,
      // which the model does not have).
      return era.unmapAllVaddr && (era.vaddrWaits || iommu) ? 1 : 0;
    case BigInt(VFIO_DMA_CC_IOMMU):
      // 0 before an IOMMU is set; then whether every domain enforces cache coherency
      // (vfio_domains_have_enforce_cache_coherency, 5.19+) or, before, is cache coherent.
      return iommu ? iommu.domainsCacheCoherent() : 0;
    default:
      return 0;
  }
}

const NO_ROWS: readonly number[] = [];
/** The minsz of MAP_DMA and UNMAP_DMA: offsetofend(struct, size). */
const MAP_MINSZ = offsetofend(VFIO_IOMMU_TYPE1_DMA_MAP, 'size');
const UNMAP_MINSZ = offsetofend(VFIO_IOMMU_TYPE1_DMA_UNMAP, 'size');

// The kernel copies MAP_DMA's and UNMAP_DMA's argument into a struct on its stack; the model
// does the same into one struct each, refilled on every call (KStruct.refill). A handler
// keeps nothing of it past the call, and no MAP or UNMAP runs inside another.
const MAP_SLOT = KStruct.zeroed(VFIO_IOMMU_TYPE1_DMA_MAP);
const UNMAP_SLOT = KStruct.zeroed(VFIO_IOMMU_TYPE1_DMA_UNMAP);

// The fields MAP_DMA and UNMAP_DMA read, looked up once rather than by name per call.
const MAP = {
  argsz: structField(VFIO_IOMMU_TYPE1_DMA_MAP, 'argsz'),
  flags: structField(VFIO_IOMMU_TYPE1_DMA_MAP, 'flags'),
  vaddr: structField(VFIO_IOMMU_TYPE1_DMA_MAP, 'vaddr'),
  iova: structField(VFIO_IOMMU_TYPE1_DMA_MAP, 'iova'),
  size: structField(VFIO_IOMMU_TYPE1_DMA_MAP, 'size'),
};
const UNMAP = {
  argsz: structField(VFIO_IOMMU_TYPE1_DMA_UNMAP, 'argsz'),
  flags: structField(VFIO_IOMMU_TYPE1_DMA_UNMAP, 'flags'),
  iova: structField(VFIO_IOMMU_TYPE1_DMA_UNMAP, 'iova'),
  size: structField(VFIO_IOMMU_TYPE1_DMA_UNMAP, 'size'),
};

const HALF = 1n << 63n;

// MAP_DMA and UNMAP_DMA carry their addresses as exact numbers when every value involved,
// sums included, stays at or below Number.MAX_SAFE_INTEGER: no 64-bit sum can wrap there,
// and a RangeTable stores such values as these numbers anyway. Anything larger (an IOVA near
// 2^64, an UNMAP of the whole space, flags other than the plain ones) takes the bigint path,
// which gives the same answers (test/kernel/type1-exact.test.ts checks that). Issue 8: the
// bigints this saves were most of what a MAP/UNMAP pair allocated.
const MAX_EXACT = Number.MAX_SAFE_INTEGER;
/** What a number path answers when it hands the call to the bigint path (no errno is positive). */
const BIGINT_PATH = 1;
let exactPaths = true;

/**
 * Turns the number paths off (every MAP/UNMAP then takes the bigint path) or back on: for the
 * property test that the two agree, not for the model's users.
 */
export function setType1ExactPaths(on: boolean): void {
  exactPaths = on;
}

const MAP_READ_N = Number(MAP_READ);
const MAP_WRITE_N = Number(MAP_WRITE);
const MAP_BIT2_N = Number(MAP_BIT2);
/** The map flags of a plain MAP_DMA. */
const MAP_RW_N = MAP_READ_N | MAP_WRITE_N;

/** The end of vfio_dma_do_unmap(): the bytes unmapped go into unmap.size, whatever the answer. */
function unmapDone(unmap: KStruct, unmapped: bigint, ret: number): number {
  unmap.write(UNMAP.size, unmapped);
  return ret;
}

/** unmapDone() of an exact number of bytes. */
function unmapDoneExact(unmap: KStruct, unmapped: number, ret: number): number {
  unmap.writeExact(UNMAP.size, unmapped);
  return ret;
}

/** iommu_unmap() of exact numbers, through the domain's number path when it has one. */
function unmapExact(hw: IommuDomainHw, iova: number, size: number): void {
  if (hw.unmapExact) hw.unmapExact(iova, size);
  else hw.unmap(BigInt(iova), BigInt(size));
}

/** Whether [iova, iova + size) or [vaddr, vaddr + size) wraps past 2^64 (size 0 does not). */
function mapWraps(iova: bigint, vaddr: bigint, size: bigint): boolean {
  // Below 2^63 each, no sum reaches 2^64: the common case without a bigint made.
  if (size < HALF && iova < HALF && vaddr < HALF) return false;
  return iova + size - 1n > U64_MAX || vaddr + size - 1n > U64_MAX;
}

/** struct vfio_iommu: one container's type1 state. */
export class Type1 implements VfioIommu {
  /** iommu->dma_list: one row per vfio_dma, keyed by IOVA. */
  private readonly dmas = new RangeTable<AddressSpace>();
  private readonly domains: VfioDomain[] = [];
  /**
   * iommu->pgsize_bitmap and its smallest page, recomputed when a domain comes or goes (as
   * vfio_update_pgsize_bitmap() runs on attach and detach), not on every MAP and UNMAP.
   */
  private pgsizes = 0n;
  private minPage = 0n;
  /** minPage - 1: the alignment mask MAP and UNMAP check. */
  private pgMask = 0n;
  /** minPage as a number for the number paths, or 0 when it is not below 2^53. */
  private pageN = 0;
  private iovaList: IovaNode[] = [];
  /**
   * iommu->dma_avail, kept as the limit read at open and a count of the vfio_dma rows that
   * took an entry, so a MAP or UNMAP moves a number rather than making a bigint.
   */
  private readonly dmaLimit: bigint;
  /** dmaLimit as a number; a limit at or above 2^53 is never reached by a count. */
  private readonly dmaLimitN: number;
  private dmaUsed = 0;
  private vaddrInvalidCount = 0;
  /** iommu->dirty_page_tracking (VFIO_IOMMU_DIRTY_PAGES START/STOP). */
  private dirtyTracking = false;

  constructor(
    private readonly ctx: Type1Context,
    readonly v2: boolean,
    readonly nesting: boolean,
  ) {
    // The limit is read when the container opens its IOMMU; before 5.1 there was none.
    this.dmaLimit = ctx.era.dmaEntryLimit ? ctx.params.uint(DMA_ENTRY_LIMIT) : U64_MAX;
    this.dmaLimitN = this.dmaLimit <= BigInt(MAX_EXACT) ? Number(this.dmaLimit) : Infinity;
    this.updatePgsizeBitmap();
  }

  private get era(): Era {
    return this.ctx.era;
  }

  /** iommu->dma_avail: DMA entries left before MAP_DMA answers -ENOSPC. */
  get dmaAvail(): bigint {
    return this.dmaLimit - BigInt(this.dmaUsed);
  }

  /** iommu->pgsize_bitmap. */
  get pgsizeBitmap(): bigint {
    return this.pgsizes;
  }

  /**
   * vfio_update_pgsize_bitmap(): the intersection of the domains' page sizes (PAGE_MASK with
   * no domain), with sub-page sizes hidden behind PAGE_SIZE. Run whenever the domain list
   * changes.
   */
  private updatePgsizeBitmap(): void {
    const PAGE_SIZE = this.ctx.pageSize;
    const PAGE_MASK = U64_MAX & ~(PAGE_SIZE - 1n);
    let bitmap = this.domains.length ? U64_MAX : PAGE_MASK;
    for (const d of this.domains) bitmap &= d.domain.pgsizeBitmap;
    if (bitmap & ~PAGE_MASK) bitmap = (bitmap & PAGE_MASK) | PAGE_SIZE;
    this.pgsizes = bitmap;
    this.minPage = 1n << BigInt(ffs(bitmap));
    this.pgMask = this.minPage - 1n;
    this.pageN = this.minPage <= BigInt(MAX_EXACT) ? Number(this.minPage) : 0;
  }

  checkExtension(ext: bigint): number {
    return checkExtension(this.era, this, ext);
  }

  /** 1 when every domain passes the era's cache-coherency question (and there is a domain). */
  domainsCacheCoherent(): number {
    const cap = this.era.dmaCcEnforce ? 'enforce-cache-coherency' : 'cache-coherency';
    return this.domains.length > 0 && this.domains.every((d) => this.ctx.iommu.capable(d.domain.iommu, cap)) ? 1 : 0;
  }

  // ---- ioctl dispatch (vfio_iommu_type1_ioctl) ------------------------------------------

  ioctl(proc: Process, cmd: number, arg: UserArg): number {
    switch (cmd) {
      case VFIO_CHECK_EXTENSION:
        return checkExtension(this.era, this, arg.value);
      case VFIO_IOMMU_GET_INFO:
        return this.getInfo(arg);
      case VFIO_IOMMU_MAP_DMA:
        return this.mapDmaIoctl(proc, arg);
      case VFIO_IOMMU_UNMAP_DMA:
        return this.unmapDmaIoctl(proc, arg);
      case VFIO_IOMMU_DIRTY_PAGES:
        return this.era.dirtyBitmapFlag ? this.dirtyPages(proc, arg) : -ENOTTY;
      default:
        return -ENOTTY;
    }
  }

  // ---- GET_INFO ----------------------------------------------------------------------------

  private getInfo(arg: UserArg): number {
    const era = this.era;
    let minsz = era.type1InfoMinsz;
    const info = KStruct.fromUser(VFIO_IOMMU_TYPE1_INFO, arg.buf, minsz);
    if (!info) return -EFAULT;
    const argsz = info.get('argsz');
    if (argsz < BigInt(minsz)) return -EINVAL;

    const capsz = offsetofend(VFIO_IOMMU_TYPE1_INFO, 'cap_offset');
    const sizeofInfo = era.type1InfoHasCapOffset ? VFIO_IOMMU_TYPE1_INFO.size : minsz;
    let copy: number;
    if (era.infoCopy === 'min-argsz') {
      // 6.6+: `struct vfio_iommu_type1_info info = {}` and min(argsz, sizeof(info)) copied.
      info.bytes.fill(0);
      info.set('argsz', argsz);
      copy = Number(argsz < BigInt(sizeofInfo) ? argsz : BigInt(sizeofInfo));
    } else {
      // "For backward compatibility, cannot require this": cap_offset only when argsz allows.
      if (era.type1InfoHasCapOffset && era.type1InfoMinsz < capsz && argsz >= BigInt(capsz)) {
        minsz = capsz;
        info.set('cap_offset', 0);
      }
      copy = minsz;
    }

    info.set('flags', INFO_PGSIZES);
    info.set('iova_pgsizes', this.pgsizeBitmap);

    const caps = new CapChain(era.capAlign8);
    this.buildInfoCaps(caps);

    if (caps.size) {
      info.set('flags', INFO_PGSIZES | INFO_CAPS);
      if (argsz < BigInt(sizeofInfo + caps.size)) {
        info.set('argsz', sizeofInfo + caps.size);
        if (era.type1InfoMinsz === capsz) info.set('cap_offset', 0);
      } else {
        caps.shift(sizeofInfo);
        if (!arg.buf || arg.buf.length < sizeofInfo + caps.size) return -EFAULT;
        arg.buf.set(caps.buf, sizeofInfo);
        info.set('cap_offset', sizeofInfo);
      }
    }
    return info.toUser(arg.buf, copy) ? 0 : -EFAULT;
  }

  private buildInfoCaps(caps: CapChain): void {
    for (const cap of this.era.type1InfoCaps) {
      switch (cap) {
        case 'migration': {
          // vfio_iommu_migration_build_caps(): flags 0, the smallest page, the bitmap limit.
          const body = KStruct.zeroed(CAP_MIGRATION)
            .set('pgsize_bitmap', this.minPage)
            .set('max_dirty_bitmap_size', DIRTY_BITMAP_SIZE_MAX);
          caps.addCapability(body.bytes, 2, 1);
          break;
        }
        case 'dma-avail': {
          const body = KStruct.zeroed(CAP_DMA_AVAIL).set('avail', this.dmaAvail);
          caps.addCapability(body.bytes.subarray(0, CAP_DMA_AVAIL.size), 3, 1);
          break;
        }
        case 'iova-range': {
          // vfio_iommu_iova_build_caps(): nothing without an IOVA list (no IOMMU domain).
          if (this.iovaList.length === 0) break;
          const n = this.iovaList.length;
          const body = new Uint8Array(CAP_IOVA_RANGE.size + IOVA_RANGE_ENTRY.size * n);
          body.set(KStruct.zeroed(CAP_IOVA_RANGE).set('nr_iovas', n).bytes);
          this.iovaList.forEach((node, i) => {
            const range = KStruct.zeroed(IOVA_RANGE_ENTRY).set('start', node.start).set('end', node.end);
            body.set(range.bytes, CAP_IOVA_RANGE.size + IOVA_RANGE_ENTRY.size * i);
          });
          caps.addCapability(body, 1, 1);
          break;
        }
        case 'msi-geometry':
          this.buildMsiGeometryCap(caps);
          break;
        case 'msi-resv':
          this.buildMsiResvCap(caps);
          break;
      }
    }
  }

  /**
   * rfc-v10 MSI_GEOMETRY (always emitted; the first domain's geometry). A fixed window (x86)
   * sets flag RESERVED and the aperture; otherwise `order` is the smallest IOMMU page and
   * `size` the bytes the user must register: msi_doorbell_calc_pages(order) << order.
   */
  private buildMsiGeometryCap(caps: CapChain): void {
    const body = KStruct.zeroed(CAP_MSI_GEOMETRY);
    const first = this.domains[0]?.domain;
    const fixed = first && !first.iommu.msiTranslated ? hwMsiWindow(first.iommu.reservedRegions('')) : undefined;
    if (fixed) {
      body.set('flags', 1).set('aperture_start', fixed.start).set('aperture_end', fixed.start + fixed.length - 1n);
    } else {
      const order = ffs(this.pgsizeBitmap);
      const pages = this.ctx.doorbells?.calcPages(order) ?? 0n;
      body.set('order', order).set('size', pages << BigInt(order));
    }
    caps.addCapability(body.bytes, 1, 1);
  }

  /** rfc-v14 MSI_RESV: only if some domain needs a window; the largest size and its alignment. */
  private buildMsiResvCap(caps: CapChain): void {
    let size = 0n;
    let alignment = 0n;
    for (const d of this.domains) {
      const r = this.msiResvOf(d.domain);
      if (r && r.size > size) ({ size, alignment } = r);
    }
    if (size === 0n) return;
    caps.addCapability(KStruct.zeroed(CAP_MSI_RESV).set('size', size).set('alignment', alignment).bytes, 1, 1);
  }

  /** DOMAIN_ATTR_MSI_RESV of a domain (series v14): what its doorbells need, if MSIs are translated. */
  private msiResvOf(domain: IommuDomain): { size: bigint; alignment: bigint } | undefined {
    return domain.iommu.msiTranslated ? msiResv(this.ctx, domain.pgsizeBitmap) : undefined;
  }

  // ---- MAP_DMA -----------------------------------------------------------------------------

  private mapDmaIoctl(proc: Process, arg: UserArg): number {
    const era = this.era;
    const minsz = MAP_MINSZ;
    const map = MAP_SLOT.refill(arg.buf, minsz);
    if (!map) return -EFAULT;
    const mask = era.mapFlagBit2 === 'none' ? MAP_RW_N : MAP_RW_N | MAP_BIT2_N;
    // (argsz and flags are __u32: read as numbers.)
    const flags = map.readExact(MAP.flags);
    if (map.readExact(MAP.argsz) < MAP_MINSZ || (flags & ~mask) !== 0) return -EINVAL;
    if (era.mapFlagBit2 === 'reserved-msi' && flags & MAP_BIT2_N) return this.registerMsiRange(proc, map);
    if ((flags & MAP_BIT2_N) === 0 && exactPaths) {
      const ret = this.doMapExact(proc, map, flags);
      if (ret !== BIGINT_PATH) return ret;
    }
    return this.doMap(proc, map, BigInt(flags));
  }

  /**
   * doMap() of a MAP_DMA without the vaddr flag in numbers, or BIGINT_PATH (nothing done) when
   * a value or sum is past MAX_EXACT. The same checks in the same order as doMap(); the ones
   * that cannot fail below 2^53 (the wrap checks) are left out.
   */
  private doMapExact(proc: Process, map: KStruct, flags: number): number {
    const iova = map.readExact(MAP.iova);
    const vaddr = map.readExact(MAP.vaddr);
    const size = map.readExact(MAP.size);
    const page = this.pageN;
    if (iova < 0 || vaddr < 0 || size < 0 || page === 0 || iova + size > MAX_EXACT || vaddr + size > MAX_EXACT) {
      return BIGINT_PATH;
    }
    const read = (flags & MAP_READ_N) !== 0;
    const write = (flags & MAP_WRITE_N) !== 0;
    if (this.era.mapWrapCheck === 'eoverflow' && size === 0) return -EINVAL;
    if (!read && !write) return -EINVAL;
    // A power of two: a remainder is the bits under the mask.
    if (size === 0 || size % page !== 0 || iova % page !== 0 || vaddr % page !== 0) return -EINVAL;

    const dmas = this.dmas;
    const end = iova + size;
    if (dmas.someOverlap(iova, end) !== NO_ROW) return -EEXIST;
    if (this.dmaUsed === this.dmaLimitN) return -ENOSPC;
    if (this.era.iovaList && !this.iovaDmaValid(iova, end - 1)) return -EINVAL;

    this.dmaUsed++;
    const f = (read ? DMA_READ : 0) | (write ? DMA_WRITE : 0);
    const row = dmas.insert(iova, end, vaddr, f, proc.mm);
    if (this.domains.length === 0) return 0;
    const ret = this.pinMapExact(iova, size, vaddr, f, proc.mm, this.domains);
    if (ret) {
      this.removeDma(row);
      return ret;
    }
    return 0;
  }

  /** pinMapRange() of exact numbers (iova + size, vaddr + size below 2^53). */
  private pinMapExact(iova: number, size: number, vaddr: number, f: number, mm: AddressSpace, into: readonly VfioDomain[]): number {
    const write = (f & DMA_WRITE) !== 0;
    let pa = mm.pinnedPhysExact(vaddr, size, write);
    let paB: bigint | undefined;
    if (pa < 0 || pa + size > MAX_EXACT) {
      // Anything else (another VMA, a device mapping, -EFAULT): pinMapRange()'s own question.
      paB = mm.pinOrFollowPfn(BigInt(vaddr), BigInt(size), write);
      if (paB < 0n) return Number(paB);
      pa = -1;
    }
    const prot = DMA_PROT[f & (DMA_READ | DMA_WRITE)];
    for (let i = 0; i < into.length; i++) {
      const hw = into[i].domain.hw;
      const ret =
        pa >= 0 && hw.mapExact ? hw.mapExact(iova, pa, size, prot) : hw.map(BigInt(iova), paB ?? BigInt(pa), BigInt(size), prot);
      if (ret) {
        for (let u = 0; u < i; u++) unmapExact(into[u].domain.hw, iova, size);
        return ret;
      }
    }
    return 0;
  }

  /** vfio_dma_do_map(). */
  private doMap(proc: Process, map: KStruct, flags: bigint): number {
    const setVaddr = this.era.mapFlagBit2 === 'vaddr' && (flags & MAP_BIT2) !== 0n;
    const iova = map.read(MAP.iova);
    const vaddr = map.read(MAP.vaddr);
    const size = map.read(MAP.size);
    const read = (flags & MAP_READ) !== 0n;
    const write = (flags & MAP_WRITE) !== 0n;
    const prot = read || write;

    // (__u64 fields cannot overflow size_t or unsigned long on LP64.)
    if (this.era.mapWrapCheck === 'eoverflow') {
      // 6.18: size 0, then check_add_overflow() on both ranges, before flags and alignment.
      if (size === 0n) return -EINVAL;
      if (mapWraps(iova, vaddr, size)) return -EOVERFLOW;
    }
    if ((prot && setVaddr) || (!prot && !setVaddr)) return -EINVAL;

    const pgmask = this.pgMask;
    if (size === 0n || ((size | iova | vaddr) & pgmask) !== 0n) return -EINVAL;

    // Don't allow IOVA or virtual address wrap.
    if (mapWraps(iova, vaddr, size)) return -EINVAL;

    const dmas = this.dmas;
    const end = iova + size;
    // vfio_find_dma(): any mapping overlapping the range (an exact match is the only one).
    const found = dmas.someOverlap(iova, end);
    if (setVaddr) {
      if (found === NO_ROW) return -ENOENT;
      const f = dmas.flags(found);
      if (!(f & DMA_VADDR_INVALID) || dmas.start(found) !== iova || dmas.end(found) !== end) return -EINVAL;
      dmas.setAddr(found, vaddr);
      dmas.setFlags(found, f & ~DMA_VADDR_INVALID);
      this.vaddrInvalidCount--;
      return 0;
    }
    if (found !== NO_ROW) return -EEXIST;

    if (this.dmaUsed === this.dmaLimitN) return -ENOSPC;

    if (this.era.iovaList && !this.iovaDmaValid(iova, end - 1n)) return -EINVAL;

    this.dmaUsed++;
    const f = (read ? DMA_READ : 0) | (write ? DMA_WRITE : 0);
    const row = dmas.insert(iova, end, vaddr, f, proc.mm);

    // Don't pin and map if the container has no IOMMU-backed domain.
    if (this.domains.length === 0) return 0;
    const ret = this.pinMapRange(iova, size, vaddr, f, proc.mm, this.domains);
    if (ret) {
      this.removeDma(row);
      return ret;
    }
    return 0;
  }

  /** vfio_pin_map_dma(): pin the user pages, then map them in every domain. */
  private pinMap(row: number, into: readonly VfioDomain[] = this.domains): number {
    const dmas = this.dmas;
    const iova = dmas.start(row);
    return this.pinMapRange(iova, dmas.end(row) - iova, dmas.addr(row), dmas.flags(row), dmas.ref(row)!, into);
  }

  /** pinMap() of a row whose fields the caller has at hand. */
  private pinMapRange(iova: bigint, size: bigint, vaddr: bigint, f: number, mm: AddressSpace, into: readonly VfioDomain[]): number {
    // vfio_pin_pages_remote() → vaddr_get_pfns(): user pages, or a device mapping's pfns.
    const pa = mm.pinOrFollowPfn(vaddr, size, (f & DMA_WRITE) !== 0);
    if (pa < 0n) return Number(pa);
    const prot = DMA_PROT[f & (DMA_READ | DMA_WRITE)];
    for (let i = 0; i < into.length; i++) {
      const ret = into[i].domain.hw.map(iova, pa, size, prot);
      if (ret) {
        for (let u = 0; u < i; u++) into[u].domain.hw.unmap(iova, size);
        return ret;
      }
    }
    return 0;
  }

  /** vfio_iommu_iova_dma_valid(): inside one node of the IOVA list (an empty list allows all). */
  private iovaDmaValid(start: Bound, end: Bound): boolean {
    // (A number compares with a bigint exactly.)
    const list = this.iovaList;
    if (list.length === 0) return true;
    // (A loop rather than some(): no closure per MAP_DMA.)
    for (let i = 0; i < list.length; i++) if (start >= list[i].start && end <= list[i].end) return true;
    return false;
  }

  /** vfio_remove_dma(): unmap from every domain, unpin, drop, and give back one DMA entry. */
  private removeDma(row: number, iova?: bigint, size?: bigint): void {
    const dmas = this.dmas;
    const f = dmas.flags(row);
    if (!(f & DMA_RESERVED_MSI) && this.domains.length) {
      // (The caller may pass the row's bounds, which it has read already.)
      iova ??= dmas.start(row);
      size ??= dmas.end(row) - iova;
      for (let i = 0; i < this.domains.length; i++) this.domains[i].domain.hw.unmap(iova, size);
    }
    if (f & DMA_VADDR_INVALID) this.vaddrInvalidCount--;
    dmas.delete(row);
    this.dmaUsed--;
  }

  /** A row as struct vfio_dma. */
  private dmaOf(row: number): VfioDma {
    const dmas = this.dmas;
    const f = dmas.flags(row);
    const iova = dmas.start(row);
    return {
      iova,
      size: dmas.end(row) - iova,
      vaddr: dmas.addr(row),
      read: (f & DMA_READ) !== 0,
      write: (f & DMA_WRITE) !== 0,
      type: f & DMA_RESERVED_MSI ? 'reserved-msi' : 'user',
      vaddrInvalid: (f & DMA_VADDR_INVALID) !== 0,
      mm: dmas.ref(row)!,
    };
  }

  /**
   * The series' vfio_register_msi_range() (abi.md §1.4): a user-chosen IOVA window where the
   * kernel will map MSI doorbells. Never pinned or mapped itself; vaddr and READ/WRITE are
   * ignored.
   */
  private registerMsiRange(proc: Process, map: KStruct): number {
    const iova = map.get('iova');
    const size = map.get('size');
    const pgmask = this.minPage - 1n;
    if (size === 0n || (size | iova) & pgmask) return -EINVAL;
    if (iova + size - 1n > U64_MAX) return -EINVAL;
    if (this.dmas.someOverlap(iova, iova + size) !== NO_ROW) return -EEXIST;
    // iommu_msi_set_aperture() on every domain: -ENODEV without an MSI cookie (the domain's
    // MSIs are not translated), -EINVAL when a window is already set.
    for (const d of this.domains) {
      const ret = setMsiWindow(d.domain, iova, iova + size - 1n);
      // v14 sets the window only where DOMAIN_ATTR_MSI_RESV answers; other domains are skipped.
      if (ret === -ENODEV && this.era.msiWindowSkipsUntranslated) continue;
      if (ret) return ret;
    }
    this.dmas.insert(iova, iova + size, 0n, DMA_RESERVED_MSI, proc.mm);
    return 0;
  }

  // ---- UNMAP_DMA -----------------------------------------------------------------------------

  private unmapDmaIoctl(proc: Process, arg: UserArg): number {
    const era = this.era;
    const minsz = UNMAP_MINSZ;
    const unmap = UNMAP_SLOT.refill(arg.buf, minsz);
    if (!unmap) return -EFAULT;
    // (argsz and flags are __u32: read as numbers.)
    const flagsN = unmap.readExact(UNMAP.flags);
    if (unmap.readExact(UNMAP.argsz) < UNMAP_MINSZ) return -EINVAL;
    if (flagsN === 0 && exactPaths) {
      const ret = this.doUnmapExact(unmap);
      if (ret !== BIGINT_PATH) return ret ? ret : unmap.toUser(arg.buf, minsz) ? 0 : -EFAULT;
    }
    const flags = flagsN === 0 ? 0n : BigInt(flagsN);
    if (flags !== 0n) {
      let mask = 0n;
      if (era.dirtyBitmapFlag) mask |= UNMAP_GET_DIRTY_BITMAP;
      if (era.unmapAllVaddr) mask |= UNMAP_ALL | UNMAP_VADDR;
      if (flags & ~mask) return -EINVAL;
    }

    let bitmap: KStruct | undefined;
    if (flags & UNMAP_GET_DIRTY_BITMAP) {
      if (flags & (UNMAP_ALL | UNMAP_VADDR)) return -EINVAL;
      if (unmap.get('argsz') < BigInt(minsz + VFIO_BITMAP.size)) return -EINVAL;
      bitmap = KStruct.fromUser(VFIO_BITMAP, arg.buf?.subarray(minsz), VFIO_BITMAP.size) ?? undefined;
      if (!bitmap) return -EFAULT;
      const r = verifyBitmap(proc, bitmap.get('data'), bitmap.get('size'), unmap.get('size'), bitmap.get('pgsize'));
      if (r) return r;
    }

    const ret = this.doUnmap(unmap, flags, bitmap, proc);
    if (ret) return ret;
    return unmap.toUser(arg.buf, minsz) ? 0 : -EFAULT;
  }

  /**
   * doUnmap() of a type1v2 UNMAP_DMA with no flags in numbers, for the usual request: one
   * mapping exactly [iova, iova + size). Answers as doUnmap() would, or BIGINT_PATH (nothing
   * done or written) for anything else: a value or sum past MAX_EXACT, no mapping at iova,
   * several mappings in the range.
   */
  private doUnmapExact(unmap: KStruct): number {
    const iova = unmap.readExact(UNMAP.iova);
    const size = unmap.readExact(UNMAP.size);
    const page = this.pageN;
    if (!this.v2 || iova < 0 || size < 0 || page === 0 || iova + size > MAX_EXACT) return BIGINT_PATH;
    // (Below 2^53 no era's wrap check can fail.)
    if (iova % page !== 0 || size === 0 || size % page !== 0) return unmapDoneExact(unmap, 0, -EINVAL);
    const dmas = this.dmas;
    const end = iova + size;
    const head = this.findUser(iova);
    if (head === NO_ROW) return BIGINT_PATH;
    if (dmas.startKey(head) !== iova) return unmapDoneExact(unmap, 0, -EINVAL);
    const headEnd = dmas.endKey(head);
    if (typeof headEnd !== 'number' || headEnd < end) return BIGINT_PATH;
    // The head reaches `end`: it is also the mapping holding end - 1, and the only one.
    if (iova < end - 1 && headEnd !== end) return unmapDoneExact(unmap, 0, -EINVAL);
    const dmaSize = headEnd - iova;
    const f = dmas.flags(head);
    if (f & DMA_RESERVED_MSI) return BIGINT_PATH; // (findUser skips them; kept for the reader)
    if (this.domains.length) {
      for (let i = 0; i < this.domains.length; i++) unmapExact(this.domains[i].domain.hw, iova, dmaSize);
    }
    if (f & DMA_VADDR_INVALID) this.vaddrInvalidCount--;
    dmas.delete(head);
    this.dmaUsed--;
    return unmapDoneExact(unmap, dmaSize, 0);
  }

  /** vfio_dma_do_unmap(). Writes the unmapped byte count into `unmap.size`. */
  private doUnmap(unmap: KStruct, flags: bigint, bitmap: KStruct | undefined, proc?: Process): number {
    const iova = unmap.read(UNMAP.iova);
    let size = unmap.read(UNMAP.size);
    const unmapAll = flags !== 0n && (flags & UNMAP_ALL) !== 0n;
    const invalidateVaddr = flags !== 0n && (flags & UNMAP_VADDR) !== 0n;
    const pgsize = this.minPage;
    const pgmask = this.pgMask;
    let unmapped = 0n;

    if ((iova & pgmask) !== 0n) return unmapDone(unmap, unmapped, -EINVAL);
    if (unmapAll) {
      if (iova || size) return unmapDone(unmap, unmapped, -EINVAL);
      size = U64_MAX;
    } else if (!size || (size & pgmask) !== 0n) {
      return unmapDone(unmap, unmapped, -EINVAL);
    } else if (this.unmapWraps(iova, size)) {
      return unmapDone(unmap, unmapped, this.era.unmapWrapCheck === 'eoverflow' ? -EOVERFLOW : -EINVAL);
    }
    // When dirty tracking is enabled, allow only the smallest supported page size.
    if (bitmap && (!this.dirtyTracking || bitmap.get('pgsize') !== pgsize)) return unmapDone(unmap, unmapped, -EINVAL);

    const end = iova + size; // may be 2^64 exactly: see the wrap below
    const dmas = this.dmas;
    let head = NO_ROW;
    let headEnd = 0n;
    if (this.v2 && !unmapAll) {
      // No bisecting: a mapping may not start before iova or end after iova + size.
      head = this.findUser(iova);
      if (head !== NO_ROW && dmas.start(head) !== iova) return unmapDone(unmap, unmapped, -EINVAL);
      headEnd = head !== NO_ROW ? dmas.end(head) : 0n;
      // A head reaching `end` is also the mapping holding end - 1: no second lookup.
      const tail = head !== NO_ROW && headEnd >= end ? (iova < end - 1n ? head : NO_ROW) : this.findUserStrict(end - 1n);
      if (tail !== NO_ROW && dmas.end(tail) !== end) return unmapDone(unmap, unmapped, -EINVAL);
    }

    // start + size is computed in dma_addr_t: a range ending at or past 2^64 wraps, the
    // lookup (vfio_find_dma_first_node, or vfio_find_dma before 5.12) finds nothing, and
    // nothing is unmapped.
    // From 6.18 the lookups use the inclusive end (iova_end = iova + size - 1): no wrap.
    const wrappedEnd = this.era.unmapWrapCheck === 'eoverflow' || end <= U64_MAX ? end : BigInt.asUintN(64, end);
    // (A head that reaches `end` is the only mapping in the range.)
    // (No array for the usual single mapping.)
    const rows =
      wrappedEnd <= iova && size !== 0n ? NO_ROWS : head !== NO_ROW && headEnd >= end ? head : dmas.overlapping(iova, end);
    // The rows an UNMAP_VADDR invalidated, for the roll-back (made only when there is one).
    let touched: number[] | undefined;
    const count = typeof rows === 'number' ? 1 : rows.length;
    for (let i = 0; i < count; i++) {
      const row = typeof rows === 'number' ? rows : rows[i];
      const f = dmas.flags(row);
      if (f & DMA_RESERVED_MSI) continue; // the series' reserved window is never unmapped
      // (The head's bounds are at hand: [iova, headEnd).)
      const dmaIova = row === head ? iova : dmas.start(row);
      if (!this.v2 && iova > dmaIova) break;
      const dmaSize = (row === head ? headEnd : dmas.end(row)) - dmaIova;
      if (invalidateVaddr) {
        if (f & DMA_VADDR_INVALID) {
          // Roll back what this call invalidated.
          if (touched) {
            for (const t of touched) dmas.setFlags(t, dmas.flags(t) & ~DMA_VADDR_INVALID);
            this.vaddrInvalidCount -= touched.length;
          }
          unmapped = 0n;
          return unmapDone(unmap, unmapped, -EINVAL);
        }
        dmas.setFlags(row, f | DMA_VADDR_INVALID);
        this.vaddrInvalidCount++;
        (touched ??= []).push(row);
        unmapped += dmaSize;
        continue;
      }
      if (bitmap && proc) {
        const r = this.updateUserBitmap(proc, bitmap.get('data'), dmaIova, dmaSize, iova, pgsize);
        if (r) return unmapDone(unmap, unmapped, r);
      }
      unmapped += dmaSize;
      this.removeDma(row, dmaIova, dmaSize);
    }
    return unmapDone(unmap, unmapped, 0);
  }

  /** The era's UNMAP wrap check (see Era.unmapWrapCheck). */
  private unmapWraps(iova: bigint, size: bigint): boolean {
    switch (this.era.unmapWrapCheck) {
      case 'none':
        return false;
      case 'strict':
        return iova + size > U64_MAX; // iova + size < iova in 64 bits
      case 'minus1':
      case 'eoverflow':
        return iova + size - 1n > U64_MAX;
    }
  }

  /**
   * vfio_find_dma(addr, 1) over user mappings only (the series' typed lookup): a one-byte
   * range meets at most the mapping containing it.
   */
  private findUser(addr: Bound): number {
    const row = this.dmas.containing(addr);
    return row !== NO_ROW && !(this.dmas.flags(row) & DMA_RESERVED_MSI) ? row : NO_ROW;
  }

  /**
   * vfio_find_dma(addr, 0): the tree walk with size 0 matches a mapping only when addr lies
   * strictly inside it (a mapping starting at addr sends the walk left).
   */
  private findUserStrict(addr: bigint): number {
    const row = this.findUser(addr);
    return row !== NO_ROW && this.dmas.start(row) < addr ? row : NO_ROW;
  }

  // ---- DIRTY_PAGES (5.8+) ----------------------------------------------------------------------

  /** vfio_iommu_type1_dirty_pages(): START/STOP tracking, GET_BITMAP of a range. */
  private dirtyPages(proc: Process, arg: UserArg): number {
    if (!this.v2) return -EACCES;
    const minsz = offsetofend(VFIO_IOMMU_TYPE1_DIRTY_BITMAP, 'flags');
    const dirty = KStruct.fromUser(VFIO_IOMMU_TYPE1_DIRTY_BITMAP, arg.buf, minsz);
    if (!dirty) return -EFAULT;
    const flags = dirty.get('flags');
    const argsz = dirty.get('argsz');
    if (argsz < BigInt(minsz) || flags & ~(DIRTY_START | DIRTY_STOP | DIRTY_GET_BITMAP)) return -EINVAL;
    // Only one flag at a time (__ffs(flags) != __fls(flags)); none at all falls through to -EINVAL.
    if (flags === 0n || (flags & (flags - 1n)) !== 0n) return -EINVAL;
    if (flags === DIRTY_START) {
      this.dirtyTracking = true;
      return 0;
    }
    if (flags === DIRTY_STOP) {
      this.dirtyTracking = false;
      return 0;
    }
    // GET_BITMAP: the range and its bitmap follow the header.
    const dataSize = argsz - BigInt(minsz);
    if (dataSize < BigInt(VFIO_DIRTY_BITMAP_GET.size)) return -EINVAL;
    const range = KStruct.fromUser(VFIO_DIRTY_BITMAP_GET, arg.buf?.subarray(minsz), VFIO_DIRTY_BITMAP_GET.size);
    if (!range) return -EFAULT;
    const iova = range.get('iova');
    const size = range.get('size');
    const bpg = range.get('bitmap.pgsize');
    if (iova + size > U64_MAX) return -EINVAL;
    const r = verifyBitmap(proc, range.get('bitmap.data'), range.get('bitmap.size'), size, bpg);
    if (r) return r;
    const pgsize = this.minPage;
    if (bpg !== pgsize || iova & (pgsize - 1n) || size === 0n || size & (pgsize - 1n)) return -EINVAL;
    if (!this.dirtyTracking) return -EINVAL;
    // vfio_iova_dirty_bitmap(): the range must not bisect a mapping.
    const dmas = this.dmas;
    const head = this.findUser(iova);
    if (head !== NO_ROW && dmas.start(head) !== iova) return -EINVAL;
    const tail = this.findUserStrict(iova + size - 1n);
    if (tail !== NO_ROW && dmas.end(tail) !== iova + size) return -EINVAL;
    for (const row of dmas.overlapping(iova, iova + size)) {
      const dmaIova = dmas.start(row);
      if (dmas.flags(row) & DMA_RESERVED_MSI || dmaIova < iova) continue;
      const w = this.updateUserBitmap(proc, range.get('bitmap.data'), dmaIova, dmas.end(row) - dmaIova, iova, pgsize);
      if (w) return w;
    }
    return 0;
  }

  /**
   * update_user_bitmap(): with an IOMMU-backed group that does not report its own dirtying,
   * every page of an IOMMU-mapped vfio_dma counts as dirty; set its bits at
   * (dma.iova - base) / pgsize in the user's bitmap (OR-ed with what the user has there).
   */
  private updateUserBitmap(proc: Process, data: bigint, dmaIova: bigint, dmaSize: bigint, base: bigint, pgsize: bigint): number {
    if (this.domains.length === 0) return 0;
    // The bitmap is written in unsigned longs. When the mapping does not start on a word
    // boundary, the user's bits below it in that word are kept (bitmap_or over `shift` bits);
    // everything else up to the end of the last word is overwritten, so bits past the mapping
    // in its last word come back clear.
    const bitOffset = (dmaIova - base) / pgsize;
    const shift = bitOffset % 64n;
    const word = data + (bitOffset / 64n) * 8n;
    const nbits = dmaSize / pgsize + shift;
    const out = new Uint8Array(Number(((nbits + 63n) / 64n) * 8n));
    if (shift) {
      const first = proc.mm.copyFromUser(word, 8);
      if (typeof first === 'number') return first;
      for (let b = 0n; b < shift; b++) if (first[Number(b / 8n)] & (1 << Number(b % 8n))) out[Number(b / 8n)] |= 1 << Number(b % 8n);
    }
    for (let b = shift; b < nbits; b++) out[Number(b / 8n)] |= 1 << Number(b % 8n);
    return proc.mm.copyToUser(word, out);
  }

  // ---- attach / detach ---------------------------------------------------------------------

  /** vfio_iommu_type1_attach_group(). */
  attachGroup(proc: Process, group: IommuGroup): number | Blocked {
    const core = this.ctx.iommu;
    // "Attach could require pinning, so disallow while vaddr is invalid" (-EBUSY); 5.12
    // instead waited in vfio_iommu_replay() for the vaddrs to come back.
    if (this.vaddrInvalidCount && !this.era.vaddrWaits) return -EBUSY;
    if (this.domains.some((d) => d.groups.includes(group))) return -EINVAL;

    const domain = core.allocDomain(group.iommu);
    const fail = (ret: number): number => {
      core.detachGroup(domain, group);
      core.freeDomain(domain);
      return ret;
    };
    if (this.nesting) return fail(-EINVAL); // iommu_enable_nesting(): no modelled IOMMU nests
    let ret = core.attachGroup(domain, group);
    if (ret) return fail(ret);

    const geo = domain.hw.aperture;
    const regions = core.resvRegions(group);
    let iovaCopy = this.iovaList.map((n) => ({ ...n }));
    if (this.era.iovaList) {
      if (this.aperConflict(geo.start, geo.end)) return fail(-EINVAL);
      if (this.resvConflict(regions)) return fail(-EINVAL);
      iovaCopy = aperResize(iovaCopy, geo.start, geo.end);
      const excluded = resvExclude(iovaCopy, regions);
      if (!excluded) return fail(-EINVAL);
      iovaCopy = excluded;
    }
    const swMsi = swMsiBase(regions);

    // The era's interrupt-safety rule (abi.md §1.5, §3.4).
    // vfio_msi_resv() walks iommu->domain_list, which the new domain joins only after this
    // check (series v14): the first group's own domain does not count.
    if (!attachAllowed(safetyFacts(group, this.safetySources(this.domains)))) {
      this.ctx.log.warn(UNSAFE_INTERRUPTS_WARNING);
      return fail(-EPERM);
    }

    // Join an existing domain of the same IOMMU (the kernel compares iommu_ops and
    // cache-coherency enforcement; a group behind another instance fails to attach there).
    for (const d of this.domains) {
      if (d.domain.iommu !== domain.iommu) continue;
      core.detachGroup(domain, group);
      core.freeDomain(domain);
      ret = core.attachGroup(d.domain, group);
      if (ret) return ret;
      d.groups.push(group);
      this.iovaList = iovaCopy;
      this.updatePgsizeBitmap();
      return 0;
    }

    const vd: VfioDomain = { domain, groups: [group] };
    if (this.vaddrInvalidCount) {
      // vfio_iommu_replay() waits in vfio_wait_all_valid(): the call would not return.
      fail(0);
      return { waits: 'vaddr-update' };
    }
    ret = this.replay(vd);
    if (ret) return fail(ret);

    if (swMsi !== undefined && this.era.msiMapping === 'sw-msi-cookie') {
      ret = core.getMsiCookie(domain, swMsi);
      if (ret && ret !== -ENODEV) return fail(ret);
    }
    this.domains.unshift(vd); // list_add(): the newest domain first
    this.iovaList = iovaCopy;
    this.updatePgsizeBitmap();
    return 0;
  }

  /** Where the safety facts come from, with `domains` the container's domains that count. */
  private safetySources(domains: readonly VfioDomain[]): SafetySources {
    return safetySources(this.ctx, domains.map((d) => this.msiResvOf(d.domain) !== undefined));
  }

  /** The safety facts for `group` joining this container (or as it was judged when it joined). */
  attachFacts(group: IommuGroup): Type1AttachFacts {
    // An attached group was judged without its own domain, unless another group was there first.
    const others = this.domains.filter((d) => !(d.groups.length === 1 && d.groups[0] === group));
    return { kind: 'type1', ...safetyFacts(group, this.safetySources(others)) };
  }

  /** vfio_iommu_replay(): existing mappings into a new domain (pinning them if never pinned). */
  private replay(vd: VfioDomain): number {
    const firstDomain = this.domains.length === 0;
    const dmas = this.dmas;
    const mapped: number[] = [];
    for (const row of dmas.rows()) {
      const f = dmas.flags(row);
      const iova = dmas.start(row);
      const end = dmas.end(row);
      let ret = 0;
      if (f & DMA_RESERVED_MSI) {
        ret = setMsiWindow(vd.domain, iova, end - 1n);
        if (ret === -ENODEV) ret = 0; // the domain's MSIs are not translated: nothing to set
      } else if (firstDomain) {
        ret = this.pinMap(row, [vd]);
      } else {
        // The pages are pinned already: map what the first domain maps (iommu_iova_to_phys),
        // not whatever the vaddr points at now.
        const pa = this.domains[0].domain.hw.translate(iova)?.pa ?? 0n;
        ret = vd.domain.hw.map(iova, pa, end - iova, DMA_PROT[f & (DMA_READ | DMA_WRITE)]);
      }
      if (ret) {
        for (const m of mapped) vd.domain.hw.unmap(dmas.start(m), dmas.end(m) - dmas.start(m));
        return ret;
      }
      if (!(f & DMA_RESERVED_MSI)) mapped.push(row);
    }
    return 0;
  }

  /** vfio_iommu_aper_conflict(): the new aperture must cover the list and every mapping. */
  private aperConflict(start: bigint, end: bigint): boolean {
    if (this.iovaList.length === 0) return false;
    const first = this.iovaList[0];
    const last = this.iovaList[this.iovaList.length - 1];
    if (start > last.end || end < first.start) return true;
    if (start > first.start && this.dmas.someOverlap(first.start, start) !== NO_ROW) return true;
    if (end < last.end && this.dmas.someOverlap(end + 1n, last.end + 1n) !== NO_ROW) return true;
    return false;
  }

  /** vfio_iommu_resv_conflict(): an existing mapping inside a reserved region (relaxable ones excepted). */
  private resvConflict(regions: ReservedRegion[]): boolean {
    return regions.some(
      (r) => r.type !== 'direct-relaxable' && this.dmas.someOverlap(r.start, r.start + r.length) !== NO_ROW,
    );
  }

  /** vfio_iommu_type1_detach_group(). */
  detachGroup(group: IommuGroup): void {
    const core = this.ctx.iommu;
    const i = this.domains.findIndex((d) => d.groups.includes(group));
    if (i < 0) return;
    const d = this.domains[i];
    core.detachGroup(d.domain, group);
    d.groups.splice(d.groups.indexOf(group), 1);
    if (d.groups.length === 0) {
      // The last domain going takes every mapping with it.
      if (this.domains.length === 1) this.unmapAll();
      core.freeDomain(d.domain);
      this.domains.splice(i, 1);
      this.updatePgsizeBitmap();
    }
    this.refreshIovaList();
  }

  release(): void {
    this.unmapAll();
    for (const d of this.domains) {
      for (const g of d.groups) this.ctx.iommu.detachGroup(d.domain, g);
      this.ctx.iommu.freeDomain(d.domain);
    }
    this.domains.length = 0;
    this.iovaList = [];
    this.updatePgsizeBitmap();
  }

  private unmapAll(): void {
    for (const row of this.dmas.rows()) this.removeDma(row);
  }

  /** vfio_iommu_aper_expand() + vfio_iommu_resv_refresh() after a group leaves. */
  private refreshIovaList(): void {
    if (!this.era.iovaList) return;
    let list: IovaNode[] = [];
    let first = true;
    for (const d of this.domains) {
      const geo = d.domain.hw.aperture;
      list = first ? [{ start: geo.start, end: geo.end }] : aperResize(list, geo.start, geo.end);
      first = false;
    }
    for (const d of this.domains) {
      for (const g of d.groups) list = resvExclude(list, this.ctx.iommu.resvRegions(g)) ?? list;
    }
    this.iovaList = list;
  }

  // ---- inspection ----------------------------------------------------------------------------

  get domainList(): readonly { domain: IommuDomain; groups: readonly IommuGroup[] }[] {
    return this.domains;
  }

  get iovaRanges(): readonly IovaNode[] {
    return this.iovaList;
  }

  state(): IommuState {
    return {
      kind: 'type1',
      v2: this.v2,
      dmas: this.dmas.rows().map((row) => this.dmaOf(row)),
      dmaAvail: this.era.dmaEntryLimit ? this.dmaAvail : undefined,
      pgsizeBitmap: this.pgsizeBitmap,
      iovaList: this.iovaList.map((n) => ({ ...n })),
    };
  }
}

/** The window a domain with these page sizes needs for the registered doorbells (series v14). */
function msiResv(ctx: Type1Context, pgsizeBitmap: bigint): { size: bigint; alignment: bigint } | undefined {
  const order = ffs(pgsizeBitmap);
  const pages = ctx.doorbells?.calcPages(order) ?? 0n;
  return pages ? { size: pages << BigInt(order), alignment: 1n << BigInt(order) } : undefined;
}

function safetySources(ctx: Type1Context, domainsNeedResv: boolean[]): SafetySources {
  return {
    rule: ctx.era.safety,
    iommuCore: ctx.iommu,
    controllers: ctx.controllers,
    doorbells: ctx.doorbells,
    msiResvNeeded: domainsNeedResv.some(Boolean),
    allowUnsafe: ctx.params.bool(ALLOW_UNSAFE),
  };
}

/**
 * access_ok(data, size), then verify_bitmap_size(size >> pgshift, bitmap size): non-empty,
 * at most DIRTY_BITMAP_SIZE_MAX, and large enough for one bit per page (in u64 words).
 */
function verifyBitmap(proc: Process, data: bigint, bsize: bigint, size: bigint, pgsize: bigint): number {
  if (data + bsize > proc.mm.layout.taskSize) return -EINVAL;
  const npages = size >> BigInt(ffs(pgsize));
  if (npages === 0n || bsize === 0n || bsize > DIRTY_BITMAP_SIZE_MAX) return -EINVAL;
  if (bsize < ((npages + 63n) / 64n) * 8n) return -EINVAL;
  return 0;
}

// ---- IOVA list helpers (vfio_iommu_aper_resize, vfio_iommu_resv_exclude) ----------------------

function aperResize(list: IovaNode[], start: bigint, end: bigint): IovaNode[] {
  if (list.length === 0) return [{ start, end }];
  const out: IovaNode[] = [];
  for (const n of list) {
    const s = n.start > start ? n.start : start;
    const e = n.end < end ? n.end : end;
    if (s <= e) out.push({ start: s, end: e });
  }
  return out;
}

/** Removes every non-relaxable reserved region; undefined when nothing is left (-EINVAL). */
function resvExclude(list: IovaNode[], regions: ReservedRegion[]): IovaNode[] | undefined {
  let out = list;
  for (const r of regions) {
    if (r.type === 'direct-relaxable') continue;
    const rs = r.start;
    const re = r.start + r.length - 1n;
    const next: IovaNode[] = [];
    for (const n of out) {
      if (re < n.start || rs > n.end) {
        next.push(n);
        continue;
      }
      if (rs > n.start) next.push({ start: n.start, end: rs - 1n });
      if (re < n.end) next.push({ start: re + 1n, end: n.end });
    }
    out = next;
  }
  return out.length ? out : undefined;
}

/** vfio_iommu_has_sw_msi(): a hardware MSI region takes precedence over a software one. */
function swMsiBase(regions: ReservedRegion[]): bigint | undefined {
  let base: bigint | undefined;
  for (const r of regions) {
    if (r.type === 'msi') return undefined;
    if (r.type === 'sw-msi') base = r.start;
  }
  return base;
}

function hwMsiWindow(regions: ReservedRegion[]): ReservedRegion | undefined {
  return regions.find((r) => r.type === 'msi');
}

/**
 * The series' iommu_msi_set_aperture(): -ENODEV for a domain whose MSIs are not translated
 * (no MSI cookie), -EINVAL when a window is already set.
 */
function setMsiWindow(domain: IommuDomain, start: bigint, end: bigint): number {
  if (!domain.iommu.msiTranslated) return -ENODEV;
  if (domain.msiWindow) return -EINVAL;
  domain.msiWindow = { start, end, pages: new Map() };
  return 0;
}
