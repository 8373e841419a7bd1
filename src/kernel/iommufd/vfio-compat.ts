// VFIO compatibility (drivers/iommu/iommufd/vfio_compat.c): the container ioctls iommufd
// answers on /dev/iommu and, with CONFIG_IOMMUFD_VFIO_CONTAINER, on /dev/vfio/vfio, all on the
// compat IOAS (ictx->vfio_ioas), plus IOMMU_VFIO_IOAS to get, set or clear it. Its documented
// differences from type1: SET_IOMMU before a group made the compat IOAS is -ENODEV; MAP_DMA
// takes only READ|WRITE (no VADDR), UNMAP_DMA only ALL (no dirty bitmap), DIRTY_PAGES is
// unknown; CHECK_EXTENSION answers TYPE1, TYPE1v2 and UNMAP_ALL; DMA_AVAIL is always U32_MAX.

import { EFAULT, EINVAL, ENODEV, ENOTTY, EOPNOTSUPP } from '../../uapi/errno.js';
import { flagBit, KStruct, writeField } from '../../uapi/struct.js';
import {
  CAP_DMA_AVAIL,
  CAP_IOVA_RANGE,
  DMA_MAP_FLAGS,
  DMA_UNMAP_FLAGS,
  IOMMU_INFO_FLAGS,
  IOVA_RANGE_ENTRY,
  VFIO_IOMMU_TYPE1_DMA_MAP,
  VFIO_IOMMU_TYPE1_DMA_UNMAP,
  VFIO_IOMMU_TYPE1_INFO,
} from '../../uapi/structs.js';
import { VFIO_IOAS_OPS } from '../../uapi/iommufd.js';
import {
  requestNr,
  VFIO_API_VERSION,
  VFIO_DMA_CC_IOMMU,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
} from '../../uapi/requests.js';
import type { UserArg } from '../file.js';
import type { IommufdContext } from './objects.js';
import { getIoas, Ioas, isIoas, mapUserPages } from './ioas.js';
import { ULONG_MAX } from './io-pagetable.js';
import { respond, type Ucmd } from './ucmd.js';

const VFIO_GET_API_VERSION = requestNr('VFIO_GET_API_VERSION');
const VFIO_CHECK_EXTENSION = requestNr('VFIO_CHECK_EXTENSION');
const VFIO_SET_IOMMU = requestNr('VFIO_SET_IOMMU');
const VFIO_IOMMU_GET_INFO = requestNr('VFIO_IOMMU_GET_INFO');
const VFIO_IOMMU_MAP_DMA = requestNr('VFIO_IOMMU_MAP_DMA');
const VFIO_IOMMU_UNMAP_DMA = requestNr('VFIO_IOMMU_UNMAP_DMA');

const MAP_READ = flagBit(DMA_MAP_FLAGS, 'READ');
const MAP_WRITE = flagBit(DMA_MAP_FLAGS, 'WRITE');
const UNMAP_ALL = flagBit(DMA_UNMAP_FLAGS, 'ALL');
const INFO_PGSIZES = flagBit(IOMMU_INFO_FLAGS, 'PGSIZES');
const INFO_CAPS = flagBit(IOMMU_INFO_FLAGS, 'CAPS');
const GET = flagBit(VFIO_IOAS_OPS, 'GET');
const SET = flagBit(VFIO_IOAS_OPS, 'SET');
const CLEAR = flagBit(VFIO_IOAS_OPS, 'CLEAR');

/** VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE and _DMA_AVAIL. */
const CAP_ID_IOVA_RANGE = 1;
const CAP_ID_DMA_AVAIL = 3;
const U32_MAX = 0xffff_ffffn;

/** get_compat_ioas(): -ENODEV when there is none (no group has joined, or it was cleared or destroyed). */
function compatIoas(ictx: IommufdContext): Ioas | number {
  const io = ictx.vfioIoas;
  return io && isIoas(io) ? io : -ENODEV;
}

/** iommufd_vfio_compat_ioas_create(): the context's compat IOAS, made if there is none. */
export function compatIoasCreate(ictx: IommufdContext): number {
  if (ictx.vfioIoas) return 0;
  const ioas = new Ioas(ictx.env.pageSize, ictx.env.era.iommufdUnmapEmptyOk);
  ictx.add(ioas);
  ictx.vfioIoas = ioas;
  return 0;
}

/** iommufd_vfio_compat_ioas_get_id(). */
export function compatIoasGetId(ictx: IommufdContext): number {
  const ioas = compatIoas(ictx);
  return typeof ioas === 'number' ? ioas : ioas.id;
}

