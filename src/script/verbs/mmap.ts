// `mmap LEN [prot=] [fd= offset=] [addr=]`, `munmap ADDR LEN`, `mprotect ADDR LEN prot=`: the
// process's address space. Without fd= a mapping is anonymous (MAP_PRIVATE|MAP_ANONYMOUS);
// with one it maps a device region (MAP_SHARED).

import { failAt } from '../where.js';
import { PROT_CHOICES, protNamed, type NamedProt } from '../prot.js';
import type { Command, Word } from '../ast.js';
import type { ScenarioContext } from '../context.js';
import { checkKeys, namedValue, onePositional } from './args.js';
import type { VerbHandler } from './verb.js';

const prot = (w: Word): NamedProt => protNamed(w.text) ?? failAt(w.pos, `prot="${w.text}": ${PROT_CHOICES}`);

export const mmap: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    const { names } = ctx;
    checkKeys(cmd, ['prot', 'fd', 'offset', 'addr']);
    const len = names.u64(onePositional(cmd, 'a length, e.g. mmap 64M'), 'length');
    const protW = namedValue(cmd, 'prot');
    const p = protW ? prot(protW) : protNamed('rw')!;
    const fdW = namedValue(cmd, 'fd');
    const fd = fdW ? names.fd(fdW) : undefined;
    const offsetW = namedValue(cmd, 'offset');
    const offset = offsetW ? names.u64(offsetW, 'offset') : undefined;
    const addrW = namedValue(cmd, 'addr');
    const hint = addrW ? names.u64(addrW, 'addr') : undefined;
    return {
      call: { op: 'mmap', hint, len, prot: p, fd, offset },
      result: kernel.mmap(proc, len, p.prot, { fd, offset, hint }),
      binds: (addr) => ({ kind: 'addr', value: addr, len }),
    };
  },
};

/** munmap and mprotect: an address and a length. */
function range(cmd: Command, ctx: ScenarioContext): { addr: bigint; len: bigint } {
  if (cmd.positional.length !== 2) {
    failAt(cmd.verbPos, `${cmd.verb} takes an address and a length, e.g. ${cmd.verb} buf 4K${cmd.verb === 'mprotect' ? ' prot=r' : ''}`);
  }
  return { addr: ctx.names.u64(cmd.positional[0], 'address'), len: ctx.names.u64(cmd.positional[1], 'length') };
}

export const munmap: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, []);
    const { addr, len } = range(cmd, ctx);
    return { call: { op: 'munmap', addr, len }, result: kernel.munmap(proc, addr, len) };
  },
};

export const mprotect: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    checkKeys(cmd, ['prot']);
    const { addr, len } = range(cmd, ctx);
    const protW = namedValue(cmd, 'prot') ?? failAt(cmd.verbPos, 'mprotect needs prot=r|w|rw|none');
    const p = prot(protW);
    return { call: { op: 'mprotect', addr, len, prot: p }, result: kernel.mprotect(proc, addr, len, p.prot) };
  },
};
