// Intel VT-d (as QEMU's intel-iommu models it on q35).
//
// - 39-bit address width by default (aw-bits=39): aperture [0, 2^39 - 1]; intel_iommu_map
//   refuses addresses beyond the domain's width with -EFAULT.
// - Page sizes 4K | 2M | 1G (0x40201000, as recorded).
// - MSIs land in the 0xfee00000–0xfeefffff interrupt window, which is not translated: the
//   driver reports it as an IOMMU_RESV_MSI region.
// - Interrupt remapping (intremap=on) is what gives IOMMU_CAP_INTR_REMAP.
// - ISA/LPC bridges get a 0–16 MiB direct-relaxable identity map (the floppy workaround).
// - Faults: "DMAR: [DMA Write NO_PASID] Request device [0000:00:02.0] fault addr 0x... [fault
//   reason 0x05] PTE Write access is not set", or the era's older form (FaultLogStyle.dmar); a
//   device in the blocking domain faults at its cleared context entry (reason 0x02).
// - intel_iommu_map() prints "iommu width (39) is not sufficient for the mapped address (...)"
//   when a page would end beyond the domain's width (the type1 IOVA list stops such a MAP_DMA
//   before it reaches the driver from 5.4 on).

import { FAULT_LOG_NEWEST, type DriverPrint, type FaultLogStyle, type IommuCap, type IommuDomainHw, type IommuFault, type IommuHw, type ReservedRegion } from './iommu.js';
import { RangePageTable } from './page-table.js';
import { parseBdf } from './pci-rid.js';
import { ffs, ilog2 } from '../../lib/bits.js';
import { hex, hexPad } from '../../lib/hex.js';
import { EFAULT, EINVAL, ENODEV, EOPNOTSUPP } from '../../uapi/errno.js';
import { HW_INFO_TYPES, IOMMU_HW_INFO_VTD } from '../../uapi/iommufd.js';
import { KStruct, flagBit } from '../../uapi/struct.js';


export const X86_MSI_BASE = 0xfee0_0000n;
export const X86_MSI_LENGTH = 0x10_0000n;

/**
 * VT-d fault reasons (intel/dmar.c dma_remap_fault_reasons). A non-present second-level entry
 * has neither R nor W, so it faults as the access it refused: a write 0x05, a read 0x06 (the
 * same check as a permission fault; QEMU's vtd_iova_to_slpte returns VTD_FR_WRITE/VTD_FR_READ).
 */
const FAULT_REASONS = {
  readDenied: [0x06, 'PTE Read access is not set'] as const,
  writeDenied: [0x05, 'PTE Write access is not set'] as const,
  /**
   * A request whose context entry is not present (VTD_FR_CONTEXT_ENTRY_P in QEMU's
   * vtd_dev_to_context_entry), read or write alike: a device the driver blocked.
   */
  contextNotPresent: [0x02, 'Present bit in context entry is clear'] as const,
};

/**
 * dmar_fault_do_one()'s line for a DMA-remapping fault without PASID, by era
 * (FaultLogStyle.dmar); the reason is %02d before 5.14, 0x%02x after. `seg` is the unit's PCI
 * segment (iommu->segment, the DRHD's), which the 'segment' form prints before the bus.
 */
const DMAR_FAULT_LINE: Record<FaultLogStyle['dmar'], (type: string, seg: string, source: string, addr: bigint, code: number, reason: string) => string> = {
  plain: (t, _seg, src, a, c, r) => `DMAR: [${t}] Request device [${src}] fault addr ${a.toString(16)} [fault reason ${String(c).padStart(2, '0')}] ${r}`,
  pasid: (t, _seg, src, a, c, r) => `DMAR: [${t}] Request device [${src}] PASID ffffffff fault addr ${a.toString(16)} [fault reason ${String(c).padStart(2, '0')}] ${r}`,
  'no-pasid': (t, _seg, src, a, c, r) => `DMAR: [${t} NO_PASID] Request device [${src}] fault addr ${hex(a)} [fault reason 0x${hexPad(c, 2)}] ${r}`,
  segment: (t, seg, src, a, c, r) => `DMAR: [${t} NO_PASID] Request device [${seg}:${src}] fault addr ${hex(a)} [fault reason 0x${hexPad(c, 2)}] ${r}`,
};

/**
 * iommu_map() before map_pages (the eras that reach intel_iommu_map beyond the width): the
 * range goes to the driver one page at a time, each the largest supported size that fits the
 * rest and the alignment of iova | paddr (iommu_pgsize). The end of the first page past `limit`.
 */
function firstPageEnd(iova: bigint, pa: bigint, size: bigint, bitmap: bigint, limit: bigint): bigint {
  while (size > 0n) {
    const idx = BigInt(Math.min(ilog2(size), ffs(iova | pa)));
    const sizes = ((1n << (idx + 1n)) - 1n) & bitmap;
    const pgsize = sizes === 0n ? size : 1n << BigInt(ilog2(sizes));
    if (iova + pgsize > limit) return iova + pgsize;
    iova += pgsize;
    pa += pgsize;
    size -= pgsize;
  }
  return iova;
}

