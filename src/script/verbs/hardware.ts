// Hardware actions (SCENARIO-LANGUAGE.md): `dma BDF read|write iova= len=` and
// `msi BDF vector=`. The device issues the transaction; the kernel model's IOMMU path decides
// whether it lands, faults, or reaches an MSI controller and then an eventfd. `dma` stands in
// for a device's DMA engine; `msi` makes the device itself raise a vector.

import { translate } from '../../kernel/iommu/dma-path.js';
import { describeInbound } from '../inbound.js';
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
    if (!t.ok) {
      kernel.logFault(t.fault);
      return { text: `${what}: IOMMU fault`, fault: t.fault };
    }
    if (write) {
      proc.mm.writePhys(t.pa, data ?? new Uint8Array(Number(len)).fill(0xa5));
      return { text: `${what}: landed at PA ${h(t.pa)}` };
    }
    return { text: `${what}: read from PA ${h(t.pa)}`, data: proc.mm.readPhys(t.pa, Number(len)) };
  },
};

/**
 * `msi BDF vector=N`: the device raises its vector N (msix_notify / msi_notify). It writes the
 * message the kernel programmed into its MSI capability or MSI-X table, and that write takes
 * the path every device write takes (kernel/irq/pci-intr.ts); a masked vector only sets its
 * pending bit.
 */
export const msi: VerbHandler = {
  kind: 'hardware',
  run(cmd, ctx): HwOutcome {
    const { kernel: k, proc } = ctx.machine(cmd);
    const { dev } = issuer(cmd, k, 'vector=0', ['vector']);
    const vector = Number(ctx.names.u64(namedValue(cmd, 'vector') ?? failAt(cmd.verbPos, 'msi needs vector=N'), 'vector'));
    const seq = k.inbound.seq;
    const sig = dev.hw.signalMessage(vector);
    if (sig.outcome === 'disabled' || sig.outcome === 'no-such-vector') {
      // Labelled as the device would raise it: MSI-X when the function has the capability.
      return { text: `${dev.bdf} ${dev.hw.msix ? 'MSI-X' : 'MSI'} vector ${vector}: not enabled (no message programmed), nothing written` };
    }
    if (sig.outcome === 'no-bus-master') {
      return { text: `${dev.bdf} ${sig.kind === 'msix' ? 'MSI-X' : 'MSI'} vector ${vector}: Bus Master Enable is clear in the command register, nothing written` };
    }
    if (sig.outcome === 'pending') {
      const where = sig.kind === 'msix' ? 'the MSI-X table; its pending bit is set in the PBA' : 'the MSI capability; its pending bit is set';
      return { text: `${dev.bdf} ${sig.kind === 'msix' ? 'MSI-X' : 'MSI'} vector ${vector}: masked in ${where}, nothing written` };
    }
    const r = k.inbound.since(seq).find((x) => x.what === 'msi');
    return r ? describeInbound(r, proc, ctx.names) : { text: `${dev.bdf} ${sig.kind === 'msix' ? 'MSI-X' : 'MSI'} vector ${vector}: nothing reached the kernel` };
  },
};
