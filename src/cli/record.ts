// `run --trace FILE`: the run as vfio-trace/1, from the system calls' trace records and the
// kernel log lines that followed each of them. TraceRecorder takes them as the run makes them
// and keeps only their text; recordTrace writes a runner that kept every event.

import type { Kernel } from '../kernel/kernel.js';
import { configName, DEFAULT_CONFIG_NAME } from '../kernel/config.js';
import type { Runner } from '../script/runner.js';
import type { TraceEventData, TraceHeader } from '../trace/format.js';
import { formatEvent, formatHeader, TraceWriter } from '../trace/writer.js';
import { VERSION } from './version.js';

function header(k: Kernel): TraceHeader {
  const config = configName(k.config);
  return {
    trace: 'vfio-trace/1',
    kernel: k.era.name,
    // Only a configuration other than the default is named, so legacy traces stay as they were.
    ...(config === DEFAULT_CONFIG_NAME ? {} : { config }),
    arch: k.platform.machine,
    platform: { preset: k.platform.preset, options: k.platform.options },
    source: `vfio-emu ${VERSION}`,
    created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

/** Records a run as it goes: `event` is the runner's sink for trace events; each is kept as its line. */
export class TraceRecorder {
  private readonly lines: string[] = [];

  readonly event = (e: TraceEventData): void => {
    this.lines.push(formatEvent(e));
  };

  /** The trace's text, for the machine the run booted; undefined when it booted none. */
  text(k: Kernel | undefined): string | undefined {
    if (!k) return undefined;
    return `${[formatHeader(header(k)), ...this.lines].join('\n')}\n`;
  }
}

export function recordTrace(runner: Runner): string {
  const w = new TraceWriter().header(header(runner.kernel!));
  // vfio-trace/1 has no op for a device's DMA or MSI: the log lines they caused (IOMMU faults)
  // are left out with them, or a replay would look for a cause it cannot have. (A streamed run
  // leaves them out at the source: the runner gives its trace sink no kmsg of a hardware action.)
  let hardware = false;
  for (const ev of runner.events) {
    if (ev.type === 'hw') hardware = true;
    else if (ev.type === 'syscall') hardware = false;
    if (ev.type === 'syscall' && ev.trace) w.event(ev.trace);
    else if (ev.type === 'dmesg' && !hardware) w.event({ op: 'kmsg', text: ev.text });
  }
  return w.text();
}
