// vfio_iommu_spapr_tce (drivers/vfio/vfio_iommu_spapr_tce.c): the container backend of
// PowerPC hosts, where DMA goes through TCE tables of a PHB's PE (hw/iommu/ioda-phb.ts)
// rather than through IOMMU domains.
//
// What a SPAPR_TCE_v2 user (QEMU's spapr container, DPDK) does, and the rules it meets:
//   SET_IOMMU(SPAPR_TCE_v2_IOMMU) → tce_iommu_attach_group() takes the PE's TVEs over and
//     schedules the default DMA32 window (def_window_pending);
//   SPAPR_TCE_GET_INFO → the DMA32 window (tce32_start/size) and, in v2, the DDW info;
//   SPAPR_REGISTER_MEMORY → pins user memory once (mm_iommu_new(), per mm, shared by every
//     container of the process) and enables the container;
//   MAP_DMA / UNMAP_DMA → TCEs built from registered memory only (tce_iommu_build_v2());
//   SPAPR_TCE_CREATE / _REMOVE → dynamic DMA windows (a second TCE table at 1 << 59).
// Checks run in the kernel's order, because the order decides which errno a request with
// several faults gets; each is marked with the function it models.
//
// Interrupt safety: tce_iommu_attach_group() makes no check at all. There is no
// allow_unsafe_interrupts parameter in this driver and nothing asks for IOMMU_CAP_INTR_REMAP
// or an MSI irq-domain flag: on PowerNV the PHB binds each MSI (IVE) to the device's PE
// (opal_pci_set_xive_pe() from pnv_pci_ioda_msi_setup()) and rejects MSIs from other PEs
// (hw/msi/phb-msi.ts), so a group cannot forge another group's interrupts. Seed 003 is about
// the consequence: the PHB isolates MSIs, but vfio-pci's decision to hide the MSI-X table was
// keyed on IOMMU_CAP_INTR_REMAP, which PowerNV never reports.
//
// The rules modelled are those of current upstream (5.x–6.x source). Where older kernels
// answered differently, the comment says so; the era table has no spapr switches yet, so the
// model answers the current way in every era.

import { EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, ENOMEM, ENOSPC, ENOTTY, ENXIO, EPERM } from '../../uapi/errno.js';
import type { UserArg } from '../file.js';
import type { IommuDomain, IommuGroup } from '../iommu/core.js';
import type { AddressSpace } from '../mm.js';
import type { Process } from '../process.js';
import type { PeTves } from '../../hw/iommu/ioda-phb.js';
import type { TceTable, TcePiece } from '../../hw/iommu/tce-table.js';
import type { IommuHw, TceTableGroupOps } from '../../hw/iommu/iommu.js';
import { flagBit, KStruct, offsetofend } from '../../uapi/struct.js';
import { ffs, ilog2 } from '../../lib/bits.js';
import {
  DMA_MAP_FLAGS,
  SPAPR_TCE_INFO_FLAGS,
  VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
  VFIO_IOMMU_SPAPR_TCE_CREATE,
  VFIO_IOMMU_SPAPR_TCE_INFO,
  VFIO_IOMMU_SPAPR_TCE_REMOVE,
  VFIO_IOMMU_TYPE1_DMA_MAP,
  VFIO_IOMMU_TYPE1_DMA_UNMAP,
} from '../../uapi/structs.js';
import { requestNr, VFIO_EEH, VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU } from '../../uapi/requests.js';
import type { IommuState, TceAttachFacts, VfioIommu, VfioIommuDriver } from './iommu-driver.js';
import type { Type1Context } from './type1.js';

const VFIO_CHECK_EXTENSION = requestNr('VFIO_CHECK_EXTENSION');
const VFIO_IOMMU_SPAPR_TCE_GET_INFO = requestNr('VFIO_IOMMU_SPAPR_TCE_GET_INFO');
const VFIO_IOMMU_MAP_DMA = requestNr('VFIO_IOMMU_MAP_DMA');
const VFIO_IOMMU_UNMAP_DMA = requestNr('VFIO_IOMMU_UNMAP_DMA');
const VFIO_IOMMU_ENABLE = requestNr('VFIO_IOMMU_ENABLE');
const VFIO_IOMMU_DISABLE = requestNr('VFIO_IOMMU_DISABLE');
const VFIO_IOMMU_SPAPR_REGISTER_MEMORY_NR = requestNr('VFIO_IOMMU_SPAPR_REGISTER_MEMORY');
const VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY_NR = requestNr('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY');
const VFIO_IOMMU_SPAPR_TCE_CREATE_NR = requestNr('VFIO_IOMMU_SPAPR_TCE_CREATE');
const VFIO_IOMMU_SPAPR_TCE_REMOVE_NR = requestNr('VFIO_IOMMU_SPAPR_TCE_REMOVE');

const U64 = 1n << 64n;
const MAP_READ = flagBit(DMA_MAP_FLAGS, 'READ');
const MAP_WRITE = flagBit(DMA_MAP_FLAGS, 'WRITE');
const INFO_DDW = flagBit(SPAPR_TCE_INFO_FLAGS, 'DDW');

/** IOMMU_PAGE_SHIFT_4K: the default DMA32 window's TCE page size. */
const IOMMU_PAGE_SHIFT_4K = 12;

