// Hardware actions (SCENARIO-LANGUAGE.md): `dma BDF read|write iova= len=` and
// `msi BDF vector=`. The device issues the transaction; the kernel model's IOMMU path decides
// whether it lands, faults, or reaches an MSI controller and then an eventfd.

import { UserError } from '../lib/user-error.js';
import type { Kernel } from '../kernel/kernel.js';
import { translate } from '../kernel/iommu/dma-path.js';
import type { Process } from '../kernel/process.js';
import type { IommuFault } from '../hw/iommu/iommu.js';
import type { Command, Pos } from './ast.js';
import type { Runner } from './runner.js';
import { parseHex } from './values.js';

export interface HwOutcome {
  text: string;
  fault?: IommuFault;
  /** For msi: the eventfd that was signalled, if any. */
  delivered?: { fd?: number; name?: string };
  data?: Uint8Array;
}

const failAt = (p: Pos, msg: string): never => {
  throw new UserError(msg, { file: p.file, line: p.line, col: p.col });
};
const h = (v: bigint) => `0x${v.toString(16)}`;

export function hardwareAction(cmd: Command, k: Kernel, proc: Process, r: Runner): HwOutcome {
  const bdfW = cmd.positional[0];
  if (!bdfW) failAt(cmd.verbPos, `${cmd.verb} needs a device, e.g. ${cmd.verb} 0000:00:01.0 ${cmd.verb === 'dma' ? 'write iova=0x1000 len=4' : 'vector=0'}`);
  const dev = k.devices.get(bdfW.text);
  if (!dev) failAt(bdfW.pos, `no device ${bdfW.text} on this platform (devices: ${[...k.devices.keys()].join(', ')})`);
  const named = (key: string) => cmd.named.find((kv) => kv.key === key)?.value;
  for (const kv of cmd.named) {
    const allowed = cmd.verb === 'dma' ? ['iova', 'len', 'data'] : ['vector'];
    if (!allowed.includes(kv.key)) failAt(kv.keyPos, `${cmd.verb} takes ${allowed.map((a) => a + '=').join(', ')}, not "${kv.key}="`);
  }

  if (cmd.verb === 'dma') {
    const dirW = cmd.positional[1];
    if (!dirW || (dirW.text !== 'read' && dirW.text !== 'write')) failAt(dirW?.pos ?? bdfW.pos, 'dma needs read or write after the device');
    const write = dirW!.text === 'write';
    const iovaW = named('iova');
    if (!iovaW) failAt(cmd.verbPos, 'dma needs iova=N');
    const iova = r.u64(iovaW!, 'iova');
    const dataW = named('data');
    const data = dataW ? parseHex(dataW) : undefined;
    const lenW = named('len');
    const len = lenW ? r.u64(lenW, 'len') : BigInt(data?.length ?? 0);
    if (len === 0n || len > 1n << 20n) failAt(lenW?.pos ?? cmd.verbPos, 'dma len= must be between 1 and 1M');
    const t = translate(dev!, iova, len, write);
    const what = `${dev!.bdf} DMA ${write ? 'write' : 'read'} iova=${h(iova)} len=${len}`;
    if (!t.ok) return { text: `${what}: IOMMU fault`, fault: t.fault };
    if (write) {
      proc.mm.writePhys(t.pa, data ?? new Uint8Array(Number(len)).fill(0xa5));
      return { text: `${what}: landed at PA ${h(t.pa)}` };
    }
    return { text: `${what}: read from PA ${h(t.pa)}`, data: proc.mm.readPhys(t.pa, Number(len)) };
  }

  // msi
  const vecW = named('vector');
  if (!vecW) failAt(cmd.verbPos, 'msi needs vector=N');
  const vector = Number(r.u64(vecW!, 'vector'));
  const irq = k.msi.get(dev!.bdf);
  const v = irq?.vectors.find((x) => x.index === vector && x.kind !== 'intx');
  if (!irq || !v) {
    return { text: `${dev!.bdf} MSI vector ${vector}: not enabled (no message programmed), nothing written` };
  }
  const what = `${dev!.bdf} ${v.kind.toUpperCase()} vector ${vector}: writes 0x${v.msg.data.toString(16)} to ${h(v.msg.addr)}`;
  let pa = v.msg.addr;
  if (dev!.iommu.msiTranslated) {
    const t = translate(dev!, v.msg.addr, 4n, true);
    if (!t.ok) return { text: `${what}: IOMMU fault (the doorbell is not mapped at that IOVA)`, fault: t.fault };
    pa = t.pa;
  }
  const hit = dev!.msi.receive(pa, v.msg.data, dev!.bdf);
  if ('miss' in hit) return { text: `${what}: reached ${h(pa)}, ${hit.miss}` };
  const target = k.msi.get(hit.bdf)?.vectors.find((x) => x.index === hit.vector && x.kind !== 'intx');
  if (!target?.trigger) return { text: `${what}: interrupt raised, but no eventfd is attached to it` };
  target.trigger.signal();
  const fd = proc.openFds().find(([, f]) => f.ops === target.trigger)?.[0];
  const name = [...r.names].find(([, b]) => b.kind === 'fd' && b.fd === fd)?.[0];
  const to = hit.bdf === dev!.bdf && hit.vector === vector ? '' : ` (${hit.bdf} vector ${hit.vector}'s interrupt)`;
  return { text: `${what}: delivered to eventfd ${name ?? fd}${to}`, delivered: { fd, name } };
}
