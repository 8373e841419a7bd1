// A booted machine and one process, for kernel-model tests. Helpers come in threes, as in
// iommufd's selftests: `x_` returns the result, `x` asserts success, `x_err(errno, …)` expects
// that failure.

import { expect } from 'vitest';
import { errnoName } from '../../src/uapi/errno.js';
import type { Kernel, SysResult } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { boot } from '../../src/machine/boot.js';
import { requestNr } from '../../src/uapi/requests.js';
import { encodeStruct, KStruct, type StructDef } from '../../src/uapi/struct.js';
import {
  VFIO_IOMMU_TYPE1_DMA_MAP,
  VFIO_IOMMU_TYPE1_DIRTY_BITMAP,
  VFIO_IOMMU_TYPE1_DMA_UNMAP,
  VFIO_IOMMU_TYPE1_INFO,
  VFIO_GROUP_STATUS,
} from '../../src/uapi/structs.js';

export const nr = requestNr;
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export const READ = 1n;
export const WRITE = 2n;
export const RW = 3n;
export const BIT2 = 4n;
export const UNMAP_ALL = 2n;
export const UNMAP_VADDR = 4n;

export interface Out {
  ret: number;
  errno: number;
  buf: Uint8Array;
}

/** Poisons a buffer the way the recorded traces do, so bytes the kernel did not write show. */
export function poisoned(def: StructDef, values: Record<string, bigint | number>, len = def.size): Uint8Array {
  return encodeStruct(def, new Map(Object.entries(values).map(([k, v]) => [k, BigInt(v)])), len, 0xaa);
}

/** A struct vfio_bitmap: page size, bitmap bytes, user address. */
export interface Bitmap {
  pgsize: bigint;
  bsize: bigint;
  data: bigint;
}
const bitmapFields = (b: Bitmap) => ({ 'bitmap.pgsize': b.pgsize, 'bitmap.size': b.bsize, 'bitmap.data': b.data });

export class Machine {
  readonly kernel: Kernel;
  readonly proc: Process;
  container = -1;
  group = -1;

  /** Boots `preset` on `era`, or runs a new process on a kernel a test built itself. */
  constructor(era: string | Kernel, preset = '', options: Record<string, string> = {}) {
    if (typeof era !== 'string') {
      this.kernel = era;
      this.proc = era.newProcess();
      return;
    }
    ({ kernel: this.kernel, proc: this.proc } = boot(era, preset, options));
  }

  param(name: string, value: string): void {
    expect(this.kernel.sysfsWrite(`/sys/module/vfio_iommu_type1/parameters/${name}`, value)).toBe(value.length);
  }

  open(path: string): number {
    const r = this.kernel.open(this.proc, path);
    expect(r.errno, `open ${path}`).toBe(0);
    return Number(r.ret);
  }

  /** Binds `bdf`, opens the container and the group, joins them. */
  group_open(bdf: string): number {
    const g = Number(this.kernel.bind(bdf, 'vfio-pci').ret);
    this.container = this.open('/dev/vfio/vfio');
    this.group = this.open(`/dev/vfio/${g}`);
    expect(this.set_container_(this.group, this.container).errno).toBe(0);
    return g;
  }

  /** group_open + SET_IOMMU(type). */
  setup(bdf: string, type = 3): void {
    this.group_open(bdf);
    this.set_iommu(type);
  }

  ioctl_(fd: number, name: string, buf?: Uint8Array, value = 0n): Out {
    const b = buf ?? new Uint8Array(0);
    const r: SysResult = this.kernel.ioctl(this.proc, fd, nr(name), buf ? { value: 1n, buf: b } : { value });
    return { ret: Number(r.ret), errno: r.errno, buf: b };
  }

