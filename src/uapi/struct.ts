// uapi structs as field tables.
//
// Each struct is declared once (name, offset, width, flag names). The kernel model reads and
// writes user buffers through these tables; the scenario layer encodes `field=value`
// arguments, decodes answers, displays them and checks `expect FIELD=` with the same tables.
// All targets are LP64 little-endian (x86_64, arm64, ppc64le); every field is a bigint.

export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 's32';

export interface FlagTable {
  /** The kernel prefix a user may write or omit (`VFIO_DMA_MAP_FLAG_`). */
  prefix: string;
  bits: ReadonlyArray<readonly [string, bigint]>;
}

export interface FieldDef {
  name: string;
  off: number;
  type: FieldType;
  /** Named bits, for display and for parsing `flags=READ|WRITE`. */
  flags?: FlagTable;
  /** Named values (an index such as MSIX, or an id). */
  values?: FlagTable;
  /**
   * What the field holds beyond its number, for the replayer's rewriting and for display:
   * `fd` a file descriptor, `uaddr` a user virtual address, `pad` reserved bytes.
   */
  role?: 'fd' | 'uaddr' | 'pad';
  /** Shown in hex (addresses, sizes, bitmaps) rather than decimal. */
  hex?: boolean;
}

export interface StructDef {
  name: string;
  size: number;
  fields: readonly FieldDef[];
  /** A variable tail after `size` (data[] of vfio_irq_set, a capability chain). */
  tail?: 'caps' | 'irq-data' | 'bitmap' | 'fd-array';
  /**
   * A struct that follows this one in the same buffer when the caller asks for it (the
   * vfio_bitmap after an UNMAP with GET_DIRTY_BITMAP): its fields are named `prefix + name`.
   */
  follows?: { def: StructDef; prefix: string };
}

const WIDTH: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s32: 4 };

export function fieldWidth(f: FieldDef): number {
  return WIDTH[f.type];
}

export function defineStruct(
  name: string,
  size: number,
  fields: FieldDef[],
  tail?: StructDef['tail'],
  follows?: StructDef['follows'],
): StructDef {
  for (const f of fields) {
    if (f.off + WIDTH[f.type] > size) throw new Error(`${name}.${f.name} ends past the struct's ${size} bytes`);
  }
  return { name, size, fields, tail, follows };
}

/** What is worked out once per struct: its fields and what follows it, by name. */
interface StructIndex {
  all: readonly FieldDef[];
  own: ReadonlyMap<string, FieldDef>;
  byName: ReadonlyMap<string, FieldDef>;
}

const indexes = new WeakMap<StructDef, StructIndex>();

// The struct asked about last: a run of MAP_DMAs asks about one struct, field after field.
let lastDef: StructDef | undefined;
let lastIndex: StructIndex | undefined;

function indexOf(def: StructDef): StructIndex {
  if (def === lastDef) return lastIndex!;
  let ix = indexes.get(def);
  if (ix) {
    lastDef = def;
    lastIndex = ix;
    return ix;
  }
  const follows = def.follows ? def.follows.def.fields.map((f) => ({ ...f, name: def.follows!.prefix + f.name, off: def.size + f.off })) : [];
  const all = [...def.fields, ...follows];
  ix = { all, own: new Map(def.fields.map((f) => [f.name, f])), byName: new Map(all.map((f) => [f.name, f])) };
  indexes.set(def, ix);
  return ix;
}

/** The fields of a struct and of what follows it, at their offsets in the whole buffer. */
export function allFields(def: StructDef): readonly FieldDef[] {
  return indexOf(def).all;
}

/** A field of the struct or of what follows it, by name (`bitmap.size`), at its offset in the whole buffer. */
export function anyField(def: StructDef, name: string): FieldDef | undefined {
  return indexOf(def).byName.get(name);
}

export function findField(def: StructDef, name: string): FieldDef | undefined {
  return indexOf(def).own.get(name);
}

// Fields are read and written byte by byte, little-endian: a DataView needs the array's
// ArrayBuffer, which V8 must first copy out of a small on-heap array (a tenth of a MAP_DMA).
// A field that does not lie inside the buffer is a RangeError, as a DataView's would be.
function checkBounds(buf: Uint8Array, off: number, width: number): void {
  if (!(off >= 0 && off + width <= buf.length)) throw new RangeError('Offset is outside the bounds of the DataView');
}

/** Little-endian u32 at `off`. */
function u32At(buf: Uint8Array, off: number): number {
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
}

