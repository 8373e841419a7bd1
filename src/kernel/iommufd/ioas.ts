// The IOAS object and its commands (drivers/iommu/iommufd/ioas.c): IOMMU_IOAS_ALLOC,
// IOAS_IOVA_RANGES, IOAS_ALLOW_IOVAS, IOAS_MAP, IOAS_COPY, IOAS_UNMAP, and IOMMU_OPTION's
// per-IOAS HUGE_PAGES. Each checks in the kernel's order: flags and reserved fields
// (-EOPNOTSUPP), 64-bit values that cannot be an unsigned long (-EOVERFLOW), missing
// permissions (-EINVAL), the object id (-ENOENT), then the io_pagetable's own rules.

import { EBADF, EFAULT, EINVAL, EMSGSIZE, ENOENT, EOPNOTSUPP, EOVERFLOW } from '../../uapi/errno.js';
import { flagBit, KStruct, readField } from '../../uapi/struct.js';
import { IOAS_MAP_FLAGS, IOMMU_IOVA_RANGE, OPTION_OPS } from '../../uapi/iommufd.js';
import { IoPagetable, NOT_SHMEM, ULONG_MAX, type FilePages, type IoptPages, type IovaRange } from './io-pagetable.js';
import { isMemFd } from '../memfd.js';
import { IommufdObject, type IommufdContext } from './objects.js';
import { respond, type Ucmd } from './ucmd.js';
import type { IommuProt } from '../../hw/iommu/iommu.js';

const FIXED_IOVA = flagBit(IOAS_MAP_FLAGS, 'FIXED_IOVA');
const WRITEABLE = flagBit(IOAS_MAP_FLAGS, 'WRITEABLE');
const READABLE = flagBit(IOAS_MAP_FLAGS, 'READABLE');
const MAP_FLAGS = FIXED_IOVA | WRITEABLE | READABLE;
export const OP_SET = flagBit(OPTION_OPS, 'SET');
export const OP_GET = flagBit(OPTION_OPS, 'GET');

/** What an IOAS knows of the HWPTs on it (ioas->hwpt_list). */
export interface IoasHwpt extends IommufdObject {
  /** Made by an attach to the IOAS (not by HWPT_ALLOC): the auto-domain search may pick it. */
  autoDomain: boolean;
}

export class Ioas extends IommufdObject {
  readonly type = 'ioas' as const;
  readonly iopt: IoPagetable;
  /** ioas->hwpt_list, oldest first. */
  readonly hwptList: IoasHwpt[] = [];

  constructor(pageSize: bigint, emptyUnmapOk = false) {
    super();
    this.iopt = new IoPagetable(pageSize, emptyUnmapOk);
  }

  destroy(): void {
    this.iopt.unmapAll();
  }
}

export const isIoas = (o: IommufdObject): o is Ioas => o instanceof Ioas;

/** iommufd_get_ioas(). */
export const getIoas = (ictx: IommufdContext, id: number): Ioas | number => ictx.get(id, isIoas);

/** conv_iommu_prot(): IOMMU_CACHE always, WRITE and READ as asked. */
const convProt = (flags: bigint): IommuProt => ({ read: (flags & READABLE) !== 0n, write: (flags & WRITEABLE) !== 0n });

/** iommufd_ioas_alloc_ioctl(). */
export function ioasAlloc(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('flags')) return -EOPNOTSUPP;
  const ioas = new Ioas(ictx.env.pageSize, ictx.env.era.iommufdUnmapEmptyOk);
  const id = ictx.add(ioas);
  cmd.set('out_ioas_id', id);
  const rc = respond(ucmd, cmd.def.size);
  if (rc) ictx.remove(id); // iommufd_object_abort_and_destroy()
  return rc;
}

/** iommufd_ioas_iova_ranges(): the usable ranges into the user's array; -EMSGSIZE when it is too small (after the count is written back). */
export function ioasIovaRanges(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('__reserved')) return -EOPNOTSUPP;
  const ioas = getIoas(ictx, cmd.num('ioas_id'));
  if (typeof ioas === 'number') return ioas;
  const max = cmd.num('num_iovas');
  const ranges = cmd.get('allowed_iovas');
  let n = 0;
  cmd.set('out_iova_alignment', ioas.iopt.iovaAlignment);
  for (const r of ioas.iopt.usableRanges()) {
    if (n < max) {
      const elm = KStruct.zeroed(IOMMU_IOVA_RANGE).set('start', r.start).set('last', r.last);
      if (ictx.mm.copyToUser(ranges + BigInt(n * IOMMU_IOVA_RANGE.size), elm.bytes)) return -EFAULT;
    }
    n++;
  }
  cmd.set('num_iovas', n);
  const rc = respond(ucmd, cmd.def.size);
  if (rc) return rc;
  return n > max ? -EMSGSIZE : 0;
}

