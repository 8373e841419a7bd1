// vfio-trace/1 (see TRACE-FORMAT.md): schemas for the JSON of each line, and the parsed types.
//
// Two layers:
// - wire schemas (zod/mini) validate a line's JSON as it is written: u64 values are `0x` hex
//   strings, byte buffers lowercase hex, small integers JSON numbers. Objects are not strict:
//   unknown keys are dropped, never an error (forward compatibility).
// - parsed types are what the rest of the program uses: every `0x` u64 string becomes a bigint
//   (`nr`, a 32-bit ioctl command, becomes a number), every byte buffer a Uint8Array.
//   `fromWire` / `toWire` convert by hand after validation (a zod transform would be slow).
//   `toWire` builds each object in the key order of the real-kernel traces, so that
//   JSON.stringify(toWire(e)) reproduces a recorded line byte for byte.

import * as z from 'zod/mini';
import { fromHex, hex64, toHex } from './hex.js';

export const TRACE_FORMAT = 'vfio-trace/1';

// ---- field kinds, each with the message a user sees after `field "x" ` -------------------------

export const HEX64_RE = /^0x[0-9a-fA-F]{1,16}$/;
export const HEX32_RE = /^0x[0-9a-fA-F]{1,8}$/;
export const HEX_BYTES_RE = /^(?:[0-9a-f]{2})*$/;

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

export const PROTS = ['none', 'r', 'w', 'x', 'rw', 'rx', 'wx', 'rwx'] as const;
export type Prot = (typeof PROTS)[number];

const str = () => z.string({ error: MSG.string });
const int = () => z.int({ error: MSG.int });
const count = () => z.int({ error: MSG.count }).check(z.minimum(0, { error: MSG.count }));
const u64 = (error: string = MSG.hex64) => z.string({ error }).check(z.regex(HEX64_RE, { error }));
const u32 = () => z.string({ error: MSG.hex32 }).check(z.regex(HEX32_RE, { error: MSG.hex32 }));
const bytes = () => z.string({ error: MSG.bytes }).check(z.regex(HEX_BYTES_RE, { error: MSG.bytes }));
/**
 * A length or by-value argument: a JSON number as the real traces write them, or a 0x hex
 * string when it does not fit in 2^53 (TRACE-FORMAT.md: numbers that can exceed 2^53 are hex).
 */
const bigCount = () => z.union([count(), u64()], { error: 'must be a non-negative integer or a 0x hex string' });
const bigInt = () => z.union([int(), u64()], { error: 'must be an integer or a 0x hex string' });
const prot = () => z.enum(PROTS, { error: `must be one of ${PROTS.map((p) => `"${p}"`).join(', ')}` });

// ---- header (line 1) ---------------------------------------------------------------------------

export const TraceHeaderSchema = z.object({
  trace: z.literal(TRACE_FORMAT, { error: `must be "${TRACE_FORMAT}"` }),
  kernel: str(),
  arch: str(),
  platform: z.object(
    {
      preset: str(),
      options: z.optional(z.record(z.string(), str(), { error: MSG.object })),
    },
    { error: MSG.object },
  ),
  source: z.optional(str()),
  created: z.optional(str()),
});
/** The header as written (also the parsed form: it has no hex fields). */
export type TraceHeader = z.infer<typeof TraceHeaderSchema>;

// ---- events ------------------------------------------------------------------------------------

/** Fields every event may carry: free text, and the recorder's reading of the answer. */
const common = {
  label: z.optional(str()),
  decoded: z.optional(z.unknown()),
};
/** Fields of events that called into the kernel. */
const outcome = {
  ret: int(),
  errno: count(),
};

export const ParamEventSchema = z.object({
  op: z.literal('param'),
  name: str(),
  value: str(),
  ...outcome,
  ...common,
});
export const BindEventSchema = z.object({
  op: z.literal('bind'),
  device: str(),
  driver: str(),
  group: count(),
  ...outcome,
  ...common,
});
export const OpenEventSchema = z.object({
  op: z.literal('open'),
  path: str(),
  flags: z.optional(str()),
  ...outcome,
  ...common,
});
export const CloseEventSchema = z.object({
  op: z.literal('close'),
  fd: int(),
  ...outcome,
  ...common,
});
export const MmapEventSchema = z.object({
  op: z.literal('mmap'),
  addr: z.nullable(u64(MSG.addrOrNull)),
  len: bigCount(),
  prot: prot(),
  fd: z.optional(int()),
  offset: z.optional(u64()),
  ret: z.union([u64(MSG.addrOrFail), z.literal(-1)], { error: MSG.addrOrFail }),
  errno: count(),
  ...common,
});
export const MunmapEventSchema = z.object({
  op: z.literal('munmap'),
  addr: u64(),
  len: bigCount(),
  ...outcome,
  ...common,
});
export const MprotectEventSchema = z.object({
  op: z.literal('mprotect'),
  addr: u64(),
  len: bigCount(),
  prot: prot(),
  ...outcome,
  ...common,
});
/**
 * Either `arg` or `in` + `out` (same length). The schema has all three optional; the reader checks
 * the combination (see ioctlShapeProblem) so that the message can say which part is wrong.
 */
