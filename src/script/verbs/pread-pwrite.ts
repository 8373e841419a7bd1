// `pread FD [region=] [offset=] len=N` and `pwrite FD [region=] [offset=] data=HEX` on a
// device fd. vfio-pci places region N at N << VFIO_PCI_OFFSET_SHIFT of the fd's file offset
// (VFIO_PCI_INDEX_TO_OFFSET).

import { VFIO_PCI_OFFSET_SHIFT } from '../../kernel/vfio-pci/ioctl-info.js';
import { PCI_REGION_INDEX } from '../../uapi/structs.js';
import type { Command, Word } from '../ast.js';
import type { ScenarioContext } from '../context.js';
import { parseHex } from '../values.js';
import { failAt } from '../where.js';
import { checkKeys, namedValue, onePositional } from './args.js';
import type { VerbHandler } from './verb.js';

/** vfio-pci's region indexes by name (BAR0 … VGA, VFIO_PCI_*_REGION_INDEX). */
const REGIONS = new Map(PCI_REGION_INDEX.bits);

/** The fd and the file offset: region= (a name or an index) and offset= within it. */
function target(cmd: Command, ctx: ScenarioContext): { fd: number; offset: bigint } {
  const fd = ctx.names.fd(onePositional(cmd, 'a device fd'));
  const region = namedValue(cmd, 'region');
  const index = region ? (REGIONS.get(region.text.toUpperCase()) ?? ctx.names.u64(region, 'region')) : 0n;
  const offsetW = namedValue(cmd, 'offset');
  const off = offsetW ? ctx.names.u64(offsetW, 'offset') : 0n;
  return { fd, offset: (index << VFIO_PCI_OFFSET_SHIFT) | off };
}

export const pread: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, ['region', 'offset', 'len']);
    const { fd, offset } = target(cmd, ctx);
    const lenW: Word = namedValue(cmd, 'len') ?? failAt(cmd.verbPos, 'pread needs len=N');
    const len = Number(ctx.names.u64(lenW, 'len'));
    if (len > 1 << 20) failAt(lenW.pos, 'len: at most 1M per pread');
    const buf = new Uint8Array(len);
    const result = kernel.pread(proc, fd, buf, offset);
    const out = result.errno ? new Uint8Array(0) : buf.subarray(0, Number(result.ret));
    return { call: { op: 'pread', fd, offset, len, out }, result };
  },
};

export const pwrite: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, ['region', 'offset', 'data']);
    const { fd, offset } = target(cmd, ctx);
    const dataW = namedValue(cmd, 'data') ?? failAt(cmd.verbPos, 'pwrite needs data=HEX');
    const data = parseHex(dataW);
    return { call: { op: 'pwrite', fd, offset, data }, result: kernel.pwrite(proc, fd, data, offset) };
  },
};
