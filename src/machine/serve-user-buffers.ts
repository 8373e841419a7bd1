// The memory behind an ioctl's pointer fields under exec (docs/exec.md, "ioctl arguments").
//
// An iommufd command such as IOMMU_GET_HW_INFO passes, besides its struct, a pointer into the
// program's memory (data_uptr) that the kernel reads or writes with copy_from_user/copy_to_user.
// The model's kernel reaches user memory through the model process's address space, which
// under exec is not the program's. So the library copies those ranges in with the call: the
// server asks for them (NEED_MEM, from the uapi declarations in uapi/iommufd.ts), the library
// sends their bytes, and the server gives each range a VMA at the program's address, writes the
// bytes the kernel reads (traced as `store`s, so that a replay feeds the kernel the same), makes
// the call, and sends the ranges back, the bytes the kernel wrote traced as `load`s (a replay
// compares them).

import { userBuffersOf } from '../uapi/iommufd.js';
import type { StructDef } from '../uapi/struct.js';
import { fieldWidth, findField, readField } from '../uapi/struct.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import type { AddressSpace } from '../kernel/mm.js';
import { LIMITS } from '../lib/limits.js';

export interface UserRange {
  addr: bigint;
  /** Bytes the program could read there (a short one ends at its first unreadable page). */
  len: number;
  dir: 'in' | 'out' | 'inout';
}

export type UserMemEvent =
  | { op: 'mmap'; addr: bigint; len: bigint; prot: 'rw'; ret: bigint | -1; errno: number }
  | { op: 'store'; addr: bigint; len: number; in: Uint8Array; ret: number; errno: number }
  | { op: 'load'; addr: bigint; len: number; out: Uint8Array; ret: number; errno: number };

/** The ranges a command's pointer fields name, from its struct as the program passed it. */
export function userRanges(def: StructDef | undefined, buf: Uint8Array): UserRange[] {
  const out: UserRange[] = [];
  for (const d of userBuffersOf(def)) {
    const get = (name: string): bigint => {
      const f = findField(d.struct, name);
      return f && f.off + fieldWidth(f) <= buf.length ? readField(buf, f.off, f.type) : 0n;
    };
    const addr = get(d.ptr);
    const bytes = d.bytes(get);
    if (addr === 0n || bytes === 0n) continue;
    // More than one frame can carry is refused by the model's own limit, as a short copy.
    out.push({ addr, len: Number(bytes > BigInt(LIMITS.bufferBytes) ? BigInt(LIMITS.bufferBytes) : bytes), dir: d.dir });
  }
  return out;
}

/** The parts of [start, end) no VMA of `mm` covers, in order. */
export function vmaGaps(mm: AddressSpace, start: bigint, end: bigint): [bigint, bigint][] {
  let at = start;
  const gaps: [bigint, bigint][] = [];
  for (const v of mm.list().filter((v) => v.end > start && v.start < end)) {
    if (v.start > at) gaps.push([at, v.start]);
    if (v.end > at) at = v.end;
  }
  if (at < end) gaps.push([at, end]);
  return gaps;
}

/** Chunks of at most 8 bytes, as `store`/`load` events carry them (1, 2, 4 or 8). */
function* chunks(addr: bigint, len: number): Generator<[bigint, number, number]> {
  for (let i = 0; i < len; ) {
    const n = len - i >= 8 ? 8 : len - i >= 4 ? 4 : len - i >= 2 ? 2 : 1;
    yield [addr + BigInt(i), i, n];
    i += n;
  }
}

/**
 * Puts the program's bytes of each range into the model process: a VMA where it has none (the
 * program's memory is read-write where it passes a buffer), then the bytes the kernel reads.
 * Ranges the program could not read (len short of the declaration) get no VMA there, so the
 * kernel's copy faults (-EFAULT) as it would.
 */
export function userRangesIn(k: Kernel, proc: Process, ranges: UserRange[], bytes: Uint8Array[], emit: (e: UserMemEvent) => void): void {
  const mm = proc.mm;
  ranges.forEach((r, i) => {
    if (r.len === 0) return;
    const start = r.addr & ~(mm.layout.pageSize - 1n);
    const end = mm.pageAlignUp(r.addr + BigInt(r.len));
    for (const [s, e] of vmaGaps(mm, start, end)) {
      const m = k.mmap(proc, e - s, { read: true, write: true }, { hint: s });
      if (!m.errno && m.ret !== s) {
        k.munmap(proc, m.ret as bigint, e - s);
        continue;
      }
      emit({ op: 'mmap', addr: s, len: e - s, prot: 'rw', ret: m.errno ? -1 : (m.ret as bigint), errno: m.errno });
    }
    const data = bytes[i]!;
    if (r.dir === 'out') {
      // Bytes the kernel only writes: the model's page holds the program's, untraced (a replay
      // compares what the kernel wrote, not what was there).
      mm.copyToUser(r.addr, data);
      return;
    }
    for (const [a, off, n] of chunks(r.addr, r.len)) {
      const piece = data.slice(off, off + n);
      const s = k.store(proc, a, piece);
      emit({ op: 'store', addr: a, len: n, in: piece, ret: s.errno ? -1 : 0, errno: s.errno });
    }
  });
}

/** The ranges' bytes after the call, for the library to write back; what the kernel wrote is traced as loads. */
export function userRangesOut(proc: Process, ranges: UserRange[], before: Uint8Array[], emit: (e: UserMemEvent) => void): Uint8Array[] {
  return ranges.map((r, i) => {
    const now = proc.mm.copyFromUser(r.addr, r.len);
    if (typeof now === 'number') return before[i]!;
    if (r.dir !== 'in') {
      for (const [a, off, n] of chunks(r.addr, r.len)) {
        emit({ op: 'load', addr: a, len: n, out: now.slice(off, off + n), ret: 0, errno: 0 });
      }
    }
    return now;
  });
}
