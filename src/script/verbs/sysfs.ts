// `read PATH` and `write PATH "TEXT"`: sysfs files, whole (the model's sysfs has no offsets);
// `readlink PATH` for its links; `unbind` and `driver_override`, the driver-binding writes.

import type { SysResult } from '../../kernel/kernel.js';
import { isBlocked, type Blocked } from '../../kernel/would-block.js';
import { readlinkOf, sysfsLookup } from '../../machine/serve-sysfs.js';
import { failAt } from '../where.js';
import { checkKeys, namedValue, onePositional } from './args.js';
import { parseHex } from '../values.js';
import type { VerbHandler } from './verb.js';

/** A sysfs write's answer (bytes written, -errno, or a write that would not return) as a call's result. */
export function sysfsWriteResult(n: number | Blocked): SysResult {
  if (isBlocked(n)) return { ret: -1, errno: 0, blocked: n };
  return n < 0 ? { ret: -1, errno: -n } : { ret: n, errno: 0 };
}

export const read: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    const first = cmd.positional[0];
    if (first && !first.text.startsWith('/')) {
      // `read FD len=N`: read(2) of an fd at its position (a fault queue's records).
      checkKeys(cmd, ['len']);
      const fd = ctx.names.fd(onePositional(cmd, 'an fd'));
      const lenW = namedValue(cmd, 'len') ?? failAt(cmd.verbPos, 'read of an fd needs len=N');
      const len = Number(ctx.names.u64(lenW, 'len'));
      if (len > 1 << 20) failAt(lenW.pos, 'len: at most 1M per read');
      const buf = new Uint8Array(len);
      const result = kernel.read(proc, fd, buf);
      return { call: { op: 'fdread', fd, len, out: result.errno ? new Uint8Array(0) : buf.subarray(0, Number(result.ret)) }, result };
    }
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
    const { kernel, proc } = ctx.machine(cmd);
    const first = cmd.positional[0];
    if (first && !first.text.startsWith('/')) {
      // `write FD data=HEX`: write(2) of an fd at its position (a fault queue's responses).
      checkKeys(cmd, ['data']);
      const fd = ctx.names.fd(onePositional(cmd, 'an fd'));
      const data = parseHex(namedValue(cmd, 'data') ?? failAt(cmd.verbPos, 'write of an fd needs data=HEX'));
      return { call: { op: 'fdwrite', fd, data }, result: kernel.write(proc, fd, data) };
    }
    checkKeys(cmd, []);
    if (cmd.positional.length !== 2) failAt(cmd.verbPos, 'write takes a path and a "TEXT"');
    const [p, t] = cmd.positional;
    return { call: { op: 'write', path: p.text, text: t.text }, result: sysfsWriteResult(kernel.sysfsWrite(p.text, t.text)) };
  },
};

/**
 * A driver-binding verb: `echo TEXT > /sys/bus/pci/devices/BDF/FILE` for the device word and
 * `words` more words, TEXT made from them (with echo's newline). A write of that file, traced as one.
 */
function echoToDevice(file: string, words: number, usage: string, text: (dev: string, args: string[]) => string): VerbHandler {
  return {
    kind: 'syscall',
    run(cmd, ctx) {
      const { kernel } = ctx.machine(cmd);
      checkKeys(cmd, []);
      const d = cmd.positional[0] ?? failAt(cmd.verbPos, `${cmd.verb} needs a device, e.g. ${usage}`);
      if (!kernel.devices.has(d.text)) failAt(d.pos, `no device ${d.text} on this platform (devices: ${[...kernel.devices.keys()].join(', ')})`);
      if (cmd.positional.length !== words + 1) failAt(cmd.positional[words + 1]?.pos ?? cmd.verbPos, `${cmd.verb} takes: ${usage}`);
      const path = `/sys/bus/pci/devices/${d.text}/${file}`;
      const t = `${text(d.text, cmd.positional.slice(1).map((w) => w.text))}\n`;
      return { call: { op: 'write', path, text: t }, result: sysfsWriteResult(kernel.sysfsWrite(path, t)) };
    },
  };
}

/**
 * `unbind BDF`: `echo BDF > /sys/bus/pci/devices/BDF/driver/unbind`, the bound driver's remove
 * (unbind_store).
 */
export const unbind = echoToDevice('driver/unbind', 0, 'unbind 0000:00:1f.0', (dev) => dev);

/**
 * `driver_override BDF DRIVER` (`""` clears it): `echo DRIVER > .../driver_override`, the only
 * driver that may bind the device from then on (`bind` writes it too, then drivers_probe).
 */
export const driverOverride = echoToDevice('driver_override', 1, 'driver_override 0000:00:01.0 vfio-pci ("" clears it)', (_dev, [driver]) => driver!);

/**
 * `readlink PATH`: readlink(2) of a sysfs link (`/sys/bus/pci/devices/BDF/iommu_group`,
 * `…/driver`, `/sys/kernel/iommu_groups/N/devices/BDF`), the target as the served sysfs tree
 * has it; EINVAL for a file that is no link, ENOENT for a path the machine lacks.
 */
export const readlink: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel } = ctx.machine(cmd);
    checkKeys(cmd, []);
    const p = onePositional(cmd, 'a sysfs path');
    if (!p.text.startsWith('/') || p.text.split('/').some((c) => c === '..' || c === '.')) failAt(p.pos, 'readlink takes an absolute path without "." or ".." components');
    const t = readlinkOf(sysfsLookup(kernel, p.text.replace(/\/+$/, '')));
    const result: SysResult = typeof t === 'string' ? { ret: Buffer.byteLength(t), errno: 0 } : { ret: -1, errno: -t };
    return { call: { op: 'readlink', path: p.text, target: typeof t === 'string' ? t : undefined }, result };
  },
};
