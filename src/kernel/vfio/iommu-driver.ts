// struct vfio_iommu_driver_ops: the container's IOMMU backend (type1, spapr_tce, ...). The
// container (container.ts) polls registered drivers for CHECK_EXTENSION and SET_IOMMU and
// never asks which driver it is talking to.

import type { UserArg } from '../file.js';
import type { IommuGroup } from '../iommu/core.js';
import type { Verdict } from '../irq/isolation.js';
import type { Process } from '../process.js';
import type { Blocked } from '../would-block.js';

export interface VfioIommuDriver {
  readonly name: string;
  /** Which meaning container requests take under this backend (ioctl/requests.ts `backend`). */
  readonly backend: string;
  /** CHECK_EXTENSION with no container data (before SET_IOMMU). */
  checkExtension(ext: bigint): number;
  /** open(arg): a new backend instance for SET_IOMMU(arg), or -errno. */
  open(arg: bigint): VfioIommu | number;
  /**
   * Whether attaching `group` is (or would be) allowed, and why, in this backend's own
   * terms: type1's interrupt-safety rule of the era, spapr's ownership rules. `iommu` is the
   * container's instance when there is one; `type` the SET_IOMMU argument being asked about.
   */
  verdict(group: IommuGroup, ctx: { iommu?: VfioIommu; type?: bigint }): Verdict;
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
  /** Human-readable state for `show mappings|domains`. */
  describe(): string[];
}
