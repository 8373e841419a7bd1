// An IBM PHB3 (POWER8 PCIe host bridge, IODA2) as the IOMMU of its PCI domain.
//
// What the hardware does, as the kernel's PowerNV code drives it (arch/powerpc/platforms/
// powernv/pci-ioda.c, pci-ioda-tce.c) and skiboot programs it:
//
// - Translation is per PE (partitionable endpoint): the PHB maps a requester id to a PE and
//   the PE owns two TVEs (TCE validation entries) at TVT index (PE# << 1) + N. DMA address bit
//   59 picks N: window #0 sits at bus address 0 (the "DMA32" window), window #1 at 1 << 59
//   (pe->tce_bypass_base, where pnv_pci_ioda2_create_table() puts table number 1). Each TVE
//   points at a TCE table in memory: one 64-bit TCE per IOMMU page, with TCE_PCI_READ (bit 0)
//   and TCE_PCI_WRITE (bit 1) permissions and the real page number above. pnv_tce_xchg()
//   always adds READ to a WRITE TCE, so a device can read what it may write.
// - The 32-bit window covers bus addresses 0 .. the PHB's M32 window base (skiboot puts the
//   M32 window at PCI 0x80000000 on PHB3): pnv_pci_ioda2_setup_dma_pe() sets
//   table_group.tce32_start = 0 and tce32_size = phb->ioda.m32_pci_base (2 GiB).
// - TCE page sizes: pnv_ioda_parse_tce_sizes() reads "ibm,supported-tce-sizes"; PHB3 device
//   trees have none, and the POWER8 default is 4K | 64K | 16M | 256M. (4.10 hard-coded
//   SZ_4K | SZ_64K | SZ_16M: a preset may pass `tceSizes`.)
// - No reserved regions: spapr_tce_iommu_ops (6.4+) has no get_resv_regions and earlier
//   kernels had no iommu_ops on PowerNV at all, so /sys/kernel/iommu_groups/N/reserved_regions
//   is empty and the group's type reads "unknown" (no DMA/identity default domain).
// - MSIs are not translated: writes to the PHB's MSI windows (0xFFFF0000 32-bit, 1 << 60
//   64-bit) are decoded by the PHB's interrupt logic before the TVT (see msi/phb-msi.ts).
// - IOMMU_CAP_INTR_REMAP is never reported. The seed (003, Yongji Xie, 2016) proposed
//   pnv_ioda_iommu_capable() returning it through bus_set_iommu(); Alex Williamson refused
//   (no domain_alloc: iommu_domain_alloc() would crash), and upstream's only PowerNV
//   capability is IOMMU_CAP_CACHE_COHERENCY (spapr_tce_iommu_capable(), arch/powerpc/kernel/
//   iommu.c, 6.4+; before that iommu_capable() had no ops to ask and answered false).
// - A DMA that finds no valid TCE (or the wrong permission) is an error the PHB answers by
//   freezing the PE (EEH); the fault record uses the line the EEH core prints when it finds
//   a frozen PE ("EEH: Frozen PHB#%x-PE#%x detected"). The freeze itself (MMIO reads of
//   all-ones, EEH_PE_OP recovery) is not modelled.
//
// PE numbers are assigned by the kernel at boot; the model gives a device the PE of its bus
// (a bus PE, as pnv_ioda_setup_bus_PE() makes for an endpoint behind a root port) unless
// the preset says otherwise with `pes`.

import type { HostPages, TceTableGroupOps, IommuCap, IommuDomainHw, IommuFault, IommuHw, IommuProt, ReservedRegion } from './iommu.js';
import { parseBdf } from './pci-rid.js';
import { hex, hexPad } from '../../lib/hex.js';
import { ilog2, isPow2 } from '../../lib/bits.js';
import { EINVAL, ENOMEM } from '../../uapi/errno.js';
import { TceTable } from './tce-table.js';

/** DMA address bit 59 selects a PE's second TVE (pe->tce_bypass_base = 1ull << 59). */
export const TVE1_BUS_OFFSET = 1n << 59n;

/** Two TVEs per PE on IODA2 (IOMMU_TABLE_GROUP_MAX_TABLES on the kernel side). */
export const PHB3_TVES_PER_PE = 2;

/**
 * A PE's pair of TVEs while an owner other than the kernel's DMA API programs them: what
 * VFIO's spapr backend owns after take_ownership. Presented to the kernel model as the
 * group's translation context (IommuDomainHw): DMA from the PE's devices is translated here.
 */
