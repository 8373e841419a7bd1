// The exec/serve wire protocol (docs/exec.md): frames on a Unix stream socket between the
// preload library (native/vfio-preload.c) and the served model. Little-endian, host ABI.
// Every request is answered by exactly one reply, in order.

import { LIMITS } from '../lib/limits.js';

export const PROTOCOL_VERSION = 1;

/** Request: u32 len (the whole frame), u32 op, then the op's body. */
export const REQ_HEADER = 8;
/** Reply: u32 len, i32 errno, i64 ret, u32 nsig, u32 pad, nsig × {i32 fd, u32 pad, u64 count}, payload. */
export const REPLY_HEADER = 24;
export const SIGNAL_SIZE = 16;

/** The largest frame either side sends: one ioctl buffer or pread/pwrite, plus headers. */
export const MAX_FRAME = LIMITS.bufferBytes + 4096;
/** The longest path a request may name (PATH_MAX). */
export const MAX_PATH = 4096;

export const OP = {
  HELLO: 1,
  OPEN: 2,
  CLOSE: 3,
  REF: 4,
  IOCTL: 5,
  PREAD: 6,
  PWRITE: 7,
  MAPMEM: 8,
  EVENTFD: 9,
  SYSFS: 10,
  FORK: 11,
  ADOPT: 12,
  /** Makes this connection the event channel of another (the library's helper thread). */
  SUBSCRIBE: 13,
  /** The client wrote one of its eventfds the kernel consumes (an INTx unmask eventfd). */
  EVENTFD_WRITE: 14,
  /**
   * Before an execve: this connection takes one reference to each listed model fd of connection
   * `id` (which `pid` said HELLO on), for the fds the new image keeps (docs/exec.md).
   */
  SHARE: 15,
  /** After an execve, from the new image: connection `id` of the same pid ended with the old image. */
  EXECED: 16,
  /**
   * `i32 fd, u32 writable`: fd `fd` of the client (not emulated), passed to IOMMU_IOAS_MAP_FILE;
   * when it is a memfd of the program's, a model memfd whose pages are that file's (ret: its fd).
   */
  MEMFD: 17,
} as const;

/**
 * SYSFS sub-requests. LIST answers a directory's entries as {u8 type, name, NUL}…; WRITE's
 * body is u32 path length, the path, then the bytes written (one write(2) of a sysfs file).
 */
export const SYSFS = { READ: 0, STAT: 1, READLINK: 2, LIST: 3, WRITE: 4 } as const;
/** What SYSFS STAT answers in `ret`: the file's type. */
export const NODE = { CHR: 1, REG: 2, DIR: 3, LNK: 4 } as const;

/** errno of a reply whose path the model does not serve: the library passes the call to libc. */
export const NOT_EMULATED = 0x10000;
/**
 * errno of an IOCTL reply asking for the memory behind the struct's pointer fields: the payload
 * is {u64 addr, u64 len} per range; the library sends the call again with them (IOCTL's `nseg`).
 */
export const NEED_MEM = 0x10001;
/** One range of an IOCTL with memory: u64 addr, u32 bytes sent, u32 pad. */
export const MEM_RANGE = 16;