/** What the backend needs from the rest of the kernel: the same context type1 gets. */
export type SpaprContext = Type1Context;

/**
 * MAX_PAGE_ORDER of a ppc64 kernel (ARCH_FORCE_MAX_ORDER, arch/powerpc/Kconfig): 8 with
 * 64 KiB pages (16 MiB blocks), 10 with 4 KiB pages. It bounds pin_user_pages() chunks and
 * the largest TCE level alloc_pages_node() can give.
 */
const maxPageOrder = (pageShift: number): number => (pageShift === 16 ? 8 : 10);


// ---- the PE's iommu_table_group (pnv_pci_ioda2_setup_dma_pe) ------------------------------

/** struct iommu_table_group of a PE: what iommu_group_get_iommudata() returns. */
interface TableGroup {
  phb: IommuHw;
  ops: TceTableGroupOps;
}

/**
 * iommu_group_get_iommudata(): the table group behind an IOMMU group, or undefined when the
 * group's IOMMU is not a TCE host bridge (no iommu data: the attach is -ENODEV).
 */
function tableGroupOf(group: IommuGroup): TableGroup | undefined {
  const phb = group.iommu;
  const ops = phb.tceTableGroup;
  return ops ? { phb, ops } : undefined;
}

// ---- preregistered memory: mm->context.iommu_group_mem_list ------------------------------
// arch/powerpc/mm/book3s64/iommu_api.c. Regions belong to the address space, not to a
// container: two containers of one process share them (mm_iommu_get() takes a reference).

/** struct mm_iommu_table_group_mem_t. */
export interface MmIommuMem {
  ua: bigint;
  /** Host pages. */
  entries: bigint;
  used: number;
  /** TCEs built from this region (the kernel's `mapped` counter minus its bias of 1). */
  tces: bigint;
  /** The largest IOMMU page the region can back (no hugetlb in the model: ≤ PAGE_SHIFT). */
  pageshift: number;
  /** The physical pages pinned at registration, as runs (hpas[]). */
  segs: { ua: bigint; len: bigint; phys: bigint }[];
}

const MM_IOMMU = new WeakMap<AddressSpace, MmIommuMem[]>();

function memList(mm: AddressSpace): MmIommuMem[] {
  let l = MM_IOMMU.get(mm);
  if (!l) MM_IOMMU.set(mm, (l = []));
  return l;
}

/** The regions registered in an address space (for inspection and tests). */
export function registeredMemory(mm: AddressSpace): readonly MmIommuMem[] {
  return MM_IOMMU.get(mm) ?? [];
}

const memEnd = (m: MmIommuMem, pageSize: bigint): bigint => m.ua + m.entries * pageSize;

/** mm_iommu_lookup(): the region containing [ua, ua + size). */
function mmIommuLookup(mm: AddressSpace, ua: bigint, size: bigint, pageSize: bigint): MmIommuMem | undefined {
  return memList(mm).find((m) => m.ua <= ua && ua + size <= memEnd(m, pageSize));
}

/** mm_iommu_get(): the region registered exactly as (ua, entries), with a new reference. */
function mmIommuGet(mm: AddressSpace, ua: bigint, entries: bigint): MmIommuMem | undefined {
  const m = memList(mm).find((x) => x.ua === ua && x.entries === entries);
  if (m) m.used++;
  return m;
}

/**
 * mm_iommu_put(): drops a reference; the last one releases the region unless TCEs still use
 * it (-EBUSY, the reference restored).
 */
function mmIommuPut(mm: AddressSpace, m: MmIommuMem): number {
  if (m.used === 0) return -ENOENT;
  m.used--;
  if (m.used) return 0;
  if (m.tces > 0n) {
    m.used++;
    return -EBUSY;
  }
  const l = memList(mm);
  l.splice(l.indexOf(m), 1);
  return 0;
}

/** mm_iommu_ua_to_hpa(): the physical address behind ua, or undefined (-EFAULT). */
function mmIommuUaToHpa(m: MmIommuMem, ua: bigint, pageshift: number, pageSize: bigint): bigint | undefined {
  if ((ua - m.ua) / pageSize >= m.entries) return undefined;
  if (pageshift > m.pageshift) return undefined;
  const s = m.segs.find((x) => x.ua <= ua && ua < x.ua + x.len);
  return s ? s.phys + (ua - s.ua) : undefined;
}

// ---- the driver -----------------------------------------------------------------------------

export class SpaprTceDriver implements VfioIommuDriver {
  /** tce_iommu_driver_ops.name. */
  readonly name = 'iommu-vfio-powerpc';
  readonly backend = 'spapr';

  constructor(private readonly ctx: SpaprContext) {}

  checkExtension(ext: bigint): number {
    return tceCheckExtension(this.ctx, ext);
  }

  /** A container opened for `type` (v2 unless v1 is asked for by name). */
  attachFacts(group: IommuGroup, type?: bigint): TceAttachFacts {
    return tceAttachFacts(this.ctx, group, type === undefined || type === BigInt(VFIO_SPAPR_TCE_v2_IOMMU));
  }

