// struct file, reduced to what the VFIO model needs. Each open file has ops; the fd table
// (process.ts) maps numbers to files. Handlers follow the kernel's convention: they return a
// non-negative value on success and a negative errno on failure.

import type { FileKind } from '../uapi/fd-kind.js';
import type { Process } from './process.js';

/** What the ioctl's `unsigned long arg` was: a value, and (for pointer arguments) the user buffer it points to. */
export interface UserArg {
  /** The raw argument as passed (for by-value ioctls such as CHECK_EXTENSION). */
  value: bigint;
  /**
   * The user buffer at `value`, when the caller passed a pointer to memory it owns.
   * Absent means the pointer does not reach readable user memory: copy_from_user faults.
   * Its length is the buffer the caller really has; the handler must never read or write
   * past it (a read past it is EFAULT, as copy_from_user would be).
   */
  buf?: Uint8Array;
}

export type { FileKind };

export interface FileOps {
  readonly kind: FileKind;
  ioctl?(proc: Process, cmd: number, arg: UserArg): number;
  /** pread(2): fills `out` from `offset`, returns bytes read or -errno. */
  read?(proc: Process, out: Uint8Array, offset: bigint): number;
  /** pwrite(2): returns bytes written or -errno. */
  write?(proc: Process, data: Uint8Array, offset: bigint): number;
  /** Checks that [offset, offset+len) of this file may be mmapped with prot; 0 or -errno. */
  mmap?(proc: Process, offset: bigint, len: bigint, prot: Prot): number;
  /** The last reference went away (close of the last fd). */
  release?(proc: Process): void;
}

export interface Prot {
  read: boolean;
  write: boolean;
}

/** Copy helpers with the kernel's semantics: a copy that does not fit the user buffer faults. */
export function userView(arg: UserArg, len: number): DataView | null {
  if (!arg.buf || arg.buf.length < len) return null;
  return new DataView(arg.buf.buffer, arg.buf.byteOffset, arg.buf.byteLength);
}
