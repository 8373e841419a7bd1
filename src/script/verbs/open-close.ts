// `open PATH`, `close FD`, `eventfd`: the calls that make and drop fds. The emulated machine's
// only device nodes are /dev/vfio/vfio (the container) and /dev/vfio/GROUP.

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
    if (!/^\/dev\/vfio\//.test(p.text)) failAt(p.pos, `open: the emulated machine has /dev/vfio/vfio and /dev/vfio/GROUP; "${p.text}" is not one (use "read" for sysfs files)`);
    const file: FileKind = p.text === '/dev/vfio/vfio' ? 'container' : 'group';
    return {
      call: { op: 'open', path: p.text },
      result: kernel.open(proc, p.text),
      binds: (fd) => ({ kind: 'fd', fd: Number(fd), file }),
    };
  },
};

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
