// struct vfio_iommu_driver_ops: the container's IOMMU backend (type1, spapr_tce, ...). The
// container (container.ts) polls registered drivers for CHECK_EXTENSION and SET_IOMMU and
// never asks which driver it is talking to.
//
// Beyond the ops the kernel has, each backend reports facts as data, discriminated by `kind`:
// what an attach is decided on, and the container's state. The script layer explains them.

import type { UserArg } from '../file.js';
import type { IommuGroup } from '../iommu/core.js';
import type { SafetyFacts } from '../irq/isolation.js';
import type { Process } from '../process.js';
import type { Blocked } from '../would-block.js';
import type { IommuHw } from '../../hw/iommu/iommu.js';
import type { TceTable } from '../../hw/iommu/tce-table.js';
import type { MsiController } from '../../hw/msi/msi-controller.js';

export interface VfioIommuDriver {
  readonly name: string;
  /** Which meaning container requests take under this backend (ioctl/requests.ts `backend`). */
  readonly backend: string;
  /** CHECK_EXTENSION with no container data (before SET_IOMMU). */
  checkExtension(ext: bigint): number;
  /** open(arg): a new backend instance for SET_IOMMU(arg), or -errno. */
  open(arg: bigint): VfioIommu | number;
  /**
   * The facts an attach of `group` would be decided on by a new instance, opened for `type`
   * (the SET_IOMMU argument being asked about) or for any type this backend takes.
   */
  attachFacts(group: IommuGroup, type?: bigint): IommuAttachFacts;
}

export interface VfioIommu {
  /** CHECK_EXTENSION once this backend is the container's. */
  checkExtension(ext: bigint): number;
  ioctl(proc: Process, cmd: number, arg: UserArg): number;
  /** attach_group: 0 or -errno (EPERM for unsafe interrupts), or Blocked (nothing attached). */
  attachGroup(proc: Process, group: IommuGroup): number | Blocked;
  detachGroup(group: IommuGroup): void;
  /** The last group left or SET_IOMMU unwound: every mapping goes. */
  release(): void;
  /** The facts this instance decides (or decided) an attach of `group` on. */
  attachFacts(group: IommuGroup): IommuAttachFacts;
  /** The container's state, for `show mappings`. */
  state(): IommuState;
}

// ---- attach facts -----------------------------------------------------------------------------

/** type1: the era's interrupt-safety rule decides (kernel/irq/isolation.ts). */
export interface Type1AttachFacts extends SafetyFacts {
  kind: 'type1';
}

/**
 * spapr_tce: ownership of the PE's table group decides; no interrupt-safety check is made.
 * The MSI facts are there to say what isolates the group instead.
 */
export interface TceAttachFacts {
  kind: 'spapr-tce';
  /** iommu_group_get_iommudata(): the group's IOMMU is a TCE host bridge. */
  tableGroup: boolean;
  /** The container is (or SET_IOMMU asks for) SPAPR_TCE_v2_IOMMU. */
  v2: boolean;
  /** The group's IOMMUs, each once, and whether each answers IOMMU_CAP_INTR_REMAP. */
  iommus: readonly { iommu: IommuHw; intrRemap: boolean }[];
  /** Where each device's MSIs go and whether the hardware isolates them. */
  devices: readonly { bdf: string; msi: MsiController; isolating: boolean }[];
  /** vfio-pci lets the MSI-X BAR be mmapped whole in this era (MSIX_MAPPABLE). */
  msixMappable: boolean;
}

export type IommuAttachFacts = Type1AttachFacts | TceAttachFacts;

// ---- container state --------------------------------------------------------------------------

/** struct vfio_dma as the user sees it. */
export interface VfioDmaInfo {
  iova: bigint;
  size: bigint;
  vaddr: bigint;
  read: boolean;
  write: boolean;
  /** The series' VFIO_IOVA_USER / VFIO_IOVA_RESERVED_MSI. */
  type: 'user' | 'reserved-msi';
  vaddrInvalid: boolean;
}

/** struct vfio_iommu. */
export interface Type1State {
  kind: 'type1';
  v2: boolean;
  /** In IOVA order. */
  dmas: readonly VfioDmaInfo[];
  /** iommu->dma_avail; undefined in eras without dma_entry_limit (before 5.1). */
  dmaAvail: bigint | undefined;
  pgsizeBitmap: bigint;
  /** iommu->iova_list, inclusive ends (empty: no list, every IOVA allowed; always empty before 5.4). */
  iovaList: readonly { start: bigint; end: bigint }[];
}

/** A region preregistered in the container's mm (struct mm_iommu_table_group_mem_t). */
export interface TcePreregInfo {
  ua: bigint;
  /** Exclusive. */
  end: bigint;
  entries: bigint;
  tces: bigint;
  /** On this container's prereg_list (else another container of the process registered it). */
  onList: boolean;
}

/** struct tce_container. */
export interface TceState {
  kind: 'spapr-tce';
  v2: boolean;
  enabled: boolean;
  groups: number;
  defWindowPending: boolean;
  /** container->tables[], by window number. */
  tables: readonly (TceTable | undefined)[];
  prereg: readonly TcePreregInfo[];
}

export type IommuState = Type1State | TceState;
