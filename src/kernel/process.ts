// A process: its fd table and its address space. The scenario runner and the trace replayer
// are "user space": they call the syscall methods here, which answer as the kernel does
// (a value, or -1 with errno).

import { EBADF, EINVAL, EMFILE } from '../uapi/errno.js';
import { EventFd } from './eventfd.js';
import { OpenFile, type FileOps, type Task } from './file.js';
import { AddressSpace, type AddressSpaceLayout } from './mm.js';

/** The first user process's pid: a small machine's boot has used the numbers below (kernel threads, init). */
export const FIRST_PID = 100;

/** The open-file limit (RLIMIT_NOFILE's usual soft limit). */
const NOFILE = 1024;

export class Process implements Task {
  readonly mm: AddressSpace;
  private readonly fds: (OpenFile | undefined)[] = [];

  /**
   * `pid` and `comm` (task->comm, at most 15 characters) are what the kernel's reports about the
   * running task print (a WARN's "CPU#0: comm/pid"). The model's user program is vfio-emu.
   */
  constructor(
    layout: AddressSpaceLayout,
    readonly pid = FIRST_PID,
    readonly comm = 'vfio-emu',
  ) {
    this.mm = new AddressSpace(layout);
  }

  /** Installs a file at the lowest free fd (0, 1, 2 are taken by stdio), as fd_install does. */
  install(ops: FileOps, path: string): number {
    for (let fd = 3; fd < NOFILE; fd++) {
      if (!this.fds[fd]) {
        const f = new OpenFile(ops, path);
        f.refs = 1;
        this.fds[fd] = f;
        return fd;
      }
    }
    return -EMFILE;
  }

  /** fdget(): the open file behind fd, or undefined (EBADF). */
  file(fd: number): OpenFile | undefined {
    return Number.isInteger(fd) && fd >= 0 && fd < NOFILE ? this.fds[fd] : undefined;
  }

  /** close(2): 0 or -EBADF. The file's release runs when its last reference goes. */
  close(fd: number): number {
    const f = this.file(fd);
    if (!f || fd < 3) return -EBADF;
    this.fds[fd] = undefined;
    if (--f.refs === 0) f.ops.release?.(this);
    return 0;
  }

  /** Every open fd with its file, lowest first. */
  openFds(): [number, OpenFile][] {
    const out: [number, OpenFile][] = [];
    this.fds.forEach((f, fd) => f && out.push([fd, f]));
    return out;
  }

  /** eventfd(2). */
  eventfd(): number {
    return this.install(new EventFd(), 'anon_inode:[eventfd]');
  }

  /** eventfd_ctx_fdget(): the eventfd behind fd, -EBADF for no file, -EINVAL for another kind. */
  eventfdGet(fd: number): EventFd | number {
    const f = this.file(fd);
    if (!f) return -EBADF;
    return f.ops instanceof EventFd ? f.ops : -EINVAL;
  }

  /** Closes everything, as exit does. */
  exit(): void {
    for (const [fd] of this.openFds()) this.close(fd);
  }
}
