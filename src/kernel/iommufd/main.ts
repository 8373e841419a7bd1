// /dev/iommu (drivers/iommu/iommufd/main.c): the file, its ioctl dispatch and the API VFIO
// binds devices through (include/linux/iommufd.h, device-api.ts).
//
// iommufd_fops_ioctl(): a number outside the era's command table goes to the VFIO compat
// ioctls (vfio-compat.ts; unknown there too: -ENOTTY). Otherwise the struct's first u32 is its
// size (get_user: -EFAULT); a number whose table slot is empty is -ENOTTY; a size below the
// command's min_size (offsetofend of its last required field) is -EINVAL; the struct is then
// copy_struct_from_user()ed into the kernel's size for this era: a larger user struct must
// have zeros past it (-E2BIG), a smaller one is zero-extended.

import { E2BIG, EBADFD, EFAULT, EINVAL, ENOTTY } from '../../uapi/errno.js';
import { KStruct, offsetofend, type StructDef } from '../../uapi/struct.js';
import { IOMMUFD_CMD_BASE, IOMMUFD_CMDS, IOMMUFD_TYPE, type IommufdCmd } from '../../uapi/iommufd.js';
import {
  IOMMU_DESTROY,
  IOMMU_HW_INFO,
  IOMMU_HWPT_ALLOC,
  IOMMU_HW_QUEUE_ALLOC,
  IOMMU_HWPT_GET_DIRTY_BITMAP,
  IOMMU_HWPT_INVALIDATE,
  IOMMU_HWPT_SET_DIRTY_TRACKING,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_CHANGE_PROCESS,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_MAP_FILE,
  IOMMU_IOAS_UNMAP,
  IOMMU_FAULT_ALLOC,
  IOMMU_OPTION,
  IOMMU_VDEVICE_ALLOC,
  IOMMU_VEVENTQ_ALLOC,
  IOMMU_VFIO_IOAS,
  IOMMU_VIOMMU_ALLOC,
} from '../../uapi/iommufd.js';
import type { FileKind, FileOps, OpenFile, Task, UserArg } from '../file.js';
import type { Era } from '../era.js';
import type { IommuGroup, KDevice } from '../iommu/core.js';
import type { AttachResult, IommufdApi, IommufdCtx, IommufdDevice } from './device-api.js';
import { IommufdContext, type IommufdEnv } from './objects.js';
import type { Ucmd } from './ucmd.js';
import { ioasAlloc, ioasAllowIovas, ioasChangeProcess, ioasCopy, ioasIovaRanges, ioasMap, ioasMapFile, ioasUnmap } from './ioas.js';
import { faultAlloc } from './fault.js';
import { hasFaultQueue, hwptAlloc, hwptInvalidate } from './hwpt.js';
import { hwQueueAlloc, vdeviceAlloc, veventqAlloc, viommuAlloc } from './viommu.js';
import { iommufdOption } from './option.js';
import { compatIoasCreate, compatIoasGetId, vfioIoas, vfioIoctl } from './vfio-compat.js';
import { contextGroups, deviceAttach, deviceBind, deviceDetach, deviceReplace, deviceUnbind } from './device.js';
import { getHwInfo } from './hw-info.js';
import { hwptGetDirtyBitmap, hwptSetDirtyTracking } from './dirty.js';
import type { IommufdDeviceObj } from './device-object.js';

interface IoctlOp {
  def: StructDef;
  /** The last field every caller must send (min_size = offsetofend of it). */
  last: string;
  execute(ucmd: Ucmd): number;
  /** sizeof(the struct) in this era, when it grew (default def.size). */
  size?(era: Era): number;
}

