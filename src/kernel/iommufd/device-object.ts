// struct iommufd_device and struct iommufd_group (drivers/iommu/iommufd/device.c): a device
// bound to a context, and the per-context state of its IOMMU group, which is what attaches
// (an iommu_group has one domain; every device of it attached through iommufd is on the
// group's HWPT, on igroup->device_list).

import type { IommuGroup, KDevice } from '../iommu/core.js';
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
