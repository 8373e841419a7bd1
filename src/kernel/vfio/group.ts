// /dev/vfio/N: a VFIO group (drivers/vfio/group.c) and the device fds it hands out.
//
// A group exists once a device of its IOMMU group is bound to a VFIO driver. One open at a
// time (-EBUSY). It joins a container (SET_CONTAINER), leaves it (UNSET_CONTAINER, or on
// close), and gives device fds once the container has an IOMMU backend.

import { EBADF, EBADFD, EBUSY, EFAULT, EINVAL, ENODEV } from '../../uapi/errno.js';
import type { FileOps, Prot, UserArg } from '../file.js';
import type { IommuGroup } from '../iommu/core.js';
import type { Process } from '../process.js';
import { KStruct, offsetofend } from '../../uapi/struct.js';
import type { Era } from '../era.js';
import { VFIO_CONTAINER_FD, VFIO_GROUP_STATUS } from '../../uapi/structs.js';
import { requestNr } from '../../uapi/requests.js';

const VFIO_DEVICE_FEATURE = requestNr('VFIO_DEVICE_FEATURE');
import { VfioContainer } from './container.js';
import type { VfioDeviceOps } from './device-ops.js';
import type { Blocked } from '../would-block.js';
import { vfioIoctlDeviceFeature } from './device-feature.js';

const GET_STATUS = requestNr('VFIO_GROUP_GET_STATUS');
const SET_CONTAINER = requestNr('VFIO_GROUP_SET_CONTAINER');
const UNSET_CONTAINER = requestNr('VFIO_GROUP_UNSET_CONTAINER');
const GET_DEVICE_FD = requestNr('VFIO_GROUP_GET_DEVICE_FD');

const FLAG_VIABLE = 1n << 0n;
const FLAG_CONTAINER_SET = 1n << 1n;

/** strndup_user(arg, PAGE_SIZE). */
const NAME_MAX = 4096;

/** A device registered with VFIO (struct vfio_device). */
export class VfioDevice {
  openCount = 0;
  constructor(
    readonly ops: VfioDeviceOps,
    readonly group: VfioGroup,
  ) {}
}

export class VfioGroup {
  readonly devices: VfioDevice[] = [];
  container?: VfioContainer;
  /** 1 while attached, plus one per open device fd (group->container_users). */
  containerUsers = 0;
  /** The open group file, if any (group->opened_file). */
  file?: VfioGroupFile;

  constructor(
    readonly iommuGroup: IommuGroup,
    readonly era: Era,
  ) {}

  get id(): number {
    return this.iommuGroup.id;
  }

  /**
   * Usable by VFIO: 5.19+ asks whether a kernel driver owns the group's DMA; before, whether
   * every device is bound to a VFIO driver or to none (vfio_group_viable). The two agree in
   * the model: a device's boot-time driver is what uses the DMA API.
   */
  get viable(): boolean {
    return this.iommuGroup.devices.every((d) => !d.driverUsesDma);
  }

  /** vfio_group_detach_container(). */
  detachContainer(): void {
    const c = this.container;
    if (!c) return;
    c.detachGroup(this.iommuGroup);
    this.container = undefined;
    this.containerUsers = 0;
  }
}

/** The open /dev/vfio/N. */
export class VfioGroupFile implements FileOps {
  readonly kind = 'group' as const;
  /** The fd plus one per device fd (device fds hold a group file reference). */
  refs = 1;

  constructor(readonly group: VfioGroup) {}

  ioctl(proc: Process, cmd: number, arg: UserArg): number | Blocked {
    switch (cmd) {
      case GET_STATUS:
        return this.getStatus(arg);
      case SET_CONTAINER:
        return this.setContainer(proc, arg);
      case UNSET_CONTAINER:
        return this.unsetContainer();
      case GET_DEVICE_FD:
        return this.getDeviceFd(proc, arg);
      default:
        return -25; // ENOTTY
    }
  }

  /** vfio_group_ioctl_get_status(). */
  private getStatus(arg: UserArg): number {
    const minsz = offsetofend(VFIO_GROUP_STATUS, 'flags');
    const status = KStruct.fromUser(VFIO_GROUP_STATUS, arg.buf, minsz);
    if (!status) return -EFAULT;
    if (status.get('argsz') < BigInt(minsz)) return -EINVAL;
    let flags = 0n;
    const g = this.group;
    if (g.era.dmaOwnerClaim) {
      // A group in a container owns its DMA, so it is viable by construction.
      if (g.container) flags |= FLAG_CONTAINER_SET | FLAG_VIABLE;
      else if (g.viable) flags |= FLAG_VIABLE;
    } else {
      if (g.viable) flags |= FLAG_VIABLE;
      if (g.container) flags |= FLAG_CONTAINER_SET;
    }
    status.set('flags', flags);
    return status.toUser(arg.buf, minsz) ? 0 : -EFAULT;
  }

