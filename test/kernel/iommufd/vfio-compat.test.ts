// /dev/vfio/vfio served by iommufd (CONFIG_IOMMUFD_VFIO_CONTAINER; drivers/iommu/iommufd/
// vfio_compat.c) and the same VFIO ioctls on /dev/iommu. The group side (SET_CONTAINER making
// the compat IOAS) is VFIO's; here the compat IOAS comes from the contract's compatIoasCreate,
// as vfio/group.c calls it.

import { describe, expect, it } from 'vitest';
import { EINVAL, ENODEV, ENOENT, ENOTTY, errnoName } from '../../../src/uapi/errno.js';
import { requestNr } from '../../../src/uapi/requests.js';
import { encodeStruct, KStruct, type StructDef } from '../../../src/uapi/struct.js';
import { VFIO_IOMMU_TYPE1_DMA_MAP, VFIO_IOMMU_TYPE1_DMA_UNMAP, VFIO_IOMMU_TYPE1_INFO } from '../../../src/uapi/structs.js';
import { Iommufd, PAGE, U64_MAX } from './fixture.js';

const GET = 0;
const SET = 1;
const CLEAR = 2;

class Compat extends Iommufd {
  constructor(era = '6.12') {
    super(era, 'qemu-q35-vtd', {}, 'iommufd-compat', '/dev/vfio/vfio');
  }

  vfio_(name: string, def?: StructDef, fields: Record<string, bigint | number> = {}, len = def?.size ?? 0, value = 0n): { errno: number; ret: number; buf: Uint8Array } {
    const buf = def ? encodeStruct(def, new Map(Object.entries(fields).map(([k, v]) => [k, BigInt(v)])), len, 0xaa) : undefined;
    const r = this.kernel.ioctl(this.proc, this.fd, requestNr(name), buf ? { value: 1n, buf } : { value });
    return { errno: r.errno, ret: Number(r.ret), buf: buf ?? new Uint8Array(0) };
  }

  ext(ext: number): { errno: number; ret: number } {
    const { errno, ret } = this.vfio_('VFIO_CHECK_EXTENSION', undefined, {}, 0, BigInt(ext));
    return { errno, ret };
  }

  set_iommu(type: number): number {
    return this.vfio_('VFIO_SET_IOMMU', undefined, {}, 0, BigInt(type)).errno;
  }

  map_dma(vaddr: bigint, iova: bigint, size: bigint, flags = 3n): number {
    return this.vfio_('VFIO_IOMMU_MAP_DMA', VFIO_IOMMU_TYPE1_DMA_MAP, { argsz: 32, flags, vaddr, iova, size }).errno;
  }

  unmap_dma(iova: bigint, size: bigint, flags = 0n): { errno: number; size: bigint } {
    const o = this.vfio_('VFIO_IOMMU_UNMAP_DMA', VFIO_IOMMU_TYPE1_DMA_UNMAP, { argsz: 24, flags, iova, size }, 24);
    return { errno: o.errno, size: KStruct.fromUser(VFIO_IOMMU_TYPE1_DMA_UNMAP, o.buf, 24)!.get('size') };
  }

  /** The compat IOAS a group's SET_CONTAINER makes (vfio/group.c → iommufd_vfio_compat_ioas_create). */
  groupJoins(): number {
    expect(this.kernel.iommufd!.compatIoasCreate(this.ctx)).toBe(0);
    return this.kernel.iommufd!.compatIoasGetId(this.ctx);
  }
}

const e = (n: number): string => errnoName(n);
const EDU = '0000:00:01.0';