export const IoctlEventSchema = z.object({
  op: z.literal('ioctl'),
  fd: int(),
  request: str(),
  nr: u32(),
  arg: z.optional(bigInt()),
  in: z.optional(bytes()),
  out: z.optional(bytes()),
  ...outcome,
  ...common,
});
export const PreadEventSchema = z.object({
  op: z.literal('pread'),
  fd: int(),
  offset: u64(),
  len: count(),
  out: bytes(),
  ...outcome,
  ...common,
});
export const PwriteEventSchema = z.object({
  op: z.literal('pwrite'),
  fd: int(),
  offset: u64(),
  len: count(),
  in: bytes(),
  ...outcome,
  ...common,
});
export const EventfdEventSchema = z.object({
  op: z.literal('eventfd'),
  ...outcome,
  ...common,
});
/** The fields of a sysfs read and of a sysfs write: the file, and the text read or written. */
const sysfsFields = {
  path: str(),
  content: str(),
  ...outcome,
  ...common,
};
export const SysfsEventSchema = z.object({
  op: z.literal('sysfs'),
  ...sysfsFields,
});
/**
 * A write of a sysfs file other than a module parameter (`param` has its own op), e.g.
 * sriov_numvfs. An emulator extension of vfio-trace/1: real-kernel recordings have none.
 */
export const SysfsWriteEventSchema = z.object({
  op: z.literal('sysfs-write'),
  ...sysfsFields,
});
/** A kernel log line: not a syscall, so no ret/errno. */
export const KmsgEventSchema = z.object({
  op: z.literal('kmsg'),
  text: str(),
  ...common,
});

/** The schema of each op, in the order TRACE-FORMAT.md lists them. */
export const EVENT_SCHEMAS = {
  param: ParamEventSchema,
  bind: BindEventSchema,
  open: OpenEventSchema,
  close: CloseEventSchema,
  mmap: MmapEventSchema,
  munmap: MunmapEventSchema,
  mprotect: MprotectEventSchema,
  ioctl: IoctlEventSchema,
  pread: PreadEventSchema,
  pwrite: PwriteEventSchema,
  eventfd: EventfdEventSchema,
  sysfs: SysfsEventSchema,
  'sysfs-write': SysfsWriteEventSchema,
  kmsg: KmsgEventSchema,
} as const;

export type TraceOp = keyof typeof EVENT_SCHEMAS;
export const TRACE_OPS = Object.keys(EVENT_SCHEMAS) as TraceOp[];

export function isTraceOp(op: string): op is TraceOp {
  return Object.hasOwn(EVENT_SCHEMAS, op);
}

/** One event line's JSON as validated (hex still as strings). */
export type WireEvent = { [K in TraceOp]: z.infer<(typeof EVENT_SCHEMAS)[K]> }[TraceOp];
export type WireEventOf<K extends TraceOp> = z.infer<(typeof EVENT_SCHEMAS)[K]>;

// ---- parsed types ------------------------------------------------------------------------------

interface Common {
  /** Free text saying what the step tests; never interpreted. */
  label?: string;
  /** The recorder's reading of the answer; informative only, free-form JSON. */
  decoded?: unknown;
}
interface Outcome {
  /** The syscall's return value, -1 on failure. */
  ret: number;
  /** 0 on success, the Linux errno otherwise. */
  errno: number;
}

