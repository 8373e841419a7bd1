// FakeIommufd: a test double of iommufd's side of include/linux/iommufd.h (the contract in
// src/kernel/iommufd/device-api.ts), for testing the order in which VFIO's cdev and group paths
// call that contract (device-cdev.test.ts; the same rules against the real iommufd are in
// device-cdev-iommufd.test.ts). It keeps only what VFIO can observe: a context per open
// /dev/iommu, object ids allocated from 1 (xa_alloc over XA_FLAGS_ALLOC1), one compat IOAS per
// context, a device bound at most once, attach to an IOAS giving a fresh HWPT id. What it
// does is logged in `calls`, so a test asserts the order VFIO called it in. It models no
// page table, no DMA ownership and no MSI isolation: a test that needs a refusal sets
// `bindErrno`, as iommufd_device_bind would answer it.

import { EBADFD, ENOENT } from '../../../src/uapi/errno.js';
import type { FileOps, OpenFile } from '../../../src/kernel/file.js';
import type { KDevice } from '../../../src/kernel/iommu/core.js';
import type { AttachResult, IommufdApi, IommufdCtx, IommufdDevice } from '../../../src/kernel/iommufd/device-api.js';

/** The open /dev/iommu, as far as the fake goes. */
export class FakeIommufdFile implements FileOps, IommufdCtx {
  readonly kind = 'iommufd' as const;
  readonly iommufdCtx = true as const;
  nextId = 1;
  compatIoas?: number;
  /** IOAS ids that exist in this context. */
  readonly ioas = new Set<number>();
}

export class FakeIommufd implements IommufdApi {
  readonly calls: string[] = [];
  /** When set, the next binds fail with this -errno (iommufd_device_bind's refusal). */
  bindErrno?: number;

  /** A fresh /dev/iommu file (what Kernel.open would install). */
  file(): FakeIommufdFile {
    return new FakeIommufdFile();
  }

  /** IOMMU_IOAS_ALLOC's effect: a new IOAS id. */
  ioasAlloc(ctx: FakeIommufdFile): number {
    const id = ctx.nextId++;
    ctx.ioas.add(id);
    return id;
  }

  ctxFromFile(f: OpenFile): IommufdCtx | number {
    return f.ops instanceof FakeIommufdFile ? f.ops : -EBADFD;
  }

  bind(c: IommufdCtx, dev: KDevice): IommufdDevice | number {
    const ctx = c as FakeIommufdFile;
    this.calls.push(`bind ${dev.bdf}`);
    if (this.bindErrno) return this.bindErrno;
    const calls = this.calls;
    const id = ctx.nextId++;
    const attachTo = (ptId: number, pasid: number | undefined, what: string): AttachResult => {
      const p = pasid === undefined ? '' : ` pasid=${pasid}`;
      calls.push(`${what} ${ptId}${p}`);
      if (!ctx.ioas.has(ptId)) return { ret: -ENOENT, ptId };
      return { ret: 0, ptId: ctx.nextId++ }; // the auto domain's HWPT
    };
    return {
      ctx,
      id,
      attach: (ptId, pasid) => attachTo(ptId, pasid, 'attach'),
      replace: (ptId, pasid) => attachTo(ptId, pasid, 'replace'),
      detach: (pasid) => {
        calls.push(pasid === undefined ? 'detach' : `detach pasid=${pasid}`);
      },
      unbind: () => {
        calls.push(`unbind ${dev.bdf}`);
      },
    };
  }

  compatIoasCreate(c: IommufdCtx): number {
    const ctx = c as FakeIommufdFile;
    this.calls.push('compat_ioas_create');
    if (ctx.compatIoas === undefined) ctx.compatIoas = this.ioasAlloc(ctx);
    return 0;
  }

  compatIoasGetId(c: IommufdCtx): number {
    const ctx = c as FakeIommufdFile;
    return ctx.compatIoas ?? -ENOENT;
  }
}

