// Shared test helpers for vfio-pci: a recording PciIrqOps double, machines like the traces'
// (edu at 00:01.0, e1000e at 00:02.0, firmware placement per architecture), poisoned byte
// buffers, and the iommufd-selftest-style helper triples (`_x` returns, `x` asserts
// success, `x_err(errno)` expects a failure).

import { expect } from 'vitest';
import { createPciDevice } from '../../src/hw/pci/registry.js';
import type { PciDeviceModel, PciFunction, PciInterruptSink } from '../../src/hw/pci/device.js';
import { ERAS, type Era } from '../../src/kernel/era.js';
import type { EventFd } from '../../src/kernel/eventfd.js';
import type { FileOps } from '../../src/kernel/file.js';
import { KernelLog } from '../../src/kernel/log.js';
import { Process } from '../../src/kernel/process.js';
import type { IrqKind, PciIrqOps } from '../../src/kernel/irq/pci-irq.js';
import type { VfioPciOptions } from '../../src/kernel/vfio-pci/core-device.js';
import { VfioPciDevice } from '../../src/kernel/vfio-pci/vfio-pci.js';
import { vfioIO } from '../../src/uapi/requests.js';

/** A PciIrqOps that records every call; enable/addVector answer `failWith` when set. */
export class FakeIrq implements PciIrqOps {
  calls: string[] = [];
  triggers = new Map<string, EventFd | null>();
  failWith = 0;
  constructor(public dynamic = false) {}
  canAllocDynamicMsix(): boolean {
    return this.dynamic;
  }
  enable(kind: IrqKind, nvec: number): number {
    this.calls.push(`enable ${kind} ${nvec}`);
    return this.failWith;
  }
  addVector(kind: IrqKind, vector: number): number {
    this.calls.push(`add ${kind} ${vector}`);
    return this.failWith;
  }
  disable(kind: IrqKind): void {
    this.calls.push(`disable ${kind}`);
  }
  setTrigger(kind: IrqKind, vector: number, trigger: EventFd | null): void {
    this.calls.push(`trigger ${kind} ${vector} ${trigger ? 'set' : 'null'}`);
    this.triggers.set(`${kind}${vector}`, trigger);
  }
  requestIntx(handler: (() => void) | null): void {
    this.calls.push(`request intx ${handler ? 'handler' : 'null'}`);
  }
  disableIntx(): void {
    this.calls.push('disable_irq intx');
  }
  enableIntx(): void {
    this.calls.push('enable_irq intx');
  }
  restoreMessages(): void {
    this.calls.push('restore messages');
  }
}

export const era = (name: string): Era => ERAS.get(name)!;

export type Firmware = 'x86' | 'arm64';

export function makeHw(model: string, bdf: string, params: Record<string, unknown> = {}): PciDeviceModel {
  const d = createPciDevice(model, bdf, params);
  if (typeof d === 'string') throw new Error(d);
  return d;
}

/** An interrupt sink that records what the function raised, one line each. */
export function recorder(): PciInterruptSink & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    intx: (l) => events.push(`intx ${l}`),
    msi: (k, v, a, d) => events.push(`${k} ${v} 0x${a.toString(16)} 0x${d.toString(16)}`),
  };
}

/** The resets the function has taken, by kind, as the hardware model counts them. */
export const resetsOf = (hw: PciDeviceModel): { flr: number; pm: number } => ({ ...(hw as PciFunction).resets });

export interface Rig {
  dev: VfioPciDevice;
  hw: PciDeviceModel;
  irq: FakeIrq;
  log: KernelLog;
  proc: Process;
}

/** A device bound to vfio-pci (not opened). */
export function bind(model: string, eraName: string, opts: { firmware?: Firmware; params?: Record<string, unknown>; dynamic?: boolean; vfio?: VfioPciOptions } = {}): Rig {
  const bdf = model === 'edu' ? '0000:00:01.0' : '0000:00:02.0';
  const params = { ...(model === 'edu' || model === 'e1000e' ? { firmware: opts.firmware ?? 'x86' } : {}), ...(opts.params ?? {}) };
  const hw = makeHw(model, bdf, params);
  const irq = new FakeIrq(opts.dynamic ?? false);
  const log = new KernelLog();
  const dev = new VfioPciDevice({ era: era(eraName), log, irq, pageSize: 0x1000n }, hw, opts.vfio);
  const proc = newProc();
  return { dev, hw, irq, log, proc };
}

/** A device bound and opened, as GROUP_GET_DEVICE_FD leaves it. */
export function open(model: string, eraName: string, opts: Parameters<typeof bind>[2] = {}): Rig {
  const r = bind(model, eraName, opts);
  expect(r.dev.openDevice()).toBe(0);
  return r;
}

