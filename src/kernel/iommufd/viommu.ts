// The vIOMMU commands (drivers/iommu/iommufd/viommu.c, eventq.c): IOMMU_VIOMMU_ALLOC (6.13),
// IOMMU_VDEVICE_ALLOC (6.13), IOMMU_VEVENTQ_ALLOC (6.15), IOMMU_HW_QUEUE_ALLOC (6.17).
//
// A vIOMMU needs the driver's viommu ops over a nesting-capable IOMMU: VT-d as modelled has
// none, and arm-smmu-v3 makes one only with ARM_SMMU_FEAT_NESTING, which needs IDR0.S2P, a
// bit QEMU 7.2's SMMUv3 leaves clear (smmuv3.ts ID_REGS). So no vIOMMU object ever exists
// here: IOMMU_VIOMMU_ALLOC answers -EOPNOTSUPP after its own checks, and every command that
// looks one up (iommufd_get_viommu) answers -ENOENT after the checks that come before it.
// The order is 7.2's source; earlier eras' is [U].

import { EINVAL, ENOENT, EOPNOTSUPP, EOVERFLOW } from '../../uapi/errno.js';
import { isDevice } from './device-object.js';
import { ULONG_MAX } from './io-pagetable.js';
import type { Ucmd } from './ucmd.js';
import { U64_MAX } from '../../lib/bits.js';

/** VEVENTQ_MAX_DEPTH (eventq.c). */
const VEVENTQ_MAX_DEPTH = 1n << 19n;
/** IOMMU_VIOMMU_TYPE_DEFAULT, IOMMU_VEVENTQ_TYPE_DEFAULT, IOMMU_HW_QUEUE_TYPE_DEFAULT. */
const TYPE_DEFAULT = 0n;

/** iommufd_get_viommu(): no object of type IOMMUFD_OBJ_VIOMMU can exist (see above). */
const getViommu = (): number => -ENOENT;

/** iommufd_viommu_alloc_ioctl(). */
export function viommuAlloc(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('flags') || cmd.get('type') === TYPE_DEFAULT) return -EOPNOTSUPP;
  const idev = ictx.get(cmd.num('dev_id'), isDevice);
  if (typeof idev === 'number') return idev;
  // ops->get_viommu_size / viommu_init absent, or the size 0 (no nesting): -EOPNOTSUPP.
  return -EOPNOTSUPP;
}

/** iommufd_vdevice_alloc_ioctl(): virt_id indexes an xarray, then the vIOMMU. */
export function vdeviceAlloc(ucmd: Ucmd): number {
  if (ucmd.cmd.get('virt_id') > ULONG_MAX) return -EINVAL;
  return getViommu();
}

/** iommufd_veventq_alloc(). */
export function veventqAlloc(ucmd: Ucmd): number {
  const { cmd } = ucmd;
  if (cmd.get('flags') || cmd.get('__reserved') || cmd.get('type') === TYPE_DEFAULT) return -EOPNOTSUPP;
  const depth = cmd.get('veventq_depth');
  if (!depth || depth > VEVENTQ_MAX_DEPTH) return -EINVAL;
  return getViommu();
}

/** iommufd_hw_queue_alloc_ioctl(): check_add_overflow(nesting_parent_iova, length - 1). */
export function hwQueueAlloc(ucmd: Ucmd): number {
  const { cmd } = ucmd;
  if (cmd.get('flags') || cmd.get('type') === TYPE_DEFAULT) return -EOPNOTSUPP;
  const length = cmd.get('length');
  if (!length) return -EINVAL;
  if (cmd.get('nesting_parent_iova') + length - 1n > U64_MAX) return -EOVERFLOW;
  return getViommu();
}
