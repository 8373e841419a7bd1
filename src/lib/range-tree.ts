// Non-overlapping [start, end) ranges keyed by start, in a B+ tree: O(log n) insert, delete
// and lookup. Used for vfio_dma entries (the kernel's dma_list rb-tree) and IOMMU page tables.
// Bounds are bigint; `end` is exclusive and may be 2^64.

import * as btree from 'sorted-btree';

// sorted-btree ships CommonJS with `exports.default = BTree`; from ESM the class sits one
// level down (`.default.default` under Node, `.default` under a bundler).
type BTreeClass = typeof import('sorted-btree').default;
const mod = btree as unknown as { default: BTreeClass & { default?: BTreeClass } };
const BTree: BTreeClass = mod.default.default ?? mod.default;

export interface Range<V> {
  start: bigint;
  end: bigint;
  value: V;
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

export class RangeTree<V> {
  private readonly tree = new BTree<bigint, Range<V>>(undefined, cmp);

  get size(): number {
    return this.tree.size;
  }

  insert(start: bigint, end: bigint, value: V): Range<V> {
    const r = { start, end, value };
    this.tree.set(start, r);
    return r;
  }

  delete(r: Range<V>): void {
    this.tree.delete(r.start);
  }

  clear(): void {
    this.tree.clear();
  }

  /** The range containing `addr`. */
  containing(addr: bigint): Range<V> | undefined {
    const p = this.tree.getPairOrNextLower(addr);
    return p && p[1].end > addr ? p[1] : undefined;
  }

  /** The lowest range overlapping [start, end). */
  firstOverlap(start: bigint, end: bigint): Range<V> | undefined {
    if (end <= start) return undefined;
    const below = this.containing(start);
    if (below) return below;
    const p = this.tree.nextHigherPair(start);
    return p && p[1].start < end ? p[1] : undefined;
  }

  /** Every range overlapping [start, end), lowest first (a snapshot: safe to delete while iterating). */
  overlapping(start: bigint, end: bigint): Range<V>[] {
    const out: Range<V>[] = [];
    if (end <= start) return out;
    const below = this.containing(start);
    if (below) out.push(below);
    this.tree.forRange(start, end, false, (k: bigint, r: Range<V>) => {
      if (k !== below?.start) out.push(r);
    });
    return out;
  }

  /** The range with the highest start below `addr` (whether or not it contains it). */
  lowerThan(addr: bigint): Range<V> | undefined {
    return this.tree.nextLowerPair(addr)?.[1];
  }

  *[Symbol.iterator](): IterableIterator<Range<V>> {
    for (const [, r] of this.tree.entries()) yield r;
  }
}
