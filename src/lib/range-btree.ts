// The ordered index under RangeTable: keys (a row's start, number below 2^53 or the exact
// bigint) to row numbers, in a B+ tree specialised for what a range table asks. sorted-btree
// answered the same questions through a comparator callback, a reused pair array and, for
// every delete, its generic editRange walk; with a type1 dma list and an IOMMU page table per
// mapping that was most of a MAP_DMA/UNMAP_DMA (issue 8). Here keys compare with `<`
// (exact between a number and a bigint), lookups return the row, and a delete is one descent.
//
// Leaves hold up to MAX keys and are linked both ways, so a neighbour query that misses in
// its leaf steps to the next or previous one. A delete removes a leaf only when it empties:
// separators stay valid lower bounds (every key of child i is >= seps[i]), which is all the
// descent needs, and no merging keeps a delete at one walk down and back. An append past the
// last key of the tree (the usual IOVA order) splits off a fresh leaf instead of halving a
// full one, so tables filled in order keep full leaves.
//
// The leaf last used is kept as a finger: a key between its first key and the next leaf's
// first key can only be in it, so the lookups, inserts and deletes a MAP_DMA or UNMAP_DMA
// makes near the previous one (QEMU maps guest RAM in order) skip the descent. Only changes
// that need a parent (a split, a leaf emptied) descend.

/** A key as stored: the exact number below 2^53, else the bigint (see range-table.ts). */
export type Key = number | bigint;

/** No row. */
export const NONE = -1;

/** Keys per leaf and children per inner node (tests pass a small one to exercise splits). */
const MAX = 64;

class Leaf {
  keys: Key[] = [];
  vals: number[] = [];
  prev: Leaf | null = null;
  next: Leaf | null = null;
}

class Inner {
  /** seps[i] <= every key in children[i] < seps[i + 1]; seps[0] is never consulted. */
  seps: Key[] = [];
  children: Node[] = [];
}

type Node = Leaf | Inner;

// Array.prototype.splice makes an array of what it removes on every call, even when that is
// nothing: a leaf of at most MAX entries is shifted by hand instead.

/** Inserts v at index i of a (i <= a.length). */
function insertInto<T>(a: T[], i: number, v: T): void {
  let j = a.length;
  if (j === i) {
    a.push(v);
    return;
  }
  a.push(a[j - 1]);
  for (j--; j > i; j--) a[j] = a[j - 1];
  a[i] = v;
}

/** Removes index i of a. */
function removeFrom<T>(a: T[], i: number): void {
  const last = a.length - 1;
  for (let j = i; j < last; j++) a[j] = a[j + 1];
  a.pop();
}

/** The index of the last key <= k in `keys` (sorted), or -1. */
function floorIndex(keys: readonly Key[], k: Key): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The child of `n` whose range holds k (child 0 for keys below every separator). */
function childIndex(n: Inner, k: Key): number {
  const i = floorIndex(n.seps, k);
  return i < 0 ? 0 : i;
}

export class KeyIndex {
  private root: Node = new Leaf();
  private count = 0;
  /** The result of a split, handed up from insertAt without an allocation of a pair. */
  private splitKey: Key = 0;

