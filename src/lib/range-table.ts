// Non-overlapping [start, end) ranges as compact rows: the lean twin of RangeTree for tables
// that hold a row per user mapping (type1's dma list, an IOMMU domain's page table), where
// 10^6 live rows must cost bytes, not objects.
//
// A row is an index into typed columns: start, end and one address (a vaddr, a physical
// address) as float64, and a small flag word. Values are exact: a bound below 2^53 is stored as
// the number, anything at or above it (an IOVA near 2^64, the exclusive end 2^64) goes to a
// side table as the bigint, and the column holds NaN. The B+ tree keys rows by start with the
// same exact representation; JS compares a number with a bigint exactly, so mixed keys order
// correctly. Callers pass bigints, or the stored form itself (a number below 2^53: the hot
// MAP/UNMAP paths carry such values as numbers, issue 8), and read bigints or, through the
// *Key accessors, the stored form.

import { KeyIndex } from './range-btree.js';

/** An address as stored: the exact number below 2^53, else the bigint. */
export type Bound = number | bigint;

/**
 * Whether Number(v) === n is v exactly: any bigint at or above 2^53 converts to at least 2^53,
 * past MAX_SAFE_INTEGER, so a number compare answers without a bigint one.
 */
const exact = (n: number): boolean => n >= 0 && n <= Number.MAX_SAFE_INTEGER;

/** The stored form of a non-negative address (a number passed must be one below 2^53). */
export function bound(v: Bound): Bound {
  if (typeof v === 'number') return v;
  const n = Number(v);
  return exact(n) ? n : v;
}

export function boundValue(b: Bound): bigint {
  return typeof b === 'number' ? BigInt(b) : b;
}

/** No row. */
export const NO_ROW = -1;

// Column offsets within a row's three float64 slots.
const START = 0;
const END = 1;
const ADDR = 2;

export class RangeTable<R = never> {
  private readonly tree = new KeyIndex();
  private nums = new Float64Array(3 * 64);
  private flagCol = new Uint32Array(64);
  /** Row-owned references (the mm a dma was pinned from); only written when given. */
  private readonly refs: (R | undefined)[] = [];
  /** row * 3 + column → the bigint of a value at or above 2^53. */
  private readonly wide = new Map<number, bigint>();
  /**
   * Free rows as a stack threaded through a typed column (row → the free row under it), so a
   * delete stores a number instead of growing an array (issue 8); NO_ROW ends it.
   */
  private nextFree = new Int32Array(64);
  private freeHead = NO_ROW;
  private highWater = 0;

  get size(): number {
    return this.tree.size;
  }

  insert(start: Bound, end: Bound, addr: Bound, flags: number, ref?: R): number {
    let row = this.freeHead;
    if (row !== NO_ROW) this.freeHead = this.nextFree[row];
    else row = this.grow();
    const key = this.put(row, START, start);
    this.put(row, END, end);
    this.put(row, ADDR, addr);
    this.flagCol[row] = flags;
    if (ref !== undefined || row < this.refs.length) this.refs[row] = ref;
    this.tree.set(key, row);
    return row;
  }

  delete(row: number): void {
    this.tree.delete(this.key(row, START));
    this.release(row);
  }

  /** The row back to the free list; its columns are left for removeAt's caller to read. */
  private release(row: number): void {
    if (row < this.refs.length) this.refs[row] = undefined;
    this.nextFree[row] = this.freeHead;
    this.freeHead = row;
  }

  /**
   * Removes the row starting exactly at `start` in one walk of the tree, and returns it (or
   * NO_ROW). Its columns stay readable until the next insert.
   */
  removeAt(start: Bound): number {
    const found = this.tree.delete(bound(start));
    if (found !== NO_ROW) this.release(found);
    return found;
  }

  clear(): void {
    this.tree.clear();
    this.wide.clear();
    this.refs.length = 0;
    this.freeHead = NO_ROW;
    this.highWater = 0;
  }

  start(row: number): bigint {
    return this.get(row, START);
  }

  end(row: number): bigint {
    return this.get(row, END);
  }