  /** tce_iommu_open(): SPAPR_TCE_IOMMU or SPAPR_TCE_v2_IOMMU; v2 is remembered. */
  open(arg: bigint): VfioIommu | number {
    if (arg !== BigInt(VFIO_SPAPR_TCE_IOMMU) && arg !== BigInt(VFIO_SPAPR_TCE_v2_IOMMU)) {
      this.ctx.log.log('err', 'tce_vfio: Wrong IOMMU type');
      return -EINVAL;
    }
    return new SpaprTce(this.ctx, arg === BigInt(VFIO_SPAPR_TCE_v2_IOMMU));
  }
}

/**
 * What tce_iommu_attach_group() decides on: the group's table group and the container's
 * type. No interrupt-safety decision is made (no allow_unsafe_interrupts here); MSI isolation
 * is the PHB's, per PE, whatever IOMMU_CAP_INTR_REMAP says, and the facts say so.
 */
function tceAttachFacts(ctx: SpaprContext, group: IommuGroup, v2: boolean): TceAttachFacts {
  return {
    kind: 'spapr-tce',
    tableGroup: tableGroupOf(group) !== undefined,
    v2,
    iommus: [...new Set(group.devices.map((d) => d.iommu))].map((m) => ({ iommu: m, intrRemap: ctx.iommu.capable(m, 'intr-remap') })),
    devices: group.devices.map((d) => ({ bdf: d.bdf, msi: d.msi, isolating: d.msi.isolating })),
    msixMappable: ctx.era.msixMappable,
  };
}

/**
 * IODA2 table groups have take_ownership/release_ownership (the DDW ops): only a v2
 * container may own them ("vfio/powerpc/spapr_tce: Enforce IOMMU type compatibility check").
 * A v1 SET_IOMMU fails with -EPERM, which user space takes as "try v2".
 */
export const tceOwnershipCompatible = (f: Pick<TceAttachFacts, 'v2'>): boolean => f.v2;

/** The attach goes through: a table group (else -ENODEV) this container type may own (else -EPERM). */
export const tceAttachAllowed = (f: TceAttachFacts): boolean => f.tableGroup && tceOwnershipCompatible(f);

/** The PHB isolates every device's MSIs (binds them to the PE). */
export const tceMsiIsolated = (f: TceAttachFacts): boolean => f.devices.every((d) => d.isolating);

/**
 * tce_iommu_ioctl(VFIO_CHECK_EXTENSION): both sPAPR types, and VFIO_EEH through
 * vfio_spapr_iommu_eeh_ioctl(NULL, ...): eeh_enabled() ? 1 : 0.
 */
function tceCheckExtension(ctx: SpaprContext, ext: bigint): number {
  switch (ext) {
    case BigInt(VFIO_SPAPR_TCE_IOMMU):
    case BigInt(VFIO_SPAPR_TCE_v2_IOMMU):
      return 1;
    case BigInt(VFIO_EEH):
      return [...ctx.iommu.groups.values()].some((g) => g.iommu.tceTableGroup?.eeh) ? 1 : 0;
    default:
      return 0;
  }
}

/** struct tce_iommu_group: an attached group, its table group, and the PE's TVEs it owns. */
interface TceGroup {
  group: IommuGroup;
  tg: TableGroup;
  domain: IommuDomain;
}

/** struct tce_container. */
export class SpaprTce implements VfioIommu {
  enabled = false;
  defWindowPending = false;
  /** container->mm: the address space that first registered memory or made a window. */
  mm?: AddressSpace;
  /** container->tables[IOMMU_TABLE_GROUP_MAX_TABLES]. */
  readonly tables: (TceTable | undefined)[] = [undefined, undefined];
  /** container->group_list (list_add: the newest first, as list_first_entry() sees it). */
  readonly groups: TceGroup[] = [];
  /** container->prereg_list (list_add: the newest first). */
  readonly prereg: MmIommuMem[] = [];

  constructor(
    private readonly ctx: SpaprContext,
    readonly v2: boolean,
  ) {}

  private get pageSize(): bigint {
    return this.ctx.pageSize;
  }

  private get pageShift(): number {
    return ilog2(this.pageSize);
  }

  checkExtension(ext: bigint): number {
    return tceCheckExtension(this.ctx, ext);
  }

  // ---- ioctl dispatch (tce_iommu_ioctl) ----------------------------------------------------

  ioctl(proc: Process, cmd: number, arg: UserArg): number {
    if (cmd === VFIO_CHECK_EXTENSION) return tceCheckExtension(this.ctx, arg.value);
    // "Sanity check to prevent one userspace from manipulating another userspace mm."
    if (this.mm && this.mm !== proc.mm) return -EPERM;
    switch (cmd) {
      case VFIO_IOMMU_SPAPR_TCE_GET_INFO:
        return this.getInfo(arg);
      case VFIO_IOMMU_MAP_DMA:
        return this.mapDma(arg);
      case VFIO_IOMMU_UNMAP_DMA:
        return this.unmapDma(arg);
      case VFIO_IOMMU_SPAPR_REGISTER_MEMORY_NR:
        if (!this.v2) break;
        return this.registerMemory(proc, arg);
      case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY_NR:
        if (!this.v2) break;
        return this.unregisterMemory(arg);
      case VFIO_IOMMU_ENABLE:
        // v1 only: a v2 container is enabled by registering memory.
        if (this.v2) break;
        return this.enable(proc);
      case VFIO_IOMMU_DISABLE:
        if (this.v2) break;
        this.enabled = false;
        return 0;
      case VFIO_IOMMU_SPAPR_TCE_CREATE_NR:
        if (!this.v2) break;
        return this.tceCreate(proc, arg);
      case VFIO_IOMMU_SPAPR_TCE_REMOVE_NR:
        if (!this.v2) break;
        return this.tceRemove(proc, arg);
      // VFIO_EEH_PE_OP (vfio_spapr_iommu_eeh_ioctl) is not modelled: the model has no PE
      // freeze state to report or clear.
    }
    return -ENOTTY;
  }

