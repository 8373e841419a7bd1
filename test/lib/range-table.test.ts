// RangeTable (src/lib/range-table.ts): non-overlapping ranges as compact rows, exact at every
// width — numbers below 2^53, bigints above, and the two ordered together.

import { describe, expect, it } from 'vitest';
import { bound, NO_ROW, RangeTable } from '../../src/lib/range-table.js';

const TOP = 1n << 64n;
const BIG = (1n << 53n) + 1n; // the first integer a double cannot hold

/** [start, end, addr, flags] of every row, lowest start first. */
const rows = (t: RangeTable<unknown>) => t.rows().map((r) => [t.start(r), t.end(r), t.addr(r), t.flags(r)]);

describe('RangeTable', () => {
  // Below 2^53 a bound is the number; from 2^53 + 1 up it stays the bigint: nothing rounds.
  it('stored bounds are exact', () => {
    expect(bound(0x1000n)).toBe(0x1000);
    expect(bound(BIG - 2n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(bound(BIG)).toBe(BIG);
    const t = new RangeTable();
    const r = t.insert(TOP - 0x2000n, TOP, BIG, 3);
    expect([t.start(r), t.end(r), t.addr(r), t.flags(r)]).toEqual([TOP - 0x2000n, TOP, BIG, 3]);
  });

  // Number and bigint starts order by value, not by kind.
  it('mixed bounds in order', () => {
    const t = new RangeTable();
    t.insert(BIG + 0xfffn, BIG + 0x1fffn, 0n, 1);
    t.insert(0x1000n, 0x2000n, 0xaa000n, 2);
    t.insert(TOP - 0x1000n, TOP, 0n, 3);
    expect(rows(t)).toEqual([
      [0x1000n, 0x2000n, 0xaa000n, 2],
      [BIG + 0xfffn, BIG + 0x1fffn, 0n, 1],
      [TOP - 0x1000n, TOP, 0n, 3],
    ]);
    expect(t.start(t.containing(TOP - 1n))).toBe(TOP - 0x1000n);
    expect(t.containing(BIG + 0x1fffn)).toBe(NO_ROW);
  });

  // containing: the end is exclusive.
  it('containing', () => {
    const t = new RangeTable();
    const r = t.insert(0x1000n, 0x3000n, 0n, 0);
    expect(t.containing(0x1000n)).toBe(r);
    expect(t.containing(0x2fffn)).toBe(r);
    expect(t.containing(0x3000n)).toBe(NO_ROW);
    expect(t.containing(0xfffn)).toBe(NO_ROW);
  });

  // someOverlap finds a row meeting the range in one walk; firstOverlap the lowest.
  it('overlap lookups', () => {
    const t = new RangeTable();
    const a = t.insert(0x1000n, 0x2000n, 0n, 0);
    const b = t.insert(0x4000n, 0x5000n, 0n, 0);
    expect(t.someOverlap(0x2000n, 0x4000n)).toBe(NO_ROW);
    expect(t.someOverlap(0x1fffn, 0x4000n)).toBe(a);
    expect(t.someOverlap(0x0n, 0x8000n)).toBe(b);
    expect(t.firstOverlap(0x0n, 0x8000n)).toBe(a);
    expect(t.someOverlap(0x1000n, 0x1000n)).toBe(NO_ROW);
    expect(t.overlapping(0x1800n, 0x4001n)).toEqual([a, b]);
    expect(t.overlapping(0x2000n, 0x4000n)).toEqual([]);
  });

  // removeAt takes only a row starting exactly there; the row's columns stay readable.
  it('removeAt', () => {
    const t = new RangeTable();
    const r = t.insert(0x1000n, 0x2000n, BIG, 5);
    expect(t.removeAt(0x1800n)).toBe(NO_ROW);
    expect(t.removeAt(0x1000n)).toBe(r);
    expect([t.end(r), t.addr(r), t.flags(r), t.size]).toEqual([0x2000n, BIG, 5, 0]);
    expect(t.removeAt(0x1000n)).toBe(NO_ROW);
  });

  // A freed row is reused, with none of its old values (a wide one least of all).
  it('rows are reused clean', () => {
    const t = new RangeTable<string>();
    const r = t.insert(0x1000n, 0x2000n, BIG, 1, 'mm');
    t.delete(r);
    const s = t.insert(0x8000n, 0x9000n, 0xaa00n, 2);
    expect(s).toBe(r);
    expect([t.start(s), t.end(s), t.addr(s), t.flags(s), t.ref(s)]).toEqual([0x8000n, 0x9000n, 0xaa00n, 2, undefined]);
    t.setAddr(s, TOP - 1n);
    expect(t.addr(s)).toBe(TOP - 1n);
  });

  // Past the first 64 rows the columns grow and keep every value.
  it('growth keeps rows', () => {
    const t = new RangeTable();
    for (let i = 0n; i < 200n; i++) t.insert(i * 0x2000n, i * 0x2000n + 0x1000n, i, Number(i));
    expect(t.size).toBe(200);
    expect(rows(t)[199]).toEqual([199n * 0x2000n, 199n * 0x2000n + 0x1000n, 199n, 199]);
  });
});