  /** vfio_group_ioctl_set_container(): the checks and their order are the era's. */
  private setContainer(proc: Process, arg: UserArg): number | Blocked {
    // get_user(fd, (int __user *)arg)
    const k = KStruct.fromUser(VFIO_CONTAINER_FD, arg.buf, VFIO_CONTAINER_FD.size);
    if (!k) return -EFAULT;
    const fd = Number(k.get('fd'));
    const g = this.group;
    const mode = g.era.setContainerChecks;
    if (mode === 'legacy') {
      if (fd < 0) return -EINVAL;
      if (g.container) return -EINVAL; // atomic_read(&group->container_users)
    }
    const f = proc.file(fd);
    if (!f) return -EBADF;
    if (g.container) return -EINVAL;
    // Not a container: "is this really our fd?" (-EINVAL) until iommufd's "The FD passed is
    // not recognized" (-EBADFD).
    if (!(f.ops instanceof VfioContainer)) return mode === 'iommufd' ? -EBADFD : -EINVAL;
    const ret = f.ops.attachGroup(proc, g.iommuGroup, g);
    if (ret) return ret;
    g.container = f.ops;
    g.containerUsers = 1;
    return 0;
  }

  /** vfio_group_ioctl_unset_container(): -EBUSY while device fds are open. */
  private unsetContainer(): number {
    const g = this.group;
    if (!g.container) return -EINVAL;
    if (g.containerUsers !== 1) return -EBUSY;
    g.detachContainer();
    return 0;
  }

  /**
   * vfio_group_ioctl_get_device_fd(): the name must match a device of the group (-ENODEV),
   * and the group must sit in a container with an IOMMU backend (-EINVAL). The first open of
   * a device runs the driver's open_device.
   */
  private getDeviceFd(proc: Process, arg: UserArg): number {
    if (!arg.buf) return -EFAULT;
    const end = arg.buf.subarray(0, NAME_MAX).indexOf(0);
    if (end < 0) return arg.buf.length >= NAME_MAX ? -EINVAL : -EFAULT;
    const name = new TextDecoder().decode(arg.buf.subarray(0, end));
    const g = this.group;
    // Before 5.19 the container (and viability) is checked before the name is looked up.
    const unusable = !g.container || !g.container.iommu || (!g.era.dmaOwnerClaim && !g.viable);
    if (!g.era.dmaOwnerClaim && unusable) return -EINVAL;
    const dev = g.devices.find((d) => d.ops.name === name);
    if (!dev) return -ENODEV;
    if (unusable) return -EINVAL;
    if (dev.openCount === 0) {
      const ret = dev.ops.openDevice();
      if (ret) return ret;
    }
    const file = new VfioDeviceFile(dev, this);
    const fd = proc.install(file, `anon_inode:[vfio-device]`);
    if (fd < 0) {
      if (dev.openCount === 0) dev.ops.closeDevice();
      return fd;
    }
    dev.openCount++;
    g.containerUsers++;
    this.refs++;
    return fd;
  }

  release(): void {
    this.put();
  }

  /** The group file goes when the fd and every device fd are closed: then it leaves its container. */
  put(): void {
    if (--this.refs > 0) return;
    const g = this.group;
    g.detachContainer();
    g.file = undefined;
  }
}

/** A device fd: every call goes to the bus driver's ops. */
export class VfioDeviceFile implements FileOps {
  readonly kind = 'device' as const;

  constructor(
    readonly device: VfioDevice,
    private readonly groupFile: VfioGroupFile,
  ) {}

  /** vfio_device_fops_unl_ioctl(): VFIO_DEVICE_FEATURE is the core's, the rest the driver's. */
  ioctl(proc: Process, cmd: number, arg: UserArg): number {
    const ops = this.device.ops;
    if (cmd === VFIO_DEVICE_FEATURE && this.device.group.era.deviceFeature) {
      return vfioIoctlDeviceFeature(proc, arg, ops.deviceFeature ? (p, f, d, a) => ops.deviceFeature!(p, f, d, a) : undefined, this.device.group.era);
    }
    return ops.ioctl(proc, cmd, arg);
  }

  read(proc: Process, out: Uint8Array, offset: bigint): number {
    return this.device.ops.read(proc, out, offset);
  }

  write(proc: Process, data: Uint8Array, offset: bigint): number {
    return this.device.ops.write(proc, data, offset);
  }

  mmap(proc: Process, offset: bigint, len: bigint, prot: Prot): number {
    return this.device.ops.mmap(proc, offset, len, prot);
  }

  mappedAccess(offset: bigint, buf: Uint8Array, iswrite: boolean): number {
    return this.device.ops.mappedAccess?.(offset, buf, iswrite) ?? -EFAULT;
  }

  /** vfio_device_fops_release(): last close runs close_device; the group user goes. */
  release(): void {
    const dev = this.device;
    if (--dev.openCount === 0) dev.ops.closeDevice();
    dev.group.containerUsers--;
    this.groupFile.put();
  }
}
