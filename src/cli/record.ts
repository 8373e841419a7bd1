// `run --trace FILE`: the run as vfio-trace/1, from the events' trace records and the kernel
// log lines that followed each of them.

import type { Runner } from '../script/runner.js';
import { TraceWriter } from '../trace/writer.js';
import { VERSION } from './version.js';

export function recordTrace(runner: Runner): string {
  const k = runner.kernel!;
  const w = new TraceWriter();
  w.header({
    trace: 'vfio-trace/1',
    kernel: k.era.name,
    arch: k.platform.machine,
    platform: { preset: k.platform.preset, options: k.platform.options },
    source: `vfio-emu ${VERSION}`,
    created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  // vfio-trace/1 has no op for a device's DMA or MSI: the log lines they caused (IOMMU faults)
  // are left out with them, or a replay would look for a cause it cannot have.
  let hardware = false;
  for (const ev of runner.events) {
    if (ev.type === 'hw') hardware = true;
    else if (ev.type === 'syscall') hardware = false;
    if (ev.type === 'syscall' && ev.trace) w.event(ev.trace);
    else if (ev.type === 'dmesg' && !hardware) w.event({ op: 'kmsg', text: ev.text });
  }
  return w.text();
}
