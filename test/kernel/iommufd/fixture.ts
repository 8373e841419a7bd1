// An iommufd context on a booted machine, driven the way tools/testing/selftests/iommu/iommufd.c
// drives /dev/iommu: helpers in threes (`x_` returns, `x` asserts success and returns the
// answer, `x_err(errno, …)` expects that failure), structs sent at their exact size, user
// memory from mmap, output arrays filled with 0xaa so bytes the kernel did not write show.

import { expect } from 'vitest';
import { errnoName } from '../../../src/uapi/errno.js';
import type { Kernel } from '../../../src/kernel/kernel.js';
import type { Process } from '../../../src/kernel/process.js';
import type { IommufdCtx, IommufdDevice } from '../../../src/kernel/iommufd/device-api.js';
import { boot } from '../../../src/machine/boot.js';
import { requestNr } from '../../../src/uapi/requests.js';
import { encodeStruct, KStruct, type StructDef } from '../../../src/uapi/struct.js';
import {
  IOMMU_DESTROY,
  IOMMU_FAULT_ALLOC,
  IOMMU_HWPT_ALLOC,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_MAP_FILE,
  IOMMU_IOAS_UNMAP,
  IOMMU_OPTION,
  IOMMU_VFIO_IOAS,
} from '../../../src/uapi/iommufd.js';

export const U64_MAX = (1n << 64n) - 1n;
export const PAGE = 0x1000n;
export const FIXED = 1n;
export const WRITE = 2n;
export const READ = 4n;
export const RW = READ | WRITE;

export interface Out {
  ret: number;
  errno: number;
  /** The struct as the kernel left it. */
  k: KStruct;
}

const errs = (n: number): string => errnoName(n);

export class Iommufd {
  readonly kernel: Kernel;
  readonly proc: Process;
  readonly fd: number;

  constructor(era = '6.12', preset = 'qemu-q35-vtd', options: Record<string, string> = {}, config = 'iommufd', path = '/dev/iommu') {
    ({ kernel: this.kernel, proc: this.proc } = boot(era, preset, options, config));
    this.fd = this.open(path);
  }

  open(path: string): number {
    const r = this.kernel.open(this.proc, path);
    expect(errs(r.errno), `open ${path}`).toBe(errs(0));
    return Number(r.ret);
  }

  /** One command with `fields` in a buffer of `size` bytes (default the struct's), every other byte 0. */
  cmd_(name: string, def: StructDef, fields: Record<string, bigint | number>, size = def.size, fd = this.fd): Out {
    const buf = encodeStruct(def, new Map(Object.entries({ size, ...fields }).map(([k, v]) => [k, BigInt(v)])), Math.max(size, def.size), 0);
    const r = this.kernel.ioctl(this.proc, fd, requestNr(name), { value: 1n, buf });
    return { ret: Number(r.ret), errno: r.errno, k: KStruct.fromUser(def, buf, def.size)! };
  }

  ok(o: Out): Out {
    expect(errs(o.errno)).toBe(errs(0));
    return o;
  }

  err(errno: number, o: Out): void {
    expect(errs(o.errno)).toBe(errs(errno));
  }

  /** Anonymous user memory (MAP_PRIVATE|MAP_ANONYMOUS), read-write unless asked. */
  mmap(len: bigint, prot = { read: true, write: true }): bigint {
    const r = this.kernel.mmap(this.proc, len, prot);
    expect(r.errno).toBe(0);
    return r.ret as bigint;
  }

  /** A user buffer of `len` bytes filled with 0xaa. */
  poisoned(len: number): bigint {
    const at = this.mmap(BigInt(Math.max(len, 1)));
    expect(this.proc.mm.copyToUser(at, new Uint8Array(len).fill(0xaa))).toBe(0);
    return at;
  }

  read(at: bigint, len: number): Uint8Array {
    const b = this.proc.mm.copyFromUser(at, len);
    if (typeof b === 'number') throw new Error(`read at ${at}: ${b}`);
    return b;
  }

  // ---- commands ----------------------------------------------------------------------------------

  ioas_alloc_(): Out {
    return this.cmd_('IOMMU_IOAS_ALLOC', IOMMU_IOAS_ALLOC, {});
  }
  ioas_alloc(): number {
    return this.ok(this.ioas_alloc_()).k.num('out_ioas_id');
  }

  destroy_(id: number): Out {
    return this.cmd_('IOMMU_DESTROY', IOMMU_DESTROY, { id });
  }
  destroy(id: number): void {
    this.ok(this.destroy_(id));
  }
  destroy_err(errno: number, id: number): void {
    this.err(errno, this.destroy_(id));
  }

  map_(ioas: number, user_va: bigint, length: bigint, iova = 0n, flags = RW): Out {
    return this.cmd_('IOMMU_IOAS_MAP', IOMMU_IOAS_MAP, { ioas_id: ioas, flags, user_va, length, iova });
  }
  /** MAP; the IOVA the kernel answered. */
  map(ioas: number, user_va: bigint, length: bigint, iova = 0n, flags = RW): bigint {
    return this.ok(this.map_(ioas, user_va, length, iova, flags)).k.get('iova');
  }
  map_err(errno: number, ioas: number, user_va: bigint, length: bigint, iova = 0n, flags = RW): void {
    this.err(errno, this.map_(ioas, user_va, length, iova, flags));
  }

  /** A memfd of `len` bytes (memfd_create + ftruncate): its fd. */
  memfd(len: bigint): number {
    const r = this.kernel.memfd(this.proc, len);
    expect(errs(r.errno)).toBe(errs(0));
    return Number(r.ret);
  }