  addr(row: number): bigint {
    return this.get(row, ADDR);
  }

  /** start() in its stored form: the number below 2^53, else the bigint. */
  startKey(row: number): Bound {
    return this.key(row, START);
  }

  endKey(row: number): Bound {
    return this.key(row, END);
  }

  addrKey(row: number): Bound {
    return this.key(row, ADDR);
  }

  setAddr(row: number, v: Bound): void {
    this.put(row, ADDR, v);
  }

  flags(row: number): number {
    return this.flagCol[row];
  }

  setFlags(row: number, flags: number): void {
    this.flagCol[row] = flags;
  }

  ref(row: number): R | undefined {
    return this.refs[row];
  }

  /** The row containing `addr`, or NO_ROW. */
  containing(addr: Bound): number {
    const a = bound(addr);
    const row = this.tree.floor(a);
    return row !== NO_ROW && this.key(row, END) > a ? row : NO_ROW;
  }

  /** The row with the lowest start at or above `addr`, or NO_ROW. */
  atOrAbove(addr: Bound): number {
    return this.tree.ceil(bound(addr));
  }

  /** The lowest row overlapping [start, end), or NO_ROW. */
  firstOverlap(start: Bound, end: Bound): number {
    if (end <= start) return NO_ROW;
    const below = this.containing(start);
    if (below !== NO_ROW) return below;
    const row = this.tree.ceil(bound(start), false);
    return row !== NO_ROW && this.key(row, START) < bound(end) ? row : NO_ROW;
  }

  /**
   * A row overlapping [start, end) (the highest), or NO_ROW, in one walk: of the rows starting
   * below `end`, the highest reaches furthest (rows do not overlap), so if any row reaches
   * past `start`, it does.
   */
  someOverlap(start: Bound, end: Bound): number {
    if (end <= start) return NO_ROW;
    const row = this.tree.floor(bound(end), false);
    return row !== NO_ROW && this.key(row, END) > bound(start) ? row : NO_ROW;
  }

  /** Every row overlapping [start, end), lowest first (a snapshot: safe to delete while iterating). */
  overlapping(start: Bound, end: Bound): number[] {
    const out: number[] = [];
    if (end <= start) return out;
    const e = bound(end);
    let row = this.containing(start);
    if (row === NO_ROW) row = this.atOrAbove(start);
    while (row !== NO_ROW && this.key(row, START) < e) {
      out.push(row);
      // Rows do not overlap: the next one starts at or after this one's end.
      if (this.key(row, END) >= e) break;
      row = this.tree.ceil(this.key(row, START), false);
    }
    return out;
  }

  /** Every row, lowest start first (a snapshot). */
  rows(): number[] {
    return this.tree.values();
  }

  private key(row: number, col: number): Bound {
    const v = this.nums[row * 3 + col];
    return v === v ? v : this.wide.get(row * 3 + col)!;
  }

  private get(row: number, col: number): bigint {
    const v = this.nums[row * 3 + col];
    return v === v ? BigInt(v) : this.wide.get(row * 3 + col)!;
  }

  /** Stores v in the row's column; its stored form (the key, for START). */
  private put(row: number, col: number, v: Bound): Bound {
    const n = typeof v === 'number' ? v : Number(v);
    if (exact(n)) {
      this.nums[row * 3 + col] = n;
      if (this.wide.size) this.wide.delete(row * 3 + col);
      return n;
    }
    this.nums[row * 3 + col] = NaN;
    this.wide.set(row * 3 + col, v as bigint);
    return v;
  }

  private grow(): number {
    const row = this.highWater++;
    if (row >= this.flagCol.length) {
      const nums = new Float64Array(this.nums.length * 2);
      nums.set(this.nums);
      this.nums = nums;
      const flags = new Uint32Array(this.flagCol.length * 2);
      flags.set(this.flagCol);
      this.flagCol = flags;
      const next = new Int32Array(this.nextFree.length * 2);
      next.set(this.nextFree);
      this.nextFree = next;
    }
    return row;
  }
}
