// What a run produces: one event per thing that happened, in order. Renderers (src/cli) turn
// the same events into coloured text or JSON lines; the trace writer into vfio-trace/1.
// Events go to a RunSink as they happen; the runner builds only what the sink consumes.

import type { TraceEventData } from '../trace/format.js';

export interface Where {
  file: string;
  line: number;
}

/** A capability of a chain as --json shows it (u64 values as hex strings). */
export interface JsonCap {
  name: string;
  offset: number;
  version: number;
  fields: Record<string, string>;
  entries: Record<string, string>[];
}

export type RunEvent =
  /** A machine was set up (kernel era, platform, parameter, binding). */
  | { type: 'setup'; at: Where; text: string }
  /** A system call, strace-style: `ioctl(3, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) = -1 EPERM (...)`. */
  | {
      type: 'syscall';
      at: Where;
      text: string;
      ret: string;
      errno: number;
      /** For --json: the call (open, ioctl, …), the ioctl's request name, the fd, the errno's name. */
      op?: string;
      request?: string;
      fd?: number;
      errnoName?: string;
      /** Decoded output fields, for --json. */
      fields?: Record<string, string>;
      /** The capability chain, decoded, for --json. */
      caps?: JsonCap[];
      /** The same call as a vfio-trace/1 event, for --trace. */
      trace?: TraceEventData;
    }
  /** A kernel log line that appeared during the last action. */
  | { type: 'dmesg'; at: Where; text: string }
  /** A hardware action (DMA, MSI) and what came of it. */
  | { type: 'hw'; at: Where; text: string }
  /** An IOMMU fault record. */
  | { type: 'fault'; at: Where; iommu: string; text: string; /** The driver printed it: its lines follow as dmesg events. */ logged?: boolean }
  /** An expectation and whether it held. */
  | { type: 'expect'; at: Where; ok: boolean; text: string; expected?: string; got?: string }
  /** Why the kernel answered as it did (a refused attach: which IOMMU, which doorbells, which rule). */
  | { type: 'note'; at: Where; lines: string[] }
  /** The output of a `show`. */
  | { type: 'show'; at: Where; what: string; lines: string[] };

export type ExpectEvent = Extract<RunEvent, { type: 'expect' }>;

/**
 * Where a run's events go, as they happen. The runner builds only what is consumed: no display
 * event (strace text, decoded fields) without `event`, no vfio-trace/1 event without `trace`.
 */
export interface RunSink {
  /** Every event, for display (`run`'s text and --json). */
  event?(ev: RunEvent): void;
  /**
   * Each system call as a vfio-trace/1 event, and each kernel log line it caused as a kmsg
   * (--trace); not the lines a hardware action caused (vfio-trace/1 has no op for their cause).
   */
  trace?(ev: TraceEventData): void;
  /** An expectation that did not hold (also given to `event`). */
  failed?(ev: ExpectEvent): void;
  /** An expectation that held (also given to `event`): check --json counts them. */
  held?(ev: ExpectEvent): void;
}
