// `run --trace FILE`: the run as vfio-trace/1, from the system calls' trace records and the
// kernel log lines that followed each of them. TraceRecorder takes them as the run makes them
// and writes their text in chunks; recordTrace writes a runner that kept every event.

import { closeSync } from 'node:fs';
import type { Kernel } from '../kernel/kernel.js';
import { configName, DEFAULT_CONFIG_NAME } from '../kernel/config.js';
import type { Runner } from '../script/runner.js';
import type { TraceEventData, TraceHeader } from '../trace/format.js';
import { formatEvent, formatHeader, TraceWriter } from '../trace/writer.js';
import { openUserFile, writeUserChunk } from './out.js';
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

/** How much trace text is held before it goes to the file. */
const CHUNK_BYTES = 1 << 20;

/**
 * Records a run as it goes: `event` is the runner's sink for trace events. Lines are written
 * to the file in chunks of about a MiB, the header first, so a long run holds one chunk, not
 * its whole trace. The file is created at the first chunk (or at finish); a run that booted no
 * machine writes none.
 */
export class TraceRecorder {
  private pending: string[] = [];
  private pendingBytes = 0;
  private fd: number | undefined;
  private kernel: () => Kernel | undefined = () => undefined;

  constructor(
    private readonly file: string,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  /** Where the header's facts come from: the run's kernel, once booted. */
  boundTo(kernel: () => Kernel | undefined): this {
    this.kernel = kernel;
    return this;
  }

  readonly event = (e: TraceEventData): void => {
    const line = formatEvent(e);
    this.pending.push(line);
    this.pendingBytes += line.length + 1;
    if (this.pendingBytes >= this.chunkBytes) this.flush(this.kernel());
  };

  /** Writes what is held (the header before the first chunk); false when there is no machine to describe. */
  private flush(k: Kernel | undefined): boolean {
    if (this.fd === undefined) {
      if (!k) return false;
      this.fd = openUserFile(this.file);
      this.pending.unshift(formatHeader(header(k)));
    }
    if (this.pending.length) writeUserChunk(this.file, this.fd, `${this.pending.join('\n')}\n`);
    this.pending = [];
    this.pendingBytes = 0;
    return true;
  }

  /** The rest of the trace, and the file closed; nothing at all when the run booted no machine. */
  finish(k: Kernel | undefined): void {
    if (this.flush(k ?? this.kernel())) closeSync(this.fd!);
    this.fd = undefined;
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