/** iommufd_ioas_load_iovas(): each range copied in, start < last, none overlapping another. */
function loadIovas(ictx: IommufdContext, uptr: bigint, num: number): IovaRange[] | number {
  const out: IovaRange[] = [];
  for (let i = 0; i < num; i++) {
    const b = ictx.mm.copyFromUser(uptr + BigInt(i * IOMMU_IOVA_RANGE.size), IOMMU_IOVA_RANGE.size);
    if (typeof b === 'number') return -EFAULT;
    const start = readField(b, 0, 'u64');
    const last = readField(b, 8, 'u64');
    if (start >= last) return -EINVAL;
    if (out.some((r) => r.start <= last && start <= r.last)) return -EINVAL;
    out.push({ start, last });
  }
  return out;
}

/** iommufd_ioas_allow_iovas(). */
export function ioasAllowIovas(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('__reserved')) return -EOPNOTSUPP;
  const ioas = getIoas(ictx, cmd.num('ioas_id'));
  if (typeof ioas === 'number') return ioas;
  const ranges = loadIovas(ictx, cmd.get('allowed_iovas'), cmd.num('num_iovas'));
  if (typeof ranges === 'number') return ranges;
  return ioas.iopt.setAllowed(ranges);
}

/** The MAP and COPY flag checks shared by both: unknown flags, then neither READ nor WRITE. */
function checkMapFlags(flags: bigint): number {
  return flags & ~MAP_FLAGS ? -EOPNOTSUPP : 0;
}

/** iopt_alloc_user_pages() + iopt_map_pages(): the IOVA mapped at, or -errno. */
export function mapUserPages(ictx: IommufdContext, ioas: Ioas, iova: bigint, uptr: bigint, length: bigint, prot: IommuProt, alloc: boolean): bigint | number {
  if (uptr + length > ULONG_MAX) return -EOVERFLOW; // check_add_overflow(uptr, length)
  // iopt_alloc_pages(): the length must fit a size_t page count.
  if (length > ULONG_MAX - ictx.env.pageSize || length === 0n) return -EINVAL;
  const pages: IoptPages = { uaddr: uptr, length, writable: prot.write, mm: ictx.mm };
  return ioas.iopt.mapPages([{ pages, startByte: 0n, length }], length, iova, alloc, prot);
}

/** iommufd_ioas_map(). */
export function ioasMap(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  const flags = cmd.get('flags');
  if (checkMapFlags(flags) || cmd.get('__reserved')) return -EOPNOTSUPP;
  if (cmd.get('iova') >= ULONG_MAX || cmd.get('length') >= ULONG_MAX) return -EOVERFLOW;
  if (!(flags & (WRITEABLE | READABLE))) return -EINVAL;
  const ioas = getIoas(ictx, cmd.num('ioas_id'));
  if (typeof ioas === 'number') return ioas;
  const iova = mapUserPages(ictx, ioas, cmd.get('iova'), cmd.get('user_va'), cmd.get('length'), convProt(flags), !(flags & FIXED_IOVA));
  if (typeof iova === 'number') return iova;
  cmd.set('iova', iova);
  return respond(ucmd, cmd.def.size);
}

/**
 * iommufd_ioas_map_file() (6.13) and iopt_map_file_pages(): `length` bytes of the file `fd`
 * from byte `start`. Any file is taken here (iopt_alloc_file_pages); the pages are pinned when
 * a domain is filled (io-pagetable.ts pin: shmem only, whole pages below i_size), so with no
 * device attached a mapping of an eventfd, or past the file's end, succeeds and holds nothing.
 * The fd is looked up after the length checks from 6.19 (Era.iommufdMapFileLateFget), right
 * after the IOAS before; a DMABUF fd (6.19) is not modelled: no modelled fd is one.
 */