  /**
   * tce_iommu_enable() (v1): needs a group whose table group has a DMA32 window; accounts the
   * whole window as locked memory (not modelled). Unreachable on IODA2, where a v1 container
   * never gets a group (attachGroup), but kept for table groups without DDW ops.
   */
  private enable(proc: Process): number {
    if (this.enabled) return -EBUSY;
    if (this.groups.length === 0) return -ENODEV;
    if (!this.groups[0].tg.ops.m32PciBase) return -EPERM;
    const ret = this.mmSet(proc);
    if (ret) return ret;
    this.enabled = true;
    return 0;
  }

  /** tce_iommu_mm_set(): the first caller's mm is the container's; anyone else is -EPERM. */
  private mmSet(proc: Process): number {
    if (this.mm) return this.mm === proc.mm ? 0 : -EPERM;
    this.mm = proc.mm;
    return 0;
  }

  // ---- GET_INFO ----------------------------------------------------------------------------

  /** VFIO_IOMMU_SPAPR_TCE_GET_INFO. */
  private getInfo(arg: UserArg): number {
    if (this.groups.length === 0) return -ENXIO;
    const tg = this.groups[0].tg;
    let minsz = offsetofend(VFIO_IOMMU_SPAPR_TCE_INFO, 'dma32_window_size');
    const info = KStruct.fromUser(VFIO_IOMMU_SPAPR_TCE_INFO, arg.buf, minsz);
    if (!info) return -EFAULT;
    if (info.get('argsz') < BigInt(minsz)) return -EINVAL;

    info.set('dma32_window_start', tg.ops.tce32Start);
    info.set('dma32_window_size', tg.ops.m32PciBase);
    info.set('flags', 0);
    // memset(&info.ddw, 0, sizeof(info.ddw)): already zero past minsz.
    info.set('ddw.pgsizes', 0).set('ddw.max_dynamic_windows_supported', 0).set('ddw.levels', 0);
    if (tg.ops.maxDynamicWindows && this.v2) {
      info.set('flags', INFO_DDW);
      info.set('ddw.pgsizes', tg.ops.tceSizes);
      info.set('ddw.max_dynamic_windows_supported', tg.ops.maxDynamicWindows);
      info.set('ddw.levels', tg.ops.maxLevels);
    }
    const ddwsz = offsetofend(VFIO_IOMMU_SPAPR_TCE_INFO, 'ddw.levels');
    if (info.get('argsz') >= BigInt(ddwsz)) minsz = ddwsz;
    return info.toUser(arg.buf, minsz) ? 0 : -EFAULT;
  }

  // ---- MAP_DMA / UNMAP_DMA -------------------------------------------------------------------

  /** VFIO_IOMMU_MAP_DMA. */
  private mapDma(arg: UserArg): number {
    if (!this.enabled) return -EPERM;
    const minsz = offsetofend(VFIO_IOMMU_TYPE1_DMA_MAP, 'size');
    const param = KStruct.fromUser(VFIO_IOMMU_TYPE1_DMA_MAP, arg.buf, minsz);
    if (!param) return -EFAULT;
    if (param.get('argsz') < BigInt(minsz)) return -EINVAL;
    const flags = param.get('flags');
    if (flags & ~(MAP_READ | MAP_WRITE)) return -EINVAL;

    let ret = this.createDefaultWindow();
    if (ret) return ret;

    const iova = param.get('iova');
    const vaddr = param.get('vaddr');
    const size = param.get('size');
    const tbl = this.findTable(iova);
    if (!tbl) return -ENXIO;
    const mask = tbl.pageSize - 1n;
    if (size & mask || vaddr & mask) return -EINVAL;

    // "iova is checked by the IOMMU API"; a direction is required.
    const read = (flags & MAP_READ) !== 0n;
    const write = (flags & MAP_WRITE) !== 0n;
    if (!read && !write) return -EINVAL;

    // iommu_tce_put_param_check() is a macro, `check_ioba(...) || check_gpa(...)`: a C
    // boolean. A failing check (an iova not aligned to the IOMMU page; vaddr was checked
    // above) makes the ioctl return 1, not -EINVAL, with nothing mapped. (Before the
    // iommu_tce_check_ioba() rework it was a function returning -EINVAL.)
    if (checkIoba(tbl, iova, 1n) || checkGpa(tbl, vaddr)) return 1;

    // tce_iommu_build() (v1: pin each page at map time) is not modelled: on IODA2 a v1
    // container never gets this far (attachGroup refuses it).
    if (!this.v2) return -ENOTTY;
    return this.buildV2(tbl, iova >> BigInt(tbl.pageShift), vaddr, size >> BigInt(tbl.pageShift), read, write);
  }