export function newProc(): Process {
  const p = new Process({ pageSize: 0x1000n, taskSize: 0x7fff_ffff_f000n, mmapBase: 0x7f00_0000_0000n, minAddr: 0x10000n });
  // fds 3 and 4 are the container and the group in the traces.
  p.install(placeholder('container'), '/dev/vfio/vfio');
  p.install(placeholder('group'), '/dev/vfio/N');
  return p;
}

export const placeholder = (kind: FileOps['kind']): FileOps => ({ kind });

// ---- buffers ------------------------------------------------------------------------------

/** A buffer of `len` bytes poisoned with 0xaa, then `words` (u32 LE) written from offset 0. */
export function buf(len: number, ...words: number[]): Uint8Array {
  const b = new Uint8Array(len).fill(0xaa);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  return b;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const u32 = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset).getUint32(off, true);
export const u64 = (b: Uint8Array, off: number): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);

// ---- ioctls -------------------------------------------------------------------------------

export const GET_INFO = vfioIO(7);
export const GET_REGION_INFO = vfioIO(8);
export const GET_IRQ_INFO = vfioIO(9);
export const SET_IRQS = vfioIO(10);
export const RESET = vfioIO(11);
export const GET_PCI_HOT_RESET_INFO = vfioIO(12);
export const PCI_HOT_RESET = vfioIO(13);

export const _ioctl = (r: Rig, cmd: number, b?: Uint8Array): number => r.dev.ioctl(r.proc, cmd, { value: 0n, buf: b });
export const ioctl = (r: Rig, cmd: number, b?: Uint8Array): void => expect(_ioctl(r, cmd, b)).toBe(0);
export const ioctl_err = (r: Rig, cmd: number, b: Uint8Array | undefined, errno: number): void => expect(_ioctl(r, cmd, b)).toBe(-errno);

/** A vfio_irq_set: argsz, flags, index, start, count, then s32 data words. */
export function irqSet(flags: number, index: number, start: number, count: number, data: number[] = [], argsz?: number): Uint8Array {
  const len = 20 + data.length * 4;
  return buf(len, argsz ?? len, flags, index, start, count, ...data);
}

export const _set_irqs = (r: Rig, flags: number, index: number, start: number, count: number, data: number[] = []): number =>
  _ioctl(r, SET_IRQS, irqSet(flags, index, start, count, data));
export const set_irqs = (r: Rig, flags: number, index: number, start: number, count: number, data: number[] = []): void =>
  expect(_set_irqs(r, flags, index, start, count, data)).toBe(0);
export const set_irqs_err = (r: Rig, errno: number, flags: number, index: number, start: number, count: number, data: number[] = []): void =>
  expect(_set_irqs(r, flags, index, start, count, data)).toBe(-errno);

export const _pread = (r: Rig, offset: bigint, len: number): { ret: number; out: Uint8Array } => {
  const out = new Uint8Array(len);
  return { ret: r.dev.read(r.proc, out, offset), out };
};
export const pread = (r: Rig, offset: bigint, len: number): Uint8Array => {
  const { ret, out } = _pread(r, offset, len);
  expect(ret).toBe(len);
  return out;
};
export const pread_err = (r: Rig, offset: bigint, len: number, errno: number): void => expect(_pread(r, offset, len).ret).toBe(-errno);

export const _pwrite = (r: Rig, offset: bigint, data: Uint8Array): number => r.dev.write(r.proc, data, offset);
export const pwrite = (r: Rig, offset: bigint, data: Uint8Array): void => expect(_pwrite(r, offset, data)).toBe(data.length);
export const pwrite_err = (r: Rig, offset: bigint, data: Uint8Array, errno: number): void => expect(_pwrite(r, offset, data)).toBe(-errno);

export const _mmap = (r: Rig, offset: bigint, len: bigint): number => r.dev.mmap(r.proc, offset, len, { read: true, write: true });
export const mmap = (r: Rig, offset: bigint, len: bigint): void => expect(_mmap(r, offset, len)).toBe(0);
export const mmap_err = (r: Rig, offset: bigint, len: bigint, errno: number): void => expect(_mmap(r, offset, len)).toBe(-errno);

/** Region offset: index << 40. */
export const region = (index: number, off = 0n): bigint => (BigInt(index) << 40n) + off;

export const IRQ = { NONE: 1, BOOL: 2, EVENTFD: 4, MASK: 8, UNMASK: 16, TRIGGER: 32 };
export const IDX = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4 };
