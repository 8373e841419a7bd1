// IOMMU_GET_HW_INFO (drivers/iommu/iommufd/device.c iommufd_get_hw_info, 6.6): the bound
// device's IOMMU as its driver describes it (ops->hw_info: VT-d's capability registers, SMMUv3's
// ID registers), copied into the user's buffer up to data_len with the rest of it zeroed;
// data_len answers the length the kernel has, out_capabilities the generic capabilities (6.7).
// From 6.17 IOMMU_HW_INFO_FLAG_INPUT_TYPE names the type wanted in in_data_type (the union
// with out_data_type); without it the driver is asked for DEFAULT.
// The hardware model supplies the data (IommuHw.hwInfo); one without it, or whose driver has
// no hw_info in the era (Era.hwInfoDrivers: SMMUv3 before 6.13), answers type NONE with
// data_len 0 and the user's buffer cleared up to data_len (the else branch).

import { EFAULT, EOPNOTSUPP } from '../../uapi/errno.js';
import { flagBit } from '../../uapi/struct.js';
import { HW_CAPS, HW_INFO_FLAGS } from '../../uapi/iommufd.js';
import { isDevice } from './device-object.js';
import { respond, type Ucmd } from './ucmd.js';

const CAP_DIRTY_TRACKING = flagBit(HW_CAPS, 'DIRTY_TRACKING');
const CAP_PCI_ATS_NOT_SUPPORTED = flagBit(HW_CAPS, 'PCI_ATS_NOT_SUPPORTED');
const FLAG_INPUT_TYPE = flagBit(HW_INFO_FLAGS, 'INPUT_TYPE');
const TYPE_DEFAULT = 0;

export function getHwInfo(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  const { era } = ictx.env;
  const supported = era.iommufdHwInfoInputType ? FLAG_INPUT_TYPE : 0n;
  if (cmd.get('flags') & ~supported || cmd.get('__reserved') || cmd.get('__reserved1')) return -EOPNOTSUPP;
  // "Clear the type field since drivers don't support a random input"
  const inType = cmd.get('flags') & FLAG_INPUT_TYPE ? cmd.num('out_data_type') : TYPE_DEFAULT;
  const idev = ictx.get(cmd.num('dev_id'), isDevice);
  if (typeof idev === 'number') return idev;
  const info = idev.dev.iommu.hwInfo?.(inType, era.hwInfoDrivers);
  if (typeof info === 'number') return info;
  const data = info?.data ?? new Uint8Array(0);
  cmd.set('out_data_type', info?.type ?? 0);
  const want = cmd.num('data_len');
  const copy = Math.min(want, data.length);
  const out = new Uint8Array(want);
  out.set(data.subarray(0, copy));
  if (want && ictx.mm.copyToUser(cmd.get('data_uptr'), out)) return -EFAULT;
  cmd.set('data_len', data.length);
  if (era.iommufdDirty) {
    const iommu = ictx.env.iommu;
    let caps = iommu.capable(idev.dev.iommu, 'dirty-tracking') ? CAP_DIRTY_TRACKING : 0n;
    // "Report when ATS cannot be used for this device"
    if (era.iommufdHwCapAtsNotSupported && !iommu.capable(idev.dev.iommu, 'pci-ats-supported')) caps |= CAP_PCI_ATS_NOT_SUPPORTED;
    cmd.set('out_capabilities', caps);
  }
  cmd.set('out_max_pasid_log2', 0);
  return respond(ucmd, cmd.def.size);
}
