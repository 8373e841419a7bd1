// What devices did on their own during a step, in the user's words: the DMA and MSI writes
// the kernel's inbound log recorded (kernel/iommu/dma-path.ts), each as the `dma` and `msi`
// actions describe theirs, and the eventfds that were signalled.

import { EventFd, eventfdSignalSeq } from '../kernel/eventfd.js';
import type { Kernel } from '../kernel/kernel.js';
import type { InboundRecord } from '../kernel/iommu/dma-path.js';
import type { Process } from '../kernel/process.js';
import { hex } from '../lib/hex.js';
import type { HwOutcome } from './context.js';
import type { Names } from './names.js';

/** The fd and scenario name an eventfd is open as in `proc`. */
export function eventfdName(proc: Process, names: Names, e: EventFd): { fd?: number; name?: string } {
  const fd = proc.openFds().find(([, f]) => f.ops === e)?.[0];
  return { fd, name: names.nameOfFd(fd) };
}

/** One inbound record as a hardware outcome. */
export function describeInbound(r: InboundRecord, proc: Process, names: Names): HwOutcome {
  if (r.what === 'dma') {
    const what = `${r.bdf} DMA ${r.write ? 'write' : 'read'} iova=${hex(r.addr)} len=${r.len}`;
    if (!r.result.ok) return { text: `${what}: IOMMU fault`, fault: r.result.fault };
    return { text: `${what}: ${r.write ? 'landed at' : 'read from'} PA ${hex(r.result.pa)}` };
  }
  const what = `${r.bdf} ${r.kind === 'msix' ? 'MSI-X' : 'MSI'} vector ${r.vector}: writes 0x${r.data.toString(16)} to ${hex(r.addr)}`;
  switch (r.result) {
    case 'fault':
      return { text: `${what}: IOMMU fault (the doorbell is not mapped at that IOVA)`, fault: r.fault };
    case 'miss':
      return { text: `${what}: reached ${hex(r.pa)}, ${r.miss}` };
    case 'raised': {
      if (!r.trigger) return { text: `${what}: interrupt raised, but no eventfd is attached to it` };
      const delivered = eventfdName(proc, names, r.trigger);
      const to = r.target.bdf === r.bdf && r.target.vector === r.vector ? '' : ` (${r.target.bdf} vector ${r.target.vector}'s interrupt)`;
      return { text: `${what}: delivered to eventfd ${delivered.name ?? delivered.fd}${to}`, delivered };
    }
  }
}

/** A mark taken before a step, to tell which eventfd the step signalled (see deviceActivity). */
export const eventfdMark = eventfdSignalSeq;

/** The first eventfd open in `proc` (lowest fd) signalled after `mark`. */
function signalledSince(proc: Process, mark: number): EventFd | undefined {
  if (eventfdSignalSeq() === mark) return undefined;
  for (const [, f] of proc.openFds()) if (f.ops instanceof EventFd && f.ops.lastSignal > mark) return f.ops;
  return undefined;
}

const NO_OUTCOMES: readonly HwOutcome[] = [];

/** A step during which no device did anything (the usual): shared, never changed. */
const QUIET = Object.freeze({
  outcomes: NO_OUTCOMES,
  last: Object.freeze({ text: 'no device activity', fault: undefined, delivered: undefined }) as HwOutcome,
});

/**
 * What devices did during a system call (an MMIO write that started edu's DMA, raised a cause
 * on e1000e): one outcome per inbound record, and for `expect` the first fault and the first
 * eventfd the step signalled (MSI, INTx or loopback alike).
 */
export function deviceActivity(
  k: Kernel,
  proc: Process,
  names: Names,
  seq: number,
  mark: number,
): { outcomes: readonly HwOutcome[]; last: HwOutcome } {
  const outcomes = k.inbound.seq === seq ? NO_OUTCOMES : k.inbound.since(seq).map((r) => describeInbound(r, proc, names));
  const signalled = signalledSince(proc, mark);
  if (outcomes.length === 0 && !signalled) return QUIET;
  const last: HwOutcome = {
    text: outcomes.length ? outcomes.map((o) => o.text).join('; ') : 'no device activity',
    fault: outcomes.find((o) => o.fault)?.fault,
    delivered: signalled ? eventfdName(proc, names, signalled) : undefined,
  };
  return { outcomes, last };
}
