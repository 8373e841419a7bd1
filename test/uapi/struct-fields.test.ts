// Field access by byte (uapi/struct.ts): little-endian, truncated as a C assignment, exact for
// every 64-bit value, and a RangeError outside the buffer.

import { describe, expect, it } from 'vitest';
import { readField, writeField } from '../../src/uapi/struct.js';

const buf_ = (n: number): Uint8Array => new Uint8Array(n).fill(0xaa);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('readField and writeField', () => {
  // u64 values on both sides of 2^53 and 2^64 - 1 round-trip exactly, little-endian.
  it('keeps 64-bit values exact', () => {
    for (const v of [0n, 1n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, 0x0123_4567_89ab_cdefn, (1n << 64n) - 1n]) {
      const b = buf_(10);
      writeField(b, 1, 'u64', v);
      expect(readField(b, 1, 'u64')).toBe(v);
      expect(b[0]).toBe(0xaa);
      expect(b[9]).toBe(0xaa);
    }
    const b = buf_(8);
    writeField(b, 0, 'u64', 0x0102_0304_0506_0708n);
    expect(hex(b)).toBe('0807060504030201');
  });

  // Stores truncate to the width; s32 reads back signed.
  it('truncates and signs', () => {
    const b = buf_(4);
    writeField(b, 0, 's32', -2n);
    expect(hex(b)).toBe('feffffff');
    expect(readField(b, 0, 's32')).toBe(-2n);
    expect(readField(b, 0, 'u32')).toBe(0xffff_fffen);
    writeField(b, 0, 'u16', 0x1_2345n);
    expect(hex(b)).toBe('4523ffff');
    writeField(b, 3, 'u8', 0x1ffn);
    expect(readField(b, 0, 'u32')).toBe(0xffff_2345n);
  });

  // A field past the end of the buffer (or of a subarray) is a RangeError; nothing is written.
  it('refuses a field outside the buffer', () => {
    const b = buf_(8);
    expect(() => readField(b, 5, 'u32')).toThrow(RangeError);
    expect(() => writeField(b.subarray(2), 0, 'u64', 1n)).toThrow(RangeError);
    expect(hex(b)).toBe('aaaaaaaaaaaaaaaa');
    expect(readField(b.subarray(4), 0, 'u32')).toBe(0xaaaa_aaaan);
  });
});