export class PeTves implements IommuDomainHw {
  readonly windows: (TceTable | undefined)[] = new Array<TceTable | undefined>(PHB3_TVES_PER_PE).fill(undefined);

  /** opal_pci_map_pe_dma_window(phb, pe, (pe << 1) + num, levels, table, ...). */
  setWindow(num: number, tbl: TceTable): void {
    this.windows[num] = tbl;
  }

  /** The TVE is cleared (pnv_pci_ioda2_unset_window). */
  unsetWindow(num: number): void {
    this.windows[num] = undefined;
  }

  private windowOf(iova: bigint): TceTable | undefined {
    return this.windows[(iova & TVE1_BUS_OFFSET) !== 0n ? 1 : 0];
  }

  translate(iova: bigint): { pa: bigint; prot: IommuProt } | undefined {
    const tbl = this.windowOf(iova);
    if (!tbl) return undefined;
    const entry = iova >> BigInt(tbl.pageShift);
    if (entry < tbl.offset || entry >= tbl.offset + tbl.size) return undefined;
    const tce = tbl.get(entry);
    if (!tce) return undefined;
    return { pa: tce.hpa + (iova & (tbl.pageSize - 1n)), prot: { read: tce.read, write: tce.write } };
  }

  /** iommu_map() through whichever window covers iova (not used by VFIO's spapr path). */
  map(iova: bigint, pa: bigint, size: bigint, prot: IommuProt): number {
    const tbl = this.windowOf(iova);
    if (!tbl) return -EINVAL;
    const mask = tbl.pageSize - 1n;
    if (size === 0n || (iova | pa | size) & mask) return -EINVAL;
    const first = iova >> BigInt(tbl.pageShift);
    const count = size >> BigInt(tbl.pageShift);
    if (first < tbl.offset || first + count > tbl.offset + tbl.size) return -EINVAL;
    tbl.xchg(first, count, { hpa: pa, read: prot.read, write: prot.write });
    return 0;
  }

  unmap(iova: bigint, size: bigint): bigint {
    const tbl = this.windowOf(iova);
    if (!tbl) return 0n;
    const first = iova >> BigInt(tbl.pageShift);
    const count = size >> BigInt(tbl.pageShift);
    let n = 0n;
    for (const p of tbl.xchg(first, count)) n += p.count;
    return n << BigInt(tbl.pageShift);
  }

  get mappedRanges(): number {
    let n = 0;
    for (const w of this.windows) n += w?.runCount ?? 0;
    return n;
  }

  /** The span of the programmed windows (inclusive end); 0-0 when none is programmed. */
  get aperture(): { start: bigint; end: bigint } {
    const set = this.windows.filter((w): w is TceTable => w !== undefined);
    if (set.length === 0) return { start: 0n, end: 0n };
    const start = set.reduce((m, w) => (w.start < m ? w.start : m), set[0].start);
    const end = set.reduce((m, w) => (w.start + w.windowSize - 1n > m ? w.start + w.windowSize - 1n : m), 0n);
    return { start, end };
  }
}

export interface IodaPhbParams {
  name: string;
  /** PCI domain number = OPAL PHB id = hose->global_number (0001 in 0001:01:00.0). */
  domain: number;
  /** PCI address of the M32 window: the DMA32 window's size (PHB3: 0x80000000). */
  m32PciBase?: bigint;
  /** table_group->pgsizes (default the POWER8 set 4K|64K|16M|256M). */
  tceSizes?: bigint;
  /** PE number by bus ("01") when not the bus number. */
  pes?: Record<string, number>;
  /** Whether the platform's EEH is enabled (eeh_enabled()): PowerNV with PHB3 has it. */
  eeh?: boolean;
}

/** The PE of a device: the preset's choice for its bus, or the bus number. */
export function peNumber(bdf: string, pes?: Record<string, number>): number {
  const b = parseBdf(bdf);
  const bus = b?.bus ?? 0;
  return pes?.[hexPad(bus, 2)] ?? bus;
}

export const PHB3_TCE_SIZES = (1n << 12n) | (1n << 16n) | (1n << 24n) | (1n << 28n);

