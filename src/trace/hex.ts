// Hex text for the trace format: byte buffers as lowercase hex with no separators, u64 values as
// `0x` followed by the minimal lowercase digits (`0x0`, `0x3b70`, `0xffffffffffffffff`).

import { U64_MAX } from '../lib/bits.js';

/** Lowercase hex of `bytes`, two digits per byte, no separators. */
export function toHex(bytes: Uint8Array): string {
  // Node's hex encoder (a view, no copy) is several times faster than building the string in JS.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The value of one hex digit (either case), or -1. */
function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/** Bytes of a hex string (either case). Throws RangeError on an odd length or a non-hex digit. */
export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0) throw new RangeError(`fromHex: odd number of hex digits (${s.length})`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(s.charCodeAt(2 * i));
    const lo = nibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new RangeError(`fromHex: not a hex digit at offset ${hi < 0 ? 2 * i : 2 * i + 1}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}


/** `0x` + minimal lowercase hex of a u64. Throws RangeError outside [0, 2^64). */
export function hex64(v: bigint): string {
  if (v < 0n || v > U64_MAX) throw new RangeError(`hex64: ${v} is not a u64`);
  return `0x${v.toString(16)}`;
}
