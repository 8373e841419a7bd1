// iommufd's objects and the context that holds them (iommufd_private.h, main.c): an xarray of
// objects with ids allocated from 1 (XA_FLAGS_ALLOC1, the lowest free index), each with a
// `users` count. The xarray holds one user; whoever else points at an object holds another
// (an HWPT holds its IOAS, an attached device its HWPT, the driver that bound a device the
// device), and IOMMU_DESTROY removes an object only while the xarray's is the last one
// (refcount_dec_if_one: -EBUSY otherwise).

import { EBUSY, ENOENT } from '../../uapi/errno.js';
import type { Era } from '../era.js';
import type { IommuCore, MsiCookie } from '../iommu/core.js';
import type { KernelLog } from '../log.js';
import type { AddressSpace } from '../mm.js';
import type { ModuleParams } from '../params.js';

/** enum iommufd_object_type, as far as the model has them. */
export type ObjectType = 'ioas' | 'hwpt-paging' | 'device' | 'fault';

export abstract class IommufdObject {
  abstract readonly type: ObjectType;
  /** obj->id, 0 until the object is in the xarray. */
  id = 0;
  /** obj->users: the xarray's reference plus every holder's. */
  users = 1;
  /** ops->destroy(): undo what the object holds (its users are gone). */
  abstract destroy(): void;
}

/** What the kernel around iommufd gives it. */
export interface IommufdEnv {
  era: Era;
  log: KernelLog;
  params: ModuleParams;
  iommu: IommuCore;
  /** The host's PAGE_SIZE. */
  pageSize: bigint;
  /** CAP_SYS_RESOURCE of the caller (the model's user is root, as the harness's probes are). */
  capSysResource: boolean;
}

/** enum iopt_pages_account_mode: what pinned pages are charged to. */
export type AccountMode = 'user' | 'mm';

/** struct iommufd_ctx: one open /dev/iommu (or iommufd-served /dev/vfio/vfio). */
export class IommufdContext {
  readonly iommufdCtx = true as const;
  private readonly objects = new Map<number, IommufdObject>();
  /** ictx->account_mode: RLIMIT_MEMLOCK per user, or per mm as VFIO does (/dev/vfio/vfio). */
  accountMode: AccountMode;
  /** ictx->vfio_ioas: the IOAS the VFIO compat layer uses. */
  vfioIoas?: IommufdObject;
  /**
   * ictx->sw_msi_list (6.15+): the doorbell pages MSIs of this context's devices use, each at
   * sw_msi_start + pgoff * PAGE_SIZE, one list per SW_MSI start (kept as dma-iommu's cookie
   * shape, shared by every HWPT of the context, so the MSI layer maps through it).
   */
  private readonly swMsi = new Map<bigint, MsiCookie>();
  /** Bound devices each hold the context (iommufd_ctx_get in iommufd_device_bind). */
  private holders = 0;
  /** The file's last fd is closed: the objects go when the last holder does. */
  private closed = false;

  constructor(
    readonly env: IommufdEnv,
    /** Opened as /dev/vfio/vfio (CONFIG_IOMMUFD_VFIO_CONTAINER). */
    readonly vfioCompat: boolean,
    /** The address space of the process that opened it (pages are pinned from current->mm). */
    readonly mm: AddressSpace,
  ) {
    this.accountMode = vfioCompat ? 'mm' : 'user';
  }

  /** The context's sw_msi map for a SW_MSI window starting at `start`. */
  swMsiCookie(start: bigint): MsiCookie {
    let c = this.swMsi.get(start);
    if (!c) this.swMsi.set(start, (c = { owner: 'iommufd', base: start, next: start, pages: new Map() }));
    return c;
  }

  /** xa_alloc() with XA_FLAGS_ALLOC1 and iommufd_object_finalize(): the lowest free id from 1. */
  add(obj: IommufdObject): number {
    let id = 1;
    while (this.objects.has(id)) id++;
    obj.id = id;
    this.objects.set(id, obj);
    return id;
  }

  /** iommufd_get_object(): the object of `type` with `id`, or -ENOENT. */
  get<T extends IommufdObject>(id: number, is: (o: IommufdObject) => o is T): T | number {
    const o = this.objects.get(id);
    return o && is(o) ? o : -ENOENT;
  }

  /** Any object by id (IOMMUFD_OBJ_ANY), or -ENOENT. */
  getAny(id: number): IommufdObject | number {
    return this.objects.get(id) ?? -ENOENT;
  }

  get empty(): boolean {
    return this.objects.size === 0;
  }

  /** Objects in id order (xa_for_each). */
  all(): IommufdObject[] {
    return [...this.objects.entries()].sort((a, b) => a[0] - b[0]).map(([, o]) => o);
  }

  /**
   * iommufd_object_remove(): -ENOENT for no object at `id`, -EBUSY while anything but the
   * xarray holds it; else it leaves the xarray and is destroyed. `held`: the caller holds a
   * reference of its own that goes with it (iommufd_object_destroy_user from a driver).
   */
  remove(id: number, held = false): number {
    const obj = this.objects.get(id);
    if (!obj) return -ENOENT;
    if (held) obj.users--;
    if (obj.users !== 1) return -EBUSY;
    obj.users = 0;
    this.objects.delete(id);
    if (this.vfioIoas === obj) this.vfioIoas = undefined;
    obj.destroy();
    return 0;
  }

  /** iommufd_ctx_get()/iommufd_ctx_put() by a bound device; the last put after close releases. */
  hold(): void {
    this.holders++;
  }

  put(): void {
    if (--this.holders === 0 && this.closed) this.release();
  }

  /** The file's last reference went (close): release now, or when the last bound device goes. */
  close(): void {
    this.closed = true;
    if (this.holders === 0) this.release();
  }

  /**
   * iommufd_fops_release(): destroy every object whose only user is the xarray, repeatedly,
   * until none is left (leaves first: a device before its HWPT before its IOAS).
   */
  release(): void {
    while (this.objects.size) {
      let destroyed = 0;
      for (const [id, obj] of [...this.objects.entries()].sort((a, b) => a[0] - b[0])) {
        if (obj.users !== 1) continue;
        obj.users = 0;
        this.objects.delete(id);
        obj.destroy();
        destroyed++;
      }
      if (!destroyed) break; // the kernel WARNs: a users refcount bug
    }
  }
}