/**
 * The capability register (CAP_REG) as QEMU's intel-iommu sets it in vtd_init()
 * (hw/i386/intel_iommu.c, intel_iommu_internal.h); the bit positions are the VT-d spec's.
 */
const CAP = {
  /** ND: domain ids supported, ((VTD_DOMAIN_ID_SHIFT 16) - 4) / 2. */
  ND: 6n,
  /** SAGAW bit 1 (39-bit, 3-level) always; bit 2 (48-bit, 4-level) with aw-bits=48. */
  SAGAW_39: 0x2n << 8n,
  SAGAW_48: 0x4n << 8n,
  /** MGAW: aw-bits - 1. */
  mgaw: (aw: number): bigint => BigInt((aw - 1) & 0x3f) << 16n,
  /** Caching mode (caching-mode=on). */
  CM: 1n << 7n,
  /** FRO: the fault recording registers at DMAR_FRCD_REG_OFFSET 0x220, in 16-byte units. */
  FRO: (0x220n >> 4n) << 24n,
  /** SLLPS: 2M and 1G second-level pages. */
  SLLPS: (1n << 34n) | (1n << 35n),
  PSI: 1n << 39n,
  /** NFR: DMAR_FRCD_REG_NR (1) - 1 fault recording registers. */
  NFR: 0n << 40n,
  /** MAMV: VTD_MAMV 18. */
  MAMV: 18n << 48n,
  /** DWD | DRD: dma-drain=on (QEMU's default). */
  DRAIN: (1n << 54n) | (1n << 55n),
};

/** The extended capability register (ECAP_REG), likewise. */
const ECAP = {
  QI: 1n << 1n,
  /** Interrupt remapping, with MHMV 15 beside it (intremap=on). */
  IR: 1n << 3n,
  MHMV: 15n << 20n,
  /** Pass-through (x86-iommu pt=on, QEMU's default). */
  PT: 1n << 6n,
  /** IRO: the IOTLB registers at DMAR_IOTLB_REG_OFFSET 0xf0, in 16-byte units. */
  IRO: (0xf0n >> 4n) << 8n,
};

/** IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17: intel_iommu_hw_info() sets it on every unit. */
const VTD_ERRATA_772415_SPR17 = 1n << 0n;
const HW_INFO_TYPE_DEFAULT = Number(flagBit(HW_INFO_TYPES, 'NONE'));
const HW_INFO_TYPE_INTEL_VTD = Number(flagBit(HW_INFO_TYPES, 'INTEL_VTD'));

export interface VtdParams {
  name: string;
  intremap: boolean;
  awBits?: number;
  pgsizeBitmap?: bigint;
  /** BDFs of ISA bridges (class 0x0601), which get the 0–16 MiB floppy-workaround region. */
  isaBridges?: string[];
  /**
   * Second-stage accessed/dirty bits (ECAP.SSADS, scalable mode): IOMMU_CAP_DIRTY_TRACKING
   * (intel_iommu_capable: ssads_supported()). QEMU's intel-iommu does not model them: off.
   */
  ssads?: boolean;
  /** caching-mode=on (CAP.CM): off, as the harness runs QEMU. */
  cachingMode?: boolean;
}

export class Vtd implements IommuHw {
  readonly model = 'Intel VT-d';
  readonly name: string;
  readonly pgsizeBitmap: bigint;
  readonly msiTranslated = false;
  readonly defaultDomainType = 'DMA-FQ';
  /** Paging domains use the second-stage table (QEMU's intel-iommu without scalable mode has no first stage). */
  readonly pageTableFormat = 'vtdss';
  private readonly intremap: boolean;
  private readonly awBits: number;
  private readonly isaBridges: Set<string>;
  private readonly ssads: boolean;
  private readonly cachingMode: boolean;

  constructor(p: VtdParams) {
    this.name = p.name;
    this.intremap = p.intremap;
    this.awBits = p.awBits ?? 39;
    this.pgsizeBitmap = p.pgsizeBitmap ?? 0x4020_1000n;
    this.isaBridges = new Set(p.isaBridges ?? []);
    this.ssads = p.ssads ?? false;
    this.cachingMode = p.cachingMode ?? false;
  }

  /** CAP_REG, as vtd_init() composes it from the options. */
  get capReg(): bigint {
    let cap = CAP.FRO | CAP.NFR | CAP.ND | CAP.MAMV | CAP.PSI | CAP.SLLPS | CAP.mgaw(this.awBits) | CAP.SAGAW_39 | CAP.DRAIN;
    if (this.awBits === 48) cap |= CAP.SAGAW_48;
    if (this.cachingMode) cap |= CAP.CM;
    return cap;
  }

  /** ECAP_REG, likewise (no EIM, device-iotlb, scalable mode or snoop control). */
  get ecapReg(): bigint {
    let ecap = ECAP.QI | ECAP.IRO | ECAP.PT;
    if (this.intremap) ecap |= ECAP.IR | ECAP.MHMV;
    return ecap;
  }