export function readField(buf: Uint8Array, off: number, type: FieldType): bigint {
  checkBounds(buf, off, WIDTH[type]);
  switch (type) {
    case 'u8':
      return BigInt(buf[off]);
    case 'u16':
      return BigInt(buf[off] | (buf[off + 1] << 8));
    case 'u32':
      return BigInt(u32At(buf, off));
    case 's32':
      return BigInt(u32At(buf, off) | 0);
    case 'u64': {
      const lo = u32At(buf, off);
      const hi = u32At(buf, off + 4);
      // Below 2^53 the value is exact as a number: one bigint made, not three.
      return hi < 0x20_0000 ? BigInt(hi * 0x1_0000_0000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
    }
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function putU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v;
  buf[off + 1] = v >>> 8;
  buf[off + 2] = v >>> 16;
  buf[off + 3] = v >>> 24;
}

/** Stores `value` truncated to the field's width, as a C assignment would. */
export function writeField(buf: Uint8Array, off: number, type: FieldType, value: bigint): void {
  checkBounds(buf, off, WIDTH[type]);
  switch (type) {
    case 'u8':
      buf[off] = Number(BigInt.asUintN(8, value));
      return;
    case 'u16': {
      const v = Number(BigInt.asUintN(16, value));
      buf[off] = v;
      buf[off + 1] = v >>> 8;
      return;
    }
    case 'u32':
    case 's32':
      putU32(buf, off, Number(BigInt.asUintN(32, value)));
      return;
    case 'u64': {
      if (value >= 0n && value <= MAX_SAFE) {
        // Exact as a number: its two halves without a bigint made.
        const n = Number(value);
        const lo = n >>> 0;
        putU32(buf, off, lo);
        putU32(buf, off + 4, (n - lo) / 0x1_0000_0000);
        return;
      }
      const v = BigInt.asUintN(64, value);
      putU32(buf, off, Number(v & 0xffff_ffffn));
      putU32(buf, off + 4, Number(v >> 32n));
      return;
    }
  }
}

/**
 * writeField() of an exact number 0 <= v < 2^53 (a value that never was a bigint), truncated
 * to the field's width as writeField truncates.
 */
export function writeFieldNumber(buf: Uint8Array, off: number, type: FieldType, v: number): void {
  checkBounds(buf, off, WIDTH[type]);
  switch (type) {
    case 'u8':
      buf[off] = v;
      return;
    case 'u16':
      buf[off] = v;
      buf[off + 1] = v >>> 8;
      return;
    case 'u32':
    case 's32':
      putU32(buf, off, v);
      return;
    case 'u64': {
      const lo = v >>> 0;
      putU32(buf, off, lo);
      putU32(buf, off + 4, (v - lo) / 0x1_0000_0000);
      return;
    }
  }
}

/** The fields of `def` that lie wholly inside `len` bytes. */
export function fieldsWithin(def: StructDef, len: number): FieldDef[] {
  return def.fields.filter((f) => f.off + WIDTH[f.type] <= len);
}

/**
 * readField() as an exact number when the value is below 2^53, else -1 (the caller then reads
 * the bigint): for the MAP/UNMAP paths that carry addresses as numbers (issue 8).
 */
export function readFieldExact(buf: Uint8Array, off: number, type: FieldType): number {
  checkBounds(buf, off, WIDTH[type]);
  if (type === 'u32') return u32At(buf, off);
  if (type !== 'u64') return type === 's32' ? -1 : Number(readField(buf, off, type));
  const hi = u32At(buf, off + 4);
  return hi < 0x20_0000 ? hi * 0x1_0000_0000 + u32At(buf, off) : -1;
}

/** Decodes the fields that fit in `buf`. */
export function decodeStruct(def: StructDef, buf: Uint8Array): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const f of fieldsWithin(def, buf.length)) out.set(f.name, readField(buf, f.off, f.type));
  return out;
}

/** Encodes values (by field name, the struct's and what follows it) into a fresh buffer of `len` bytes (default the struct size), other bytes `fill`. */
export function encodeStruct(
  def: StructDef,
  values: ReadonlyMap<string, bigint>,
  len = def.size,
  fill = 0,
): Uint8Array {
  const buf = new Uint8Array(len).fill(fill);
  for (const [name, value] of values) {
    const f = anyField(def, name);
    if (!f) throw new Error(`${def.name} has no field ${name}`);
    if (f.off + WIDTH[f.type] <= len) writeField(buf, f.off, f.type, value);
  }
  return buf;
}

/**
 * A kernel-side copy of a uapi struct, used the way the kernel uses its stack copy:
 * copy_from_user() the first `minsz` bytes, read and change fields, copy_to_user() some
 * prefix back. Bytes the kernel does not copy back stay as the user left them.
 */
