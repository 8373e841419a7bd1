// Rendering uapi structs strace-style, from the field tables: `{argsz=24 → 116,
// flags=PGSIZES|CAPS, iova_pgsizes=0x40201000, cap_offset=24}` and the capability chain after
// it. A field the kernel changed shows `before => after` (strace's mark for in/out values).

import type { UapiLayout } from './layout.js';
import { capDefs, walkChain, type CapNamespace, type DecodedCap } from './caps.js';
import { DMA_MAP_FLAGS, DMA_MAP_FLAGS_RFC, VFIO_DEVICE_INFO, VFIO_IOMMU_TYPE1_INFO, VFIO_REGION_INFO } from './structs.js';
import { fieldWidth, flagNames, readField, type FieldDef, type FlagTable, type StructDef } from './struct.js';

/** The flag table a field uses in an era (DMA_MAP bit 2 is VADDR upstream, RESERVED_MSI_IOVA in the series). */
export function fieldFlags(def: StructDef, f: FieldDef, era: UapiLayout): FlagTable | undefined {
  if (f.flags === DMA_MAP_FLAGS && era.mapFlagBit2 === 'reserved-msi') return DMA_MAP_FLAGS_RFC;
  return f.flags;
}

/** Fields of a struct that exist in an era (4.10's type1 info ends at iova_pgsizes; pads are hidden). */
export function eraFields(def: StructDef, era: UapiLayout): FieldDef[] {
  return def.fields.filter((f) => {
    if (f.role === 'pad') return false;
    if (def === VFIO_IOMMU_TYPE1_INFO && f.name === 'cap_offset') return era.type1InfoHasCapOffset;
    return true;
  });
}

export function formatValue(def: StructDef, f: FieldDef, v: bigint, era: UapiLayout): string {
  const flags = fieldFlags(def, f, era);
  if (flags) return v === 0n ? '0' : flagNames(flags, v).join('|');
  if (f.values) {
    const named = f.values.bits.find(([, b]) => b === v);
    if (named) return named[0];
  }
  if (f.type === 's32') return BigInt.asIntN(32, v).toString();
  return f.hex ? `0x${v.toString(16)}` : v.toString();
}

/** `{a=1, b=2 => 3}`: the fields that fit in both buffers, with changes marked as strace marks in/out values. */
export function formatStruct(def: StructDef, era: UapiLayout, after: Uint8Array, before?: Uint8Array): string {
  const parts: string[] = [];
  for (const f of eraFields(def, era)) {
    if (f.off + fieldWidth(f) > after.length) continue;
    const a = readField(after, f.off, f.type);
    const b = before && f.off + fieldWidth(f) <= before.length ? readField(before, f.off, f.type) : a;
    const av = formatValue(def, f, a, era);
    parts.push(a === b ? `${f.name}=${av}` : `${f.name}=${formatValue(def, f, b, era)} => ${av}`);
  }
  return `{${parts.join(', ')}}`;
}

/** Decoded fields as strings, for JSON output and `expect FIELD=`. */
export function decodeFields(def: StructDef, era: UapiLayout, buf: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of eraFields(def, era)) {
    if (f.off + fieldWidth(f) <= buf.length) out[f.name] = formatValue(def, f, readField(buf, f.off, f.type), era);
  }
  return out;
}

/** Which capability namespace a struct's chain belongs to, if it has one. */
export function capNamespace(def: StructDef): CapNamespace | undefined {
  if (def === VFIO_IOMMU_TYPE1_INFO) return 'iommu-info';
  if (def === VFIO_REGION_INFO) return 'region-info';
  if (def === VFIO_DEVICE_INFO) return 'device-info';
  return undefined;
}

/** The chain an info struct points to (cap_offset, when its CAPS flag is set and the offset is non-zero). */
export function structCaps(def: StructDef, era: UapiLayout, buf: Uint8Array): { caps: DecodedCap[]; problem?: string } {
  const ns = capNamespace(def);
  if (!ns) return { caps: [] };
  const capOff = def.fields.find((f) => f.name === 'cap_offset');
  if (!capOff || capOff.off + 4 > buf.length) return { caps: [] };
  if (def === VFIO_IOMMU_TYPE1_INFO && !era.type1InfoHasCapOffset) return { caps: [] };
  const first = Number(readField(buf, capOff.off, 'u32'));
  if (first === 0) return { caps: [] };
  return walkChain(buf, first, capDefs(ns, era));
}

/**
 * An array entry in the one notation ranges have everywhere in the output, START-END with
 * END inclusive (as reserved_regions and the kernel's `[mem …-…]` print them): an IOVA range
 * as it is, a sparse area's offset and size as the bytes they cover (`0x3000 (empty)` for size 0).
 */
function entryRange(e: ReadonlyMap<string, bigint>): string {
  const h = (v: bigint) => `0x${v.toString(16)}`;
  const start = e.get('start');
  const end = e.get('end');
  if (start !== undefined && end !== undefined) return `${h(start)}-${h(end)}`;
  const off = e.get('offset');
  const size = e.get('size');
  if (off !== undefined && size !== undefined) return size === 0n ? `${h(off)} (empty)` : `${h(off)}-${h(off + size - 1n)}`;
  return [...e.values()].map(h).join(' ');
}

export function formatCap(c: DecodedCap): string {
  const name = c.def ? c.def.name : `id ${c.id}`;
  const fields: string[] = [];
  for (const [k, v] of c.fields) {
    if (k === 'id' || k === 'next' || k === 'version') continue;
    const f = c.def?.struct.fields.find((x) => x.name === k);
    if (f?.role === 'pad') continue;
    fields.push(`${k}=${f?.hex ? `0x${v.toString(16)}` : v}`);
  }
  for (const e of c.entries) fields.push(`[${entryRange(e)}]`);
  return `${name}@${c.off}{${fields.join(', ')}}`;
}
