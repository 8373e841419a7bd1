// A program's own memfd as the file behind IOMMU_IOAS_MAP_FILE (docs/exec.md, "File-backed DMA"),
// or behind a MAP_SHARED mapping of it that MAP_DMA/IOMMU_IOAS_MAP pins ("Memory").
//
// The kernel pins a memfd's shmem pages by file offset (memfd_pin_folios, mm/gup.c) and the
// device's DMA reaches those pages, which the program sees through its mappings of the memfd.
// The server cannot be handed the descriptor (Node has no SCM_RIGHTS), so it opens the same
// file again through /proc/PID/fd/N, where PID is a process of the tree `exec` started, and
// only when what it opened is a memfd: shmem (not hugetlbfs) and named "/memfd:…", checked on
// the server's own descriptor (/proc/self/fd/M and statfs of it), so that a swap of the
// program's fd between the check and the open cannot slip another file in. It opens it with the
// access the program's fd has (fdinfo's flags), never more: a read-only fd is served only for a
// mapping the device does not write.

import { closeSync, fstatSync, openSync, readFileSync, readlinkSync, statfsSync, statSync } from 'node:fs';

/** TMPFS_MAGIC (include/uapi/linux/magic.h): memfd_create()'s shmem files; hugetlbfs is not. */
const TMPFS_MAGIC = 0x01021994;
const O_ACCMODE = 3;
const O_RDONLY = 0;
const O_RDWR = 2;

export interface ProgramMemfd {
  /** The server's descriptor for the program's memfd (the same shmem inode). */
  fd: number;
  /** i_size when it was opened. */
  size: bigint;
}

/** Whether `pid` is `root` or one of its descendants (the ppid chain, fs/proc/array.c's stat). */
export function inTree(pid: number, root: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 4096; hops++) {
    if (p === root) return true;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'latin1');
    } catch {
      return false;
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so after the last ')'.
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    p = Number(after[1]);
  }
  return false;
}

/**
 * Opens fd `fd` of process `pid` when it is a memfd the program may have the device read (and,
 * with `writable`, write): the server's descriptor and the file's size, or undefined for
 * anything else (the caller answers EBADF, as for any fd the model does not have).
 */
export function openProgramMemfd(pid: number, fd: number, writable: boolean): ProgramMemfd | undefined {
  const access = accessMode(pid, fd);
  if (access === undefined || (access !== O_RDWR && !(access === O_RDONLY && !writable))) return undefined;
  let own: number;
  try {
    own = openSync(`/proc/${pid}/fd/${fd}`, access === O_RDWR ? 'r+' : 'r');
  } catch {
    return undefined;
  }
  try {
    const self = `/proc/self/fd/${own}`;
    if (!readlinkSync(self).startsWith('/memfd:')) throw new Error('not a memfd');
    if (statfsSync(self).type !== TMPFS_MAGIC) throw new Error('not shmem');
    const st = fstatSync(own, { bigint: true });
    if (!st.isFile()) throw new Error('not a regular file');
    // The program's fd may have changed between the look and the open: it must still be a
    // description of this same inode with the access looked at.
    const now = statSync(`/proc/${pid}/fd/${fd}`, { bigint: true });
    if (now.dev !== st.dev || now.ino !== st.ino || accessMode(pid, fd) !== access) throw new Error('changed');
    return { fd: own, size: st.size };
  } catch {
    closeSync(own);
    return undefined;
  }
}

/** O_ACCMODE of fd `fd` of process `pid`, from fdinfo's octal `flags:` (fs/proc/fd.c seq_show). */
function accessMode(pid: number, fd: number): number | undefined {
  try {
    const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1'));
    return m ? parseInt(m[1]!, 8) & O_ACCMODE : undefined;
  } catch {
    return undefined;
  }
}
