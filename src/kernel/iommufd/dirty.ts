// Dirty tracking on a paging HWPT (drivers/iommu/iommufd/hw_pagetable.c, io_pagetable.c, 6.7):
// IOMMU_HWPT_SET_DIRTY_TRACKING and IOMMU_HWPT_GET_DIRTY_BITMAP. Both need the domain's
// dirty_ops, which a driver gives only a domain allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING
// on hardware that records writes (VT-d second-stage A/D with ECAP.SSADS, SMMUv3 HTTU); no
// modelled IOMMU has that (QEMU's intel-iommu and smmuv3 model neither), so after their
// argument checks both answer -EOPNOTSUPP, as the kernel does on such hardware.

import { EINVAL, EOPNOTSUPP, EOVERFLOW } from '../../uapi/errno.js';
import { flagBit } from '../../uapi/struct.js';
import { DIRTY_TRACKING_FLAGS, GET_DIRTY_BITMAP_FLAGS } from '../../uapi/iommufd.js';
import { isHwptPaging } from './hwpt.js';
import { ULONG_MAX } from './io-pagetable.js';
import type { Ucmd } from './ucmd.js';

const ENABLE = flagBit(DIRTY_TRACKING_FLAGS, 'ENABLE');
const NO_CLEAR = flagBit(GET_DIRTY_BITMAP_FLAGS, 'NO_CLEAR');

/** iommufd_hwpt_set_dirty_tracking() → iopt_set_dirty_tracking(): no dirty_ops is -EOPNOTSUPP. */
export function hwptSetDirtyTracking(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('flags') & ~ENABLE) return -EOPNOTSUPP;
  const hwpt = ictx.get(cmd.num('hwpt_id'), isHwptPaging);
  if (typeof hwpt === 'number') return hwpt;
  if (!hwpt.dirtyCapable) return -EOPNOTSUPP;
  hwpt.dirtyTracking = (cmd.get('flags') & ENABLE) !== 0n;
  return 0;
}

/**
 * iommufd_hwpt_get_dirty_bitmap() → iopt_read_and_clear_dirty_data(): the range is checked
 * first (iommufd_check_iova_range: wrap -EOVERFLOW; IOVA alignment and page_size -EINVAL),
 * then the domain's dirty_ops (-EOPNOTSUPP without).
 */
export function hwptGetDirtyBitmap(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('flags') & ~NO_CLEAR || cmd.get('__reserved')) return -EOPNOTSUPP;
  const hwpt = ictx.get(cmd.num('hwpt_id'), isHwptPaging);
  if (typeof hwpt === 'number') return hwpt;
  const iova = cmd.get('iova');
  // check_add_overflow(iova, length - 1): u64 arithmetic, so length 0 is a length of 2^64.
  const last = iova + BigInt.asUintN(64, cmd.get('length') - 1n);
  if (last > ULONG_MAX) return -EOVERFLOW;
  const end = BigInt.asUintN(64, last + 1n);
  const align = hwpt.ioas.iopt.iovaAlignment;
  if (iova & (align - 1n) || end & (align - 1n)) return -EINVAL;
  const pgsize = cmd.get('page_size');
  if (!pgsize) return -EINVAL;
  if (iova & (pgsize - 1n) || end & (pgsize - 1n)) return -EINVAL;
  return -EOPNOTSUPP;
}
