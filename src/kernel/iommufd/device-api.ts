// The boundary between VFIO and iommufd, as include/linux/iommufd.h draws it: VFIO never looks
// inside iommufd's objects. It turns the fd userspace passed into a context
// (iommufd_ctx_from_fd), binds a device to it (iommufd_device_bind), and attaches, replaces or
// detaches the bound device to a page-table object by id (iommufd_device_attach/replace/detach).
// The device cdev (vfio/device_cdev.c) and the group path through the compat container
// (vfio/iommufd.c, vfio/group.c when SET_CONTAINER is given an iommufd) both go through this
// API; iommufd implements it (kernel/iommufd/device.ts).

import type { OpenFile } from '../file.js';
import type { KDevice } from '../iommu/core.js';

/** struct iommufd_ctx, opaque to VFIO. */
export interface IommufdCtx {
  readonly iommufdCtx: true;
}

/** The outcome of iommufd_device_attach()/replace(): 0 or -errno, and the pt_id written back. */
export interface AttachResult {
  ret: number;
  /** The id of the HWPT the device ended up on (an IOAS id is replaced by the auto-domain's id). */
  ptId: number;
}

/** struct iommufd_device: one device bound to one context. */
export interface IommufdDevice {
  readonly ctx: IommufdCtx;
  /** The object id userspace sees (vfio_device_bind_iommufd.out_devid). */
  readonly id: number;
  attach(ptId: number, pasid?: number): AttachResult;
  replace(ptId: number, pasid?: number): AttachResult;
  detach(pasid?: number): void;
  /** iommufd_device_unbind(): detaches what is attached and gives the DMA ownership back. */
  unbind(): void;
}

export interface IommufdApi {
  /** iommufd_ctx_from_file(): the context, or -EBADFD when the file is not /dev/iommu. */
  ctxFromFile(f: OpenFile): IommufdCtx | number;
  /**
   * iommufd_device_bind(): claims the device's DMA ownership and checks that its interrupts are
   * isolated (unless allow_unsafe_interrupts), in the era's order. A bound device, or -errno.
   */
  bind(ctx: IommufdCtx, dev: KDevice): IommufdDevice | number;
  /**
   * iommufd_vfio_compat_ioas_create(): a group given an iommufd by VFIO_GROUP_SET_CONTAINER
   * makes sure the context has its compat IOAS. 0 or -errno.
   */
  compatIoasCreate(ctx: IommufdCtx): number;
  /** iommufd_vfio_compat_ioas_get_id(): the compat IOAS's id (what a group device attaches to), or -errno. */
  compatIoasGetId(ctx: IommufdCtx): number;
}
