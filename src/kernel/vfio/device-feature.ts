// VFIO_DEVICE_FEATURE in the VFIO core: vfio_ioctl_device_feature() and vfio_check_feature()
// (drivers/vfio/vfio_main.c; include/linux/vfio.h). The core checks the header and the flag
// combination, answers the migration and dirty-logging features itself (ENOTTY for a driver
// with no mig_ops/log_ops, which vfio-pci is), and hands every other feature number to the
// driver's device_feature op (vfio-pci: kernel/vfio-pci/feature.ts).

import { EFAULT, EINVAL, ENOTTY } from '../../uapi/errno.js';
import { KStruct, offsetofend } from '../../uapi/struct.js';
import { VFIO_DEVICE_FEATURE } from '../../uapi/structs.js';
import type { Era } from '../era.js';
import type { UserArg } from '../file.js';
import type { Process } from '../process.js';

/** VFIO_DEVICE_FEATURE_MASK: the feature number in the low 16 bits of flags. */
export const VFIO_DEVICE_FEATURE_MASK = 0xffff;
export const VFIO_DEVICE_FEATURE_GET = 1 << 16;
export const VFIO_DEVICE_FEATURE_SET = 1 << 17;
export const VFIO_DEVICE_FEATURE_PROBE = 1 << 18;

export const VFIO_DEVICE_FEATURE_PCI_VF_TOKEN = 0;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY = 3;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP = 4;
export const VFIO_DEVICE_FEATURE_LOW_POWER_EXIT = 5;
export const VFIO_DEVICE_FEATURE_DMA_BUF = 11;
export const VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFO_V2 = 12;

/**
 * Features the core decodes itself (MIGRATION, MIG_DEVICE_STATE, DMA_LOGGING_START/STOP/REPORT,
 * MIG_DATA_SIZE): each handler starts with `if (!device->mig_ops) return -ENOTTY` (or log_ops).
 * No modelled driver has either, so they answer ENOTTY before their flags are looked at.
 */
const CORE_FEATURES: ReadonlySet<number> = new Set([1, 2, 6, 7, 8, 9]);

/** offsetofend(struct vfio_device_feature, flags). */
const FEATURE_MINSZ = offsetofend(VFIO_DEVICE_FEATURE, 'flags');

/** What a driver implements for the features the core passes on (vfio_device_ops.device_feature). */
export type DeviceFeatureOp = (proc: Process, flags: number, data: Uint8Array, argsz: number) => number;

/**
 * vfio_check_feature(): 1 when the caller should go on and do the GET/SET, 0 for a PROBE that
 * the feature supports, -EINVAL for flags the feature does not take or an argsz below `minsz`.
 */
export function vfioCheckFeature(flags: number, argsz: number, supported: number, minsz: number): number {
  if ((flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) & ~supported) return -EINVAL;
  if (flags & VFIO_DEVICE_FEATURE_PROBE) return 0;
  // Without PROBE, GET or SET must be set.
  if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET))) return -EINVAL;
  if (argsz < minsz) return -EINVAL;
  return 1;
}

/**
 * vfio_ioctl_device_feature(): copy the 8-byte header, check argsz and the flags, then route
 * by feature number. `data` is arg->data, what the caller's buffer holds after the header;
 * the feature's argsz is feature.argsz - minsz.
 */
export function vfioIoctlDeviceFeature(proc: Process, arg: UserArg, deviceFeature: DeviceFeatureOp | undefined, era: Era): number {
  const feat = KStruct.fromUser(VFIO_DEVICE_FEATURE, arg.buf, FEATURE_MINSZ);
  if (!feat) return -EFAULT;
  const argsz = Number(feat.get('argsz'));
  const flags = Number(feat.get('flags'));
  if (argsz < FEATURE_MINSZ) return -EINVAL;
  // Check unknown flags.
  if (flags & ~(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE)) return -EINVAL;
  // GET & SET are mutually exclusive except with PROBE.
  if (!(flags & VFIO_DEVICE_FEATURE_PROBE) && flags & VFIO_DEVICE_FEATURE_SET && flags & VFIO_DEVICE_FEATURE_GET) return -EINVAL;
  const feature = flags & VFIO_DEVICE_FEATURE_MASK;
  if (CORE_FEATURES.has(feature)) return -ENOTTY;
  // MIG_PRECOPY_INFOv2 (Era.migPrecopyInfoV2): vfio_ioctl_device_feature_migration_precopy_info_v2()
  // refuses a device without VFIO_MIGRATION_PRE_COPY (every modelled one) before vfio_check_feature.
  if (feature === VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFO_V2 && era.migPrecopyInfoV2) return -EINVAL;
  // A driver without device_feature: -EINVAL until the 2025 "ENOTTY for consistency" fix;
  // vfio-pci always has it, so the model only needs the op-present path.
  if (!deviceFeature) return -ENOTTY;
  return deviceFeature(proc, flags, arg.buf!.subarray(FEATURE_MINSZ), argsz - FEATURE_MINSZ);
}
