// vfio-trace/1 (see TRACE-FORMAT.md): each op's fields in one table, from which the rest follows.
//
// A field has a wire kind (string, integer, u64 as `0x` hex, hex bytes, enum, ...). The kind
// knows three things: the zod/mini schema that validates the line's JSON as written, the parsed
// value the rest of the program uses (every `0x` u64 string a bigint, `nr` a number, every byte
// buffer a Uint8Array), and the two conversions. From the table follow:
// - the wire schema of each op (built on first use: a run that reads no trace builds none).
//   Objects are not strict: unknown keys are dropped, never an error (forward compatibility);
// - the parsed and wire types (mapped types over the table);
// - fromWire / toWire (by hand after validation: a zod transform would be slow). The table's
//   field order is the real-kernel traces' key order (op, the op's fields in TRACE-FORMAT.md's
//   order, ret, errno, label, decoded), so JSON.stringify(toWire(e)) reproduces a recorded line
//   byte for byte.

import * as z from 'zod/mini';
import { lazy } from '../lib/lazy.js';
import { LIMITS, sizeText } from '../lib/limits.js';
import { fromHex, hex64, toHex } from './hex.js';

export const TRACE_FORMAT = 'vfio-trace/1';

export const HEX64_RE = /^0x[0-9a-fA-F]{1,16}$/;
export const HEX32_RE = /^0x[0-9a-fA-F]{1,8}$/;
/** Hex digits only; that they pair into bytes is checked apart (a repeated group over megabytes overflows the regex engine's stack). */
export const HEX_BYTES_RE = /^[0-9a-f]*$/;

export const PROTS = ['none', 'r', 'w', 'x', 'rw', 'rx', 'wx', 'rwx'] as const;
export type Prot = (typeof PROTS)[number];

// ---- wire kinds --------------------------------------------------------------------------------

/**
 * How a field is written (W) and held (P). `schema` is the field's zod schema, whose message is
 * what a user sees after `field "x" `; it is only called when an op's schema is first built.
 */
interface Kind<P, W> {
  readonly schema: () => z.ZodMiniType;
  readonly parse: (w: W) => P;
  readonly wire: (p: P) => W;
  /** The key may be absent (then it is also absent from the parsed event and from the line). */
  readonly optional?: true;
}
type AnyKind = Kind<any, any>;
type Fields = Readonly<Record<string, AnyKind>>;

const MSG = {
  string: 'must be a string',
  int: 'must be an integer',
  count: 'must be a non-negative integer',
  hex64: 'must be a 0x hex number (1 to 16 hex digits)',
  hex32: 'must be a 0x hex number (1 to 8 hex digits)',
  bytes: 'must be hex bytes',
  addrOrNull: 'must be a 0x hex address or null',
  addrOrFail: 'must be a 0x hex address or -1',
  object: 'must be an object',
} as const;

const same = <T>(v: T): T => v;
/** A kind whose wire and parsed forms are one value. */
const plain = <T>(schema: () => z.ZodMiniType): Kind<T, T> => ({ schema, parse: same, wire: same });
const opt = <P, W>(k: Kind<P, W>): Kind<P, W> & { readonly optional: true } => ({ ...k, optional: true });

const strSchema = () => z.string({ error: MSG.string });
const intSchema = () => z.int({ error: MSG.int });
const countSchema = () => z.int({ error: MSG.count }).check(z.minimum(0, { error: MSG.count }));
const hex64Schema = (error: string = MSG.hex64) => z.string({ error }).check(z.regex(HEX64_RE, { error }));

/** A JSON number while it is exact (below 2^53), else a 0x hex string. */
function numOrHex(v: bigint): number | string {
  return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : hex64(BigInt.asUintN(64, v));
}

