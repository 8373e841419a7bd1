// A TCE table (struct iommu_table): the flat array of 64-bit translation control entries a
// PowerPC host bridge walks for DMA, one per IOMMU page. The PHB model (ioda-phb.ts) points
// its TVEs at these; VFIO's sPAPR backend (kernel/vfio/spapr-tce.ts) fills them.

import { RangeTree } from '../../lib/range-tree.js';

/** TCE permission bits (asm/tce.h). */
export const TCE_PCI_READ = 0x1n;
export const TCE_PCI_WRITE = 0x2n;

/** One TCE as the table holds it: the real address of the IOMMU page and its permissions. */
export interface Tce {
  hpa: bigint;
  read: boolean;
  write: boolean;
  /**
   * The userspace view (tbl->it_userspace, v2 containers): the user address this TCE was
   * built from. Not seen by hardware.
   */
  ua?: bigint;
}

/** A run of consecutive TCEs mapping consecutive pages (the table is kept as runs). */
interface TceRun {
  hpa: bigint;
  read: boolean;
  write: boolean;
  ua?: bigint;
}

/** A removed piece of a table: `count` entries from `entry`, with their first TCE. */
export interface TcePiece extends Tce {
  entry: bigint;
  count: bigint;
}

/**
 * A TCE table (struct iommu_table as the PHB walks it): `size` entries starting at entry
 * `offset` (it_offset, so the window starts at bus address offset << pageShift). Levels are
 * recorded (the TVE says how many indirection levels the PHB walks) but the walk itself is
 * flat: what the model answers is the same.
 */
export class TceTable {
  private readonly runs = new RangeTree<TceRun>();

  constructor(
    /** it_offset: first entry number (bus address >> pageShift). */
    readonly offset: bigint,
    /** it_size: number of entries. */
    readonly size: bigint,
    /** it_page_shift. */
    readonly pageShift: number,
    /** it_indirect_levels + 1. */
    readonly levels: number,
  ) {}

  get pageSize(): bigint {
    return 1n << BigInt(this.pageShift);
  }

  /** First bus address of the window. */
  get start(): bigint {
    return this.offset << BigInt(this.pageShift);
  }

  /** Window size in bytes. */
  get windowSize(): bigint {
    return this.size << BigInt(this.pageShift);
  }

  /** The entry's TCE, or undefined if it is not valid (no READ or WRITE bit). */
  get(entry: bigint): Tce | undefined {
    const r = this.runs.containing(entry);
    if (!r) return undefined;
    const d = entry - r.start;
    const v = r.value;
    return { hpa: v.hpa + (d << BigInt(this.pageShift)), read: v.read, write: v.write, ua: v.ua === undefined ? undefined : v.ua + (d << BigInt(this.pageShift)) };
  }

  /**
   * Exchanges `count` entries from `first` (iommu_tce_xchg_no_kill per entry): with a TCE
   * they become consecutive pages from it, without they become invalid. Returns the valid
   * TCEs that were there before, as pieces.
   */
  xchg(first: bigint, count: bigint, tce?: Tce): TcePiece[] {
    const end = first + count;
    const old: TcePiece[] = [];
    const shift = BigInt(this.pageShift);
    for (const r of this.runs.overlapping(first, end)) {
      this.runs.delete(r);
      const v = r.value;
      const at = (e: bigint): TceRun => ({
        hpa: v.hpa + ((e - r.start) << shift),
        read: v.read,
        write: v.write,
        ua: v.ua === undefined ? undefined : v.ua + ((e - r.start) << shift),
      });
      if (r.start < first) this.runs.insert(r.start, first, v);
      if (r.end > end) this.runs.insert(end, r.end, at(end));
      const s = r.start > first ? r.start : first;
      const e = r.end < end ? r.end : end;
      old.push({ entry: s, count: e - s, ...at(s) });
    }
    if (tce && count > 0n) {
      // pnv_tce_xchg(): "if (newtce & TCE_PCI_WRITE) newtce |= TCE_PCI_READ".
      this.runs.insert(first, end, { hpa: tce.hpa, read: tce.read || tce.write, write: tce.write, ua: tce.ua });
    }
    return old.sort((a, b) => (a.entry < b.entry ? -1 : 1));
  }

  /** Valid entries. */
  get validEntries(): bigint {
    let n = 0n;
    for (const r of this.runs) n += r.end - r.start;
    return n;
  }

  /** Runs of valid entries, lowest first, for display. */
  pieces(): TcePiece[] {
    return [...this.runs].map((r) => ({ entry: r.start, count: r.end - r.start, ...r.value }));
  }

  get runCount(): number {
    return this.runs.size;
  }
}
