// The VFIO device cdev (drivers/vfio/device_cdev.c, 6.6+): /dev/vfio/devices/vfioN opens a
// device file with no access; VFIO_DEVICE_BIND_IOMMUFD binds it to an iommufd and opens the
// device, after which the usual device requests work and ATTACH/DETACH_IOMMUFD_PT choose its
// page table. A device is used through its cdev or through its group, never both
// (vfio_device_block_group: -EBUSY either way).

import { EBADF, EBUSY, EFAULT, EINVAL, EOPNOTSUPP } from '../../uapi/errno.js';
import { KStruct, offsetofend, readField, writeField } from '../../uapi/struct.js';
import { VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_DETACH_IOMMUFD_PT } from '../../uapi/structs.js';
import type { UserArg } from '../file.js';
import { copyStructFromUser } from '../lib/copy-struct-from-user.js';
import type { Process } from '../process.js';
import { vfioDfClose, vfioDfOpen, type VfioCdevOps, type VfioCore, type VfioDevice, type VfioDeviceFile, type VfioDeviceGroup } from './device.js';
import {
  vfioIommufdPhysicalAttachIoas,
  vfioIommufdPhysicalDetachIoas,
  vfioIommufdPhysicalPasidAttachIoas,
  vfioIommufdPhysicalPasidDetachIoas,
} from './iommufd.js';

const VFIO_DEVICE_BIND_FLAG_TOKEN = 1n << 0n;
const VFIO_DEVICE_ATTACH_PASID = 1n << 0n;
const VFIO_DEVICE_DETACH_PASID = 1n << 0n;
/** A VF token is a uuid_t. */
const UUID_SIZE = 16;

/**
 * The "vfio-dev" char region's major as a kernel gets it by default (VfioCore.cdevMajor):
 * alloc_chrdev_region in vfio_cdev_init is dynamic, so it depends on what registered before.
 * 248 is what Linux 7.2 on the harness's q35 machine gave (test/fixtures/real-kernel-iommufd,
 * vfio-dev/vfioN/dev); the minor is the device index.
 */
export const VFIO_DEV_MAJOR = 248;

/**
 * The cdev's device number, MKDEV(major, device->index) (vfio_init_device_cdev): what
 * vfio-dev/vfioN/dev prints and what stat() of /dev/vfio/devices/vfioN answers in st_rdev.
 */
export const cdevDevt = (core: VfioCore, device: VfioDevice): { major: number; minor: number } => ({ major: core.cdevMajor, minor: device.index });

/** /dev/vfio/devices/vfioN: vfio_device_devnode(). */
export const cdevPath = (index: number): string => `/dev/vfio/devices/vfio${index}`;

/** vfio_device_block_group(): a device bound through its cdev keeps its group from opening. */
function blockGroup(group: VfioDeviceGroup): number {
  if (group.file) return -EBUSY;
  group.cdevDeviceOpenCnt++;
  return 0;
}

function unblockGroup(group: VfioDeviceGroup): void {
  group.cdevDeviceOpenCnt--;
}

/**
 * vfio_df_check_token() (6.17): a driver without match_token_uuid refuses a token; one with
 * it judges the token (or its absence). The token is read through token_uuid_ptr.
 */
function checkToken(df: VfioDeviceFile, proc: Process, bind: KStruct): number {
  const ops = df.device.ops;
  const flagged = (bind.get('flags') & VFIO_DEVICE_BIND_FLAG_TOKEN) !== 0n;
  if (!ops.matchTokenUuid) return flagged ? -EINVAL : 0;
  if (!flagged) return ops.matchTokenUuid(null);
  const uuid = proc.mm.copyFromUser(bind.get('token_uuid_ptr'), UUID_SIZE);
  if (typeof uuid === 'number') return -EFAULT;
  return ops.matchTokenUuid(uuid);
}

/** vfio_df_ioctl_bind_iommufd(). */
function bindIommufd(df: VfioDeviceFile, proc: Process, arg: UserArg): number {
  const { era } = df.core;
  const minsz = offsetofend(VFIO_DEVICE_BIND_IOMMUFD, 'out_devid');
  let bind: KStruct;
  if (era.vfioBindToken) {
    // get_user(user_size, &arg->argsz); copy_struct_from_user(&bind, sizeof(bind), arg, user_size)
    if (!arg.buf || arg.buf.length < 4) return -EFAULT;
    const userSize = Number(readField(arg.buf, 0, 'u32'));
    if (userSize < minsz) return -EINVAL;
    const k = copyStructFromUser(VFIO_DEVICE_BIND_IOMMUFD, arg.buf, userSize);
    if (typeof k === 'number') return k;
    bind = k;
    if (bind.get('iommufd') < 0n || (bind.get('flags') & ~VFIO_DEVICE_BIND_FLAG_TOKEN) !== 0n) return -EINVAL;
  } else {
    const k = KStruct.fromUser(VFIO_DEVICE_BIND_IOMMUFD, arg.buf, minsz);
    if (!k) return -EFAULT;
    bind = k;
    if (bind.get('argsz') < BigInt(minsz) || bind.get('flags') !== 0n || bind.get('iommufd') < 0n) return -EINVAL;
  }
  // BIND_IOMMUFD only allowed for cdev fds
  if (df.groupFile) return -EINVAL;
  const device = df.device;
  let ret = blockGroup(device.group);
  if (ret) return ret;
  ret = bindLocked(df, proc, bind, arg.buf!);
  if (ret) unblockGroup(device.group);
  return ret;
}

