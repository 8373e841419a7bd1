// IOMMU_GET_HW_INFO (drivers/iommu/iommufd/device.c iommufd_get_hw_info, 6.6): the bound
// device's IOMMU as its driver describes it (ops->hw_info: VT-d's capability registers, SMMUv3's
// ID registers), copied into the user's buffer up to data_len with the rest of it zeroed;
// data_len answers the length the kernel has, out_capabilities the generic capabilities (6.7).
// The hardware model supplies the data (IommuHw.hwInfo); one without it answers type NONE.

import { EFAULT, EOPNOTSUPP } from '../../uapi/errno.js';
import { flagBit } from '../../uapi/struct.js';
import { HW_CAPS } from '../../uapi/iommufd.js';
import { isDevice } from './device-object.js';
import { respond, type Ucmd } from './ucmd.js';

const CAP_DIRTY_TRACKING = flagBit(HW_CAPS, 'DIRTY_TRACKING');

export function getHwInfo(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('flags') || cmd.get('__reserved') || cmd.get('__reserved1')) return -EOPNOTSUPP;
  const idev = ictx.get(cmd.num('dev_id'), isDevice);
  if (typeof idev === 'number') return idev;
  const info = idev.dev.iommu.hwInfo?.();
  const data = info?.data ?? new Uint8Array(0);
  cmd.set('out_data_type', info?.type ?? 0);
  const want = cmd.num('data_len');
  const copy = Math.min(want, data.length);
  const out = new Uint8Array(want);
  out.set(data.subarray(0, copy));
  if (want && ictx.mm.copyToUser(cmd.get('data_uptr'), out)) return -EFAULT;
  cmd.set('data_len', data.length);
  if (ictx.env.era.iommufdDirty) cmd.set('out_capabilities', ictx.env.iommu.capable(idev.dev.iommu, 'dirty-tracking') ? CAP_DIRTY_TRACKING : 0n);
  cmd.set('out_max_pasid_log2', 0);
  return respond(ucmd, cmd.def.size);
}