/** iommufd_vfio_ioas(): IOMMU_VFIO_IOAS GET, SET or CLEAR. */
export function vfioIoas(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('__reserved')) return -EOPNOTSUPP;
  switch (cmd.get('op')) {
    case GET: {
      const ioas = compatIoas(ictx);
      if (typeof ioas === 'number') return ioas;
      cmd.set('ioas_id', ioas.id);
      return respond(ucmd, cmd.def.size);
    }
    case SET: {
      const ioas = getIoas(ictx, cmd.num('ioas_id'));
      if (typeof ioas === 'number') return ioas;
      ictx.vfioIoas = ioas;
      return 0;
    }
    case CLEAR:
      ictx.vfioIoas = undefined;
      return 0;
    default:
      return -EOPNOTSUPP;
  }
}

/** iommufd_vfio_check_extension(). */
function checkExtension(ictx: IommufdContext, type: bigint): number {
  switch (type) {
    case BigInt(VFIO_TYPE1_IOMMU):
    case BigInt(VFIO_TYPE1v2_IOMMU):
    case BigInt(VFIO_UNMAP_ALL):
      return 1;
    case BigInt(VFIO_DMA_CC_IOMMU): {
      // iommufd_vfio_cc_iommu(): every HWPT of the compat IOAS enforces cache coherency.
      const ioas = compatIoas(ictx);
      if (typeof ioas === 'number') return ioas;
      return ioas.hwptList.length === 0 ? 1 : 0;
    }
    default:
      // TYPE1_NESTING, UPDATE_VADDR ("hard to see how this could be implemented safely"), the rest.
      return 0;
  }
}

/** iommufd_vfio_set_iommu(): TYPE1 or TYPE1v2 on the compat IOAS; TYPE1 turns large pages off so any range can be unmapped. */
function setIommu(ictx: IommufdContext, type: bigint): number {
  if (type !== BigInt(VFIO_TYPE1_IOMMU) && type !== BigInt(VFIO_TYPE1v2_IOMMU)) return -EINVAL;
  const ioas = compatIoas(ictx);
  if (typeof ioas === 'number') return ioas;
  return type === BigInt(VFIO_TYPE1_IOMMU) ? ioas.iopt.setLargePages(false) : 0;
}

/** iommufd_vfio_map_dma(): minsz offsetofend(size); READ|WRITE only; always at the given IOVA. */
function mapDma(ictx: IommufdContext, arg: UserArg): number {
  const minsz = VFIO_IOMMU_TYPE1_DMA_MAP.size;
  const map = KStruct.fromUser(VFIO_IOMMU_TYPE1_DMA_MAP, arg.buf, minsz);
  if (!map) return -EFAULT;
  const flags = map.get('flags');
  if (map.num('argsz') < minsz || flags & ~(MAP_READ | MAP_WRITE)) return -EINVAL;
  const ioas = compatIoas(ictx);
  if (typeof ioas === 'number') return ioas;
  // iova and size are unsigned longs: on LP64 they pass as they are.
  const r = mapUserPages(ictx, ioas, map.get('iova'), map.get('vaddr'), map.get('size'), { read: (flags & MAP_READ) !== 0n, write: (flags & MAP_WRITE) !== 0n }, false);
  return typeof r === 'number' ? r : 0;
}

/** iommufd_vfio_unmap_dma(): ALL (with iova and size 0) or a range that must not split a mapping; size answers what went. */
function unmapDma(ictx: IommufdContext, arg: UserArg): number {
  const minsz = VFIO_IOMMU_TYPE1_DMA_UNMAP.size;
  const unmap = KStruct.fromUser(VFIO_IOMMU_TYPE1_DMA_UNMAP, arg.buf, minsz);
  if (!unmap) return -EFAULT;
  const flags = unmap.get('flags');
  if (unmap.num('argsz') < minsz || flags & ~UNMAP_ALL) return -EINVAL;
  const ioas = compatIoas(ictx);
  if (typeof ioas === 'number') return ioas;
  let r: { rc: number; unmapped: bigint };
  if (flags & UNMAP_ALL) {
    if (unmap.get('iova') !== 0n || unmap.get('size') !== 0n) return -EINVAL;
    r = ioas.iopt.unmapAll();
  } else {
    // With large pages off (SET_IOMMU TYPE1), the areas are first cut at the range's last byte
    // and at the byte before it (not when it starts at 0), so a TYPE1 user can unmap inside a
    // mapping (iopt_cut_iova); TYPE1v2 keeps -ENOENT for a range that splits one.
    const iova = unmap.get('iova');
    const size = unmap.get('size');
    if (ioas.iopt.disableLargePages) {
      // unsigned long arithmetic: both cuts wrap as the kernel's do.
      const cuts = [(iova + size - 1n) & ULONG_MAX, (iova - 1n) & ULONG_MAX];
      const rc = ioas.iopt.cutIova(iova ? cuts : cuts.slice(0, 1));
      if (rc) return rc;
    }
    r = ioas.iopt.unmapIova(iova, size);
  }
  unmap.set('size', r.unmapped);
  if (!unmap.toUser(arg.buf, minsz)) return -EFAULT;
  return r.rc;
}