const str = plain<string>(strSchema);
const int = plain<number>(intSchema);
const count = plain<number>(countSchema);
/** The length of a buffer an event carries (pread, pwrite): bounded, as a scenario's are. */
const bufLen = plain<number>(() => countSchema().check(z.maximum(LIMITS.bufferBytes, { error: `must be at most ${LIMITS.bufferBytes} (${sizeText(LIMITS.bufferBytes)})` })));
/** Free-form JSON (the recorder's `decoded`): kept as it is. */
const json = plain<unknown>(() => z.unknown());
const prot = plain<Prot>(() => z.enum(PROTS, { error: `must be one of ${PROTS.map((p) => `"${p}"`).join(', ')}` }));
/** A u64 (address, offset) as `0x` hex. Throws RangeError when writing a bigint outside [0, 2^64). */
const u64: Kind<bigint, string> = { schema: () => hex64Schema(), parse: BigInt, wire: hex64 };
/** A 32-bit ioctl command number as `0x` hex. */
const u32: Kind<number, string> = {
  schema: () => z.string({ error: MSG.hex32 }).check(z.regex(HEX32_RE, { error: MSG.hex32 })),
  parse: Number,
  wire: (n) => `0x${n.toString(16)}`,
};
/** A byte buffer as lowercase hex. */
const bytes: Kind<Uint8Array, string> = {
  schema: () =>
    z.string({ error: MSG.bytes }).check(
      z.regex(HEX_BYTES_RE, { error: MSG.bytes }),
      z.refine((s) => s.length % 2 === 0, { error: MSG.bytes }),
      z.maxLength(2 * LIMITS.bufferBytes, { error: `must be at most ${sizeText(LIMITS.bufferBytes)} of hex bytes` }),
    ),
  parse: fromHex,
  wire: toHex,
};
/**
 * A length or by-value argument: a JSON number as the real traces write them, or a 0x hex
 * string when it does not fit in 2^53 (TRACE-FORMAT.md: numbers that can exceed 2^53 are hex).
 */
const bigCount: Kind<bigint, number | string> = {
  schema: () => z.union([countSchema(), hex64Schema()], { error: 'must be a non-negative integer or a 0x hex string' }),
  parse: BigInt,
  wire: numOrHex,
};
const bigInt: Kind<bigint, number | string> = {
  schema: () => z.union([intSchema(), hex64Schema()], { error: 'must be an integer or a 0x hex string' }),
  parse: BigInt,
  wire: numOrHex,
};
/** mmap's address hint: null means none. */
const addrOrNull: Kind<bigint | null, string | null> = {
  schema: () => z.nullable(hex64Schema(MSG.addrOrNull)),
  parse: (w) => (w === null ? null : BigInt(w)),
  wire: (p) => (p === null ? null : hex64(p)),
};
/** mmap's return: the mapped address, or -1 on failure. */
const addrOrFail: Kind<bigint | -1, string | -1> = {
  schema: () => z.union([hex64Schema(MSG.addrOrFail), z.literal(-1)], { error: MSG.addrOrFail }),
  parse: (w) => (w === -1 ? -1 : BigInt(w)),
  wire: (p) => (p === -1 ? -1 : hex64(p)),
};

// ---- the ops -----------------------------------------------------------------------------------

/** Fields of events that called into the kernel. */
const OUTCOME = {
  /** The syscall's return value, -1 on failure. */
  ret: int,
  /** 0 on success, the Linux errno otherwise. */
  errno: count,
} as const;

/** The fields of a sysfs read and of a sysfs write: the file, and the text read or written. */
const SYSFS = { path: str, content: str, ...OUTCOME } as const;

