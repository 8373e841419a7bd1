// What an IOMMU model offers the kernel model: the shape of struct iommu_ops plus the
// hardware facts behind it. Kernel code calls these; it never asks which IOMMU it is.

import type { TceTable } from './tce-table.js';

/** enum iommu_resv_type, with the strings /sys/kernel/iommu_groups/N/reserved_regions prints. */
export type ResvType = 'direct' | 'direct-relaxable' | 'reserved' | 'msi' | 'sw-msi';

export const RESV_TYPE_STRING: Record<ResvType, string> = {
  direct: 'direct',
  'direct-relaxable': 'direct-relaxable',
  reserved: 'reserved',
  // Both the hardware MSI window and the software-managed one print "msi".
  msi: 'msi',
  'sw-msi': 'msi',
};

export interface ReservedRegion {
  start: bigint;
  length: bigint;
  type: ResvType;
  /** Why the region exists, for `show reserved` (e.g. "ISA floppy workaround (RMRR)"). */
  why?: string;
}

/**
 * iommu_ops->capable() questions, plus 'enforce-cache-coherency': whether a domain can block
 * no-snoop DMA (ops->enforce_cache_coherency), which answers VFIO_DMA_CC_IOMMU since 5.19;
 * 'dirty-tracking' (IOMMU_CAP_DIRTY_TRACKING: the page tables record writes, VT-d SSADS,
 * SMMUv3 HTTU); and 'nest-parent', whether the driver can make a nesting-parent paging domain
 * (VT-d ecap NEST, SMMUv3 stage 1 + stage 2).
 */
export type IommuCap = 'intr-remap' | 'cache-coherency' | 'noexec' | 'enforce-cache-coherency' | 'dirty-tracking' | 'nest-parent' | 'pci-ats-supported';

export interface IommuProt {
  read: boolean;
  write: boolean;
  mmio?: boolean;
}

/** One fault record, in the IOMMU's own terms (an SMMUv3 event, a VT-d fault reason, ...). */
export interface IommuFault {
  iommu: string;
  /** The model's name for the fault (`F_TRANSLATION`, `context fault`, `DMA Read NO_PASID`...). */
  type: string;
  /** The requester as the IOMMU sees it (StreamID, source-id). */
  source: string;
  iova: bigint;
  write: boolean;
  /** The record as the driver prints it: the whole line, or what follows the device's prefix. */
  text: string;
  /**
   * The driver prints the record against the faulting device (pci_err()), so the line starts
   * with dev_printk's prefix, "<driver> <device>: ". The kernel adds it: which driver is bound
   * is kernel state, not the IOMMU's.
   */
  devicePrefix?: boolean;
  /**
   * The kernel log lines the driver prints for the record, when they are not just `text`:
   * several lines (PAMU's one per register, VT-d's DRHD line first), only part of `text` (a
   * model's note after it), or none (a transaction blocked without a new record).
   */
  log?: readonly string[];
}

/**
 * struct iommu_dirty_ops of a domain allocated for dirty tracking: the hardware sets a dirty
 * bit in the leaf entry a write is translated through while tracking is on (VT-d second-stage
 * A/D bits, ECAP.SSADS; SMMUv3 HTTU's DBM), and software reads and clears them.
 */
export interface IommuDirtyOps {
  readonly tracking: boolean;
  /** ops->set_dirty_tracking(). */
  setTracking(enable: boolean): void;
  /** The page-table walk of a write: marks its page while tracking is on. */
  recordWrite(iova: bigint): void;
  /** ops->read_and_clear_dirty() over [iova, iova + size): the dirty pages' IOVAs, cleared unless `noClear`. */
  readAndClear(iova: bigint, size: bigint, noClear: boolean): bigint[];
}

/**
 * How the era's IOMMU drivers print a fault record: the driver code that formats it changed
 * over the years while the hardware's record did not (Era.faultLog chooses one per kernel).
 */