/** iommufd_get_pagesizes(): the domains' common page sizes, below PAGE_SIZE folded into it, at least the IOVA alignment. */
function pageSizes(ictx: IommufdContext, ioas: Ioas): bigint {
  let bitmap = ULONG_MAX;
  for (const d of ioas.iopt.domains) bitmap &= d.pgsizeBitmap;
  const page = ictx.env.pageSize;
  if (bitmap & (page - 1n)) bitmap = (bitmap & ~(page - 1n) & ULONG_MAX) | page;
  return bitmap > ioas.iopt.iovaAlignment ? bitmap : ioas.iopt.iovaAlignment;
}

/**
 * iommufd_vfio_iommu_get_info(): PGSIZES and the CAPS chain DMA_AVAIL (U32_MAX) then
 * IOVA_RANGE (the holes of the reserved ranges), each cap written only where argsz has room
 * for it; argsz answers what the whole chain needs. From 6.6 each cap is padded to 8 bytes.
 */
function getInfo(ictx: IommufdContext, arg: UserArg): number {
  const minsz = 16; // offsetofend(iova_pgsizes)
  const info = KStruct.fromUser(VFIO_IOMMU_TYPE1_INFO, arg.buf, minsz);
  if (!info) return -EFAULT;
  const argsz = info.num('argsz');
  if (argsz < minsz) return -EINVAL;
  const copy = Math.min(argsz, VFIO_IOMMU_TYPE1_INFO.size);
  const ioas = compatIoas(ictx);
  if (typeof ioas === 'number') return ioas;
  info.set('flags', INFO_PGSIZES).set('iova_pgsizes', pageSizes(ictx, ioas)).set('cap_offset', 0);
  const buf = arg.buf!;
  const put = (off: number, b: Uint8Array): boolean => {
    if (off + b.length > buf.length) return false;
    buf.set(b, off);
    return true;
  };
  const ranges = ioas.iopt.usableRanges();
  const fills: ((at: number, avail: number) => number)[] = [
    (at, avail) => {
      const cap = KStruct.zeroed(CAP_DMA_AVAIL).set('id', CAP_ID_DMA_AVAIL).set('version', 1).set('avail', U32_MAX);
      if (avail >= CAP_DMA_AVAIL.size && !put(at, cap.bytes)) return -EFAULT;
      return CAP_DMA_AVAIL.size;
    },
    (at, avail) => {
      let n = 0;
      for (const r of ranges) {
        const need = CAP_IOVA_RANGE.size + (n + 1) * IOVA_RANGE_ENTRY.size;
        const e = KStruct.zeroed(IOVA_RANGE_ENTRY).set('start', r.start).set('end', r.last);
        if (avail >= need && !put(at + CAP_IOVA_RANGE.size + n * IOVA_RANGE_ENTRY.size, e.bytes)) return -EFAULT;
        n++;
      }
      const cap = KStruct.zeroed(CAP_IOVA_RANGE).set('id', CAP_ID_IOVA_RANGE).set('version', 1).set('nr_iovas', n);
      if (avail >= CAP_IOVA_RANGE.size + n * IOVA_RANGE_ENTRY.size && !put(at, cap.bytes)) return -EFAULT;
      return CAP_IOVA_RANGE.size + n * IOVA_RANGE_ENTRY.size;
    },
  ];
  let total = VFIO_IOMMU_TYPE1_INFO.size;
  let lastCap = -1;
  for (const fill of fills) {
    let size = argsz > total ? fill(total, argsz - total) : fill(total, 0);
    if (size < 0) return size;
    if (ictx.env.era.capAlign8) size = (size + 7) & ~7;
    if (lastCap >= 0 && argsz >= total) {
      if (lastCap + 8 > buf.length) return -EFAULT;
      writeField(buf, lastCap + 4, 'u32', BigInt(total));
    }
    lastCap = total;
    total += size;
  }
  if (argsz >= total) info.set('cap_offset', VFIO_IOMMU_TYPE1_INFO.size);
  info.set('argsz', total).set('flags', INFO_PGSIZES | INFO_CAPS);
  return info.toUser(buf, copy) ? 0 : -EFAULT;
}

/** iommufd_vfio_ioctl(): the VFIO container requests; anything else is -ENOIOCTLCMD (ENOTTY). */
export function vfioIoctl(ictx: IommufdContext, cmd: number, arg: UserArg): number {
  switch (cmd) {
    case VFIO_GET_API_VERSION:
      return VFIO_API_VERSION;
    case VFIO_SET_IOMMU:
      return setIommu(ictx, arg.value);
    case VFIO_CHECK_EXTENSION:
      return checkExtension(ictx, arg.value);
    case VFIO_IOMMU_GET_INFO:
      return getInfo(ictx, arg);
    case VFIO_IOMMU_MAP_DMA:
      return mapDma(ictx, arg);
    case VFIO_IOMMU_UNMAP_DMA:
      return unmapDma(ictx, arg);
    default:
      return -ENOTTY;
  }
}
