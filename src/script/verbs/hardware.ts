// Hardware actions (SCENARIO-LANGUAGE.md): `dma BDF read|write iova= len=` and
// `msi BDF vector=`. The device issues the transaction; the kernel model's IOMMU path decides
// whether it lands, faults, or reaches an MSI controller and then an eventfd.

import { translate } from '../../kernel/iommu/dma-path.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Command, Word } from '../ast.js';
import type { HwOutcome } from '../context.js';
import { parseHex } from '../values.js';
import { failAt } from '../where.js';
import { namedValue } from './args.js';
import type { VerbHandler } from './verb.js';

const h = (v: bigint) => `0x${v.toString(16)}`;

/** The device that issues the transaction (the first word), and the keys the verb takes. */
function issuer(cmd: Command, k: Kernel, example: string, allowed: readonly string[]) {
  const bdfW = cmd.positional[0] ?? failAt(cmd.verbPos, `${cmd.verb} needs a device, e.g. ${cmd.verb} 0000:00:01.0 ${example}`);
  const dev = k.devices.get(bdfW.text) ?? failAt(bdfW.pos, `no device ${bdfW.text} on this platform (devices: ${[...k.devices.keys()].join(', ')})`);
  for (const kv of cmd.named) {
    if (!allowed.includes(kv.key)) failAt(kv.keyPos, `${cmd.verb} takes ${allowed.map((a) => a + '=').join(', ')}, not "${kv.key}="`);
  }
  return { dev, bdfW };
}

export const dma: VerbHandler = {
  kind: 'hardware',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    const { names } = ctx;
    const { dev, bdfW } = issuer(cmd, kernel, 'write iova=0x1000 len=4', ['iova', 'len', 'data']);
    const dirW: Word | undefined = cmd.positional[1];
    if (!dirW || (dirW.text !== 'read' && dirW.text !== 'write')) failAt(dirW?.pos ?? bdfW.pos, 'dma needs read or write after the device');
    const write = dirW!.text === 'write';
    const iova = names.u64(namedValue(cmd, 'iova') ?? failAt(cmd.verbPos, 'dma needs iova=N'), 'iova');
    const dataW = namedValue(cmd, 'data');
    const data = dataW ? parseHex(dataW) : undefined;
    const lenW = namedValue(cmd, 'len');
    const len = lenW ? names.u64(lenW, 'len') : BigInt(data?.length ?? 0);
    if (len === 0n || len > 1n << 20n) failAt(lenW?.pos ?? cmd.verbPos, 'dma len= must be between 1 and 1M');
    const t = translate(dev, iova, len, write);
    const what = `${dev.bdf} DMA ${write ? 'write' : 'read'} iova=${h(iova)} len=${len}`;
    if (!t.ok) return { text: `${what}: IOMMU fault`, fault: t.fault };
    if (write) {
      proc.mm.writePhys(t.pa, data ?? new Uint8Array(Number(len)).fill(0xa5));
      return { text: `${what}: landed at PA ${h(t.pa)}` };
    }
    return { text: `${what}: read from PA ${h(t.pa)}`, data: proc.mm.readPhys(t.pa, Number(len)) };
  },
};

export const msi: VerbHandler = {
  kind: 'hardware',
  run(cmd, ctx): HwOutcome {
    const { kernel: k, proc } = ctx.machine(cmd);
    const { dev } = issuer(cmd, k, 'vector=0', ['vector']);
    const vector = Number(ctx.names.u64(namedValue(cmd, 'vector') ?? failAt(cmd.verbPos, 'msi needs vector=N'), 'vector'));
    const irq = k.msi.get(dev.bdf);
    const v = irq?.vectors.find((x) => x.index === vector && x.kind !== 'intx');
    if (!irq || !v) {
      return { text: `${dev.bdf} MSI vector ${vector}: not enabled (no message programmed), nothing written` };
    }
    const what = `${dev.bdf} ${v.kind.toUpperCase()} vector ${vector}: writes 0x${v.msg.data.toString(16)} to ${h(v.msg.addr)}`;
    let pa = v.msg.addr;
    if (dev.iommu.msiTranslated) {
      const t = translate(dev, v.msg.addr, 4n, true);
      if (!t.ok) return { text: `${what}: IOMMU fault (the doorbell is not mapped at that IOVA)`, fault: t.fault };
      pa = t.pa;
    }
    const hit = dev.msi.receive(pa, v.msg.data, dev.bdf);
    if ('miss' in hit) return { text: `${what}: reached ${h(pa)}, ${hit.miss}` };
    const target = k.msi.get(hit.bdf)?.vectors.find((x) => x.index === hit.vector && x.kind !== 'intx');
    if (!target?.trigger) return { text: `${what}: interrupt raised, but no eventfd is attached to it` };
    target.trigger.signal();
    const fd = proc.openFds().find(([, f]) => f.ops === target.trigger)?.[0];
    const name = ctx.names.nameOfFd(fd);
    const to = hit.bdf === dev.bdf && hit.vector === vector ? '' : ` (${hit.bdf} vector ${hit.vector}'s interrupt)`;
    return { text: `${what}: delivered to eventfd ${name ?? fd}${to}`, delivered: { fd, name } };
  },
};
