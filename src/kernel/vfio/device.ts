// struct vfio_device and struct vfio_device_file (drivers/vfio/vfio_main.c): a device
// registered with VFIO, and one open file of it. A device file comes from a group
// (VFIO_GROUP_GET_DEVICE_FD, df->group set, usable at once) or from the device cdev
// (/dev/vfio/devices/vfioN, usable only after VFIO_DEVICE_BIND_IOMMUFD). Both share
// vfio_df_open()/vfio_df_close(): the first open binds the device to iommufd (when the file
// has an iommufd) and runs the driver's open_device; the last close undoes both.

import { EFAULT, EINVAL } from '../../uapi/errno.js';
import { requestNr } from '../../uapi/requests.js';
import type { KernelConfig } from '../config.js';
import type { Era } from '../era.js';
import type { FileOps, Prot, UserArg } from '../file.js';
import type { KDevice } from '../iommu/core.js';
import type { IommufdApi, IommufdCtx, IommufdDevice } from '../iommufd/device-api.js';
import type { Process } from '../process.js';
import { vfioIoctlDeviceFeature } from './device-feature.js';
import type { VfioDeviceOps } from './device-ops.js';
import { vfioIommufdPhysicalBind, vfioIommufdPhysicalUnbind } from './iommufd.js';

const VFIO_DEVICE_FEATURE = requestNr('VFIO_DEVICE_FEATURE');
const VFIO_DEVICE_BIND_IOMMUFD = requestNr('VFIO_DEVICE_BIND_IOMMUFD');
const VFIO_DEVICE_ATTACH_IOMMUFD_PT = requestNr('VFIO_DEVICE_ATTACH_IOMMUFD_PT');
const VFIO_DEVICE_DETACH_IOMMUFD_PT = requestNr('VFIO_DEVICE_DETACH_IOMMUFD_PT');

/**
 * The device cdev's handlers (device_cdev.c), present when the kernel has them (6.6 and
 * CONFIG_VFIO_DEVICE_CDEV); absent, BIND_IOMMUFD is vfio.h's -ENOTTY stub and the other two
 * go to the driver.
 */
export interface VfioCdevOps {
  bindIommufd(df: VfioDeviceFile, proc: Process, arg: UserArg): number;
  attachPt(df: VfioDeviceFile, arg: UserArg): number;
  detachPt(df: VfioDeviceFile, arg: UserArg): number;
  unbindIommufd(df: VfioDeviceFile): void;
}

/** What the VFIO core knows of the kernel it runs in: the era, the build, and iommufd if built. */
export interface VfioCore {
  era: Era;
  config: KernelConfig;
  /** iommufd's side of include/linux/iommufd.h; absent on a kernel without CONFIG_IOMMUFD. */
  iommufd?: IommufdApi;
  cdev?: VfioCdevOps;
  /**
   * The "vfio-dev" char region's major (vfio.device_devt, alloc_chrdev_region in
   * vfio_cdev_init): dynamic, so it depends on what registered before (VFIO_DEV_MAJOR by default).
   */
  cdevMajor: number;
}

/** What a device sees of its group (struct vfio_group). */
export interface VfioDeviceGroup {
  readonly id: number;
  /** group->opened_file: the group is open. */
  readonly file?: object;
  /** group->cdev_device_open_cnt: devices of the group bound through their cdev. */
  cdevDeviceOpenCnt: number;
}

/** struct vfio_device. */
export class VfioDevice {
  /** device->open_count: opens through either path (the group path may open a device many times). */
  openCount = 0;
  /** vdev->iommufd_device: set by the physical bind_iommufd op. */
  idev?: IommufdDevice;
  /** vdev->iommufd_attached: the device (no PASID) is attached to a page table. */
  iommufdAttached = false;
  /** vdev->pasids: the PASIDs attached through ATTACH_IOMMUFD_PT (6.15). */
  readonly pasids = new Set<number>();
  /** device->cdev_opened: bound through the cdev. */
  cdevOpened = false;

  constructor(
    readonly ops: VfioDeviceOps,
    readonly group: VfioDeviceGroup,
    /** The struct device it drives (vdev->dev): what iommufd binds. */
    readonly kdev: KDevice,
    /** device->index, from vfio.device_ida at registration: the N of vfioN. */
    readonly index: number,
  ) {}

  /** dev_name(&device->device). */
  get name(): string {
    return `vfio${this.index}`;
  }
}

/** The group file a group-opened device file holds (the file reference it keeps). */
export interface DeviceGroupRef {
  put(): void;
}

/** struct vfio_device_file: an open device, from a group or from the cdev. */
export class VfioDeviceFile implements FileOps {
  readonly kind = 'device' as const;
  /** df->access_granted: set when the open finished (group) or BIND_IOMMUFD did (cdev). */
  accessGranted = false;
  /** df->iommufd: the context the device is bound through, if any. */
  iommufd?: IommufdCtx;
  /** df->devid: the id iommufd_device_bind gave (out_devid). */
  devid = 0;