describe('the compat container before a group joins', () => {
  // Rule: open announces itself once per boot (pr_info_once) and answers the VFIO API version.
  it('open and API version', () => {
    const t = new Compat();
    t.open('/dev/vfio/vfio');
    expect(t.dmesg().filter((l) => l === 'iommufd: IOMMUFD is providing /dev/vfio/vfio, not VFIO.')).toHaveLength(1);
    expect(t.vfio_('VFIO_GET_API_VERSION')).toEqual({ errno: 0, ret: 0, buf: new Uint8Array(0) });
    expect(t.proc.file(t.fd)!.ops.kind).toBe('container');
  });

  // Rule: CHECK_EXTENSION: TYPE1, TYPE1v2 and UNMAP_ALL; not NESTING nor UPDATE_VADDR; DMA_CC
  // asks the compat IOAS, which does not exist yet (-ENODEV).
  it('CHECK_EXTENSION', () => {
    const t = new Compat();
    expect([1, 3, 9, 6, 10, 2, 8].map((x) => t.ext(x).ret)).toEqual([1, 1, 1, 0, 0, 0, 0]);
    expect(e(t.ext(4).errno)).toBe(e(ENODEV));
    t.groupJoins();
    expect(t.ext(4)).toEqual({ errno: 0, ret: 1 });
  });

  // Rule: SET_IOMMU takes TYPE1 and TYPE1v2 only (-EINVAL), and needs the compat IOAS (-ENODEV:
  // "VFIO fails the set_iommu if there is no group"); so do GET_INFO, MAP and UNMAP.
  it('ENODEV until a group joins', () => {
    const t = new Compat();
    expect(e(t.set_iommu(8))).toBe(e(EINVAL));
    expect(e(t.set_iommu(3))).toBe(e(ENODEV));
    expect(e(t.vfio_('VFIO_IOMMU_GET_INFO', VFIO_IOMMU_TYPE1_INFO, { argsz: 24 }).errno)).toBe(e(ENODEV));
    expect(e(t.map_dma(0x1000n, 0n, PAGE))).toBe(e(ENODEV));
    // The argument checks come first: VADDR (bit 2) is no flag here.
    expect(e(t.map_dma(0x1000n, 0n, PAGE, 7n))).toBe(e(EINVAL));
    expect(e(t.unmap_dma(0n, PAGE, 1n).errno)).toBe(e(EINVAL));
    expect(e(t.unmap_dma(0n, PAGE).errno)).toBe(e(ENODEV));
    expect(e(t.vfio_('VFIO_IOMMU_DIRTY_PAGES', VFIO_IOMMU_TYPE1_INFO, { argsz: 8 }).errno)).toBe(e(ENOTTY));
  });
});

