// IOMMU_OPTION (drivers/iommu/iommufd/main.c iommufd_option, ioas.c): RLIMIT_MODE for the
// whole context, HUGE_PAGES per IOAS, and (the proposed series only) SW_MSI_START/SIZE per
// device. A successful GET or SET writes val64 back.

import { EADDRINUSE, EBUSY, EFAULT, EINVAL, EOPNOTSUPP, EOVERFLOW, EPERM } from '../../uapi/errno.js';
import { writeField } from '../../uapi/struct.js';
import { OPTION_IDS, IOMMU_OPTION } from '../../uapi/iommufd.js';
import { flagBit, findField } from '../../uapi/struct.js';
import { ioasOptionHugePages, OP_GET, OP_SET } from './ioas.js';
import { isDevice } from './device-object.js';
import type { IommufdContext } from './objects.js';
import type { Ucmd } from './ucmd.js';
import type { KStruct } from '../../uapi/struct.js';
import { ULONG_MAX } from './io-pagetable.js';

const RLIMIT_MODE = flagBit(OPTION_IDS, 'RLIMIT_MODE');
const HUGE_PAGES = flagBit(OPTION_IDS, 'HUGE_PAGES');
const SW_MSI_START = flagBit(OPTION_IDS, 'SW_MSI_START');
const SW_MSI_SIZE = flagBit(OPTION_IDS, 'SW_MSI_SIZE');
const VAL64_OFF = findField(IOMMU_OPTION, 'val64')!.off;

/** The proposal's granule: the window's start is 1 MiB aligned and its size counted in MiB. */
const SZ_1M = 1n << 20n;

/**
 * iommufd_option_rlimit_mode(): GET answers whether pages are charged per mm (1) or per user
 * (0); SET needs CAP_SYS_RESOURCE (-EPERM) and a context with no objects yet (-EBUSY).
 */
function rlimitMode(cmd: KStruct, ictx: IommufdContext): number {
  if (cmd.get('object_id')) return -EOPNOTSUPP;
  const op = cmd.get('op');
  if (op === OP_GET) {
    cmd.set('val64', ictx.accountMode === 'mm' ? 1 : 0);
    return 0;
  }
  if (op === OP_SET) {
    if (!ictx.env.capSysResource) return -EPERM;
    if (!ictx.empty) return -EBUSY;
    const v = cmd.get('val64');
    if (v === 0n) ictx.accountMode = 'user';
    else if (v === 1n) ictx.accountMode = 'mm';
    else return -EINVAL;
    return 0;
  }
  return -EOPNOTSUPP;
}

/**
 * The proposed IOMMU_OPTION_SW_MSI_START/SIZE (Nicolin Chen, v2, 2025-10): the MSI window of
 * one device (object_id), replacing the driver's SW_MSI region at the next attach. Refused
 * once the device is attached (-EBUSY); the start must be 1 MiB aligned and the size is in
 * MiB (-EINVAL); a window past the end of the address space is -EOVERFLOW; one overlapping
 * another reserved region of the device is -EADDRINUSE. The rule details follow the
 * series' description; the v2 patch text could not be read in full here.
 */
function swMsiOption(cmd: KStruct, ictx: IommufdContext, id: bigint): number {
  const idev = ictx.get(cmd.num('object_id'), isDevice);
  if (typeof idev === 'number') return idev;
  const op = cmd.get('op');
  const isStart = id === SW_MSI_START;
  if (op === OP_GET) {
    cmd.set('val64', isStart ? (idev.swMsiStart ?? 0n) : (idev.swMsiSize ?? 0n) / SZ_1M);
    return 0;
  }
  if (op !== OP_SET) return -EOPNOTSUPP;
  if (idev.attached) return -EBUSY;
  const v = cmd.get('val64');
  let start = idev.swMsiStart;
  let size = idev.swMsiSize;
  if (isStart) {
    if (v & (SZ_1M - 1n)) return -EINVAL;
    start = v;
  } else {
    if (v === 0n) return -EINVAL;
    if (v > ULONG_MAX / SZ_1M) return -EOVERFLOW;
    size = v * SZ_1M;
  }
  if (start !== undefined && size !== undefined) {
    const last = start + size - 1n;
    if (last > ULONG_MAX) return -EOVERFLOW;
    for (const r of idev.dev.iommu.reservedRegions(idev.dev.bdf)) {
      if (r.type === 'sw-msi') continue; // the window it replaces
      if (r.start <= last && start <= r.start + r.length - 1n) return -EADDRINUSE;
    }
  }
  idev.swMsiStart = start;
  idev.swMsiSize = size;
  return 0;
}

/** iommufd_option(). */
export function iommufdOption(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('__reserved')) return -EOPNOTSUPP;
  const id = cmd.get('option_id');
  let rc: number;
  if (id === RLIMIT_MODE) rc = rlimitMode(cmd, ictx);
  else if (id === HUGE_PAGES) rc = ioasOptionHugePages(ucmd);
  else if ((id === SW_MSI_START || id === SW_MSI_SIZE) && ictx.env.era.iommufdSwMsiOption) rc = swMsiOption(cmd, ictx, id);
  else return -EOPNOTSUPP;
  if (rc) return rc;
  // copy_to_user(&ucmd->ubuffer->val64, &cmd->val64, sizeof(cmd->val64))
  if (ucmd.ubuffer.length < VAL64_OFF + 8) return -EFAULT;
  writeField(ucmd.ubuffer, VAL64_OFF, 'u64', cmd.get('val64'));
  return 0;
}