export interface FaultLogStyle {
  /**
   * intel/dmar.c dmar_fault_do_one() (pr_fmt "DMAR: "):
   * - 'plain' (to 5.4): `[DMA Write] Request device [00:02.0] fault addr 200000 [fault reason 05] ...`
   *   (address without 0x, the reason as %02d);
   * - 'pasid' (5.5, "iommu/vt-d: Add Scalable Mode fault information"): `... [00:02.0] PASID
   *   ffffffff fault addr 200000 [fault reason 05] ...` (pasid -1 printed with %x);
   * - 'no-pasid' (5.14, 719a19335692 "iommu/vt-d: Tweak the description of a DMA fault", with
   *   the bus/device "0x" dropped again in 5.15, "iommu/vt-d: Drop "0x" prefix from PCI bus &
   *   device addresses"): `[DMA Write NO_PASID] Request device [00:02.0] fault addr 0x200000
   *   [fault reason 0x05] ...`. No modelled era sits in 5.14, so its "[0x00:0x02.0]" is not modelled;
   * - 'segment' (7.1 or 7.2 [U]: Debian's 6.18.x and the 7.0 tree print `[%02x:%02x.%d]`,
   *   7.2.13 `[%04x:%02x:%02x.%d]` with iommu->segment first): `[DMA Write NO_PASID] Request
   *   device [0000:00:02.0] fault addr 0x200000 [fault reason 0x05] ...`.
   */
  dmar: 'plain' | 'pasid' | 'no-pasid' | 'segment';
  /**
   * arm-smmu.c arm_smmu_context_fault() (dev_err):
   * - 'cb' (to 5.1): `Unhandled context fault: fsr=0x%x, iova=0x%08lx, fsynr=0x%x, cb=%d`;
   * - 'cbfrsynra' (5.2, "iommu/arm-smmu: Log CBFRSYNRA register on context fault"): with
   *   `cbfrsynra=0x%x` before `cb=`;
   * - 'regs' (6.12, "iommu/arm-smmu: Pretty-print context fault related regs", with the
   *   first line back at dev_err by "Un-demote unhandled-fault msg" [U: in the 6.12 stable
   *   kernels]): that line, then `FSR    = %08x [...Format=%u...], SID=0x%x` and
   *   `FSYNR0 = %08x [S1CBNDX=%u... PLVL=%u]` decoded.
   */
  armSmmu: 'cb' | 'cbfrsynra' | 'regs';
  /** amd_iommu's IO_PAGE_FAULT lines (Era.amdViFaultLog; the forms in amd-vi.ts AMD_VI_FAULT_LOG). */
  amdVi: AmdViFaultLog;
}

/**
 * Which IOMMU drivers fill iommu_ops->hw_info in an era (Era.hwInfoDrivers): VT-d's
 * intel_iommu_hw_info came with IOMMU_GET_HW_INFO itself (6.6); arm-smmu-v3's arm_smmu_hw_info
 * later (6.13), and only in a build with CONFIG_ARM_SMMU_V3_IOMMUFD.
 */
export interface HwInfoDrivers {
  armSmmuV3: boolean;
}

/**
 * drivers/iommu/amd_iommu.c (amd/iommu.c from 5.10) IO_PAGE_FAULT by era:
 * - 'split' (to 4.15 [U: the first kernel with 'dev-err' is not pinned; 4.11.0 splits,
 *   4.16.13 does not]): iommu_print_event()'s `printk(KERN_ERR "AMD-Vi: Event logged [")`
 *   then a plain printk of "IO_PAGE_FAULT device=%02x:%02x.%x domain=0x%04x
 *   address=0x%016llx flags=0x%04x]": without KERN_CONT the 4.9+ printk stores two records;
 * - 'dev-err' (4.16 [U]): amd_iommu_report_page_fault(), dev_err(&pdev->dev, "AMD-Vi: Event
 *   logged [IO_PAGE_FAULT domain=0x%04x address=0x%016llx flags=0x%04x]") while the device's
 *   ratelimit allows, else, while printk_ratelimit() allows, pr_err("AMD-Vi: Event logged
 *   [IO_PAGE_FAULT device=%02x:%02x.%x domain=... address=0x%016llx flags=...]");
 * - 'dev-fmt' (5.1, 780da9e4f5bf "iommu: Use dev_printk() when possible": pci_err() with
 *   dev_fmt = pr_fmt = "AMD-Vi: "; the address printed 0x%llx since 5.0 [U: commit]): the
 *   same two forms, "address=0x%llx";
 * - 'dev-fmt-quiet' (Lennert Buytenhek's "iommu/amd: Fix I/O page fault logging ratelimit
 *   test", 2021 [U: release, by 6.1]): past the device's ratelimit nothing is printed; the
 *   device= form is left for a requester with no iommu_dev_data.
 */