/** Each op's fields in TRACE-FORMAT.md's order, which is the key order of the lines. */
const OPS = {
  param: { name: str, value: str, ...OUTCOME },
  bind: { device: str, driver: str, group: count, ...OUTCOME },
  open: { path: str, flags: opt(str), ...OUTCOME },
  close: { fd: int, ...OUTCOME },
  mmap: {
    addr: addrOrNull,
    len: bigCount,
    prot,
    /** A device fd for a region mmap (MAP_SHARED); absent for an anonymous private mapping. */
    fd: opt(int),
    offset: opt(u64),
    /** The mapped address, or -1 on failure. */
    ret: addrOrFail,
    errno: count,
  },
  munmap: { addr: u64, len: bigCount, ...OUTCOME },
  mprotect: { addr: u64, len: bigCount, prot, ...OUTCOME },
  /**
   * Either `arg` (passed by value: CHECK_EXTENSION, SET_IOMMU, or 0) or `in` + `out` (a user
   * buffer before and after the call, same length). All three are optional here; the reader
   * checks the combination (see ioctlShapeProblem) so that the message can say which part is
   * wrong, and the parsed type says it (IoctlEvent).
   */
  ioctl: {
    fd: int,
    /** Symbolic name, e.g. VFIO_IOMMU_GET_INFO (`UNKNOWN` for a deliberately unknown one). */
    request: str,
    /** The ioctl command number (written as hex, e.g. 0x3b70). */
    nr: u32,
    arg: opt(bigInt),
    in: opt(bytes),
    out: opt(bytes),
    ...OUTCOME,
  },
  /** `offset` is the region index << 40 + the offset in the region. */
  pread: { fd: int, offset: u64, len: bufLen, out: bytes, ...OUTCOME },
  pwrite: { fd: int, offset: u64, len: bufLen, in: bytes, ...OUTCOME },
  eventfd: { ...OUTCOME },
  /** memfd_create(2) and ftruncate(2) to `len` (shmem pages for IOMMU_IOAS_MAP_FILE); `ret` is the fd. */
  memfd: { len: u64, ...OUTCOME },
  /**
   * A read(2) of an eventfd (opened EFD_NONBLOCK): was an interrupt delivered, and how many
   * times since the last read. `value` is the 8-byte counter read (ret 8), absent when the
   * read failed (EAGAIN: nothing was signalled). Not a device syscall, but what a client does
   * to see delivery; replay compares the count.
   */
  'eventfd-read': { fd: int, value: opt(u64), ...OUTCOME },
  /**
   * A CPU load through the process's address space (not a syscall): `len` 1, 2, 4 or 8 bytes at
   * `addr`, typically in an mmap of a BAR (a memory read of the device register, bypassing
   * vfio-pci's read checks). `out` the bytes read (little-endian), absent when the access raised
   * a signal: `signal` SIGSEGV (errno EFAULT: no mapping, or its protection refuses) or SIGBUS
   * (errno EIO: vfio-pci zapped the mapping, memory decode off). ret 0 when it completed.
   */
  load: { addr: u64, len: bufLen, out: opt(bytes), signal: opt(str), ...OUTCOME },
  /** A CPU store of `in` (1, 2, 4 or 8 bytes) at `addr`; outcome as for load. */
  store: { addr: u64, len: bufLen, in: bytes, signal: opt(str), ...OUTCOME },
  sysfs: SYSFS,
  /**
   * A write of a sysfs file other than a module parameter (`param` has its own op), e.g.
   * sriov_numvfs. An emulator extension of vfio-trace/1: real-kernel recordings have none.
   */
  'sysfs-write': SYSFS,
  /** A kernel log line: not a syscall, so no ret/errno. */
  kmsg: { text: str },
} as const satisfies Record<string, Fields>;

/** Fields every event may carry, after the op's own. */
const COMMON = {
  /** Free text saying what the step tests; never interpreted. */
  label: opt(str),
  /** The recorder's reading of the answer; informative only, free-form JSON. */
  decoded: opt(json),
} as const;

export type TraceOp = keyof typeof OPS;
export const TRACE_OPS = Object.keys(OPS) as TraceOp[];

export function isTraceOp(op: string): op is TraceOp {
  return Object.hasOwn(OPS, op);
}

