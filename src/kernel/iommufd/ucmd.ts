// struct iommufd_ucmd (iommufd_private.h): one command in flight. The command struct has been
// copy_struct_from_user()ed into `cmd` (main.ts); a handler reads and changes it and answers
// with iommufd_ucmd_respond(), which copies min(user_size, len) bytes of it back.

import type { KStruct } from '../../uapi/struct.js';
import type { Task } from '../file.js';
import type { IommufdContext } from './objects.js';
import { EFAULT } from '../../uapi/errno.js';

export interface Ucmd {
  ictx: IommufdContext;
  cmd: KStruct;
  /** The size userspace gave (the struct's first u32). */
  userSize: number;
  /** The user buffer the pointer reaches. */
  ubuffer: Uint8Array;
  /** current: the fd table a command takes an fd from (MAP_FILE) or installs one in (FAULT_QUEUE_ALLOC). */
  task: Task;
}

/** iommufd_ucmd_respond(): 0, or -EFAULT when the copy back faults. */
export function respond(ucmd: Ucmd, len: number): number {
  const n = Math.min(ucmd.userSize, len);
  return ucmd.cmd.toUser(ucmd.ubuffer, n) ? 0 : -EFAULT;
}
