// Capability chains (vfio_info_cap_header lists), written and read.
//
// Writing follows drivers/vfio/vfio_main.c: vfio_info_cap_add() appends each capability at the
// tail of a growing buffer, zero-filled, rounding its size up to 8 bytes in eras that align
// ("vfio: align capability structures", 2023); the previous tail's `next` is set to the new
// capability's offset inside that buffer. vfio_info_cap_shift() then adds the info struct's
// size to every `next`, so offsets are relative to the start of the info struct.
//
// Reading is for users' buffers, which may lie: the walk is bounded by the buffer, stops on a
// cycle, and reports what was wrong instead of throwing.

import type { UapiLayout } from './layout.js';
import {
  CAP_DMA_AVAIL,
  CAP_IOVA_RANGE,
  CAP_MIGRATION,
  CAP_MSI_GEOMETRY,
  CAP_MSI_RESV,
  CAP_MSIX_MAPPABLE,
  CAP_REGION_TYPE,
  CAP_SPARSE_MMAP,
  IOVA_RANGE_ENTRY,
  SPARSE_MMAP_AREA,
  VFIO_INFO_CAP_HEADER,
} from './structs.js';
import { decodeStruct, readField, writeField, type StructDef } from './struct.js';

/** The kernel-side chain under construction (struct vfio_info_cap). */
export class CapChain {
  buf = new Uint8Array(0);

  constructor(private readonly align8: boolean) {}

  get size(): number {
    return this.buf.length;
  }

  /** vfio_info_cap_add(): appends a zeroed capability of `size` bytes; returns its offset in the chain. */
  add(size: number, id: number, version: number): number {
    const padded = this.align8 ? (size + 7) & ~7 : size;
    const at = this.buf.length;
    const grown = new Uint8Array(at + padded);
    grown.set(this.buf);
    this.buf = grown;
    writeField(this.buf, at, 'u16', BigInt(id));
    writeField(this.buf, at + 2, 'u16', BigInt(version));
    // Link from the current tail (the first capability links from itself, next stays 0).
    let tail = 0;
    for (let next = this.next(tail); next !== 0; next = this.next(tail)) tail = next;
    if (at !== 0) writeField(this.buf, tail + 4, 'u32', BigInt(at));
    return at;
  }

  /** vfio_info_add_capability(): appends `body`, whose first 8 bytes are a header to be filled in. */
  addCapability(body: Uint8Array, id: number, version: number): number {
    const at = this.add(body.length, id, version);
    this.buf.set(body.subarray(8), at + 8);
    return at;
  }

  /** vfio_info_cap_shift(): makes every `next` relative to the info struct's start. */
  shift(offset: number): void {
    let at = 0;
    for (let next = this.next(at); next !== 0; next = this.next(at)) {
      writeField(this.buf, at + 4, 'u32', BigInt(next + offset));
      at = next;
    }
  }

  private next(at: number): number {
    return Number(readField(this.buf, at + 4, 'u32'));
  }
}

// ---- capability tables, by namespace ------------------------------------------------------

export type CapNamespace = 'iommu-info' | 'region-info' | 'device-info';

export interface CapDef {
  id: number;
  name: string;
  struct: StructDef;
  /** A trailing array: its entry struct and the header field that counts entries. */
  array?: { entry: StructDef; countField: string; name: string };
}

const TYPE1_UPSTREAM_ID1: CapDef = {
  id: 1,
  name: 'IOVA_RANGE',
  struct: CAP_IOVA_RANGE,
  array: { entry: IOVA_RANGE_ENTRY, countField: 'nr_iovas', name: 'iova_ranges' },
};
const TYPE1_MSI_GEOMETRY: CapDef = { id: 1, name: 'MSI_GEOMETRY', struct: CAP_MSI_GEOMETRY };
const TYPE1_MSI_RESV: CapDef = { id: 1, name: 'MSI_RESV', struct: CAP_MSI_RESV };
const TYPE1_MIGRATION: CapDef = { id: 2, name: 'MIGRATION', struct: CAP_MIGRATION };
const TYPE1_DMA_AVAIL: CapDef = { id: 3, name: 'DMA_AVAIL', struct: CAP_DMA_AVAIL };

