// lib/slab.ts: carved arrays are zeroed, never overlap, and keep to their own bytes.

import { describe, expect, it } from 'vitest';
import { zeroedBytes } from '../../src/lib/slab.js';

describe('zeroedBytes', () => {
  // Arrays carved one after another (across slab boundaries) are zero and disjoint: filling
  // each with its own byte leaves every other as it was filled.
  it('zeroed and disjoint', () => {
    const sizes = [1, 7, 8, 256, 4096 * 4, 3, 4096 * 4, 4096 * 4, 4096 * 4, 100, 16 * 1024 + 1, 64 * 1024];
    const arrays = sizes.map((n) => zeroedBytes(n));
    expect(arrays.map((a) => a.length)).toEqual(sizes);
    expect(arrays.map((a) => a.every((b) => b === 0))).toEqual(sizes.map(() => true));
    arrays.forEach((a, i) => a.fill(0xa0 + i));
    expect(arrays.map((a, i) => a.every((b) => b === 0xa0 + i))).toEqual(sizes.map(() => true));
  });

  // Carved arrays start 8-aligned in their slab; one larger than a quarter slab has its own buffer.
  it('alignment and large arrays', () => {
    const a = zeroedBytes(3);
    const b = zeroedBytes(5);
    expect([a.byteOffset % 8, b.byteOffset % 8]).toEqual([0, 0]);
    const big = zeroedBytes(16 * 1024 + 1);
    expect([big.byteOffset, big.buffer.byteLength]).toEqual([0, 16 * 1024 + 1]);
  });
});