  /**
   * tce_iommu_build_v2(): per IOMMU page, the user address must lie in preregistered memory
   * (tce_iommu_prereg_ua_to_hpa(): -EINVAL otherwise, also when the region cannot back pages
   * that large); an existing TCE is exchanged, not refused. On failure the entries this call
   * wrote are cleared again (tce_iommu_clear(entry, i)), whatever they held before.
   *
   * Only the first entry is checked against the window (iommu_tce_check_ioba() ignores its
   * npages): a request running past the window's end makes the kernel write TCEs beyond the
   * table it allocated. The model writes the in-window part and drops the rest.
   */
  private buildV2(tbl: TceTable, entry: bigint, vaddr: bigint, pages: bigint, read: boolean, write: boolean): number {
    const mm = this.mm!;
    const shift = BigInt(tbl.pageShift);
    const pageSize = this.pageSize;
    let i = 0n;
    let ret = 0;
    while (i < pages) {
      const ua = vaddr + (i << shift);
      const mem = mmIommuLookup(mm, ua, tbl.pageSize, pageSize);
      const hpa = mem ? mmIommuUaToHpa(mem, ua, tbl.pageShift, pageSize) : undefined;
      if (!mem || hpa === undefined) {
        ret = -EINVAL;
        break;
      }
      // tce_page_is_contained() (-EPERM) cannot fail here: without hugetlb the region's
      // pageshift, checked above, is at most PAGE_SHIFT.
      // As many IOMMU pages as stay in this region and in one physically contiguous run.
      const seg = mem.segs.find((s) => s.ua <= ua && ua < s.ua + s.len)!;
      const end = memEnd(mem, pageSize) < seg.ua + seg.len ? memEnd(mem, pageSize) : seg.ua + seg.len;
      let n = (end - ua) >> shift;
      // (A run shorter than one IOMMU page only happens with the model's 4 KiB VMAs.)
      if (n === 0n) n = 1n;
      if (n > pages - i) n = pages - i;
      this.xchgInWindow(tbl, entry + i, n, { hpa, read, write, ua });
      i += n;
    }
    if (ret) this.clear(tbl, entry, i);
    return ret;
  }

  /** Exchanges the in-window part of [first, first + count) and accounts both sides. */
  private xchgInWindow(tbl: TceTable, first: bigint, count: bigint, tce?: { hpa: bigint; read: boolean; write: boolean; ua: bigint }): void {
    let s = first;
    let e = first + count;
    if (s < tbl.offset) {
      if (tce) tce = { ...tce, hpa: tce.hpa + ((tbl.offset - s) << BigInt(tbl.pageShift)), ua: tce.ua + ((tbl.offset - s) << BigInt(tbl.pageShift)) };
      s = tbl.offset;
    }
    if (e > tbl.offset + tbl.size) e = tbl.offset + tbl.size;
    if (e <= s) return;
    const old = tbl.xchg(s, e - s, tce);
    if (tce) {
      // mm_iommu_mapped_inc() per entry.
      const mem = mmIommuLookup(this.mm!, tce.ua, tbl.pageSize, this.pageSize);
      if (mem) mem.tces += e - s;
    }
    this.unuse(tbl, old);
  }

  /** tce_iommu_unuse_page_v2() for exchanged-out TCEs: mm_iommu_mapped_dec() on their region. */
  private unuse(tbl: TceTable, old: TcePiece[]): void {
    if (!this.mm) return;
    const shift = BigInt(tbl.pageShift);
    for (const p of old) {
      if (p.ua === undefined) continue;
      let ua = p.ua;
      let left = p.count;
      while (left > 0n) {
        const mem = mmIommuLookup(this.mm, ua, tbl.pageSize, this.pageSize);
        if (!mem) break;
        let n = (memEnd(mem, this.pageSize) - ua) >> shift;
        if (n > left) n = left;
        mem.tces -= n;
        if (mem.tces < 0n) mem.tces = 0n;
        ua += n << shift;
        left -= n;
      }
    }
  }

  /** tce_iommu_clear(): entries [first, first + count) become invalid. */
  private clear(tbl: TceTable, first: bigint, count: bigint): void {
    this.xchgInWindow(tbl, first, count);
  }

  /** VFIO_IOMMU_UNMAP_DMA: nothing is written back (no size, unlike type1). */
  private unmapDma(arg: UserArg): number {
    if (!this.enabled) return -EPERM;
    const minsz = offsetofend(VFIO_IOMMU_TYPE1_DMA_UNMAP, 'size');
    const param = KStruct.fromUser(VFIO_IOMMU_TYPE1_DMA_UNMAP, arg.buf, minsz);
    if (!param) return -EFAULT;
    if (param.get('argsz') < BigInt(minsz)) return -EINVAL;
    // "No flag is supported now".
    if (param.get('flags')) return -EINVAL;

    const ret = this.createDefaultWindow();
    if (ret) return ret;

    const iova = param.get('iova');
    const size = param.get('size');
    const tbl = this.findTable(iova);
    if (!tbl) return -ENXIO;
    if (size & (tbl.pageSize - 1n)) return -EINVAL;

    // iommu_tce_clear_param_check(): `check_ioba(...) || tce_value`, a boolean again: an
    // unaligned iova returns 1. npages is not checked (iommu_tce_check_ioba() ignores it), so
    // an UNMAP running past the window's end clears TCEs beyond the table in the kernel; the
    // model clears to the window's end.
    if (checkIoba(tbl, iova, size >> BigInt(tbl.pageShift))) return 1;

    this.clear(tbl, iova >> BigInt(tbl.pageShift), size >> BigInt(tbl.pageShift));
    return 0;
  }