export function ioasMapFile(ucmd: Ucmd): number {
  const { cmd, ictx, task } = ucmd;
  const flags = cmd.get('flags');
  if (checkMapFlags(flags)) return -EOPNOTSUPP;
  if (cmd.get('iova') >= ULONG_MAX || cmd.get('length') >= ULONG_MAX) return -EOVERFLOW;
  if (!(flags & (WRITEABLE | READABLE))) return -EINVAL;
  const ioas = getIoas(ictx, cmd.num('ioas_id'));
  if (typeof ioas === 'number') return ioas;
  const fd = Number(BigInt.asIntN(32, cmd.get('fd')));
  const fget = (): FilePages | undefined => {
    const f = task.file(fd);
    if (!f) return undefined;
    return isMemFd(f.ops) ? f.ops : NOT_SHMEM;
  };
  const late = ictx.env.era.iommufdMapFileLateFget;
  const early = late ? undefined : fget();
  if (!late && !early) return -EBADF;
  const start = cmd.get('start');
  const length = cmd.get('length');
  if (late && !length) return -EINVAL;
  if (length && start + length - 1n > ULONG_MAX) return -EOVERFLOW; // check_add_overflow(start, length - 1)
  const file = early ?? fget();
  if (!file) return -EBADF;
  // iopt_alloc_pages(): the page count must fit a size_t.
  if (length > ULONG_MAX - ictx.env.pageSize || length === 0n) return -EINVAL;
  const pages: IoptPages = { uaddr: start, length, writable: (flags & WRITEABLE) !== 0n, mm: ictx.mm, file };
  const iova = ioas.iopt.mapPages([{ pages, startByte: 0n, length }], length, cmd.get('iova'), !(flags & FIXED_IOVA), convProt(flags));
  if (typeof iova === 'number') return iova;
  cmd.set('iova', iova);
  return respond(ucmd, cmd.def.size);
}

/** iommufd_ioas_copy(): the source's pages (which must be mapped contiguously) mapped again in the destination. */
export function ioasCopy(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  const flags = cmd.get('flags');
  if (checkMapFlags(flags)) return -EOPNOTSUPP;
  if (cmd.get('length') >= ULONG_MAX || cmd.get('src_iova') >= ULONG_MAX || cmd.get('dst_iova') >= ULONG_MAX) return -EOVERFLOW;
  if (!(flags & (WRITEABLE | READABLE))) return -EINVAL;
  const src = getIoas(ictx, cmd.num('src_ioas_id'));
  if (typeof src === 'number') return src;
  const length = cmd.get('length');
  const list = src.iopt.getPages(cmd.get('src_iova'), length);
  if (typeof list === 'number') return list;
  const dst = getIoas(ictx, cmd.num('dst_ioas_id'));
  if (typeof dst === 'number') return dst;
  const iova = dst.iopt.mapPages(list, length, cmd.get('dst_iova'), !(flags & FIXED_IOVA), convProt(flags));
  if (typeof iova === 'number') return iova;
  cmd.set('dst_iova', iova);
  return respond(ucmd, cmd.def.size);
}

/** iommufd_ioas_unmap(): iova 0 with length U64_MAX unmaps everything; `length` answers the bytes unmapped. */
export function ioasUnmap(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  const ioas = getIoas(ictx, cmd.num('ioas_id'));
  if (typeof ioas === 'number') return ioas;
  const iova = cmd.get('iova');
  const length = cmd.get('length');
  let r: { rc: number; unmapped: bigint };
  if (iova === 0n && length === ULONG_MAX) {
    r = ioas.iopt.unmapAll();
  } else {
    if (iova >= ULONG_MAX || length >= ULONG_MAX) return -EOVERFLOW;
    r = ioas.iopt.unmapIova(iova, length);
    // Nothing in the range is -ENOENT here whatever iopt_unmap_iova() answers (the compat
    // UNMAP_DMA, which has no such check, answers 0 where the era's iopt does).
    if (!r.rc && !r.unmapped) return -ENOENT;
  }
  if (r.rc) return r.rc;
  cmd.set('length', r.unmapped);
  return respond(ucmd, cmd.def.size);
}

/** iommufd_ioas_option(): IOMMU_OPTION_HUGE_PAGES of the IOAS `object_id`. */
export function ioasOptionHugePages(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('__reserved')) return -EOPNOTSUPP;
  const ioas = getIoas(ictx, cmd.num('object_id'));
  if (typeof ioas === 'number') return ioas;
  const op = cmd.get('op');
  if (op === OP_GET) {
    cmd.set('val64', ioas.iopt.disableLargePages ? 0 : 1);
    return 0;
  }
  if (op === OP_SET) {
    const v = cmd.get('val64');
    if (v === 0n) return ioas.iopt.setLargePages(false);
    if (v === 1n) return ioas.iopt.setLargePages(true);
    return -EINVAL;
  }
  return -EOPNOTSUPP;
}

/**
 * iommufd_ioas_change_process() (6.14, "iommufd: Add IOMMU_IOAS_CHANGE_PROCESS"): moves the
 * pinned pages' accounting to the calling process, which only file-backed areas
 * (IOMMU_IOAS_MAP_FILE) allow: any area of any IOAS mapped from user memory is -EINVAL.
 * Otherwise (file areas only, or nothing mapped) it succeeds; the model's process is the
 * only one, so there is no accounting to move.
 */
export function ioasChangeProcess(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('__reserved')) return -EOPNOTSUPP;
  const ioases = ictx.all().filter(isIoas);
  return ioases.some((a) => a.iopt.areas.some((area) => !area.pages.file)) ? -EINVAL : 0;
}
