// struct file, reduced to what the VFIO model needs. Each open file has ops; the fd table
// (process.ts) maps numbers to files. Handlers follow the kernel's convention: they return a
// non-negative value on success and a negative errno on failure.

import type { FileKind } from '../uapi/fd-kind.js';
import type { AddressSpace } from './mm.js';
import type { Blocked } from './would-block.js';

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

/** An open file (struct file): its ops, the path it was opened by, and its references. */
export class OpenFile {
  refs = 0;
  /** f_pos: where read(2) and write(2) go (pread/pwrite take their own offset). */
  pos = 0n;
  constructor(
    readonly ops: FileOps,
    readonly path: string,
  ) {}
}

/**
 * The calling process as a file's handlers see it (the kernel's `current`): its address space
 * and its fd table. process.ts implements it; the handlers need no more of the process than this.
 */
export interface Task {
  readonly mm: AddressSpace;
  /** fdget(): the open file behind fd, or undefined (EBADF). */
  file(fd: number): OpenFile | undefined;
  /** fd_install() at the lowest free fd: the fd, or -EMFILE. */
  install(ops: FileOps, path: string): number;
  /** close(2): 0 or -EBADF. */
  close(fd: number): number;
}

export interface FileOps {
  readonly kind: FileKind;
  /** ioctl(2): a value, -errno, or Blocked when the call would not return (would-block.ts). */
  ioctl?(proc: Task, cmd: number, arg: UserArg): number | Blocked;
  /** pread(2): fills `out` from `offset`, returns bytes read or -errno. */
  read?(proc: Task, out: Uint8Array, offset: bigint): number;
  /** pwrite(2): returns bytes written or -errno. */
  write?(proc: Task, data: Uint8Array, offset: bigint): number;
  /**
   * read(2) of a file with its own f_op->read at the file position, where pread is not that
   * (an anon-inode queue: pread is -ESPIPE, read delivers records). Absent: read(2) is
   * pread at the file position (kernel.ts).
   */
  readPos?(proc: Task, out: Uint8Array): number;
  /** write(2), as readPos. */
  writePos?(proc: Task, data: Uint8Array): number;
  /** Checks that [offset, offset+len) of this file may be mmapped with prot; 0 or -errno. */
  mmap?(proc: Task, offset: bigint, len: bigint, prot: Prot): number;
  /**
   * A CPU load or store through a mapping of this file (the vm_ops fault path plus the access
   * itself): 0, or -errno when the page cannot be faulted in (the access gets SIGBUS).
   */
  mappedAccess?(offset: bigint, buf: Uint8Array, iswrite: boolean): number;
  /** The physical address a mapping's fault handler inserts at the file offset; undefined: SIGBUS. */
  mappedPhys?(offset: bigint): bigint | undefined;
  /** The last reference went away (close of the last fd). */
  release?(proc: Task): void;
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