  set_container_(group: number, container: number): Out {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, container, true);
    return this.ioctl_(group, 'VFIO_GROUP_SET_CONTAINER', b);
  }

  set_iommu_(type: number): Out {
    return this.ioctl_(this.container, 'VFIO_SET_IOMMU', undefined, BigInt(type));
  }
  set_iommu(type = 3): void {
    expect(errnoName(this.set_iommu_(type).errno)).toBe(errnoName(0));
  }
  set_iommu_err(errno: number, type = 3): void {
    expect(errnoName(this.set_iommu_(type).errno)).toBe(errnoName(errno));
  }

  check_extension(ext: number): number {
    return this.ioctl_(this.container, 'VFIO_CHECK_EXTENSION', undefined, BigInt(ext)).ret;
  }

  group_status(fd = this.group): bigint {
    const o = this.ioctl_(fd, 'VFIO_GROUP_GET_STATUS', poisoned(VFIO_GROUP_STATUS, { argsz: 8 }));
    expect(o.errno).toBe(0);
    return KStruct.fromUser(VFIO_GROUP_STATUS, o.buf, 8)!.get('flags');
  }

  get_info_(argsz: number, len = Math.max(argsz, 24)): Out {
    return this.ioctl_(this.container, 'VFIO_IOMMU_GET_INFO', poisoned(VFIO_IOMMU_TYPE1_INFO, { argsz }, Math.min(len, 4096)));
  }

  mmap(len: bigint, prot = { read: true, write: true }): bigint {
    const r = this.kernel.mmap(this.proc, len, prot);
    expect(r.errno).toBe(0);
    return r.ret as bigint;
  }

  map_dma_(vaddr: bigint, iova: bigint, size: bigint, flags = RW, argsz = 32): Out {
    const b = poisoned(VFIO_IOMMU_TYPE1_DMA_MAP, { argsz, flags, vaddr, iova, size }, Math.max(argsz, 32));
    return this.ioctl_(this.container, 'VFIO_IOMMU_MAP_DMA', b);
  }
  map_dma(vaddr: bigint, iova: bigint, size: bigint, flags = RW): void {
    expect(errnoName(this.map_dma_(vaddr, iova, size, flags).errno)).toBe(errnoName(0));
  }
  map_dma_err(errno: number, vaddr: bigint, iova: bigint, size: bigint, flags = RW, argsz = 32): void {
    expect(errnoName(this.map_dma_(vaddr, iova, size, flags, argsz).errno)).toBe(errnoName(errno));
  }

  unmap_dma_(iova: bigint, size: bigint, flags = 0n, argsz = 24): Out & { size: bigint } {
    const b = poisoned(VFIO_IOMMU_TYPE1_DMA_UNMAP, { argsz, flags, iova, size }, Math.max(argsz, 24));
    const o = this.ioctl_(this.container, 'VFIO_IOMMU_UNMAP_DMA', b);
    return { ...o, size: KStruct.fromUser(VFIO_IOMMU_TYPE1_DMA_UNMAP, o.buf, 24)!.get('size') };
  }
  /** Asserts success; returns the unmapped size the kernel wrote back. */
  unmap_dma(iova: bigint, size: bigint, flags = 0n): bigint {
    const o = this.unmap_dma_(iova, size, flags);
    expect(errnoName(o.errno)).toBe(errnoName(0));
    return o.size;
  }
  unmap_dma_err(errno: number, iova: bigint, size: bigint, flags = 0n, argsz = 24): void {
    expect(errnoName(this.unmap_dma_(iova, size, flags, argsz).errno)).toBe(errnoName(errno));
  }
  /** UNMAP_DMA with GET_DIRTY_BITMAP: the vfio_bitmap follows the struct (argsz 48). */
  unmap_dma_dirty_(iova: bigint, size: bigint, bitmap: Bitmap): Out & { size: bigint } {
    const b = poisoned(VFIO_IOMMU_TYPE1_DMA_UNMAP, { argsz: 48, flags: 1n, iova, size, ...bitmapFields(bitmap) }, 48);
    const o = this.ioctl_(this.container, 'VFIO_IOMMU_UNMAP_DMA', b);
    return { ...o, size: KStruct.fromUser(VFIO_IOMMU_TYPE1_DMA_UNMAP, o.buf, 24)!.get('size') };
  }

  /** VFIO_IOMMU_DIRTY_PAGES: the flags alone (8 bytes), or GET_BITMAP's range and bitmap (48). */
  dirty_pages_(flags: bigint, range?: { iova: bigint; size: bigint } & Bitmap): Out {
    const len = range ? 48 : 8;
    const fields = range ? { iova: range.iova, size: range.size, ...bitmapFields(range) } : {};
    return this.ioctl_(this.container, 'VFIO_IOMMU_DIRTY_PAGES', poisoned(VFIO_IOMMU_TYPE1_DIRTY_BITMAP, { argsz: len, flags, ...fields }, len));
  }

  /** DMA_AVAIL from a full GET_INFO. */
  dmaAvail(): number {
    const o = this.get_info_(512);
    const b = o.buf;
    let off = new DataView(b.buffer).getUint32(16, true);
    while (off) {
      const dv = new DataView(b.buffer, off);
      if (dv.getUint16(0, true) === 3) return dv.getUint32(8, true);
      off = dv.getUint32(4, true);
    }
    return -1;
  }

  dmesg(): string[] {
    return this.kernel.log.lines.map((l) => l.text);
  }
}