  constructor(private readonly max = MAX) {}

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.finger = null;
    this.root = new Leaf();
    this.count = 0;
  }

  /** The leaf last descended to or used through the finger. */
  private finger: Leaf | null = null;

  private leafFor(k: Key): Leaf {
    const f = this.finger;
    if (f !== null && f.keys.length !== 0 && f.keys[0] <= k && (f.next === null || k < f.next.keys[0])) return f;
    let n = this.root;
    while (n instanceof Inner) n = n.children[childIndex(n, k)];
    this.finger = n;
    return n;
  }

  /** The row at exactly k, or NONE. */
  get(k: Key): number {
    const leaf = this.leafFor(k);
    const i = floorIndex(leaf.keys, k);
    return i >= 0 && leaf.keys[i] === k ? leaf.vals[i] : NONE;
  }

  /** The row of the greatest key <= k (inclusive) or < k, or NONE. */
  floor(k: Key, inclusive = true): number {
    let leaf: Leaf | null = this.leafFor(k);
    let i = floorIndex(leaf.keys, k);
    if (i >= 0 && !inclusive && leaf.keys[i] === k) i--;
    if (i >= 0) return leaf.vals[i];
    leaf = leaf.prev;
    return leaf ? leaf.vals[leaf.vals.length - 1] : NONE;
  }

  /** The row of the least key >= k (inclusive) or > k, or NONE. */
  ceil(k: Key, inclusive = true): number {
    let leaf: Leaf | null = this.leafFor(k);
    let i = floorIndex(leaf.keys, k);
    if (!(i >= 0 && inclusive && leaf.keys[i] === k)) i++;
    if (i < leaf.keys.length) return leaf.vals[i];
    leaf = leaf.next;
    return leaf ? leaf.vals[0] : NONE;
  }

  /** Sets k → row (replacing the row of an equal key). */
  set(k: Key, row: number): void {
    // Through the finger when the leaf has room (no parent to update).
    const leaf = this.leafFor(k);
    if (leaf.keys.length < this.max && (leaf.keys.length !== 0 || leaf === this.root)) {
      const i = floorIndex(leaf.keys, k);
      if (i >= 0 && leaf.keys[i] === k) {
        leaf.vals[i] = row;
        return;
      }
      // A key below the leaf's first is only its own when the leaf is the leftmost.
      if (i >= 0 || leaf.prev === null) {
        insertInto(leaf.keys, i + 1, k);
        insertInto(leaf.vals, i + 1, row);
        this.count++;
        return;
      }
    }
    const split = this.insertAt(this.root, k, row);
    if (split) {
      const root = new Inner();
      root.seps.push(this.minKey(this.root), this.splitKey);
      root.children.push(this.root, split);
      this.root = root;
    }
  }

  private minKey(n: Node): Key {
    while (n instanceof Inner) n = n.children[0];
    return n.keys[0];
  }

  /** Inserts below n; a new right sibling when n split (its first key in splitKey). */
  private insertAt(n: Node, k: Key, row: number): Node | null {
    if (n instanceof Leaf) {
      const keys = n.keys;
      const i = floorIndex(keys, k);
      if (i >= 0 && keys[i] === k) {
        n.vals[i] = row;
        return null;
      }
      this.count++;
      if (keys.length < this.max) {
        insertInto(keys, i + 1, k);
        insertInto(n.vals, i + 1, row);
        return null;
      }
      const right = new Leaf();
      if (i + 1 === keys.length && n.next === null) {
        // Appending past the tree's last key: the new key starts a leaf of its own.
        right.keys.push(k);
        right.vals.push(row);
      } else {
        const half = keys.length >>> 1;
        right.keys = keys.splice(half);
        right.vals = n.vals.splice(half);
        const into = i + 1 <= half ? n : right;
        const at = into === n ? i + 1 : i + 1 - half;
        into.keys.splice(at, 0, k);
        into.vals.splice(at, 0, row);
      }
      right.prev = n;
      right.next = n.next;
      if (n.next) n.next.prev = right;
      n.next = right;
      this.splitKey = right.keys[0];
      return right;
    }
    const ci = childIndex(n, k);
    const split = this.insertAt(n.children[ci], k, row);
    if (!split) return null;
    const sep = this.splitKey;
    const seps = n.seps;
    const children = n.children;
    if (children.length < this.max) {
      seps.splice(ci + 1, 0, sep);
      children.splice(ci + 1, 0, split);
      return null;
    }
    const right = new Inner();
    if (ci + 1 === children.length && this.isLast(n)) {
      right.seps.push(sep);
      right.children.push(split);
    } else {
      const half = children.length >>> 1;
      right.seps = seps.splice(half);
      right.children = children.splice(half);
      const into = ci + 1 <= half ? n : right;
      const at = into === n ? ci + 1 : ci + 1 - half;
      into.seps.splice(at, 0, sep);
      into.children.splice(at, 0, split);
    }
    this.splitKey = right.seps[0];
    return right;
  }

  /** Whether `n` is the rightmost node of its level. */
  private isLast(n: Inner): boolean {
    let m: Node = this.root;
    while (m instanceof Inner && m !== n) m = m.children[m.children.length - 1];
    return m === n;
  }

  /** Removes k; its row, or NONE when absent. */
  delete(k: Key): number {
    // Through the finger when the leaf keeps a key (no parent to update).
    const leaf = this.leafFor(k);
    const i = floorIndex(leaf.keys, k);
    if (i < 0 || leaf.keys[i] !== k) return NONE;
    if (leaf.keys.length > 1) {
      const row = leaf.vals[i];
      removeFrom(leaf.keys, i);
      removeFrom(leaf.vals, i);
      this.count--;
      return row;
    }
    this.finger = null;
    const row = this.deleteAt(this.root, k);
    if (row === NONE) return NONE;
    this.count--;
    let root = this.root;
    while (root instanceof Inner && root.children.length === 1) root = root.children[0];
    if (root instanceof Inner && root.children.length === 0) root = new Leaf();
    this.root = root;
    return row;
  }

  private deleteAt(n: Node, k: Key): number {
    if (n instanceof Leaf) {
      const i = floorIndex(n.keys, k);
      if (i < 0 || n.keys[i] !== k) return NONE;
      const row = n.vals[i];
      removeFrom(n.keys, i);
      removeFrom(n.vals, i);
      if (n.keys.length === 0 && n !== this.root) {
        if (n.prev) n.prev.next = n.next;
        if (n.next) n.next.prev = n.prev;
      }
      return row;
    }
    const ci = childIndex(n, k);
    const child = n.children[ci];
    const row = this.deleteAt(child, k);
    if (row !== NONE && (child instanceof Leaf ? child.keys.length === 0 : child.children.length === 0)) {
      n.seps.splice(ci, 1);
      n.children.splice(ci, 1);
    }
    return row;
  }

  /** Every row, lowest key first. */
  values(): number[] {
    let n = this.root;
    while (n instanceof Inner) n = n.children[0];
    const out: number[] = [];
    for (let leaf: Leaf | null = n; leaf; leaf = leaf.next) for (const v of leaf.vals) out.push(v);
    return out;
  }
}