/** iommufd_ioctl_ops[], as far as the model has the commands. */
const OPS = new Map<IommufdCmd, IoctlOp>([
  ['IOMMU_DESTROY', { def: IOMMU_DESTROY, last: 'id', execute: (u) => u.ictx.remove(u.cmd.num('id')) }],
  ['IOMMU_IOAS_ALLOC', { def: IOMMU_IOAS_ALLOC, last: 'out_ioas_id', execute: ioasAlloc }],
  ['IOMMU_IOAS_ALLOW_IOVAS', { def: IOMMU_IOAS_ALLOW_IOVAS, last: 'allowed_iovas', execute: ioasAllowIovas }],
  ['IOMMU_IOAS_COPY', { def: IOMMU_IOAS_COPY, last: 'src_iova', execute: ioasCopy }],
  ['IOMMU_IOAS_IOVA_RANGES', { def: IOMMU_IOAS_IOVA_RANGES, last: 'out_iova_alignment', execute: ioasIovaRanges }],
  ['IOMMU_IOAS_MAP', { def: IOMMU_IOAS_MAP, last: 'iova', execute: ioasMap }],
  ['IOMMU_IOAS_UNMAP', { def: IOMMU_IOAS_UNMAP, last: 'length', execute: ioasUnmap }],
  ['IOMMU_OPTION', { def: IOMMU_OPTION, last: 'val64', execute: iommufdOption }],
  ['IOMMU_VFIO_IOAS', { def: IOMMU_VFIO_IOAS, last: '__reserved', execute: vfioIoas }],
  ['IOMMU_FAULT_QUEUE_ALLOC', { def: IOMMU_FAULT_ALLOC, last: 'out_fault_fd', execute: faultAlloc }],
  ['IOMMU_IOAS_MAP_FILE', { def: IOMMU_IOAS_MAP_FILE, last: 'iova', execute: ioasMapFile }],
  [
    'IOMMU_HWPT_ALLOC',
    // 6.6: ends at __reserved (24); 6.7 adds data_type/len/uptr (40); 6.11 fault_id (48).
    { def: IOMMU_HWPT_ALLOC, last: '__reserved', execute: hwptAlloc, size: (era) => (hasFaultQueue(era) ? 48 : era.iommufdDirty ? 40 : 24) },
  ],
  // 6.6: ends at __reserved (32); 6.7 adds out_capabilities (40).
  ['IOMMU_GET_HW_INFO', { def: IOMMU_HW_INFO, last: '__reserved1', execute: getHwInfo, size: (era) => (era.iommufdDirty ? 40 : 32) }],
  ['IOMMU_HWPT_SET_DIRTY_TRACKING', { def: IOMMU_HWPT_SET_DIRTY_TRACKING, last: '__reserved', execute: hwptSetDirtyTracking }],
  ['IOMMU_HWPT_GET_DIRTY_BITMAP', { def: IOMMU_HWPT_GET_DIRTY_BITMAP, last: 'data', execute: hwptGetDirtyBitmap }],
  ['IOMMU_HWPT_INVALIDATE', { def: IOMMU_HWPT_INVALIDATE, last: '__reserved', execute: hwptInvalidate }],
  // 6.13: ends at out_viommu_id (24); [U] 6.17 adds data_len, __reserved, data_uptr (40), with
  // the driver data of the HW_QUEUE series.
  [
    'IOMMU_VIOMMU_ALLOC',
    { def: IOMMU_VIOMMU_ALLOC, last: 'out_viommu_id', execute: viommuAlloc, size: (era) => (tableSize(era) > IOMMUFD_CMDS.indexOf('IOMMU_HW_QUEUE_ALLOC') ? 40 : 24) },
  ],
  ['IOMMU_VDEVICE_ALLOC', { def: IOMMU_VDEVICE_ALLOC, last: 'virt_id', execute: vdeviceAlloc }],
  ['IOMMU_IOAS_CHANGE_PROCESS', { def: IOMMU_IOAS_CHANGE_PROCESS, last: '__reserved', execute: ioasChangeProcess }],
  ['IOMMU_VEVENTQ_ALLOC', { def: IOMMU_VEVENTQ_ALLOC, last: 'out_veventq_fd', execute: veventqAlloc }],
  ['IOMMU_HW_QUEUE_ALLOC', { def: IOMMU_HW_QUEUE_ALLOC, last: 'length', execute: hwQueueAlloc }],
]);

/** The commands the era's table holds: IOMMU_DESTROY up to its last one. */
function tableSize(era: Era): number {
  return era.iommufdLastCmd === null ? 0 : IOMMUFD_CMDS.indexOf(era.iommufdLastCmd) + 1;
}

