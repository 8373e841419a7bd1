// KeyIndex (src/lib/range-btree.ts): the B+ tree under RangeTable, checked against a sorted
// array by random operation sequences (enough keys to split leaves and inner nodes, and to
// empty them again), with number and bigint keys mixed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyIndex, NONE, type Key } from '../../src/lib/range-btree.js';

/** The reference: [key, row] pairs kept sorted by key. */
class Sorted {
  pairs: [Key, number][] = [];
  set(k: Key, row: number): void {
    const i = this.pairs.findIndex(([p]) => p >= k);
    if (i >= 0 && this.pairs[i][0] === k) this.pairs[i][1] = row;
    else if (i < 0) this.pairs.push([k, row]);
    else this.pairs.splice(i, 0, [k, row]);
  }
  delete(k: Key): number {
    const i = this.pairs.findIndex(([p]) => p === k);
    return i < 0 ? NONE : this.pairs.splice(i, 1)[0][1];
  }
  floor(k: Key, inclusive: boolean): number {
    const below = this.pairs.filter(([p]) => (inclusive ? p <= k : p < k));
    return below.length ? below[below.length - 1][1] : NONE;
  }
  ceil(k: Key, inclusive: boolean): number {
    const above = this.pairs.find(([p]) => (inclusive ? p >= k : p > k));
    return above ? above[1] : NONE;
  }
}

const BIG = 1n << 53n;
// Keys from a small space so sets, deletes and lookups meet; some beyond 2^53 as bigints.
const key = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 3000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 50 }).map((n): Key => BIG + BigInt(n)) },
);
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), k: key, row: fc.nat(1e6) }),
  fc.record({ kind: fc.constant('delete' as const), k: key }),
  fc.record({ kind: fc.constant('floor' as const), k: key, inclusive: fc.boolean() }),
  fc.record({ kind: fc.constant('ceil' as const), k: key, inclusive: fc.boolean() }),
);

describe('KeyIndex', () => {
  // Every answer equals the sorted array's, and the order and size stay right throughout
  // (nodes of 3 and 4 split and empty often, at every level).
  it('agrees with a sorted array', () => {
    fc.assert(
      fc.property(fc.constantFrom(3, 4, 64), fc.array(op, { maxLength: 1500 }), (max, ops) => {
        const t = new KeyIndex(max);
        const ref = new Sorted();
        for (const o of ops) {
          if (o.kind === 'set') {
            t.set(o.k, o.row);
            ref.set(o.k, o.row);
          } else if (o.kind === 'delete') expect(t.delete(o.k)).toBe(ref.delete(o.k));
          else if (o.kind === 'floor') expect(t.floor(o.k, o.inclusive)).toBe(ref.floor(o.k, o.inclusive));
          else expect(t.ceil(o.k, o.inclusive)).toBe(ref.ceil(o.k, o.inclusive));
        }
        expect(t.values()).toEqual(ref.pairs.map(([, r]) => r));
        expect(t.size).toBe(ref.pairs.length);
      }),
      { numRuns: 60 },
    );
  });

  // Keys set in increasing order (the usual IOVA order), then all deleted, in both orders.
  it('fills in order and empties', () => {
    for (const [reverse, max] of [[false, 64], [true, 64], [false, 3], [true, 4]] as const) {
      const t = new KeyIndex(max);
      const n = max > 4 ? 20_000 : 3_000;
      for (let i = 0; i < n; i++) t.set(i * 2, i);
      expect(t.size).toBe(n);
      expect(t.floor(2 * 777 + 1)).toBe(777);
      expect(t.ceil(2 * 777 + 1)).toBe(778);
      expect(t.floor(2 * 777, false)).toBe(776);
      expect(t.ceil(2 * 777, false)).toBe(778);
      for (let j = 0; j < n; j++) {
        const i = reverse ? n - 1 - j : j;
        expect(t.delete(i * 2)).toBe(i);
      }
      expect(t.size).toBe(0);
      expect([t.floor(1e9), t.ceil(0), t.get(0), t.values()]).toEqual([NONE, NONE, NONE, []]);
    }
  });
});