describe('the compat container with its IOAS', () => {
  // Rule: MAP_DMA maps at the given IOVA on the compat IOAS; UNMAP_DMA answers the size unmapped;
  // only ALL (with iova and size 0) is a flag.
  it('map and unmap', () => {
    const t = new Compat();
    const ioas = t.groupJoins();
    expect(ioas).toBe(1);
    expect(e(t.set_iommu(3))).toBe(e(0));
    const buf = t.mmap(4n * PAGE);
    expect(e(t.map_dma(buf, 0x10000n, 2n * PAGE))).toBe(e(0));
    expect(e(t.map_dma(buf, 0x11000n, PAGE))).toBe(e(17));
    expect(t.unmap_dma(0x10000n, PAGE)).toEqual({ errno: ENOENT, size: 0n });
    expect(t.unmap_dma(0x10000n, 2n * PAGE)).toEqual({ errno: 0, size: 2n * PAGE });
    expect(e(t.map_dma(buf, 0x10000n, PAGE))).toBe(e(0));
    expect(t.unmap_dma(0x10000n, PAGE, 2n)).toEqual({ errno: EINVAL, size: PAGE });
    expect(t.unmap_dma(0n, 0n, 2n)).toEqual({ errno: 0, size: PAGE });
    // The same IOAS through IOMMU_IOAS_MAP on the same fd.
    expect(t.map(ioas, buf, PAGE, 0x20000n, 7n)).toBe(0x20000n);
    expect(t.unmap_dma(0n, 0n, 2n)).toEqual({ errno: 0, size: PAGE });
  });

  // Rule: GET_INFO: PGSIZES|CAPS; caps DMA_AVAIL (avail U32_MAX) then IOVA_RANGE, each padded
  // to 8 bytes (6.6+); argsz answers the chain's size; cap_offset only when it all fits.
  it('GET_INFO', () => {
    const t = new Compat();
    t.groupJoins();
    const short = t.vfio_('VFIO_IOMMU_GET_INFO', VFIO_IOMMU_TYPE1_INFO, { argsz: 24 });
    const k = KStruct.fromUser(VFIO_IOMMU_TYPE1_INFO, short.buf, 24)!;
    // 24 + DMA_AVAIL 12 → 16 + IOVA_RANGE 16 + one range 16. With no domain the page sizes are
    // ULONG_MAX with the bits below PAGE_SIZE folded into it (iommufd_get_pagesizes).
    expect([short.errno, k.num('argsz'), k.num('flags'), k.get('iova_pgsizes'), k.num('cap_offset'), k.num('pad')]).toEqual([0, 72, 3, 0xffff_ffff_ffff_f000n, 0, 0]);
    const full = t.vfio_('VFIO_IOMMU_GET_INFO', VFIO_IOMMU_TYPE1_INFO, { argsz: 72 }, 72);
    const hex = Buffer.from(full.buf).toString('hex');
    expect(hex).toBe(
      [
        '48000000', '03000000', '00f0ffffffffffff', '18000000', '00000000',
        // DMA_AVAIL: id 3, version 1, next 40, avail U32_MAX; padding untouched.
        '0300', '0100', '28000000', 'ffffffff', 'aaaaaaaa',
        // IOVA_RANGE: id 1, version 1, next 0, nr_iovas 1, reserved 0, [0, U64_MAX].
        '0100', '0100', '00000000', '01000000', '00000000', '0000000000000000', 'ffffffffffffffff',
      ].join(''),
    );
    // With a VT-d domain attached: its 4K|2M|1G.
    const dev = t.bind('0000:00:01.0');
    expect(dev.attach(1).ret).toBe(0);
    const d = t.vfio_('VFIO_IOMMU_GET_INFO', VFIO_IOMMU_TYPE1_INFO, { argsz: 24 });
    expect(KStruct.fromUser(VFIO_IOMMU_TYPE1_INFO, d.buf, 24)!.get('iova_pgsizes')).toBe(0x4020_1000n);
    expect(U64_MAX).toBe(0xffff_ffff_ffff_ffffn);
  });

  // Rule: 6.2–6.5 chain the caps unpadded (the IOVA_RANGE cap at 36).
  it('GET_INFO on 6.3: unaligned caps', () => {
    const t = new Compat('6.3');
    t.groupJoins();
    const o = t.vfio_('VFIO_IOMMU_GET_INFO', VFIO_IOMMU_TYPE1_INFO, { argsz: 24 });
    expect(KStruct.fromUser(VFIO_IOMMU_TYPE1_INFO, o.buf, 24)!.num('argsz')).toBe(24 + 12 + 32);
  });

  // Rule: IOMMU_VFIO_IOAS GET answers the compat IOAS (-ENODEV without), SET picks another,
  // CLEAR drops it; destroying the compat IOAS drops it too.
  it('IOMMU_VFIO_IOAS', () => {
    const t = new Compat();
    expect(e(t.vfio_ioas_(GET).errno)).toBe(e(ENODEV));
    const a = t.groupJoins();
    expect(t.ok(t.vfio_ioas_(GET)).k.num('ioas_id')).toBe(a);
    const b = t.ioas_alloc();
    t.ok(t.vfio_ioas_(SET, b));
    expect(t.kernel.iommufd!.compatIoasGetId(t.ctx)).toBe(b);
    expect(e(t.vfio_ioas_(SET, 9).errno)).toBe(e(ENOENT));
    t.ok(t.vfio_ioas_(CLEAR));
    expect(t.kernel.iommufd!.compatIoasGetId(t.ctx)).toBe(-ENODEV);
    t.ok(t.vfio_ioas_(SET, a));
    t.destroy(a);
    expect(e(t.vfio_ioas_(GET).errno)).toBe(e(ENODEV));
    expect(e(t.vfio_ioas_(3).errno)).toBe(e(95));
  });

  // Rule: the VFIO ioctls answer on /dev/iommu too (iommufd_fops_ioctl falls through to them).
  it('on /dev/iommu', () => {
    const t = new Iommufd();
    const r = t.kernel.ioctl(t.proc, t.fd, requestNr('VFIO_CHECK_EXTENSION'), { value: 3n });
    expect([r.ret, r.errno]).toEqual([1, 0]);
    const legacy = new Iommufd('6.12', 'qemu-q35-vtd', {}, 'iommufd', '/dev/vfio/vfio');
    // With the legacy container kept, /dev/vfio/vfio is VFIO's own.
    expect(legacy.proc.file(legacy.fd)!.ops.kind).toBe('container');
    expect(legacy.dmesg().some((l) => l.includes('IOMMUFD is providing'))).toBe(false);
  });
});