  /**
   * intel_iommu_hw_info() (drivers/iommu/intel/iommu.c): DEFAULT or INTEL_VTD, else
   * -EOPNOTSUPP; struct iommu_hw_info_vtd carries the errata flag and the two registers.
   */
  hwInfo(inType: number): number | { type: number; data: Uint8Array } {
    if (inType !== HW_INFO_TYPE_DEFAULT && inType !== HW_INFO_TYPE_INTEL_VTD) return -EOPNOTSUPP;
    const vtd = KStruct.zeroed(IOMMU_HW_INFO_VTD);
    vtd.set('flags', VTD_ERRATA_772415_SPR17);
    vtd.set('cap_reg', this.capReg);
    vtd.set('ecap_reg', this.ecapReg);
    return { type: HW_INFO_TYPE_INTEL_VTD, data: vtd.bytes };
  }

  /** intel_iommu_enable_iopf(): `if (!info->pri_enabled) return -ENODEV` (7.2; 6.11: !pri_supported). */
  readonly iopfWithoutPri = -ENODEV;

  capable(cap: IommuCap): boolean {
    if (cap === 'intr-remap') return this.intremap;
    if (cap === 'dirty-tracking') return this.ssads;
    // IOMMU_CAP_PCI_ATS_SUPPORTED is info->ats_supported: QEMU's edu and e1000e have no ATS
    // capability, so no modelled device has it (falls through to false).
    return cap === 'cache-coherency';
  }

  reservedRegions(bdf: string): ReservedRegion[] {
    const regions: ReservedRegion[] = [];
    if (this.isaBridges.has(bdf)) {
      regions.push({ start: 0n, length: 0x100_0000n, type: 'direct-relaxable', why: 'ISA floppy workaround' });
    }
    regions.push({ start: X86_MSI_BASE, length: X86_MSI_LENGTH, type: 'msi', why: 'interrupt window (not translated)' });
    return regions;
  }

  allocDomain(opts: { dirtyTracking?: boolean; print?: DriverPrint; warnNoAccess?: () => void } = {}): IommuDomainHw {
    const end = 1n << BigInt(this.awBits);
    return new RangePageTable({
      pgsizeBitmap: this.pgsizeBitmap,
      aperture: { start: 0n, end: end - 1n },
      beyondApertureErrno: EFAULT,
      dirtyTracking: (opts.dirtyTracking ?? false) && this.ssads,
      // intel_iommu_map(): "%s: iommu width (%d) is not sufficient for the mapped address
      // (%llx)" with __func__, dmar_domain->gaw (the unit's MGAW, here aw-bits) and
      // max_addr = iova + size of the first page iommu_map() hands it that ends beyond 2^gaw.
      onBeyondAperture: (iova, pa, size) =>
        opts.print?.(`DMAR: intel_iommu_map: iommu width (${this.awBits}) is not sufficient for the mapped address (${firstPageEnd(iova, pa, size, this.pgsizeBitmap, end).toString(16)})`),
      // A mapping no one may access: -EINVAL (__domain_mapping(); from the generic_pt
      // conversion, map_range()'s WARN_ON(!(prot & (IOMMU_READ | IOMMU_WRITE))), whose report
      // the caller prints).
      noAccess: () => {
        opts.warnNoAccess?.();
        return -EINVAL;
      },
    });
  }

  sourceId(bdf: string): string {
    const b = parseBdf(bdf);
    return b ? `${hexPad(b.bus, 2)}:${hexPad(b.dev, 2)}.${b.fn}` : bdf;
  }

  fault(bdf: string, iova: bigint, write: boolean, _kind: 'translation' | 'permission', style: FaultLogStyle = FAULT_LOG_NEWEST): IommuFault {
    return this.record(bdf, iova, write, write ? FAULT_REASONS.writeDenied : FAULT_REASONS.readDenied, style);
  }

  /**
   * The blocking domain (intel/iommu.c blocking_domain_attach_dev → device_block_translation):
   * in legacy mode, which QEMU's intel-iommu runs without x-scalable-mode, domain_context_clear()
   * clears the device's context entry, so its requests stop at the context entry (reason 0x02)
   * before any page table is walked. An empty paging domain would fault at the PTE instead.
   */
  blockedFault(bdf: string, iova: bigint, write: boolean, style: FaultLogStyle = FAULT_LOG_NEWEST): IommuFault {
    return this.record(bdf, iova, write, FAULT_REASONS.contextNotPresent, style);
  }

  private record(bdf: string, iova: bigint, write: boolean, [code, reason]: readonly [number, string], style: FaultLogStyle): IommuFault {
    // dma_frcd_page_addr(): the record holds the page address.
    const pageAddr = iova & ~0xfffn;
    const seg = hexPad(parseBdf(bdf)?.domain ?? 0, 4);
    const text = DMAR_FAULT_LINE[style.dmar](write ? 'DMA Write' : 'DMA Read', seg, this.sourceId(bdf), pageAddr, code, reason);
    return {
      iommu: this.name,
      type: `fault reason ${hex(code).replace('0x', '0x0')}`,
      source: this.sourceId(bdf),
      iova,
      write,
      text,
      // dmar_fault(): the fault status register (PPF, a primary fault pending), then the record.
      log: ['DMAR: DRHD: handling fault status reg 2', text],
    };
  }
}
