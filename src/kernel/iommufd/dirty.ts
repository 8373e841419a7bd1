// Dirty tracking on a paging HWPT (drivers/iommu/iommufd/hw_pagetable.c, io_pagetable.c,
// iova_bitmap.c; 6.7): IOMMU_HWPT_SET_DIRTY_TRACKING and IOMMU_HWPT_GET_DIRTY_BITMAP. Both need
// the domain's dirty_ops, which a driver gives only a domain allocated with
// IOMMU_HWPT_ALLOC_DIRTY_TRACKING on hardware that records writes (VT-d second-stage A/D bits
// with ECAP.SSADS, SMMUv3 HTTU): the hardware models' `ssads`/`httu` parameters. QEMU models
// neither, so on the shipped presets both answer -EOPNOTSUPP after their argument checks.

import { EFAULT, EINVAL, EOPNOTSUPP, EOVERFLOW } from '../../uapi/errno.js';
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
  const ops = hwpt.domain.hw.dirty;
  if (!ops) return -EOPNOTSUPP;
  const enable = (cmd.get('flags') & ENABLE) !== 0n;
  // iopt_set_dirty_tracking(): turning it on starts from clean (iopt_clear_dirty_data).
  if (enable) for (const a of hwpt.ioas.iopt.areas) ops.readAndClear(a.iova, a.last - a.iova + 1n, false);
  ops.setTracking(enable);
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
  const ops = hwpt.domain.hw.dirty;
  if (!ops) return -EOPNOTSUPP;
  // __iommu_read_and_clear_dirty(): the range must be mapped by contiguous areas (-EINVAL).
  const pieces = hwpt.ioas.iopt.getPages(iova, last - iova + 1n);
  if (typeof pieces === 'number') return -EINVAL;
  const dirty = ops.readAndClear(iova, last - iova + 1n, (cmd.get('flags') & NO_CLEAR) !== 0n);
  // iova_bitmap_set(): one bit per page_size unit from `iova`, in u64 words at `data`, set
  // (never cleared) in the user's bitmap; each dirty IOMMU page sets the units it overlaps.
  const units = (last - iova) / pgsize + 1n;
  const bytes = Number(((units + 63n) / 64n) * 8n);
  const data = cmd.get('data');
  const bitmap = ictx.mm.copyFromUser(data, bytes);
  if (typeof bitmap === 'number') return -EFAULT;
  const ioPage = hwpt.ioas.iopt.iovaAlignment;
  for (const at of dirty) {
    for (let u = (at - iova) / pgsize; u <= (at + ioPage - 1n - iova) / pgsize && u < units; u++) {
      bitmap[Number(u / 8n)] |= 1 << Number(u % 8n);
    }
  }
  return ictx.mm.copyToUser(data, bitmap) ? -EFAULT : 0;
}
