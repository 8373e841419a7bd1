// drivers/vfio/iommufd.c: the "physical" iommufd ops every vfio-pci device uses
// (vfio_iommufd_physical_bind/unbind/attach_ioas/detach_ioas and their PASID forms), and the
// group path's attach to the compat IOAS. They only call the iommufd contract
// (iommufd/device-api.ts); the device state they keep is vfio_device's iommufd fields.

import { EINVAL } from '../../uapi/errno.js';
import type { KDevice } from '../iommu/core.js';
import type { AttachResult, IommufdApi, IommufdCtx, IommufdDevice } from '../iommufd/device-api.js';

/** The fields of struct vfio_device these ops keep. */
export interface VfioIommufdState {
  readonly kdev: KDevice;
  /** vdev->iommufd_device */
  idev?: IommufdDevice;
  /** vdev->iommufd_attached */
  iommufdAttached: boolean;
  /** vdev->pasids */
  readonly pasids: Set<number>;
}

/** vfio_iommufd_physical_bind() → iommufd_device_bind(): the device id, or -errno. */
export function vfioIommufdPhysicalBind(vdev: VfioIommufdState, api: IommufdApi, ctx: IommufdCtx): number {
  const idev = api.bind(ctx, vdev.kdev);
  if (typeof idev === 'number') return idev;
  vdev.idev = idev;
  vdev.pasids.clear();
  return idev.id;
}

/** vfio_iommufd_physical_unbind(): every PASID detached, then the device, then unbound. */
export function vfioIommufdPhysicalUnbind(vdev: VfioIommufdState): void {
  const idev = vdev.idev;
  if (!idev) return;
  // ida_find_first(): lowest PASID first.
  for (const pasid of [...vdev.pasids].sort((a, b) => a - b)) {
    idev.detach(pasid);
    vdev.pasids.delete(pasid);
  }
  if (vdev.iommufdAttached) {
    idev.detach();
    vdev.iommufdAttached = false;
  }
  idev.unbind();
  vdev.idev = undefined;
}

/**
 * vfio_iommufd_physical_attach_ioas(): an attached device is replaced onto the new page
 * table (iommufd_device_replace, 6.6), a detached one attached.
 */
export function vfioIommufdPhysicalAttachIoas(vdev: VfioIommufdState, ptId: number): AttachResult {
  const idev = vdev.idev;
  if (!idev) return { ret: -EINVAL, ptId }; // WARN_ON(!vdev->iommufd_device)
  const r = vdev.iommufdAttached ? idev.replace(ptId) : idev.attach(ptId);
  if (r.ret === 0) vdev.iommufdAttached = true;
  return r;
}

/** vfio_iommufd_physical_detach_ioas(): nothing when not attached. */
export function vfioIommufdPhysicalDetachIoas(vdev: VfioIommufdState): void {
  if (!vdev.idev || !vdev.iommufdAttached) return;
  vdev.idev.detach();
  vdev.iommufdAttached = false;
}

/** vfio_iommufd_physical_pasid_attach_ioas() (6.15): replace a PASID already attached. */
export function vfioIommufdPhysicalPasidAttachIoas(vdev: VfioIommufdState, pasid: number, ptId: number): AttachResult {
  const idev = vdev.idev;
  if (!idev) return { ret: -EINVAL, ptId };
  if (vdev.pasids.has(pasid)) return idev.replace(ptId, pasid);
  vdev.pasids.add(pasid);
  const r = idev.attach(ptId, pasid);
  if (r.ret) vdev.pasids.delete(pasid);
  return r;
}

/** vfio_iommufd_physical_pasid_detach_ioas(): nothing for a PASID not attached. */
export function vfioIommufdPhysicalPasidDetachIoas(vdev: VfioIommufdState, pasid: number): void {
  if (!vdev.idev || !vdev.pasids.has(pasid)) return;
  vdev.idev.detach(pasid);
  vdev.pasids.delete(pasid);
}

/**
 * vfio_iommufd_compat_attach_ioas(): a group-opened device goes onto the compat IOAS its
 * group's SET_CONTAINER made (iommufd_vfio_compat_ioas_get_id). 0 or -errno.
 */
export function vfioIommufdCompatAttachIoas(vdev: VfioIommufdState, api: IommufdApi, ctx: IommufdCtx): number {
  const ioasId = api.compatIoasGetId(ctx);
  if (ioasId < 0) return ioasId;
  // "The legacy path has no way to return the selected pt_id".
  return vfioIommufdPhysicalAttachIoas(vdev, ioasId).ret;
}