  map_file_(ioas: number, fd: number, start: bigint, length: bigint, iova = 0n, flags = RW): Out {
    return this.cmd_('IOMMU_IOAS_MAP_FILE', IOMMU_IOAS_MAP_FILE, { ioas_id: ioas, fd: BigInt.asUintN(32, BigInt(fd)), start, length, iova, flags });
  }
  /** MAP_FILE; the IOVA the kernel answered. */
  map_file(ioas: number, fd: number, start: bigint, length: bigint, iova = 0n, flags = RW): bigint {
    return this.ok(this.map_file_(ioas, fd, start, length, iova, flags)).k.get('iova');
  }
  map_file_err(errno: number, ioas: number, fd: number, start: bigint, length: bigint, iova = 0n, flags = RW): void {
    this.err(errno, this.map_file_(ioas, fd, start, length, iova, flags));
  }

  fault_alloc_(flags = 0n): Out {
    return this.cmd_('IOMMU_FAULT_QUEUE_ALLOC', IOMMU_FAULT_ALLOC, { flags });
  }
  /** FAULT_QUEUE_ALLOC: the queue's object id and fd. */
  fault_alloc(): { id: number; fd: number } {
    const k = this.ok(this.fault_alloc_()).k;
    return { id: k.num('out_fault_id'), fd: k.num('out_fault_fd') };
  }
  fault_alloc_err(errno: number, flags: bigint): void {
    this.err(errno, this.fault_alloc_(flags));
  }

  unmap_(ioas: number, iova: bigint, length: bigint): Out {
    return this.cmd_('IOMMU_IOAS_UNMAP', IOMMU_IOAS_UNMAP, { ioas_id: ioas, iova, length });
  }
  /** UNMAP; the length the kernel answered. */
  unmap(ioas: number, iova: bigint, length: bigint): bigint {
    return this.ok(this.unmap_(ioas, iova, length)).k.get('length');
  }
  unmap_err(errno: number, ioas: number, iova: bigint, length: bigint): void {
    this.err(errno, this.unmap_(ioas, iova, length));
  }

  copy_(dst: number, src: number, src_iova: bigint, length: bigint, dst_iova = 0n, flags = RW): Out {
    return this.cmd_('IOMMU_IOAS_COPY', IOMMU_IOAS_COPY, { dst_ioas_id: dst, src_ioas_id: src, src_iova, length, dst_iova, flags });
  }

  /** IOVA_RANGES into a 0xaa-filled array of `num` entries: the answer and the array's bytes. */
  iova_ranges_(ioas: number, num: number): Out & { ranges: [bigint, bigint][]; raw: Uint8Array } {
    const at = this.poisoned(num * 16);
    const o = this.cmd_('IOMMU_IOAS_IOVA_RANGES', IOMMU_IOAS_IOVA_RANGES, { ioas_id: ioas, num_iovas: num, allowed_iovas: at });
    const raw = this.read(at, num * 16);
    const dv = new DataView(raw.buffer);
    const n = Math.min(num, o.k.num('num_iovas'));
    const ranges: [bigint, bigint][] = [];
    for (let i = 0; i < n; i++) ranges.push([dv.getBigUint64(i * 16, true), dv.getBigUint64(i * 16 + 8, true)]);
    return { ...o, ranges, raw };
  }

  allow_iovas_(ioas: number, ranges: [bigint, bigint][]): Out {
    const at = this.mmap(BigInt(Math.max(ranges.length * 16, 16)));
    const b = new Uint8Array(ranges.length * 16);
    const dv = new DataView(b.buffer);
    ranges.forEach(([s, l], i) => {
      dv.setBigUint64(i * 16, s, true);
      dv.setBigUint64(i * 16 + 8, l, true);
    });
    expect(this.proc.mm.copyToUser(at, b)).toBe(0);
    return this.cmd_('IOMMU_IOAS_ALLOW_IOVAS', IOMMU_IOAS_ALLOW_IOVAS, { ioas_id: ioas, num_iovas: ranges.length, allowed_iovas: at });
  }

  option_(option_id: number, op: number, object_id: number, val64 = 0n): Out {
    return this.cmd_('IOMMU_OPTION', IOMMU_OPTION, { option_id, op, object_id, val64 });
  }

  vfio_ioas_(op: number, ioas_id = 0, fd = this.fd): Out {
    return this.cmd_('IOMMU_VFIO_IOAS', IOMMU_VFIO_IOAS, { op, ioas_id }, IOMMU_VFIO_IOAS.size, fd);
  }

  hwpt_alloc_(dev_id: number, pt_id: number, flags = 0n, fault_id = 0): Out {
    return this.cmd_('IOMMU_HWPT_ALLOC', IOMMU_HWPT_ALLOC, { dev_id, pt_id, flags, fault_id });
  }

  // ---- devices, through the VFIO-side API ---------------------------------------------------------

  get ctx(): IommufdCtx {
    const f = this.proc.file(this.fd)!;
    const c = this.kernel.iommufd!.ctxFromFile(f);
    if (typeof c === 'number') throw new Error(`ctxFromFile: ${c}`);
    return c;
  }

  /** Binds `bdf` to vfio-pci, then to this context (iommufd_device_bind). */
  bind_(bdf: string): IommufdDevice | number {
    expect(this.kernel.bind(bdf, 'vfio-pci').errno).toBe(0);
    return this.kernel.iommufd!.bind(this.ctx, this.kernel.devices.get(bdf)!);
  }
  bind(bdf: string): IommufdDevice {
    const d = this.bind_(bdf);
    if (typeof d === 'number') throw new Error(`bind ${bdf}: ${errs(-d)}`);
    return d;
  }

  dmesg(): string[] {
    return this.kernel.log.lines.map((l) => l.text);
  }
}

/** errno of a kernel-internal return (-errno or a value). */
export const errOf = (r: number): string => errs(r < 0 ? -r : 0);