export type AmdViFaultLog = 'split' | 'dev-err' | 'dev-fmt' | 'dev-fmt-quiet';

/** The newest form of every driver's fault line (what a caller that names no era gets). */
export const FAULT_LOG_NEWEST: FaultLogStyle = { dmar: 'segment', armSmmu: 'regs', amdVi: 'dev-fmt-quiet' };

/** A line the IOMMU driver prints (pr_err/dev_err), handed in by the kernel that loaded it. */
export type DriverPrint = (text: string) => void;

/** A translation context (struct iommu_domain of type UNMANAGED) with its page table. */
export interface IommuDomainHw {
  /** Present on a domain allocated for dirty tracking on hardware that has it. */
  readonly dirty?: IommuDirtyOps;
  /** iommu_map(): 0 or -errno. [iova, iova+size) must be aligned to the smallest page size. */
  map(iova: bigint, pa: bigint, size: bigint, prot: IommuProt): number;
  /** iommu_unmap(): bytes unmapped. */
  unmap(iova: bigint, size: bigint): bigint;
  /**
   * map() and unmap() of exact numbers, where iova + size and pa + size stay below 2^53 (the
   * hot MAP/UNMAP paths, issue 8): same answers and state as the bigint calls. Optional; a
   * caller without them converts and calls map()/unmap().
   */
  mapExact?(iova: number, pa: number, size: number, prot: IommuProt): number;
  unmapExact?(iova: number, size: number): number;
  /** A page-table walk: the physical address and permissions, or undefined for no mapping. */
  translate(iova: bigint): { pa: bigint; prot: IommuProt } | undefined;
  /** Number of mapped ranges (for `show domains`). */
  readonly mappedRanges: number;
  /** The domain geometry (aperture), inclusive end. */
  readonly aperture: { start: bigint; end: bigint };
}

/**
 * What a TCE host bridge offers the sPAPR VFIO backend for a PE (struct iommu_table_group,
 * reached through iommu_group_get_iommudata()): its 32-bit window, page sizes, how many
 * dynamic windows and table levels it takes, and whether EEH is on.
 */
export interface TceTableGroupOps {
  /** The DMA32 window (table_group->tce32_start/size). */
  readonly tce32Start: bigint;
  readonly m32PciBase: bigint;
  readonly tceSizes: bigint;
  readonly maxDynamicWindows: number;
  readonly maxLevels: number;
  readonly eeh: boolean;
  /** ops->get_table_size(): false where the platform would answer 0 (no such table). */
  tableSizeValid(pageShift: number, windowSize: bigint, levels: number): boolean;
  /**
   * ops->create_table(): the TCE table of window `num`, or a negative errno. The host's
   * page shift and MAX_PAGE_ORDER bound the size of one table level.
   */
  createTable(num: number, pageShift: number, windowSize: bigint, levels: number, host: HostPages): TceTable | number;
}

/** What a table allocation needs to know of the host kernel's pages. */
export interface HostPages {
  pageShift: number;
  maxPageOrder: number;
}

