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
export type IommuCap = 'intr-remap' | 'cache-coherency' | 'noexec' | 'enforce-cache-coherency' | 'dirty-tracking' | 'nest-parent';

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

/** A translation context (struct iommu_domain of type UNMANAGED) with its page table. */
export interface IommuDomainHw {
  /** Present on a domain allocated for dirty tracking on hardware that has it. */
  readonly dirty?: IommuDirtyOps;
  /** iommu_map(): 0 or -errno. [iova, iova+size) must be aligned to the smallest page size. */
  map(iova: bigint, pa: bigint, size: bigint, prot: IommuProt): number;
  /** iommu_unmap(): bytes unmapped. */
  unmap(iova: bigint, size: bigint): bigint;
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
  /** The default domain type sysfs shows in iommu_groups/N/type (`DMA`, `DMA-FQ`). */
  readonly defaultDomainType: string;
  /** domain_alloc(IOMMU_DOMAIN_UNMANAGED); `dirtyTracking`: with dirty_ops (IOMMU_HWPT_ALLOC_DIRTY_TRACKING). */
  allocDomain(opts?: { dirtyTracking?: boolean }): IommuDomainHw;
  /**
   * iommu_ops->hw_info(): the driver's description of the hardware for IOMMU_GET_HW_INFO, as
   * enum iommu_hw_info_type and the bytes of its struct (iommu_hw_info_vtd,
   * iommu_hw_info_arm_smmuv3). Absent: the driver has no hw_info (type NONE, no data).
   */
  hwInfo?(): { type: number; data: Uint8Array };
  /** How the requester id of a device looks in this IOMMU's fault records. */
  sourceId(bdf: string): string;
  /** Builds a fault record for a failed DMA (the caller decides it failed). */
  fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission'): IommuFault;
}