  /** tce_iommu_find_table(): the window whose entries contain ioba. */
  private findTableIndex(ioba: bigint): number {
    for (let i = 0; i < this.tables.length; i++) {
      const tbl = this.tables[i];
      if (!tbl) continue;
      const entry = ioba >> BigInt(tbl.pageShift);
      if (tbl.offset <= entry && entry < tbl.offset + tbl.size) return i;
    }
    return -1;
  }

  private findTable(ioba: bigint): TceTable | undefined {
    const i = this.findTableIndex(ioba);
    return i < 0 ? undefined : this.tables[i];
  }

  // ---- preregistration ---------------------------------------------------------------------

  /** VFIO_IOMMU_SPAPR_REGISTER_MEMORY: mm set before the struct is even read. */
  private registerMemory(proc: Process, arg: UserArg): number {
    const ret = this.mmSet(proc);
    if (ret) return ret;
    const minsz = offsetofend(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, 'size');
    const param = KStruct.fromUser(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, arg.buf, minsz);
    if (!param) return -EFAULT;
    if (param.get('argsz') < BigInt(minsz)) return -EINVAL;
    if (param.get('flags')) return -EINVAL;
    return this.registerPages(param.get('vaddr'), param.get('size'));
  }

  /**
   * tce_iommu_register_pages(): host-page aligned, no wrap; the same region twice in one
   * container is -EBUSY; a region another container of this process registered is shared.
   * Registering enables the container (MAP_DMA is -EPERM before).
   */
  private registerPages(vaddr: bigint, size: bigint): number {
    const mm = this.mm!;
    const pageMask = this.pageSize - 1n;
    if (vaddr & pageMask || size & pageMask || BigInt.asUintN(64, vaddr + size) < vaddr) return -EINVAL;
    const entries = size >> BigInt(this.pageShift);
    let mem = mmIommuGet(mm, vaddr, entries);
    if (mem) {
      if (this.prereg.includes(mem)) {
        mmIommuPut(mm, mem);
        return -EBUSY;
      }
    } else {
      const r = this.mmIommuNew(mm, vaddr, entries);
      if (typeof r === 'number') return r;
      mem = r;
    }
    this.prereg.unshift(mem);
    this.enabled = true;
    return 0;
  }

  /**
   * mm_iommu_new() → mm_iommu_do_alloc(): pin every page for write (FOLL_WRITE |
   * FOLL_LONGTERM), then refuse an overlap with any region of the mm (-EINVAL).
   * - entries 0: vzalloc(0) returns NULL, -ENOMEM;
   * - RLIMIT_MEMLOCK (account_locked_vm, -ENOMEM) is not modelled: as if CAP_IPC_LOCK;
   * - pin_user_pages() that pins some pages and then fails returns that count, and the
   *   count is returned as is: the ioctl answers a positive number, not an errno. Pinning
   *   nothing is -EFAULT. (Until the chunked pinning of ~5.2 it was -EFAULT either way.)
   */
  private mmIommuNew(mm: AddressSpace, ua: bigint, entries: bigint): MmIommuMem | number {
    if (entries === 0n) return -ENOMEM;
    const pageSize = this.pageSize;
    // pin_user_pages() runs in chunks of (1 << (PAGE_SHIFT + MAX_PAGE_ORDER)) / 8 entries;
    // the failing chunk's partial count is what is returned.
    const chunk = (1n << BigInt(this.pageShift + maxPageOrder(this.pageShift))) / 8n;
    const pinnable = leadingPinnable(mm, ua, entries, pageSize);
    if (pinnable !== entries) {
      const inChunk = pinnable % chunk;
      return inChunk > 0n ? Number(inChunk) : -EFAULT;
    }
    const end = ua + entries * pageSize;
    if (memList(mm).some((m) => m.ua < end && ua < memEnd(m, pageSize))) return -EINVAL;
    const segs: MmIommuMem['segs'] = [];
    for (const v of mm.list()) {
      const s = v.start > ua ? v.start : ua;
      const e = v.end < end ? v.end : end;
      if (s < e) segs.push({ ua: s, len: e - s, phys: v.phys + (s - v.start) });
    }
    const shift = ffs(ua | (entries << BigInt(this.pageShift)));
    const mem: MmIommuMem = { ua, entries, used: 1, tces: 0n, pageshift: Math.min(shift, this.pageShift), segs };
    memList(mm).unshift(mem);
    return mem;
  }

  /** VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: -EPERM before any registration set the mm. */
  private unregisterMemory(arg: UserArg): number {
    if (!this.mm) return -EPERM;
    const minsz = offsetofend(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, 'size');
    const param = KStruct.fromUser(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, arg.buf, minsz);
    if (!param) return -EFAULT;
    if (param.get('argsz') < BigInt(minsz)) return -EINVAL;
    if (param.get('flags')) return -EINVAL;
    return this.unregisterPages(param.get('vaddr'), param.get('size'));
  }