/** An open /dev/iommu, or /dev/vfio/vfio served by iommufd (then a 'container' to its user). */
export class IommufdFile implements FileOps {
  constructor(
    readonly ictx: IommufdContext,
    readonly kind: Extract<FileKind, 'iommufd' | 'container'>,
  ) {}

  ioctl(proc: Task, cmd: number, arg: UserArg): number {
    const { ictx } = this;
    const era = ictx.env.era;
    const nr = cmd & 0xff;
    if (nr < IOMMUFD_CMD_BASE || nr - IOMMUFD_CMD_BASE >= tableSize(era)) return vfioIoctl(ictx, cmd, arg);
    const buf = arg.buf;
    if (!buf || buf.length < 4) return -EFAULT;
    const userSize = buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] * 0x100_0000);
    const name = IOMMUFD_CMDS[nr - IOMMUFD_CMD_BASE];
    const op = OPS.get(name);
    // A slot without a handler answers as an empty slot does (-ENOIOCTLCMD).
    if (!op || cmd !== ((IOMMUFD_TYPE << 8) | nr)) return -ENOTTY;
    if (userSize < offsetofend(op.def, op.last)) return -EINVAL;
    const ksize = op.size ? op.size(era) : op.def.size;
    // copy_struct_from_user()
    if (userSize > ksize) {
      if (buf.length < userSize) return -EFAULT;
      for (let i = ksize; i < userSize; i++) if (buf[i] !== 0) return -E2BIG;
    }
    const n = Math.min(userSize, ksize);
    const k = KStruct.fromUser(op.def, buf, n);
    if (!k) return -EFAULT;
    return op.execute({ ictx, cmd: k, userSize, ubuffer: buf, task: proc });
  }

  release(): void {
    // The struct file lives on while a bound device holds the context.
    this.ictx.close();
  }

  /** A device of `group` is bound to this context (its DMA reaches this process's pages). */
  holdsGroup(group: IommuGroup): boolean {
    return contextGroups(this.ictx).some((g) => g.group === group);
  }
}

/** A bound device as VFIO holds it (struct iommufd_device *). */
class BoundDevice implements IommufdDevice {
  constructor(readonly obj: IommufdDeviceObj) {}

  get ctx(): IommufdCtx {
    return this.obj.ictx;
  }

  get id(): number {
    return this.obj.id;
  }

  attach(ptId: number): AttachResult {
    return deviceAttach(this.obj, ptId);
  }

  replace(ptId: number): AttachResult {
    return deviceReplace(this.obj, ptId);
  }

  detach(): void {
    deviceDetach(this.obj);
  }

  unbind(): void {
    deviceUnbind(this.obj);
  }
}

const asContext = (ctx: IommufdCtx): IommufdContext | undefined => (ctx instanceof IommufdContext ? ctx : undefined);

/** The iommufd API of one booted kernel (what VFIO calls). */
export function iommufdApi(): IommufdApi {
  return {
    ctxFromFile: (f: OpenFile) => (f.ops instanceof IommufdFile ? f.ops.ictx : -EBADFD),
    bind: (ctx: IommufdCtx, dev: KDevice) => {
      const ictx = asContext(ctx);
      if (!ictx) return -EINVAL;
      const d = deviceBind(ictx, dev);
      return typeof d === 'number' ? d : new BoundDevice(d);
    },
    compatIoasCreate: (ctx: IommufdCtx) => {
      const ictx = asContext(ctx);
      return ictx ? compatIoasCreate(ictx) : -EINVAL;
    },
    compatIoasGetId: (ctx: IommufdCtx) => {
      const ictx = asContext(ctx);
      return ictx ? compatIoasGetId(ictx) : -EINVAL;
    },
  };
}

/** open() of /dev/iommu (or of /dev/vfio/vfio when iommufd serves it): a new context. */
export function iommufdOpen(env: IommufdEnv, proc: Task, vfioCompat: boolean): IommufdFile {
  return new IommufdFile(new IommufdContext(env, vfioCompat, proc.mm), vfioCompat ? 'container' : 'iommufd');
}