/** Each op's fields, COMMON included, as [key, kind] pairs in line order. */
const FIELDS = new Map<TraceOp, readonly (readonly [string, AnyKind])[]>(
  TRACE_OPS.map((op) => [op, Object.entries({ ...OPS[op], ...COMMON })]),
);

// ---- types -------------------------------------------------------------------------------------

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<F> = { [K in keyof F]: F[K] extends { readonly optional: true } ? K : never }[keyof F];
type ParsedOf<K> = K extends Kind<infer P, infer _W> ? P : never;
type WireOf<K> = K extends Kind<infer _P, infer W> ? W : never;
type AllFields<Op extends TraceOp> = (typeof OPS)[Op] & typeof COMMON;

type ParsedShape<F> = { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: ParsedOf<F[K]> } & {
  -readonly [K in OptionalKeys<F>]?: ParsedOf<F[K]>;
};
type WireShape<F> = { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: WireOf<F[K]> } & {
  -readonly [K in OptionalKeys<F>]?: WireOf<F[K]>;
};

/** One op's event as the program holds it (ioctl: see IoctlEvent for the arg/buffer split). */
export type EventOf<Op extends TraceOp> = Simplify<{ op: Op } & ParsedShape<AllFields<Op>>>;
/** One op's line as validated (hex still as strings). */
export type WireEventOf<Op extends TraceOp> = Simplify<{ op: Op } & WireShape<AllFields<Op>>>;
/** One event line's JSON as validated. */
export type WireEvent = { [Op in TraceOp]: WireEventOf<Op> }[TraceOp];

/** What every ioctl has; the table's arg/in/out are narrowed below (ioctlShapeProblem's rule). */
type IoctlCommon = Omit<EventOf<'ioctl'>, 'arg' | 'in' | 'out'>;
/** An ioctl whose argument is passed by value (CHECK_EXTENSION, SET_IOMMU, or 0). */
export type IoctlArgEvent = Simplify<IoctlCommon & { arg: bigint; in?: undefined; out?: undefined }>;
/** An ioctl on a user buffer: its bytes before (`in`) and after (`out`) the call. */
export type IoctlBufEvent = Simplify<IoctlCommon & { arg?: undefined; in: Uint8Array; out: Uint8Array }>;
export type IoctlEvent = IoctlArgEvent | IoctlBufEvent;

/** An event as the program builds it (e.g. for TraceWriter). */
export type TraceEventData = { [Op in Exclude<TraceOp, 'ioctl'>]: EventOf<Op> }[Exclude<TraceOp, 'ioctl'>] | IoctlEvent;

/** An event read from a trace, with its 1-based line number in the file. */
export type TraceEvent = TraceEventData & { line: number };

// ---- schemas -----------------------------------------------------------------------------------

const eventSchemas = new Map<TraceOp, z.ZodMiniType>();

/** The wire schema of one op, built from its table row on first use. */
export function eventSchema(op: TraceOp): z.ZodMiniType {
  let s = eventSchemas.get(op);
  if (s === undefined) {
    const shape: Record<string, z.ZodMiniType> = { op: z.literal(op) };
    for (const [key, kind] of FIELDS.get(op)!) shape[key] = kind.optional ? z.optional(kind.schema()) : kind.schema();
    s = z.object(shape);
    eventSchemas.set(op, s);
  }
  return s;
}

// ---- header (line 1) ---------------------------------------------------------------------------

const makeHeaderSchema = () =>
  z.object({
    trace: z.literal(TRACE_FORMAT, { error: `must be "${TRACE_FORMAT}"` }),
    kernel: strSchema(),
    /** The kernel's build configuration by name (kernel/config.ts); absent: legacy. */
    config: z.optional(strSchema()),
    arch: strSchema(),
    platform: z.object(
      {
        preset: strSchema(),
        options: z.optional(z.record(z.string(), strSchema(), { error: MSG.object })),
      },
      { error: MSG.object },
    ),
    source: z.optional(strSchema()),
    created: z.optional(strSchema()),
  });