export interface IommuHw {
  /** A TCE host bridge's table-group ops; absent for page-table IOMMUs (no iommu data). */
  readonly tceTableGroup?: TceTableGroupOps;
  /** The instance name used in logs and fault records (`smmu0`, `dmar0`). */
  readonly name: string;
  /** The model (`SMMUv3`, `ARM SMMU v2`, `Intel VT-d`, `AMD-Vi`). */
  readonly model: string;
  /** iommu_ops->capable(): what the hardware really provides. */
  capable(cap: IommuCap): boolean;
  /**
   * What the driver's attach answers for a domain with an iopf_handler (an iommufd HWPT with
   * a fault queue) on a device without PCI PRI or SMMU stall, which no modelled device has:
   * VT-d's intel_iommu_enable_iopf() -ENODEV; absent (0) where the driver lets such a device
   * attach without IOPF (arm-smmu-v3's arm_smmu_enable_iopf, AMD's amd_iommu_iopf_add_device).
   */
  readonly iopfWithoutPri?: number;
  /**
   * Capabilities older drivers advertised without the hardware providing them: the ARM SMMU
   * drivers claimed IOMMU_CAP_INTR_REMAP until the MSI-passthrough work removed the claim.
   * The kernel model honours these only in eras whose drivers still made the claim.
   */
  readonly legacyDriverClaims?: readonly IommuCap[];
  /** pgsize_bitmap. */
  readonly pgsizeBitmap: bigint;
  /**
   * The reserved regions the driver reports for a device behind it (get_resv_regions):
   * the MSI window (hardware on x86, software-managed on ARM), RMRRs, ...
   */
  reservedRegions(bdf: string): ReservedRegion[];
  /**
   * Whether inbound MSI writes are translated like any DMA (ARM, PowerPC: the doorbell must be
   * mapped) or bypass translation through a fixed window (x86: 0xfee00000).
   */
  readonly msiTranslated: boolean;
  /**
   * In the posted MSI-passthrough series (v8–v11), the driver takes an msi-iommu cookie for
   * every unmanaged domain and reports a programmable MSI geometry, so the MSI layer must find
   * each doorbell of a device in it a window ([PATCH 29/57] "iommu/arm-smmu: sets the MSI
   * geometry to programmable", [PATCH 35/57] "iommu/arm-smmu: get/put the msi cookie"; both
   * ARM SMMU drivers).
   */
  readonly seriesMsiCookie?: boolean;
  /** The default domain type sysfs shows in iommu_groups/N/type (`DMA`, `DMA-FQ`). */
  readonly defaultDomainType: string;
  /**
   * The generic_pt format (drivers/iommu/generic_pt/fmt/) of the page tables this IOMMU's
   * paging domains use, where Linux has one for it: VT-d's second stage `vtdss`, AMD's v1
   * `amdv1`. Its functions carry the name (a WARN in them names `vtdss_map_range`).
   */
  readonly pageTableFormat?: string;
  /**
   * domain_alloc(IOMMU_DOMAIN_UNMANAGED). `dirtyTracking`: with dirty_ops
   * (IOMMU_HWPT_ALLOC_DIRTY_TRACKING). `print` takes what the driver's map prints when it
   * refuses a mapping (VT-d's "iommu width ... is not sufficient"); `warnNoAccess` is the
   * kernel's WARN_ON report when the driver's map is handed a prot it may not be (generic_pt).
   */
  allocDomain(opts?: { dirtyTracking?: boolean; print?: DriverPrint; warnNoAccess?: () => void }): IommuDomainHw;
  /**
   * ops->hw_info(dev, &length, &type): the driver's description of the hardware for
   * IOMMU_GET_HW_INFO, as enum iommu_hw_info_type and the bytes of its struct
   * (iommu_hw_info_vtd, iommu_hw_info_arm_smmuv3), asked for `inType`
   * (IOMMU_HW_INFO_TYPE_DEFAULT, or the type the caller names with
   * IOMMU_HW_INFO_FLAG_INPUT_TYPE); a negative errno for a type it cannot give. Undefined where
   * the era's driver has no hw_info (`drivers`), as a model without the method: the core then
   * answers type NONE with no data.
   */
  hwInfo?(inType: number, drivers: HwInfoDrivers): number | { type: number; data: Uint8Array } | undefined;
  /** How the requester id of a device looks in this IOMMU's fault records. */
  sourceId(bdf: string): string;
  /**
   * Builds a fault record for a failed DMA (the caller decides it failed), printed as the
   * era's driver prints it (`style`; the newest form when not given).
   */
  fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission', style?: FaultLogStyle): IommuFault;
  /**
   * The record of a DMA from a device the driver's own blocking domain (IOMMU_DOMAIN_BLOCKED)
   * holds, where blocking is not an empty page table: VT-d in legacy mode clears the context
   * entry. Absent: the model's drivers block as an empty page table would (`fault`).
   */
  blockedFault?(bdf: string, iova: bigint, write: boolean, style?: FaultLogStyle): IommuFault;
}