/** The part of bind under dev_set->lock: its failures unwind to out_unlock and unblock the group. */
function bindLocked(df: VfioDeviceFile, proc: Process, bind: KStruct, user: Uint8Array): number {
  // one device cannot be bound twice
  if (df.accessGranted) return -EINVAL;
  if (df.core.era.vfioBindToken) {
    const ret = checkToken(df, proc, bind);
    if (ret) return ret;
  }
  // iommufd_ctx_from_fd(): fdget, then "is this /dev/iommu?"
  const api = df.core.iommufd;
  const f = proc.file(Number(bind.get('iommufd')));
  if (!f) return -EBADF;
  // VFIO_DEVICE_CDEV depends on IOMMUFD; without it the stub's -EOPNOTSUPP.
  const ctx = api ? api.ctxFromFile(f) : -EOPNOTSUPP;
  if (typeof ctx === 'number') return ctx;
  df.iommufd = ctx;
  const ret = vfioDfOpen(df);
  if (ret) {
    df.iommufd = undefined;
    return ret;
  }
  // copy_to_user(&arg->out_devid, &df->devid): the first minsz bytes were readable, so it lands.
  writeField(user, offsetofend(VFIO_DEVICE_BIND_IOMMUFD, 'iommufd'), 'u32', BigInt(df.devid));
  df.device.cdevOpened = true;
  df.accessGranted = true;
  return 0;
}

/** vfio_df_unbind_iommufd(): at close of a bound cdev file. */
function unbindIommufd(df: VfioDeviceFile): void {
  if (!df.accessGranted) return;
  vfioDfClose(df);
  df.iommufd = undefined;
  df.device.cdevOpened = false;
  unblockGroup(df.device.group);
}

/** Reads an optional tail [minsz, xend) the caller's argsz promises (the PASID field). */
function readTail(k: KStruct, buf: Uint8Array | undefined, minsz: number, xend: number): boolean {
  if (!buf || buf.length < xend) return false;
  k.bytes.set(buf.subarray(minsz, xend), minsz);
  return true;
}

/** vfio_df_ioctl_attach_pt(): pt_id in, the HWPT it ended on out. */
function attachPt(df: VfioDeviceFile, arg: UserArg): number {
  const { era } = df.core;
  const minsz = offsetofend(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 'pt_id');
  const attach = KStruct.fromUser(VFIO_DEVICE_ATTACH_IOMMUFD_PT, arg.buf, minsz);
  if (!attach) return -EFAULT;
  if (attach.get('argsz') < BigInt(minsz)) return -EINVAL;
  const flags = attach.get('flags');
  const pasid = era.vfioAttachPasid && (flags & VFIO_DEVICE_ATTACH_PASID) !== 0n;
  if (era.vfioAttachPasid ? (flags & ~VFIO_DEVICE_ATTACH_PASID) !== 0n : flags !== 0n) return -EINVAL;
  if (pasid) {
    // vfio-pci has pasid_attach_ioas (vfio_iommufd_physical_pasid_attach_ioas).
    const xend = offsetofend(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 'pasid');
    if (attach.get('argsz') < BigInt(xend)) return -EINVAL;
    if (!readTail(attach, arg.buf, minsz, xend)) return -EFAULT;
  }
  const device = df.device;
  const r = pasid
    ? vfioIommufdPhysicalPasidAttachIoas(device, attach.num('pasid'), attach.num('pt_id'))
    : vfioIommufdPhysicalAttachIoas(device, attach.num('pt_id'));
  if (r.ret) return r.ret;
  // copy_to_user(&arg->pt_id): inside the minsz bytes already read, so it cannot fault here.
  writeField(arg.buf!, offsetofend(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 'flags'), 'u32', BigInt(r.ptId));
  return 0;
}

/** vfio_df_ioctl_detach_pt(). */
function detachPt(df: VfioDeviceFile, arg: UserArg): number {
  const { era } = df.core;
  const minsz = offsetofend(VFIO_DEVICE_DETACH_IOMMUFD_PT, 'flags');
  const detach = KStruct.fromUser(VFIO_DEVICE_DETACH_IOMMUFD_PT, arg.buf, minsz);
  if (!detach) return -EFAULT;
  if (detach.get('argsz') < BigInt(minsz)) return -EINVAL;
  const flags = detach.get('flags');
  const pasid = era.vfioAttachPasid && (flags & VFIO_DEVICE_DETACH_PASID) !== 0n;
  if (era.vfioAttachPasid ? (flags & ~VFIO_DEVICE_DETACH_PASID) !== 0n : flags !== 0n) return -EINVAL;
  if (pasid) {
    const xend = offsetofend(VFIO_DEVICE_DETACH_IOMMUFD_PT, 'pasid');
    if (detach.get('argsz') < BigInt(xend)) return -EINVAL;
    if (!readTail(detach, arg.buf, minsz, xend)) return -EFAULT;
    vfioIommufdPhysicalPasidDetachIoas(df.device, detach.num('pasid'));
  } else {
    vfioIommufdPhysicalDetachIoas(df.device);
  }
  return 0;
}

/** The cdev's handlers, for a kernel that has them (VfioCore.cdev). */
export const VFIO_CDEV_OPS: VfioCdevOps = { bindIommufd, attachPt, detachPt, unbindIommufd };

/** The vfio-dev class device's attributes under /sys/bus/pci/devices/BDF/vfio-dev/vfioN/. */
export function vfioDevSysfsRead(core: VfioCore, device: VfioDevice, attr: string): string | undefined {
  // device_add() creates `dev` only for a class device with a devt (the cdev's).
  const hasCdev = core.cdev !== undefined;
  const { major, minor } = cdevDevt(core, device);
  if (attr === 'dev') return hasCdev ? `${major}:${minor}\n` : undefined;
  if (attr === 'uevent') {
    return hasCdev ? `MAJOR=${major}\nMINOR=${minor}\nDEVNAME=vfio/devices/${device.name}\n` : '';
  }
  return undefined;
}