  constructor(
    readonly device: VfioDevice,
    readonly core: VfioCore,
    /** df->group: the group file this came from; absent for a cdev file. */
    readonly groupFile?: DeviceGroupRef,
  ) {}

  /**
   * vfio_device_fops_unl_ioctl(): BIND_IOMMUFD before anything (a cdev file is useless
   * without it), then every other request needs access; the cdev-only requests, then the
   * core's VFIO_DEVICE_FEATURE, then the driver's.
   */
  ioctl(proc: Process, cmd: number, arg: UserArg): number {
    const cdev = this.core.cdev;
    // Without CONFIG_VFIO_DEVICE_CDEV (or before 6.6) BIND is the stub's -ENOTTY, as the
    // driver answers unknown requests.
    if (cdev && cmd === VFIO_DEVICE_BIND_IOMMUFD) return cdev.bindIommufd(this, proc, arg);
    if (!this.accessGranted) return -EINVAL;
    if (cdev && !this.groupFile) {
      if (cmd === VFIO_DEVICE_ATTACH_IOMMUFD_PT) return cdev.attachPt(this, arg);
      if (cmd === VFIO_DEVICE_DETACH_IOMMUFD_PT) return cdev.detachPt(this, arg);
    }
    const ops = this.device.ops;
    if (cmd === VFIO_DEVICE_FEATURE && this.core.era.deviceFeature) {
      return vfioIoctlDeviceFeature(proc, arg, ops.deviceFeature ? (p, f, d, a) => ops.deviceFeature!(p, f, d, a) : undefined, this.core.era);
    }
    return ops.ioctl(proc, cmd, arg);
  }

  /** vfio_device_fops_read/write/mmap(): -EINVAL until access is granted. */
  read(proc: Process, out: Uint8Array, offset: bigint): number {
    return this.accessGranted ? this.device.ops.read(proc, out, offset) : -EINVAL;
  }

  write(proc: Process, data: Uint8Array, offset: bigint): number {
    return this.accessGranted ? this.device.ops.write(proc, data, offset) : -EINVAL;
  }

  mmap(proc: Process, offset: bigint, len: bigint, prot: Prot): number {
    return this.accessGranted ? this.device.ops.mmap(proc, offset, len, prot) : -EINVAL;
  }

  mappedAccess(offset: bigint, buf: Uint8Array, iswrite: boolean): number {
    return this.device.ops.mappedAccess?.(offset, buf, iswrite) ?? -EFAULT;
  }

  mappedPhys(offset: bigint): bigint | undefined {
    return this.device.ops.mappedPhys?.(offset);
  }

  /**
   * vfio_device_fops_release(): a group file closes the device and puts its group file
   * reference (vfio_df_group_close); a cdev file unbinds (vfio_df_unbind_iommufd).
   */
  release(): void {
    if (this.groupFile) {
      this.groupRelease?.();
      this.groupFile.put();
    } else {
      this.core.cdev?.unbindIommufd(this);
    }
  }

  /** What the group path does at close before the group file reference goes (group.ts sets it). */
  groupRelease?: () => void;
}

/**
 * vfio_df_device_first_open(): bind to the file's iommufd (vfio_df_iommufd_bind), or use the
 * group's container (the caller's), then the driver's open_device; each undone on failure.
 */
function vfioDfDeviceFirstOpen(df: VfioDeviceFile): number {
  const device = df.device;
  if (df.iommufd) {
    const ret = vfioIommufdPhysicalBind(device, df.core.iommufd!, df.iommufd);
    if (ret < 0) return ret;
    df.devid = ret;
  }
  const ret = device.ops.openDevice();
  if (ret) {
    if (df.iommufd) vfioIommufdPhysicalUnbind(device);
    return ret;
  }
  return 0;
}

/** vfio_df_device_last_close(): close_device, then the iommufd unbind. */
function vfioDfDeviceLastClose(df: VfioDeviceFile): void {
  df.device.ops.closeDevice();
  if (df.iommufd) vfioIommufdPhysicalUnbind(df.device);
}

/**
 * vfio_df_open(): only the group path may open a device more than once ("The device cdev
 * path doesn't have a secure way for it"): -EINVAL for a cdev file of an open device.
 */
export function vfioDfOpen(df: VfioDeviceFile): number {
  const device = df.device;
  if (device.openCount !== 0 && !df.groupFile) return -EINVAL;
  device.openCount++;
  if (device.openCount === 1) {
    const ret = vfioDfDeviceFirstOpen(df);
    if (ret) {
      device.openCount--;
      return ret;
    }
  }
  return 0;
}

/** vfio_df_close(). */
export function vfioDfClose(df: VfioDeviceFile): void {
  const device = df.device;
  if (device.openCount === 0) return; // WARN_ON_ONCE in vfio_assert_device_open
  if (device.openCount === 1) vfioDfDeviceLastClose(df);
  device.openCount--;
}
