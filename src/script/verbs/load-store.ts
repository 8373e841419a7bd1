// `load ADDR [width=1|2|4|8]` and `store ADDR data=HEX`: a CPU access through the process's
// address space, not a syscall. In an mmap of a BAR it is the device register access a driver
// makes (readl/writel on the mapping); vfio-pci's pread/pwrite checks do not apply. An access
// the MMU cannot complete shows the signal (SIGSEGV, or SIGBUS while memory decode is off).

import type { Word } from '../ast.js';
import { parseHex } from '../values.js';
import { failAt } from '../where.js';
import { checkKeys, namedValue, onePositional } from './args.js';
import type { VerbHandler } from './verb.js';

/** The widths a CPU load or store moves in one access. */
const WIDTHS = new Set([1, 2, 4, 8]);

function width(w: Word, n: number): number {
  if (!WIDTHS.has(n)) failAt(w.pos, `${w.text}: a load or store moves 1, 2, 4 or 8 bytes`);
  return n;
}

export const load: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, ['width']);
    const addr = ctx.names.u64(onePositional(cmd, 'an address, e.g. load bar0+0x4 width=4'), 'address');
    const widthW = namedValue(cmd, 'width');
    const n = widthW ? width(widthW, Number(ctx.names.u64(widthW, 'width'))) : 4;
    const buf = new Uint8Array(n);
    const result = kernel.load(proc, addr, buf);
    return { call: { op: 'load', addr, len: n, out: result.errno ? new Uint8Array(0) : buf }, result };
  },
};

export const store: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, ['data']);
    const addr = ctx.names.u64(onePositional(cmd, 'an address, e.g. store bar0+0x4 data=01000000'), 'address');
    const dataW = namedValue(cmd, 'data') ?? failAt(cmd.verbPos, 'store needs data=HEX (1, 2, 4 or 8 bytes, little-endian)');
    const data = parseHex(dataW);
    width(dataW, data.length);
    return { call: { op: 'store', addr, data }, result: kernel.store(proc, addr, data) };
  },
};