/** The header's schema, built on first use. */
export const traceHeaderSchema = lazy(makeHeaderSchema);
/** The header as written (also the parsed form: it has no hex fields). */
export type TraceHeader = z.infer<ReturnType<typeof makeHeaderSchema>>;

export interface Trace {
  header: TraceHeader;
  events: TraceEvent[];
}

/** The header's JSON object in the real traces' key order. */
export function headerToWire(h: TraceHeader): TraceHeader {
  const platform: TraceHeader['platform'] = { preset: h.platform.preset };
  if (h.platform.options !== undefined) platform.options = h.platform.options;
  const w: TraceHeader = { trace: h.trace, kernel: h.kernel, arch: h.arch, platform };
  if (h.config !== undefined) w.config = h.config;
  if (h.source !== undefined) w.source = h.source;
  if (h.created !== undefined) w.created = h.created;
  return w;
}

// ---- conversion --------------------------------------------------------------------------------

/** What is wrong with a validated ioctl's arg/in/out combination, or undefined when it is fine. */
export function ioctlShapeProblem(w: WireEventOf<'ioctl'>): string | undefined {
  const hasIn = w.in !== undefined;
  const hasOut = w.out !== undefined;
  if (w.arg !== undefined) {
    return hasIn || hasOut ? `has both "arg" and "${hasIn ? 'in' : 'out'}" (a by-value ioctl has no buffer)` : undefined;
  }
  if (!hasIn && !hasOut) return 'needs either "arg" or "in" and "out"';
  if (!hasIn) return 'field "in" is missing (a buffer ioctl has "in" and "out")';
  if (!hasOut) return 'field "out" is missing (a buffer ioctl has "in" and "out")';
  if (w.in!.length !== w.out!.length) {
    return `fields "in" and "out" must be the same length (${w.in!.length / 2} and ${w.out!.length / 2} bytes)`;
  }
  return undefined;
}

/** One op's conversion in one direction: its keys in line order, and each key's function. */
interface Converter {
  readonly keys: readonly string[];
  readonly fns: readonly ((v: never) => unknown)[];
}
/** Every op's Converter for `dir`, made on first use (arrays, not the table's objects: hot path). */
const converters = (dir: 'parse' | 'wire') =>
  lazy(() => {
    const byOp = new Map<TraceOp, Converter>();
    for (const [op, fields] of FIELDS) byOp.set(op, { keys: fields.map(([k]) => k), fns: fields.map(([, kind]) => kind[dir]) });
    return byOp;
  });
const parsers = converters('parse');
const wirers = converters('wire');

/**
 * `from`'s fields of its op converted one by one, keys in table order. A field absent from
 * `from` (only optional ones can be) is left out, never written as undefined or null (mmap's
 * `addr` is null when present without a value: its null means "no hint").
 */
function convert(from: { op: TraceOp }, c: Converter): Record<string, unknown> {
  const src = from as unknown as Record<string, never>;
  const to: Record<string, unknown> = { op: from.op };
  const { keys, fns } = c;
  for (let i = 0; i < keys.length; i++) {
    const v = src[keys[i]!];
    if (v !== undefined) to[keys[i]!] = fns[i]!(v);
  }
  return to;
}

/**
 * Parsed form of a validated wire event. Hex strings must already have passed their schema
 * (ioctl also ioctlShapeProblem); this does no checking of its own.
 */
export function fromWire(w: WireEvent): TraceEventData {
  return convert(w, parsers().get(w.op)!) as TraceEventData;
}

/**
 * The JSON object of an event line, keys in the real traces' order: op, the op's fields in
 * TRACE-FORMAT.md's order, ret, errno, label, decoded. Fields the event does not have are left
 * out; fields outside the event's op (e.g. a TraceEvent's `line`) are never written.
 * Throws RangeError for a bigint outside [0, 2^64).
 */
export function toWire(e: TraceEventData): WireEvent {
  return convert(e, wirers().get(e.op)!) as WireEvent;
}