export class KStruct {
  readonly bytes: Uint8Array;

  private constructor(
    readonly def: StructDef,
    bytes: Uint8Array,
  ) {
    this.bytes = bytes;
  }

  /** A zeroed struct (`struct foo info = {};`). */
  static zeroed(def: StructDef): KStruct {
    return new KStruct(def, new Uint8Array(Math.max(def.size, 1)));
  }

  /**
   * copy_from_user(&k, arg, n): null when the user buffer is missing or shorter than n
   * (the copy would fault: EFAULT). Bytes past n are zero (the model's stand-in for the
   * kernel's uninitialised stack; they are never copied back unless written first).
   */
  static fromUser(def: StructDef, user: Uint8Array | undefined, n: number): KStruct | null {
    if (!user || user.length < n) return null;
    const k = KStruct.zeroed(def);
    // A byte loop: a subarray view costs more than copying a struct's few dozen bytes.
    const bytes = k.bytes;
    for (let i = 0, len = Math.min(n, bytes.length); i < len; i++) bytes[i] = user[i];
    return k;
  }

  /**
   * fromUser() again into this struct: for a handler run per MAP/UNMAP that copies the same
   * struct on every call and keeps nothing of it past the call, as the kernel reuses its stack
   * slot. Returns this, or null (the bytes left undefined) when the copy would fault.
   */
  refill(user: Uint8Array | undefined, n: number): KStruct | null {
    if (!user || user.length < n) return null;
    const bytes = this.bytes;
    const len = Math.min(n, bytes.length);
    for (let i = 0; i < len; i++) bytes[i] = user[i];
    for (let i = len; i < bytes.length; i++) bytes[i] = 0;
    return this;
  }

  get(name: string): bigint {
    const f = findField(this.def, name);
    if (!f) throw new Error(`${this.def.name} has no field ${name}`);
    return readField(this.bytes, f.off, f.type);
  }

  /** get() of a field looked up once (structField), for a handler run per MAP/UNMAP. */
  read(f: FieldDef): bigint {
    return readField(this.bytes, f.off, f.type);
  }

  /** read() as the exact number below 2^53, else -1 (readFieldExact). */
  readExact(f: FieldDef): number {
    return readFieldExact(this.bytes, f.off, f.type);
  }

  /** write() of an exact number 0 <= v < 2^53. */
  writeExact(f: FieldDef, v: number): this {
    writeFieldNumber(this.bytes, f.off, f.type, v);
    return this;
  }

  /** set() of a field looked up once (structField). */
  write(f: FieldDef, value: bigint): this {
    writeField(this.bytes, f.off, f.type, value);
    return this;
  }

  /** Number(get()) for fields of at most 32 bits. */
  num(name: string): number {
    return Number(this.get(name));
  }

  set(name: string, value: bigint | number): this {
    const f = findField(this.def, name);
    if (!f) throw new Error(`${this.def.name} has no field ${name}`);
    writeField(this.bytes, f.off, f.type, BigInt(value));
    return this;
  }

  /** copy_to_user(arg, &k, n): false when it would fault. */
  toUser(user: Uint8Array | undefined, n: number): boolean {
    if (!user || user.length < n) return false;
    const bytes = this.bytes;
    for (let i = 0, len = Math.min(n, bytes.length); i < len; i++) user[i] = bytes[i];
    return true;
  }
}

/** A field of `def` by name, for KStruct.read/write; a name the struct lacks is a bug, found at load. */
export function structField(def: StructDef, name: string): FieldDef {
  const f = findField(def, name);
  if (!f) throw new Error(`${def.name} has no field ${name}`);
  return f;
}

/** offsetofend(struct, field). */
export function offsetofend(def: StructDef, name: string): number {
  const f = findField(def, name);
  if (!f) throw new Error(`${def.name} has no field ${name}`);
  return f.off + WIDTH[f.type];
}

/** The bit a flag table names (VFIO_DMA_MAP_FLAG_READ is flagBit(DMA_MAP_FLAGS, 'READ')). */
export function flagBit(table: FlagTable, name: string): bigint {
  const row = table.bits.find(([n]) => n === name);
  if (!row) throw new Error(`${table.prefix}${name} is not in its flag table`);
  return row[1];
}

/** Names of the bits set in `value`, with any unnamed remainder as hex. */
export function flagNames(table: FlagTable, value: bigint): string[] {
  const names: string[] = [];
  let rest = value;
  for (const [name, bit] of table.bits) {
    // (rest & bit) skips an alias whose bits an earlier name already took.
    if (bit !== 0n && (value & bit) === bit && (rest & bit) === bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names;
}
