// /dev/vfio/N: a VFIO group (drivers/vfio/group.c) and the device fds it hands out.
//
// A group exists once a device of its IOMMU group is bound to a VFIO driver. One open at a
// time (-EBUSY). It joins a container (SET_CONTAINER), leaves it (UNSET_CONTAINER, or on
// close), and gives device fds once the container has an IOMMU backend.

import { EBADF, EBADFD, EBUSY, EFAULT, EINVAL, ENODEV } from '../../uapi/errno.js';
import type { FileOps, UserArg } from '../file.js';
import type { IommuGroup } from '../iommu/core.js';
import type { IommufdCtx } from '../iommufd/device-api.js';
import type { Process } from '../process.js';
import { KStruct, offsetofend } from '../../uapi/struct.js';
import type { Era } from '../era.js';
import { VFIO_CONTAINER_FD, VFIO_GROUP_STATUS } from '../../uapi/structs.js';
import { requestNr } from '../../uapi/requests.js';
import { VfioContainer } from './container.js';
import type { Blocked } from '../would-block.js';
import { VfioDevice, VfioDeviceFile, vfioDfClose, vfioDfOpen, type VfioCore } from './device.js';
import { vfioIommufdCompatAttachIoas } from './iommufd.js';

export { VfioDevice, VfioDeviceFile };

const GET_STATUS = requestNr('VFIO_GROUP_GET_STATUS');
const SET_CONTAINER = requestNr('VFIO_GROUP_SET_CONTAINER');
const UNSET_CONTAINER = requestNr('VFIO_GROUP_UNSET_CONTAINER');
const GET_DEVICE_FD = requestNr('VFIO_GROUP_GET_DEVICE_FD');

const FLAG_VIABLE = 1n << 0n;
const FLAG_CONTAINER_SET = 1n << 1n;

/** strndup_user(arg, PAGE_SIZE). */
const NAME_MAX = 4096;

export class VfioGroup {
  readonly devices: VfioDevice[] = [];
  container?: VfioContainer;
  /** 1 while attached, plus one per open device fd (group->container_users). */
  containerUsers = 0;
  /** The open group file, if any (group->opened_file). */
  file?: VfioGroupFile;
  /** group->iommufd: SET_CONTAINER was given an iommufd (6.2+, CONFIG_IOMMUFD). */
  iommufd?: IommufdCtx;
  /** group->cdev_device_open_cnt: devices bound through their cdev; the group cannot open. */
  cdevDeviceOpenCnt = 0;

  constructor(
    readonly iommuGroup: IommuGroup,
    readonly core: VfioCore,
  ) {}

  get era(): Era {
    return this.core.era;
  }

  /** vfio_group_has_iommu(): in a container, or given an iommufd. */
  get hasIommu(): boolean {
    return this.container !== undefined || this.iommufd !== undefined;
  }

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
      // A group in a container owns its DMA, so it is viable by construction. With an
      // iommufd the claim waits for GET_DEVICE_FD, yet both flags are set (6.2+).
      // Otherwise viable while nothing owns its DMA (!iommu_group_dma_owner_claimed): a device
      // still bound to an iommufd after UNSET_CONTAINER holds it.
      if (g.hasIommu) flags |= FLAG_CONTAINER_SET | FLAG_VIABLE;
      else if (g.iommuGroup.ownerCount === 0) flags |= FLAG_VIABLE;
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
    if (g.hasIommu) return -EINVAL;
    if (!(f.ops instanceof VfioContainer)) {
      // 6.2+: an iommufd makes sure its compat IOAS exists and is the group's "container".
      const api = g.core.iommufd;
      if (mode === 'iommufd' && api) {
        const ctx = api.ctxFromFile(f);
        if (typeof ctx !== 'number') {
          const ret = api.compatIoasCreate(ctx);
          if (ret) return ret;
          g.iommufd = ctx;
          return 0;
        }
      }
      // Not a container: "is this really our fd?" (-EINVAL) until iommufd's "The FD passed
      // is not recognized" (-EBADFD).
      return mode === 'iommufd' ? -EBADFD : -EINVAL;
    }
    const ret = f.ops.attachGroup(proc, g.iommuGroup, g);
    if (ret) return ret;
    g.container = f.ops;
    g.containerUsers = 1;
    return 0;
  }

  /**
   * vfio_group_ioctl_unset_container(): a container with device fds open is -EBUSY; an
   * iommufd is let go whatever is open (its devices stay bound through their own files).
   */
  private unsetContainer(): number {
    const g = this.group;
    if (!g.hasIommu) return -EINVAL;
    if (g.container) {
      if (g.containerUsers !== 1) return -EBUSY;
      g.detachContainer();
    }
    g.iommufd = undefined;
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
    const unusable = g.iommufd ? false : !g.container || !g.container.iommu || (!g.era.dmaOwnerClaim && !g.viable);
    if (!g.era.dmaOwnerClaim && unusable) return -EINVAL;
    // vfio_device_get_from_name(): the driver's match, else the name; a match error ends the walk.
    let dev: (typeof g.devices)[number] | undefined;
    for (const d of g.devices) {
      const m = d.ops.match ? d.ops.match(name) : d.ops.name === name ? 1 : 0;
      if (m < 0) return m;
      if (m) {
        dev = d;
        break;
      }
    }
    if (!dev) return -ENODEV;
    if (unusable) return -EINVAL;
    const df = new VfioDeviceFile(dev, g.core, this);
    const ret = this.groupOpen(df);
    if (ret) return ret;
    const fd = proc.install(df, `anon_inode:[vfio-device]`);
    if (fd < 0) {
      this.groupClose(df);
      return fd;
    }
    // Container users count device fds; a device on an iommufd uses none.
    const viaContainer = !g.iommufd;
    if (viaContainer) g.containerUsers++;
    df.groupRelease = () => {
      this.groupClose(df);
      if (viaContainer) g.containerUsers--;
    };
    this.refs++;
    return fd;
  }

  /**
   * vfio_df_group_open(): the file takes the group's iommufd; the first open binds to it and
   * attaches to the compat IOAS (vfio_iommufd_compat_attach_ioas), undoing the open if that fails.
   */
  private groupOpen(df: VfioDeviceFile): number {
    const g = this.group;
    df.iommufd = g.iommufd;
    let ret = vfioDfOpen(df);
    if (ret) {
      df.iommufd = undefined;
      return ret;
    }
    if (df.iommufd && df.device.openCount === 1) {
      ret = vfioIommufdCompatAttachIoas(df.device, g.core.iommufd!, df.iommufd);
      if (ret) {
        vfioDfClose(df);
        df.iommufd = undefined;
        return ret;
      }
    }
    df.accessGranted = true;
    return 0;
  }

  /** vfio_df_group_close(). */
  private groupClose(df: VfioDeviceFile): void {
    vfioDfClose(df);
    df.iommufd = undefined;
  }

  release(): void {
    this.put();
  }

  /** The group file goes when the fd and every device fd are closed: then it leaves its container. */
  put(): void {
    if (--this.refs > 0) return;
    const g = this.group;
    g.detachContainer();
    g.iommufd = undefined;
    g.file = undefined;
  }
}