  /**
   * tce_iommu_unregister_pages(): the exact (vaddr, size) this container registered, else
   * -ENOENT. The region leaves the container even while TCEs still use it: the reference
   * taken by mm_iommu_get() makes tce_iommu_prereg_free()'s put succeed, and the -EBUSY of
   * the final put is ignored. The region then stays registered in the mm (pinned, usable by
   * MAP_DMA) until its TCEs are gone and nothing references it. (Before mm_iommu_get() took a
   * reference, ~5.0, this was -EBUSY.)
   */
  private unregisterPages(vaddr: bigint, size: bigint): number {
    const mm = this.mm!;
    const pageMask = this.pageSize - 1n;
    if (vaddr & pageMask || size & pageMask) return -EINVAL;
    const mem = mmIommuGet(mm, vaddr, size >> BigInt(this.pageShift));
    if (!mem) return -ENOENT;
    const ret = this.prereg.includes(mem) ? this.preregFree(mem) : -ENOENT;
    mmIommuPut(mm, mem);
    return ret;
  }

  /** tce_iommu_prereg_free(). */
  private preregFree(mem: MmIommuMem): number {
    const ret = mmIommuPut(this.mm!, mem);
    if (ret) return ret;
    this.prereg.splice(this.prereg.indexOf(mem), 1);
    return 0;
  }

  // ---- windows -------------------------------------------------------------------------------

  /**
   * tce_iommu_create_default_window(): the DMA32 window a v2 container gets on first use
   * (MAP, UNMAP, TCE_CREATE) unless the user removed it first: 4 KiB IOMMU pages, tce32_size
   * bytes, one level, at bus address 0.
   */
  private createDefaultWindow(): number {
    if (!this.defWindowPending) return 0;
    if (this.groups.length === 0) return -ENODEV;
    const tg = this.groups[0].tg;
    const r = this.createWindow(IOMMU_PAGE_SHIFT_4K, tg.ops.m32PciBase, 1);
    if (typeof r === 'number') return r;
    this.defWindowPending = false;
    return 0;
  }

  /** tce_iommu_create_window(): a new TCE table programmed into every group's PE. */
  private createWindow(pageShift: number, windowSize: bigint, levels: number): bigint | number {
    const num = this.tables.findIndex((t) => t === undefined);
    if (num < 0) return -ENOSPC;
    const tg = this.groups[0].tg;
    if (pageShift >= 64 || !(tg.ops.tceSizes & (1n << BigInt(pageShift)))) return -EINVAL;
    // tce_iommu_create_table(): get_table_size() == 0 is -EINVAL; the table's pages are
    // accounted as locked memory (not modelled), then the platform creates it.
    if (!tg.ops.tableSizeValid(pageShift, windowSize, levels)) return -EINVAL;
    const host = { pageShift: this.pageShift, maxPageOrder: maxPageOrder(this.pageShift) };
    const tbl = tg.ops.createTable(num, pageShift, windowSize, levels, host);
    if (typeof tbl === 'number') return tbl;
    // "Program the table to every group" (pnv_pci_ioda2_set_window()).
    for (const g of this.groups) (g.domain.hw as PeTves).setWindow(num, tbl);
    this.tables[num] = tbl;
    return tbl.start;
  }

  /** tce_iommu_remove_window(). */
  private removeWindow(startAddr: bigint): number {
    const num = this.findTableIndex(startAddr);
    if (num < 0) return -EINVAL;
    const tbl = this.tables[num]!;
    for (const g of this.groups) (g.domain.hw as PeTves).unsetWindow(num);
    this.clear(tbl, tbl.offset, tbl.size);
    this.tables[num] = undefined;
    return 0;
  }

  /** VFIO_IOMMU_SPAPR_TCE_CREATE: start_addr is written back. */
  private tceCreate(proc: Process, arg: UserArg): number {
    let ret = this.mmSet(proc);
    if (ret) return ret;
    if (this.groups.length === 0) return -ENXIO;
    const minsz = offsetofend(VFIO_IOMMU_SPAPR_TCE_CREATE, 'start_addr');
    const create = KStruct.fromUser(VFIO_IOMMU_SPAPR_TCE_CREATE, arg.buf, minsz);
    if (!create) return -EFAULT;
    if (create.get('argsz') < BigInt(minsz)) return -EINVAL;
    if (create.get('flags')) return -EINVAL;
    ret = this.createDefaultWindow();
    if (ret) return ret;
    const r = this.createWindow(create.num('page_shift'), create.get('window_size'), create.num('levels'));
    if (typeof r === 'number') return r;
    create.set('start_addr', r);
    return create.toUser(arg.buf, minsz) ? 0 : -EFAULT;
  }

  /**
   * VFIO_IOMMU_SPAPR_TCE_REMOVE: start_addr 0 while the default window is still pending
   * just cancels it (how QEMU drops the DMA32 window before making its own).
   */
  private tceRemove(proc: Process, arg: UserArg): number {
    const ret = this.mmSet(proc);
    if (ret) return ret;
    if (this.groups.length === 0) return -ENXIO;
    const minsz = offsetofend(VFIO_IOMMU_SPAPR_TCE_REMOVE, 'start_addr');
    const remove = KStruct.fromUser(VFIO_IOMMU_SPAPR_TCE_REMOVE, arg.buf, minsz);
    if (!remove) return -EFAULT;
    if (remove.get('argsz') < BigInt(minsz)) return -EINVAL;
    if (remove.get('flags')) return -EINVAL;
    const start = remove.get('start_addr');
    if (this.defWindowPending && start === 0n) {
      this.defWindowPending = false;
      return 0;
    }
    return this.removeWindow(start);
  }