export interface ParamEvent extends Common, Outcome {
  op: 'param';
  name: string;
  value: string;
}
export interface BindEvent extends Common, Outcome {
  op: 'bind';
  device: string;
  driver: string;
  group: number;
}
export interface OpenEvent extends Common, Outcome {
  op: 'open';
  path: string;
  flags?: string;
}
export interface CloseEvent extends Common, Outcome {
  op: 'close';
  fd: number;
}
export interface MmapEvent extends Common {
  op: 'mmap';
  addr: bigint | null;
  len: bigint;
  prot: Prot;
  /** A device fd for a region mmap (MAP_SHARED); absent for an anonymous private mapping. */
  fd?: number;
  offset?: bigint;
  /** The mapped address, or -1 on failure. */
  ret: bigint | -1;
  errno: number;
}
export interface MunmapEvent extends Common, Outcome {
  op: 'munmap';
  addr: bigint;
  len: bigint;
}
export interface MprotectEvent extends Common, Outcome {
  op: 'mprotect';
  addr: bigint;
  len: bigint;
  prot: Prot;
}
interface IoctlCommon extends Common, Outcome {
  op: 'ioctl';
  fd: number;
  /** Symbolic name, e.g. VFIO_IOMMU_GET_INFO (`UNKNOWN` for a deliberately unknown one). */
  request: string;
  /** The ioctl command number (written as hex, e.g. 0x3b70). */
  nr: number;
}
/** An ioctl whose argument is passed by value (CHECK_EXTENSION, SET_IOMMU, or 0). */
export interface IoctlArgEvent extends IoctlCommon {
  arg: bigint;
  in?: undefined;
  out?: undefined;
}
/** An ioctl on a user buffer: its bytes before (`in`) and after (`out`) the call. */
export interface IoctlBufEvent extends IoctlCommon {
  arg?: undefined;
  in: Uint8Array;
  out: Uint8Array;
}
export type IoctlEvent = IoctlArgEvent | IoctlBufEvent;
export interface PreadEvent extends Common, Outcome {
  op: 'pread';
  fd: number;
  /** region index << 40 + offset in the region. */
  offset: bigint;
  len: number;
  out: Uint8Array;
}
export interface PwriteEvent extends Common, Outcome {
  op: 'pwrite';
  fd: number;
  offset: bigint;
  len: number;
  in: Uint8Array;
}
export interface EventfdEvent extends Common, Outcome {
  op: 'eventfd';
}
/** What a sysfs read and a sysfs write share: the file, and the text read or written. */
interface SysfsAccess extends Common, Outcome {
  path: string;
  content: string;
}
export interface SysfsEvent extends SysfsAccess {
  op: 'sysfs';
}
export interface SysfsWriteEvent extends SysfsAccess {
  op: 'sysfs-write';
}
export interface KmsgEvent extends Common {
  op: 'kmsg';
  text: string;
}

/** An event as the program builds it (e.g. for TraceWriter). */
export type TraceEventData =
  | ParamEvent
  | BindEvent
  | OpenEvent
  | CloseEvent
  | MmapEvent
  | MunmapEvent
  | MprotectEvent
  | IoctlEvent
  | PreadEvent
  | PwriteEvent
  | EventfdEvent
  | SysfsEvent
  | SysfsWriteEvent
  | KmsgEvent;

/** An event read from a trace, with its 1-based line number in the file. */
export type TraceEvent = TraceEventData & { line: number };