export class IodaPhb implements IommuHw {
  readonly model = 'IBM PHB3 (IODA2)';
  readonly name: string;
  readonly domain: number;
  readonly m32PciBase: bigint;
  readonly tceSizes: bigint;
  readonly eeh: boolean;
  readonly msiTranslated = false;
  readonly defaultDomainType = 'unknown';
  /** IOMMU_TABLE_GROUP_MAX_TABLES: two TVEs per PE. */
  readonly maxDynamicWindows = PHB3_TVES_PER_PE;
  /** POWERNV_IOMMU_MAX_LEVELS: the TVE's table levels field allows 1..5. */
  readonly maxLevels = 5;
  /** pnv_pci_ioda2_setup_dma_pe(): "The PE will reserve all possible 32-bits space". */
  readonly tce32Start = 0n;
  private readonly pes?: Record<string, number>;

  /** The PHB is its PEs' table group (pnv_pci_ioda2_setup_dma_pe). */
  get tceTableGroup(): TceTableGroupOps {
    return this;
  }

  constructor(p: IodaPhbParams) {
    this.name = p.name;
    this.domain = p.domain;
    this.m32PciBase = p.m32PciBase ?? 0x8000_0000n;
    this.tceSizes = p.tceSizes ?? PHB3_TCE_SIZES;
    this.pes = p.pes;
    this.eeh = p.eeh ?? true;
  }

  /** pnv_pci_ioda2_get_table_size(): 0 for no levels, too many, or a window not a power of 2. */
  tableSizeValid(_pageShift: number, windowSize: bigint, levels: number): boolean {
    return levels !== 0 && levels <= this.maxLevels && isPow2(windowSize);
  }

  /**
   * pnv_pci_ioda2_create_table() → pnv_pci_ioda2_table_alloc_pages(): table number 1 sits at
   * pe->tce_bypass_base (1 << 59), number 0 at 0. The entries are split evenly over the
   * levels; a level is at least a host page; too many address bits ((level_shift - 3) * levels
   * + page_shift >= 55) is -EINVAL; a level larger than the page allocator's largest block
   * (PAGE_SHIFT + MAX_PAGE_ORDER) is -ENOMEM.
   */
  createTable(num: number, pageShift: number, windowSize: bigint, levels: number, host: HostPages): TceTable | number {
    const busOffset = num ? TVE1_BUS_OFFSET : 0n;
    const windowShift = ilog2(windowSize);
    if (windowShift < pageShift) return -EINVAL; // entries_shift would wrap: the size check below fails
    const entriesShift = Math.floor((windowShift - pageShift + levels - 1) / levels);
    const levelShift = Math.max(entriesShift + 3, host.pageShift);
    if ((levelShift - 3) * levels + pageShift >= 55) return -EINVAL;
    if (levelShift > host.pageShift + host.maxPageOrder) return -ENOMEM;
    return new TceTable(busOffset >> BigInt(pageShift), windowSize >> BigInt(pageShift), pageShift, levels);
  }

  /** spapr_tce_iommu_capable(): IOMMU_CAP_CACHE_COHERENCY only; never INTR_REMAP (seed 003). */
  capable(cap: IommuCap): boolean {
    return cap === 'cache-coherency';
  }

  get pgsizeBitmap(): bigint {
    return this.tceSizes;
  }

  reservedRegions(_bdf: string): ReservedRegion[] {
    return [];
  }

  /**
   * The TVE pair of a PE, handed to an owner that programs its own TCE tables (VFIO's spapr
   * backend after take_ownership). The PHB has no UNMANAGED domains to allocate otherwise.
   */
  allocDomain(): IommuDomainHw {
    return new PeTves();
  }

  pe(bdf: string): number {
    return peNumber(bdf, this.pes);
  }

  sourceId(bdf: string): string {
    return `PHB#${this.domain.toString(16)}-PE#${this.pe(bdf).toString(16)}`;
  }

  fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission'): IommuFault {
    const src = this.sourceId(bdf);
    return {
      iommu: this.name,
      type: kind === 'translation' ? 'TCE invalid (PE frozen)' : 'TCE permission (PE frozen)',
      source: src,
      iova,
      write,
      text: `EEH: Frozen ${src} detected (DMA ${write ? 'write' : 'read'} at ${hex(iova)} ${kind === 'translation' ? 'found no valid TCE' : `found a TCE without ${write ? 'WRITE' : 'READ'}`})`,
      // The kernel prints the detection; the parenthesis is the model's account of why.
      log: [`EEH: Frozen ${src} detected`],
    };
  }
}
