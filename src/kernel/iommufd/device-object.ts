// struct iommufd_device and struct iommufd_group (drivers/iommu/iommufd/device.c): a device
// bound to a context, and the per-context state of its IOMMU group, which is what attaches
// (an iommu_group has one domain; every device of it attached through iommufd is on the
// group's HWPT, on igroup->device_list).

import type { IommuGroup, KDevice } from '../iommu/core.js';
import type { ReservedRegion } from '../../hw/iommu/iommu.js';
import { IommufdObject, type IommufdContext } from './objects.js';

/** What an HWPT is to a device: an object holding an IOMMU domain. */
export interface AttachedHwpt extends IommufdObject {
  readonly domain: import('../iommu/core.js').IommuDomain;
}

/** struct iommufd_group. */
export interface IommufdGroup {
  readonly group: IommuGroup;
  /** igroup->hwpt: what the group is attached to. */
  hwpt?: AttachedHwpt;
  /** igroup->device_list: the devices attached, in attach order. */
  readonly attached: IommufdDeviceObj[];
  /** Devices of this context bound in the group (kref of the igroup; the DMA-owner count). */
  bound: number;
  /** igroup->sw_msi_start: the SW_MSI region's start, once an attach has seen it. */
  swMsiStart?: bigint;
}

export class IommufdDeviceObj extends IommufdObject {
  readonly type = 'device' as const;
  /** Per-device IOMMU_OPTION_SW_MSI_START/SIZE (the proposed series). */
  swMsiStart?: bigint;
  swMsiSize?: bigint;

  constructor(
    readonly ictx: IommufdContext,
    readonly dev: KDevice,
    readonly igroup: IommufdGroup,
    /** idev->enforce_cache_coherency. */
    readonly enforceCacheCoherency: boolean,
    private readonly release: (d: IommufdDeviceObj) => void,
  ) {
    super();
  }

  /** iommufd_device_destroy(): the DMA ownership goes back and the igroup reference with it. */
  destroy(): void {
    this.release(this);
  }

  get attached(): boolean {
    return this.igroup.attached.includes(this);
  }
}

export const isDevice = (o: IommufdObject): o is IommufdDeviceObj => o instanceof IommufdDeviceObj;

/** One range a device reserves in the IOAS it attaches to. */
export interface DeviceReservation {
  /** The driver's region (get_resv_regions) the range stands for. */
  region: ReservedRegion;
  start: bigint;
  length: bigint;
  /** The SW_MSI region replaced by the device's IOMMU_OPTION_SW_MSI_START/SIZE window. */
  userWindow: boolean;
}

/**
 * What iopt_table_enforce_dev_resv_regions() reserves for `idev`: every reserved region of the
 * device but the relaxable direct ones; in the proposed series the SW_MSI region is the user's
 * window once both SW_MSI_START and SW_MSI_SIZE are set.
 */
export function deviceReservations(idev: IommufdDeviceObj): DeviceReservation[] {
  const out: DeviceReservation[] = [];
  const { swMsiStart, swMsiSize } = idev;
  for (const region of idev.dev.iommu.reservedRegions(idev.dev.bdf)) {
    if (region.type === 'direct-relaxable') continue;
    if (region.type === 'sw-msi' && swMsiStart !== undefined && swMsiSize !== undefined) {
      out.push({ region, start: swMsiStart, length: swMsiSize, userWindow: true });
    } else {
      out.push({ region, start: region.start, length: region.length, userWindow: false });
    }
  }
  return out;
}