export interface Trace {
  header: TraceHeader;
  events: TraceEvent[];
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

/** Adds label/decoded when present, in that order (the real traces' order: after errno). */
/** A JSON number while it is exact (below 2^53), else a 0x hex string. */
function numOrHex(v: bigint): number | string {
  return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : hex64(BigInt.asUintN(64, v));
}

function withCommon<T extends object>(o: T, e: Common): T & Common {
  const r = o as T & Common;
  if (e.label !== undefined) r.label = e.label;
  if (e.decoded !== undefined) r.decoded = e.decoded;
  return r;
}

/**
 * Parsed form of a validated wire event. Hex strings must already have passed their schema
 * (ioctl also ioctlShapeProblem); this does no checking of its own.
 */
export function fromWire(w: WireEvent): TraceEventData {
  switch (w.op) {
    case 'param':
      return withCommon({ op: w.op, name: w.name, value: w.value, ret: w.ret, errno: w.errno }, w);
    case 'bind':
      return withCommon(
        { op: w.op, device: w.device, driver: w.driver, group: w.group, ret: w.ret, errno: w.errno },
        w,
      );
    case 'open': {
      const e: OpenEvent = { op: w.op, path: w.path, ret: w.ret, errno: w.errno };
      if (w.flags !== undefined) e.flags = w.flags;
      return withCommon(e, w);
    }
    case 'close':
      return withCommon({ op: w.op, fd: w.fd, ret: w.ret, errno: w.errno }, w);
    case 'mmap': {
      const e: MmapEvent = {
        op: w.op,
        addr: w.addr === null ? null : BigInt(w.addr),
        len: BigInt(w.len),
        prot: w.prot,
        ret: w.ret === -1 ? -1 : BigInt(w.ret),
        errno: w.errno,
      };
      if (w.fd !== undefined) e.fd = w.fd;
      if (w.offset !== undefined) e.offset = BigInt(w.offset);
      return withCommon(e, w);
    }
    case 'munmap':
      return withCommon({ op: w.op, addr: BigInt(w.addr), len: BigInt(w.len), ret: w.ret, errno: w.errno }, w);
    case 'mprotect':
      return withCommon(
        { op: w.op, addr: BigInt(w.addr), len: BigInt(w.len), prot: w.prot, ret: w.ret, errno: w.errno },
        w,
      );
    case 'ioctl': {
      const nr = Number(w.nr);
      const e: IoctlEvent =
        w.arg !== undefined
          ? { op: w.op, fd: w.fd, request: w.request, nr, arg: BigInt(w.arg), ret: w.ret, errno: w.errno }
          : {
              op: w.op,
              fd: w.fd,
              request: w.request,
              nr,
              in: fromHex(w.in ?? ''),
              out: fromHex(w.out ?? ''),
              ret: w.ret,
              errno: w.errno,
            };
      return withCommon(e, w);
    }
    case 'pread':
      return withCommon(
        { op: w.op, fd: w.fd, offset: BigInt(w.offset), len: w.len, out: fromHex(w.out), ret: w.ret, errno: w.errno },
        w,
      );
    case 'pwrite':
      return withCommon(
        { op: w.op, fd: w.fd, offset: BigInt(w.offset), len: w.len, in: fromHex(w.in), ret: w.ret, errno: w.errno },
        w,
      );
    case 'eventfd':
      return withCommon({ op: w.op, ret: w.ret, errno: w.errno }, w);
    case 'sysfs':
    case 'sysfs-write':
      return withCommon({ op: w.op, path: w.path, content: w.content, ret: w.ret, errno: w.errno }, w);
    case 'kmsg':
      return withCommon({ op: w.op, text: w.text }, w);
  }
}

/**
 * The JSON object of an event line, keys in the real traces' order: op, the op's fields in
 * TRACE-FORMAT.md's order, ret, errno, label, decoded. Fields the event does not have are left
 * out (never written as null, except mmap's `addr`, whose null means "no hint").
 * Throws RangeError for a bigint outside [0, 2^64).
 */
export function toWire(e: TraceEventData): WireEvent {
  switch (e.op) {
    case 'param':
      return withCommon({ op: e.op, name: e.name, value: e.value, ret: e.ret, errno: e.errno }, e);
    case 'bind':
      return withCommon(
        { op: e.op, device: e.device, driver: e.driver, group: e.group, ret: e.ret, errno: e.errno },
        e,
      );
    case 'open':
      return withCommon(
        { op: e.op, path: e.path, ...(e.flags !== undefined && { flags: e.flags }), ret: e.ret, errno: e.errno },
        e,
      );
    case 'close':
      return withCommon({ op: e.op, fd: e.fd, ret: e.ret, errno: e.errno }, e);
    case 'mmap':
      return withCommon(
        {
          op: e.op,
          addr: e.addr === null ? null : hex64(e.addr),
          len: numOrHex(e.len),
          prot: e.prot,
          ...(e.fd !== undefined && { fd: e.fd }),
          ...(e.offset !== undefined && { offset: hex64(e.offset) }),
          ret: e.ret === -1 ? -1 : hex64(e.ret),
          errno: e.errno,
        },
        e,
      );
    case 'munmap':
      return withCommon({ op: e.op, addr: hex64(e.addr), len: numOrHex(e.len), ret: e.ret, errno: e.errno }, e);
    case 'mprotect':
      return withCommon(
        { op: e.op, addr: hex64(e.addr), len: numOrHex(e.len), prot: e.prot, ret: e.ret, errno: e.errno },
        e,
      );
    case 'ioctl': {
      const nr = `0x${e.nr.toString(16)}`;
      const w: WireEventOf<'ioctl'> =
        e.arg !== undefined
          ? { op: e.op, fd: e.fd, request: e.request, nr, arg: numOrHex(e.arg), ret: e.ret, errno: e.errno }
          : { op: e.op, fd: e.fd, request: e.request, nr, in: toHex(e.in), out: toHex(e.out), ret: e.ret, errno: e.errno };
      return withCommon(w, e);
    }
    case 'pread':
      return withCommon(
        { op: e.op, fd: e.fd, offset: hex64(e.offset), len: e.len, out: toHex(e.out), ret: e.ret, errno: e.errno },
        e,
      );
    case 'pwrite':
      return withCommon(
        { op: e.op, fd: e.fd, offset: hex64(e.offset), len: e.len, in: toHex(e.in), ret: e.ret, errno: e.errno },
        e,
      );
    case 'eventfd':
      return withCommon({ op: e.op, ret: e.ret, errno: e.errno }, e);
    case 'sysfs':
    case 'sysfs-write':
      return withCommon({ op: e.op, path: e.path, content: e.content, ret: e.ret, errno: e.errno }, e);
    case 'kmsg':
      return withCommon({ op: e.op, text: e.text }, e);
  }
}

/** The header's JSON object in the real traces' key order. */
export function headerToWire(h: TraceHeader): TraceHeader {
  const platform: TraceHeader['platform'] = { preset: h.platform.preset };
  if (h.platform.options !== undefined) platform.options = h.platform.options;
  const w: TraceHeader = { trace: h.trace, kernel: h.kernel, arch: h.arch, platform };
  if (h.source !== undefined) w.source = h.source;
  if (h.created !== undefined) w.created = h.created;
  return w;
}