describe('the compat container: TYPE1 holes, empty unmaps, unreadable maps', () => {
  // Rule: SET_IOMMU(TYPE1) turns large pages off, and UNMAP_DMA then cuts the areas at the
  // range's ends first (iopt_cut_iova, vfio_compat.c): a TYPE1 user unmaps inside a mapping.
  // TYPE1v2 keeps large pages and answers -ENOENT for a range that splits one.
  it('TYPE1 unmaps a hole; TYPE1v2 does not', () => {
    const t1 = new Compat();
    t1.groupJoins();
    expect(e(t1.set_iommu(1))).toBe(e(0));
    const buf = t1.mmap(16n * PAGE);
    expect(e(t1.map_dma(buf, 0x100000n, 16n * PAGE))).toBe(e(0));
    expect(t1.unmap_dma(0x100000n, 8n * PAGE)).toEqual({ errno: 0, size: 8n * PAGE });
    expect(t1.unmap_dma(0x10a000n, PAGE)).toEqual({ errno: 0, size: PAGE });
    // What is left: [0x108000, 0x10a000) and [0x10b000, 0x110000), two areas.
    expect(t1.unmap_dma(0x108000n, 8n * PAGE)).toEqual({ errno: 0, size: 7n * PAGE });
    const t2 = new Compat();
    t2.groupJoins();
    expect(e(t2.set_iommu(3))).toBe(e(0));
    const buf2 = t2.mmap(16n * PAGE);
    expect(e(t2.map_dma(buf2, 0x100000n, 16n * PAGE))).toBe(e(0));
    expect(t2.unmap_dma(0x100000n, 8n * PAGE)).toEqual({ errno: ENOENT, size: 0n });
  });

  // Rule: 7.2's iopt_unmap_iova_range() starts from rc = 0: UNMAP_DMA of a range with nothing
  // mapped answers 0 with size 0 (6.12: -ENOENT); IOMMU_IOAS_UNMAP keeps its own -ENOENT.
  it('an unmap that finds nothing', () => {
    const now = new Compat('7.2');
    const ioas = now.groupJoins();
    expect(now.unmap_dma(0x100000n, PAGE)).toEqual({ errno: 0, size: 0n });
    now.unmap_err(ENOENT, ioas, 0x100000n, PAGE);
    const then = new Compat('6.12');
    then.groupJoins();
    expect(then.unmap_dma(0x100000n, PAGE)).toEqual({ errno: ENOENT, size: 0n });
  });

  // Rule: MAP_DMA flags 0 passes a prot with neither READ nor WRITE: with no domain it is only
  // recorded; a VT-d domain refuses it with -EINVAL, on 7.2 after generic_pt's WARN_ON
  // (iommu_pt.h map_range), whose report names the task and the taint before it.
  it('MAP_DMA with flags 0 into a VT-d domain', () => {
    const t = new Compat('7.2');
    const ioas = t.groupJoins();
    const buf = t.mmap(4n * PAGE);
    expect(e(t.map_dma(buf, 0x100000n, PAGE, 0n))).toBe(e(0));
    expect(t.unmap_dma(0x100000n, PAGE)).toEqual({ errno: 0, size: PAGE });
    expect(t.bind(EDU).attach(ioas).ret).toBe(0);
    const before = t.dmesg().length;
    expect(e(t.map_dma(buf, 0x100000n, PAGE, 0n))).toBe(e(EINVAL));
    expect(t.dmesg().slice(before)).toEqual([
      '------------[ cut here ]------------',
      'WARNING: drivers/iommu/generic_pt/fmt/../iommu_pt.h:947 at vtdss_map_range, CPU#0: vfio-emu/100',
      'CPU: 0 UID: 0 PID: 100 Comm: vfio-emu Not tainted',
      'Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014',
      '---[ end trace 0000000000000000 ]---',
    ]);
    expect(e(t.map_dma(buf, 0x100000n, PAGE, 1n))).toBe(e(0));
    const old = new Compat('6.12');
    const oldIoas = old.groupJoins();
    expect(old.bind(EDU).attach(oldIoas).ret).toBe(0);
    const n = old.dmesg().length;
    expect(e(old.map_dma(old.mmap(PAGE), 0x100000n, PAGE, 0n))).toBe(e(EINVAL));
    expect(old.dmesg().slice(n)).toEqual([]);
  });
});
