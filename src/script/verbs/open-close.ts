// `open PATH`, `close FD`, `eventfd`, `memfd LEN`: the calls that make and drop fds. The emulated machine's
// device nodes are /dev/vfio/vfio (the container), /dev/vfio/GROUP, and where the kernel has
// them /dev/iommu and /dev/vfio/devices/vfioN (the kind of fd is what the kernel opened); any
// other path is the kernel's ENOENT (a missing node), except sysfs and procfs, which the
// machine has but serves only whole, through `read` and `write`.

import type { FileKind } from '../../kernel/file.js';
import { failAt } from '../where.js';
import { checkKeys, onePositional } from './args.js';
import type { VerbHandler } from './verb.js';

export const open: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, []);
    const p = onePositional(cmd, 'a path');
    if (servedWhole(p.text)) failAt(p.pos, `open: "${p.text}" is a ${p.text.startsWith('/sys/') ? 'sysfs' : 'procfs'} file; use "read" or "write" for it`);
    return {
      call: { op: 'open', path: p.text },
      result: kernel.open(proc, p.text),
      binds: (fd) => ({ kind: 'fd', fd: Number(fd), file: proc.file(Number(fd))!.ops.kind as FileKind }),
    };
  },
};

/**
 * Paths `open` refuses as a scenario error: files the machine serves whole (`read`, `write`)
 * but gives no fd for. Every other path is open(2)'s to answer (ENOENT where no node exists).
 */
function servedWhole(path: string): boolean {
  return /^\/(sys|proc)(\/|$)/.test(path);
}

export const close: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, []);
    const fd = ctx.names.fd(onePositional(cmd, 'an fd'));
    const result = kernel.close(proc, fd);
    if (!result.errno) ctx.names.forgetFd(fd);
    return { call: { op: 'close', fd }, result };
  },
};

export const eventfd: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, []);
    if (cmd.positional.length) failAt(cmd.positional[0].pos, 'eventfd takes no argument');
    return {
      call: { op: 'eventfd' },
      result: kernel.eventfd(proc),
      binds: (fd) => ({ kind: 'fd', fd: Number(fd), file: 'eventfd' }),
    };
  },
};

/** `memfd LEN [as NAME]`: memfd_create(2) and ftruncate(2) to LEN, shmem pages for IOMMU_IOAS_MAP_FILE and `mmap fd=`. */
export const memfd: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, []);
    const len = ctx.names.u64(onePositional(cmd, 'a length, e.g. memfd 16K'), 'length');
    return {
      call: { op: 'memfd', len },
      result: kernel.memfd(proc, len),
      binds: (fd) => ({ kind: 'fd', fd: Number(fd), file: 'memfd' }),
    };
  },
};