  // ---- attach / detach -----------------------------------------------------------------------

  /**
   * tce_iommu_attach_group(). No interrupt-safety check: this driver has none (see the top
   * of the file), whatever the era's type1 rule is.
   */
  attachGroup(_proc: Process, group: IommuGroup): number {
    const core = this.ctx.iommu;
    const tg = tableGroupOf(group);
    if (!tg) return -ENODEV;
    for (const g of this.groups) {
      if (g.group === group) {
        this.ctx.log.warn(`tce_vfio: Group ${group.id} is already attached`);
        return -EBUSY;
      }
      // tce_iommu_attach_group(): groups are compatible when they share
      // table_group->ops->create_table (the same platform code behind both PEs).
      if (g.tg.ops.createTable !== tg.ops.createTable) {
        this.ctx.log.warn(`tce_vfio: Group ${group.id} is incompatible with group ${g.group.id}`);
        return -EPERM;
      }
    }
    // The IOMMU type compatibility check (tceOwnershipCompatible): v1 cannot own an IODA2 PE.
    if (!tceOwnershipCompatible(this)) return -EPERM;

    // tce_iommu_take_ownership_ddw(): the PE leaves the kernel's DMA window and bypass; the
    // container's existing windows are programmed into it.
    const domain = core.allocDomain(tg.phb);
    const ret = core.attachGroup(domain, group);
    if (ret) {
      core.freeDomain(domain);
      return ret;
    }
    this.tables.forEach((tbl, num) => tbl && (domain.hw as PeTves).setWindow(num, tbl));
    if (this.groups.length === 0 && !this.tables[0]) this.defWindowPending = true;
    this.groups.unshift({ group, tg, domain });
    return 0;
  }

  /** tce_iommu_detach_group(): the windows are unset in the PE; the container keeps its tables. */
  detachGroup(group: IommuGroup): void {
    const i = this.groups.findIndex((g) => g.group === group);
    if (i < 0) {
      this.ctx.log.warn(`tce_vfio: detaching unattached group #${group.id}`);
      return;
    }
    const [g] = this.groups.splice(i, 1);
    // tce_iommu_release_ownership_ddw(): unset_window for each table, release_ownership.
    this.tables.forEach((tbl, num) => tbl && (g.domain.hw as PeTves).unsetWindow(num));
    this.ctx.iommu.detachGroup(g.domain, group);
    this.ctx.iommu.freeDomain(g.domain);
  }

  /**
   * tce_iommu_release(): groups detached, tables cleared and freed, this container's
   * preregistered regions put (regions other containers share stay).
   */
  release(): void {
    while (this.groups.length) this.detachGroup(this.groups[0].group);
    this.tables.forEach((tbl, i) => {
      if (!tbl) return;
      this.clear(tbl, tbl.offset, tbl.size);
      this.tables[i] = undefined;
    });
    for (const mem of [...this.prereg]) this.preregFree(mem);
  }

  // ---- inspection ----------------------------------------------------------------------------

  /** The facts this container decides an attach on: its own type. */
  attachFacts(group: IommuGroup): TceAttachFacts {
    return tceAttachFacts(this.ctx, group, this.v2);
  }

  state(): IommuState {
    return {
      kind: 'spapr-tce',
      v2: this.v2,
      enabled: this.enabled,
      groups: this.groups.length,
      defWindowPending: this.defWindowPending,
      tables: this.tables,
      prereg: (this.mm ? registeredMemory(this.mm) : []).map((m) => ({
        ua: m.ua,
        end: memEnd(m, this.pageSize),
        entries: m.entries,
        tces: m.tces,
        onList: this.prereg.includes(m),
      })),
    };
  }
}

// ---- helpers --------------------------------------------------------------------------------

/** iommu_tce_check_ioba(): alignment and the first entry only (npages is not used). */
function checkIoba(tbl: TceTable, ioba: bigint, _npages: bigint): boolean {
  if (ioba & (tbl.pageSize - 1n)) return true;
  const entry = ioba >> BigInt(tbl.pageShift);
  if (entry < tbl.offset) return true;
  if (entry + 1n > tbl.offset + tbl.size) return true;
  return false;
}

/** iommu_tce_check_gpa(). */
function checkGpa(tbl: TceTable, gpa: bigint): boolean {
  return (gpa & (tbl.pageSize - 1n)) !== 0n;
}

/** How many pages from ua can be pinned for write, in order (GUP stops at the first failure). */
function leadingPinnable(mm: AddressSpace, ua: bigint, entries: bigint, pageSize: bigint): bigint {
  if (ua + entries * pageSize >= U64) return 0n;
  let lo = 0n;
  let hi = entries;
  while (lo < hi) {
    const mid = (lo + hi + 1n) / 2n;
    if (mm.pin(ua, mid * pageSize, true) === 0) lo = mid;
    else hi = mid - 1n;
  }
  return lo;
}
