// /dev/vfio/vfio: the container (drivers/vfio/container.c). It holds groups and, once a group
// has joined and SET_IOMMU chose a backend, an IOMMU driver instance; everything else is
// forwarded to that driver. Registered drivers are polled in order, as the kernel does.

import type { Era } from '../era.js';
import { EINVAL, ENODEV } from '../../uapi/errno.js';
import type { FileOps, UserArg } from '../file.js';
import type { IommuCore, IommuGroup } from '../iommu/core.js';
import type { Process } from '../process.js';
import { requestNr, VFIO_API_VERSION } from '../../uapi/requests.js';
import type { VfioIommu, VfioIommuDriver } from './iommu-driver.js';
import type { Blocked } from '../would-block.js';

const VFIO_GET_API_VERSION = requestNr('VFIO_GET_API_VERSION');
const VFIO_CHECK_EXTENSION = requestNr('VFIO_CHECK_EXTENSION');
const VFIO_SET_IOMMU = requestNr('VFIO_SET_IOMMU');

export class VfioContainer implements FileOps {
  readonly kind = 'container' as const;
  /** Groups in attach order (container->group_list). */
  readonly groups: IommuGroup[] = [];
  driver?: VfioIommuDriver;
  iommu?: VfioIommu;
  /** References: the fd, plus one per attached group (vfio_container_get). */
  private refs = 1;

  constructor(
    private readonly drivers: readonly VfioIommuDriver[],
    private readonly core: IommuCore,
    readonly era: Era,
    readonly id: number,
  ) {}

  ioctl(proc: Process, cmd: number, arg: UserArg): number | Blocked {
    switch (cmd) {
      case VFIO_GET_API_VERSION:
        return VFIO_API_VERSION;
      case VFIO_CHECK_EXTENSION:
        return this.checkExtension(arg.value);
      case VFIO_SET_IOMMU:
        return this.setIommu(proc, arg.value);
      default:
        // Unknown ioctls go to the driver; with none set they are -EINVAL, not -ENOTTY.
        return this.iommu ? this.iommu.ioctl(proc, cmd, arg) : -EINVAL;
    }
  }

  /** vfio_container_ioctl_check_extension(): the first positive answer of any driver, or the set driver's. */
  private checkExtension(ext: bigint): number {
    if (this.iommu) return this.iommu.checkExtension(ext);
    let ret = 0;
    for (const d of this.drivers) {
      ret = d.checkExtension(ext);
      if (ret > 0) break;
    }
    return ret;
  }

  /**
   * vfio_ioctl_set_iommu(): needs a group and no driver yet (-EINVAL); each driver that
   * reports the extension is opened and attached to every group; the last failure is the
   * answer, -ENODEV when no driver claims the type.
   */
  private setIommu(proc: Process, type: bigint): number | Blocked {
    if (this.groups.length === 0 || this.iommu) return -EINVAL;
    let ret: number | Blocked = -ENODEV;
    for (const d of this.drivers) {
      if (d.checkExtension(type) <= 0) continue;
      const data = d.open(type);
      if (typeof data === 'number') {
        ret = data;
        continue;
      }
      ret = this.attachAll(proc, data);
      if (ret) {
        data.release();
        if (typeof ret !== 'number') return ret; // blocked: the call would not return
        continue;
      }
      this.driver = d;
      this.iommu = data;
      return 0;
    }
    return ret;
  }

  /** __vfio_container_attach_groups(): all or nothing. */
  private attachAll(proc: Process, data: VfioIommu): number | Blocked {
    const done: IommuGroup[] = [];
    for (const g of this.groups) {
      const ret = data.attachGroup(proc, g);
      if (ret) {
        for (const u of done.reverse()) data.detachGroup(u);
        return ret;
      }
      done.push(g);
    }
    return 0;
  }

  /**
   * vfio_container_attach_group(): claim DMA ownership (5.19+), attach if a driver is set,
   * link at the head of the group list (list_add), as the kernel does.
   */
  attachGroup(proc: Process, group: IommuGroup, owner: object): number | Blocked {
    if (this.era.dmaOwnerClaim) {
      const ret = this.core.claimDmaOwner(group, owner);
      if (ret) return ret;
    }
    if (this.iommu) {
      const r = this.iommu.attachGroup(proc, group);
      if (r) {
        this.core.releaseDmaOwner(group);
        return r;
      }
    }
    this.groups.unshift(group);
    this.refs++;
    return 0;
  }

  /** vfio_group_detach_container(): the last group out unsets the IOMMU (all mappings go). */
  detachGroup(group: IommuGroup): void {
    this.iommu?.detachGroup(group);
    this.core.releaseDmaOwner(group);
    this.groups.splice(this.groups.indexOf(group), 1);
    if (this.groups.length === 0 && this.iommu) {
      this.iommu.release();
      this.iommu = undefined;
      this.driver = undefined;
    }
    this.put();
  }

  release(): void {
    this.put();
  }

  private put(): void {
    this.refs--;
  }

  /** Still referenced by an fd or a group. */
  get alive(): boolean {
    return this.refs > 0;
  }
}
