// Writes vfio-trace/1 text: one JSON object per line, keys in the order of the real-kernel traces
// (op, the op's fields, ret, errno, label, decoded), hex lowercase, bigints as `0x` hex. A trace
// read with readTrace and written back with TraceWriter is the same text byte for byte.

import { headerToWire, toWire, type TraceEventData, type TraceHeader } from './format.js';

/** JSON for `decoded`, which is free-form: bigints in it are written as `0x` hex (`-0x` if negative). */
function bigintAsHex(_key: string, v: unknown): unknown {
  if (typeof v !== 'bigint') return v;
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** The header line (no newline). */
export function formatHeader(h: TraceHeader): string {
  return JSON.stringify(headerToWire(h));
}

/**
 * One event line (no newline). Fields outside the event's op (e.g. a TraceEvent's `line`) are not
 * written. Throws RangeError for an address/offset bigint outside [0, 2^64).
 */
export function formatEvent(e: TraceEventData): string {
  const w = toWire(e);
  return w.decoded === undefined ? JSON.stringify(w) : JSON.stringify(w, bigintAsHex);
}

/** Accumulates a trace: header() once, then event() per event; text() is the file's content. */
export class TraceWriter {
  private readonly lines: string[] = [];
  private hasHeader = false;

  header(h: TraceHeader): this {
    if (this.hasHeader) throw new Error('TraceWriter: header() called twice');
    this.lines.push(formatHeader(h));
    this.hasHeader = true;
    return this;
  }

  event(e: TraceEventData): this {
    if (!this.hasHeader) throw new Error('TraceWriter: event() before header()');
    this.lines.push(formatEvent(e));
    return this;
  }

  /** Number of events written so far. */
  get eventCount(): number {
    return Math.max(0, this.lines.length - 1);
  }

  /** Every line so far, each ending in a newline ('' before the header). */
  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}
