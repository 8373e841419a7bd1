// `read PATH` and `write PATH "TEXT"`: sysfs files, whole (the model's sysfs has no offsets).

import type { SysResult } from '../../kernel/kernel.js';
import { isBlocked, type Blocked } from '../../kernel/would-block.js';
import { failAt } from '../where.js';
import { checkKeys, onePositional } from './args.js';
import type { VerbHandler } from './verb.js';

/** A sysfs write's answer (bytes written, -errno, or a write that would not return) as a call's result. */
export function sysfsWriteResult(n: number | Blocked): SysResult {
  if (isBlocked(n)) return { ret: -1, errno: 0, blocked: n };
  return n < 0 ? { ret: -1, errno: -n } : { ret: n, errno: 0 };
}

export const read: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel } = ctx.machine(cmd);
    checkKeys(cmd, []);
    const p = onePositional(cmd, 'a sysfs path');
    const c = kernel.sysfsRead(p.text);
    const result: SysResult = typeof c === 'string' ? { ret: Buffer.byteLength(c), errno: 0 } : { ret: -1, errno: -c };
    return { call: { op: 'read', path: p.text, content: typeof c === 'string' ? c : undefined }, result };
  },
};

export const write: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel } = ctx.machine(cmd);
    checkKeys(cmd, []);
    if (cmd.positional.length !== 2) failAt(cmd.verbPos, 'write takes a path and a "TEXT"');
    const [p, t] = cmd.positional;
    return { call: { op: 'write', path: p.text, text: t.text }, result: sysfsWriteResult(kernel.sysfsWrite(p.text, t.text)) };
  },
};
