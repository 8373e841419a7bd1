// Loads and stores through the process's address space (Kernel.load/store, mm.ts access): a
// device mapping reaches the BAR as a CPU MMIO access; anonymous memory the sparse pages.

import { describe, expect, it } from 'vitest';
import { boot } from '../../src/machine/boot.js';
import type { Kernel, SysResult } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { requestNr } from '../../src/uapi/requests.js';
import { EFAULT, EIO } from '../../src/uapi/errno.js';

const RW = { read: true, write: true };
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const CONFIG = 7n << 40n;

/** q35 with the device at bdf bound to vfio-pci and its fd open; BAR0's first pages mapped. */
function device(bdf: string, group: number, pages = 1n): { k: Kernel; p: Process; fd: number; bar0: bigint } {
  const { kernel: k, proc: p } = boot('6.1', 'qemu-q35-vtd');
  expect(k.bind(bdf, 'vfio-pci').errno).toBe(0);
  const c = Number(k.open(p, '/dev/vfio/vfio').ret);
  const g = Number(k.open(p, `/dev/vfio/${group}`).ret);
  const cbuf = new Uint8Array(4);
  new DataView(cbuf.buffer).setInt32(0, c, true);
  expect(k.ioctl(p, g, requestNr('VFIO_GROUP_SET_CONTAINER'), { value: 0n, buf: cbuf }).errno).toBe(0);
  expect(k.ioctl(p, c, requestNr('VFIO_SET_IOMMU'), { value: 3n }).errno).toBe(0);
  const name = new TextEncoder().encode(`${bdf}\0`);
  const fd = Number(k.ioctl(p, g, requestNr('VFIO_GROUP_GET_DEVICE_FD'), { value: 0n, buf: name }).ret);
  const m = k.mmap(p, pages * 0x1000n, RW, { fd, offset: 0n });
  expect(m.errno).toBe(0);
  return { k, p, fd, bar0: m.ret as bigint };
}

const load_ = (k: Kernel, p: Process, addr: bigint, width: number): { r: SysResult; out: Uint8Array } => {
  const out = new Uint8Array(width).fill(0xaa);
  return { r: k.load(p, addr, out), out };
};
const load = (k: Kernel, p: Process, addr: bigint, width: number): string => {
  const { r, out } = load_(k, p, addr, width);
  expect(r).toEqual({ ret: 0, errno: 0 });
  return hex(out);
};
const load_err = (k: Kernel, p: Process, addr: bigint, errno: number, signal: string): void => {
  expect(load_(k, p, addr, 4).r).toEqual({ ret: -1, errno, signal });
};
const store = (k: Kernel, p: Process, addr: bigint, data: string): void => {
  expect(k.store(p, addr, Buffer.from(data, 'hex'))).toEqual({ ret: 0, errno: 0 });
};

describe('load/store in a mapping of a BAR', () => {
  // edu.c: the identification register (0x00) is 0x010000ed (major 1, minor 0).
  it('edu ident', () => {
    const { k, p, bar0 } = device('0000:00:01.0', 1);
    expect(load(k, p, bar0, 4)).toBe('ed000001');
  });

  // edu.c: the liveness register (0x04) reads the bitwise inverse of what was written.
  it('edu liveness', () => {
    const { k, p, bar0 } = device('0000:00:01.0', 1);
    store(k, p, bar0 + 4n, '78563412');
    expect(load(k, p, bar0 + 4n, 4)).toBe('87a9cbed');
  });

  // e1000e STATUS (0x08): 0x00080283 (FD, LU, 1000 Mb/s, PHYRA, GIO master enable).
  it('e1000e STATUS', () => {
    const { k, p, bar0 } = device('0000:00:02.0', 2);
    expect(load(k, p, bar0 + 8n, 4)).toBe('83020800');
  });

  // vfio_pci_mmap_fault: memory decode off, the fault answers VM_FAULT_SIGBUS (errno-like EIO);
  // the access works again once decode is back on.
  it('SIGBUS while memory decode is off', () => {
    const { k, p, fd, bar0 } = device('0000:00:01.0', 1);
    expect(k.pwrite(p, fd, Uint8Array.of(0, 0), CONFIG + 4n)).toEqual({ ret: 2, errno: 0 });
    load_err(k, p, bar0, EIO, 'SIGBUS');
    expect(k.store(p, bar0 + 4n, Uint8Array.of(1, 0, 0, 0))).toEqual({ ret: -1, errno: EIO, signal: 'SIGBUS' });
    expect(k.pwrite(p, fd, Uint8Array.of(6, 0), CONFIG + 4n)).toEqual({ ret: 2, errno: 0 });
    expect(load(k, p, bar0, 4)).toBe('ed000001');
  });

  // No VMA, or a VMA whose protection refuses the access: SIGSEGV (errno-like EFAULT).
  it('SIGSEGV', () => {
    const { k, p, fd, bar0 } = device('0000:00:01.0', 1);
    load_err(k, p, 0x1000n, EFAULT, 'SIGSEGV');
    const ro = k.mmap(p, 0x1000n, { read: true, write: false }, { fd, offset: 0n }).ret as bigint;
    expect(k.store(p, ro + 4n, Uint8Array.of(1, 0, 0, 0))).toEqual({ ret: -1, errno: EFAULT, signal: 'SIGSEGV' });
    expect(k.munmap(p, bar0, 0x1000n).errno).toBe(0);
    load_err(k, p, bar0, EFAULT, 'SIGSEGV');
  });

  // A split VMA keeps its file offset (vm_pgoff moves with the start): after munmap of the
  // first page of a two-page mapping, the second page still reaches BAR0+0x1000, which edu
  // answers with all ones (edu_mmio_read's default), not the ident at 0x00.
  it('a split mapping keeps its region offset', () => {
    const { k, p, bar0 } = device('0000:00:01.0', 1, 2n);
    expect(k.munmap(p, bar0, 0x1000n).errno).toBe(0);
    expect(load(k, p, bar0 + 0x1000n, 4)).toBe('ffffffff');
  });
});

describe('load/store in anonymous memory', () => {
  // The sparse pages: a store reads back; an untouched page reads zeros.
  it('reads back', () => {
    const { kernel: k, proc: p } = boot('6.1', 'qemu-q35-vtd');
    const buf = k.mmap(p, 0x2000n, RW).ret as bigint;
    expect(load(k, p, buf + 0x1000n, 8)).toBe('0000000000000000');
    store(k, p, buf + 8n, '0102030405060708');
    expect(load(k, p, buf + 8n, 8)).toBe('0102030405060708');
  });
});
