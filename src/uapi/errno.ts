// Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h; generic, as on
// x86_64, arm64 and ppc64). Kernel-model functions follow the kernel's convention: they
// return a negative errno on failure, and the syscall layer turns that into -1 + errno.

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EOVERFLOW: 75,
  EBADFD: 77,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const BY_NUMBER = new Map<number, ErrnoName>(
  Object.entries(ERRNO).map(([k, v]) => [v, k as ErrnoName]),
);

export function errnoName(n: number): string {
  return BY_NUMBER.get(n) ?? `errno ${n}`;
}

export function errnoByName(name: string): number | undefined {
  const key = name.toUpperCase();
  return Object.hasOwn(ERRNO, key) ? (ERRNO as Record<string, number>)[key] : undefined;
}

export const { EFBIG, ESPIPE, EACCES, EMFILE, EPERM, ENOENT, EINVAL, EFAULT, EBUSY, EEXIST, ENODEV, ENOTTY, ENOSPC, EBADF, EBADFD, ENOMEM, ENXIO, EIO, EOPNOTSUPP, ERANGE, E2BIG, EAGAIN, EOVERFLOW, EMSGSIZE, EADDRINUSE } = ERRNO;

/** strerror() texts, as strace prints them after the name. */
const TEXT: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  4: 'Interrupted system call',
  5: 'Input/output error',
  6: 'No such device or address',
  7: 'Argument list too long',
  9: 'Bad file descriptor',
  11: 'Resource temporarily unavailable',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  14: 'Bad address',
  16: 'Device or resource busy',
  17: 'File exists',
  19: 'No such device',
  22: 'Invalid argument',
  24: 'Too many open files',
  25: 'Inappropriate ioctl for device',
  27: 'File too large',
  28: 'No space left on device',
  29: 'Illegal seek',
  34: 'Numerical result out of range',
  75: 'Value too large for defined data type',
  77: 'File descriptor in bad state',
  90: 'Message too long',
  95: 'Operation not supported',
  98: 'Address already in use',
};

export function errnoText(n: number): string {
  return TEXT[n] ?? 'Unknown error';
}