const REGION_CAPS: CapDef[] = [
  {
    id: 1,
    name: 'SPARSE_MMAP',
    struct: CAP_SPARSE_MMAP,
    array: { entry: SPARSE_MMAP_AREA, countField: 'nr_areas', name: 'areas' },
  },
  { id: 2, name: 'TYPE', struct: CAP_REGION_TYPE },
  { id: 3, name: 'MSIX_MAPPABLE', struct: CAP_MSIX_MAPPABLE },
];

/**
 * The capabilities a namespace has in an era. Type1 id 1 is the series' MSI_GEOMETRY
 * (rfc-v10) or MSI_RESV (rfc-v14), and upstream's IOVA_RANGE: the same number, three meanings.
 */
export function capDefs(ns: CapNamespace, era: UapiLayout): CapDef[] {
  switch (ns) {
    case 'iommu-info': {
      const id1 = era.type1InfoCaps.includes('msi-geometry')
        ? TYPE1_MSI_GEOMETRY
        : era.type1InfoCaps.includes('msi-resv')
          ? TYPE1_MSI_RESV
          : TYPE1_UPSTREAM_ID1;
      return [id1, TYPE1_MIGRATION, TYPE1_DMA_AVAIL];
    }
    case 'region-info':
      return REGION_CAPS;
    case 'device-info':
      return [];
  }
}

/** Every capability name a user may write in `expect cap NAME`, across eras. */
export const ALL_CAP_DEFS: CapDef[] = [
  TYPE1_UPSTREAM_ID1,
  TYPE1_MSI_GEOMETRY,
  TYPE1_MSI_RESV,
  TYPE1_MIGRATION,
  TYPE1_DMA_AVAIL,
  ...REGION_CAPS,
];

// ---- reading a chain from a buffer --------------------------------------------------------

export interface DecodedCap {
  off: number;
  id: number;
  version: number;
  next: number;
  /** Known by the namespace's table in this era, or undefined for an unknown id. */
  def?: CapDef;
  fields: Map<string, bigint>;
  /** Entries of a trailing array (IOVA ranges, sparse areas), as many as fit in the buffer. */
  entries: Map<string, bigint>[];
}

export interface ChainWalk {
  caps: DecodedCap[];
  /** Why the walk stopped early, if it did (a cycle, an offset outside the buffer). */
  problem?: string;
}

/** Upper bound on the number of capabilities walked, whatever the buffer says. */
const MAX_CAPS = 256;

/**
 * Walks the chain starting at `first` (an offset from the start of `buf`). Offsets must
 * leave room for a header inside the buffer; a `next` that goes backwards or repeats ends
 * the walk as a cycle.
 */
export function walkChain(buf: Uint8Array, first: number, defs: readonly CapDef[]): ChainWalk {
  const caps: DecodedCap[] = [];
  const seen = new Set<number>();
  let off = first;
  while (off !== 0) {
    if (seen.has(off)) return { caps, problem: `capability chain loops back to offset ${off}` };
    if (caps.length >= MAX_CAPS) return { caps, problem: `capability chain longer than ${MAX_CAPS} entries` };
    if (off < 0 || off + VFIO_INFO_CAP_HEADER.size > buf.length) {
      return { caps, problem: `capability offset ${off} is outside the ${buf.length}-byte buffer` };
    }
    seen.add(off);
    const id = Number(readField(buf, off, 'u16'));
    const version = Number(readField(buf, off + 2, 'u16'));
    const next = Number(readField(buf, off + 4, 'u32'));
    const def = defs.find((d) => d.id === id);
    const body = buf.subarray(off, off + (def ? def.struct.size : VFIO_INFO_CAP_HEADER.size));
    const fields = decodeStruct(def ? def.struct : VFIO_INFO_CAP_HEADER, body);
    const entries: Map<string, bigint>[] = [];
    if (def?.array) {
      const count = Number(fields.get(def.array.countField) ?? 0n);
      const esz = def.array.entry.size;
      for (let i = 0; i < count && i < MAX_CAPS; i++) {
        const at = off + def.struct.size + i * esz;
        if (at + esz > buf.length) break;
        entries.push(decodeStruct(def.array.entry, buf.subarray(at, at + esz)));
      }
    }
    caps.push({ off, id, version, next, def, fields, entries });
    off = next;
  }
  return { caps };
}
