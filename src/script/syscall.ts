// A system call a scenario made, as facts (Call), and everything shown of it, built here and
// only here from the call and its result: the strace line, the decoded fields (--json), the
// vfio-trace/1 event (--trace), and what `expect` looks at.

import type { Era } from '../kernel/era.js';
import type { SysResult } from '../kernel/kernel.js';
import { errnoName, errnoText } from '../uapi/errno.js';
import { decodeFields, formatCap, formatStruct, structCaps } from '../uapi/display.js';
import { extensionName, type RequestDef } from '../uapi/requests.js';
import type { TraceEventData } from '../trace/format.js';
import type { LastAction } from './context.js';
import type { LogLine } from '../kernel/log.js';
import type { JsonCap, RunEvent, Where } from './events.js';
import type { DecodedCap } from '../uapi/caps.js';
import { protText, type NamedProt } from './prot.js';

type SyscallEvent = Extract<RunEvent, { type: 'syscall' }>;

export type Call =
  /** `param MODULE.NAME=VALUE`: a module parameter written through sysfs. */
  | { op: 'param'; name: string; value: string }
  | { op: 'bind'; device: string; driver: string }
  | { op: 'open'; path: string }
  | { op: 'close'; fd: number }
  | { op: 'eventfd' }
  /** memfd_create(2) and ftruncate(2) to `len`: one fd of shmem pages. */
  | { op: 'memfd'; len: bigint }
  | { op: 'mmap'; hint?: bigint; len: bigint; prot: NamedProt; fd?: number; offset?: bigint }
  | { op: 'munmap'; addr: bigint; len: bigint }
  | { op: 'mprotect'; addr: bigint; len: bigint; prot: NamedProt }
  /** `before`/`after`: the buffer as passed and as the kernel left it, for pointer arguments. */
  | { op: 'ioctl'; fd: number; req: RequestDef; arg: bigint; before?: Uint8Array; after?: Uint8Array }
  /** `out`: what the kernel returned (no bytes on failure). */
  | { op: 'pread'; fd: number; offset: bigint; len: number; out: Uint8Array }
  | { op: 'pwrite'; fd: number; offset: bigint; data: Uint8Array }
  /** A sysfs read; `content` absent when it failed. */
  | { op: 'read'; path: string; content?: string }
  | { op: 'write'; path: string; text: string }
  /** read(2) and write(2) of an fd (a fault queue's records); `out` what came back. Not in vfio-trace/1. */
  | { op: 'fdread'; fd: number; len: number; out: Uint8Array }
  | { op: 'fdwrite'; fd: number; data: Uint8Array }
  /** readlink(2) of a sysfs link; `target` absent when it failed. Not in vfio-trace/1. */
  | { op: 'readlink'; path: string; target?: string }
  /** A CPU load through the address space (not a syscall); `out` the bytes read (none on a signal). */
  | { op: 'load'; addr: bigint; len: number; out: Uint8Array }
  | { op: 'store'; addr: bigint; data: Uint8Array };

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const retWord = (r: SysResult): string => (typeof r.ret === 'bigint' ? hex(r.ret) : String(r.ret));

/** What `expect` looks at after the call (made at `at` by `verb`, logging `logs`): cheap, built for every call. */
export function lastOfCall(call: Call, r: SysResult, at: Where, verb: string, logs: LogLine[]): LastAction {
  return {
    at,
    verb,
    logs,
    ret: BigInt(r.ret),
    errno: r.errno,
    returnsFd: call.op === 'open' || call.op === 'eventfd' || call.op === 'memfd' || (call.op === 'ioctl' && (call.req.returnsFd ?? false)),
    ioctl: call.op === 'ioctl' ? { req: call.req, before: call.before, after: call.after, arg: call.arg } : undefined,
    content: call.op === 'read' ? call.content : call.op === 'readlink' ? call.target : undefined,
    out: call.op === 'pread' || call.op === 'load' || call.op === 'fdread' ? call.out.slice() : call.op === 'ioctl' ? call.after : undefined,
  };
}

/**
 * The call as a display event: the strace line, the decoded fields and caps and the call's facts (--json); with
 * `withTrace`, the vfio-trace/1 event rides along (for a caller that keeps the events).
 */
export function callEvent(call: Call, r: SysResult, at: Where, era: Era, withTrace: boolean): SyscallEvent {
  const { text, fields, caps } = strace(call, r, era);
  const result = r.errno ? `-1 ${errnoName(r.errno)} (${errnoText(r.errno)})` : retWord(r);
  // For --json: what a program would otherwise parse out of the text.
  const facts = {
    op: call.op,
    ...(call.op === 'ioctl' ? { request: call.req.name } : {}),
    ...('fd' in call && call.fd !== undefined ? { fd: call.fd } : {}),
    ...(r.errno ? { errnoName: errnoName(r.errno) } : {}),
  };
  const ev: SyscallEvent = { type: 'syscall', at, text: `${text} = ${result}`, ret: retWord(r), errno: r.errno, ...facts, fields, caps };
  if (withTrace) ev.trace = traceEvent(call, r);
  return ev;
}

/** The call as a blocked-call message names it (machine/blocked.ts): `ioctl VFIO_SET_IOMMU`, `write /sys/…`. */
export function blockedCall(call: Call): string {
  switch (call.op) {
    case 'param': {
      const [mod, name] = call.name.split('.');
      return `write /sys/module/${mod}/parameters/${name}`;
    }
    case 'bind':
      return `bind ${call.device}`;
    case 'ioctl':
      return `ioctl ${call.req.name}`;
    case 'read':
    case 'write':
    case 'readlink':
      return `${call.op} ${call.path}`;
    default:
      return call.op;
  }
}

/** The call as strace prints it, before ` = result`; an ioctl's decoded output fields too. */
function strace(call: Call, r: SysResult, era: Era): { text: string; fields?: Record<string, string>; caps?: JsonCap[] } {
  switch (call.op) {
    case 'param':
      return { text: `param ${call.name}=${call.value}` };
    case 'bind':
      return { text: `bind(${call.device}, ${call.driver}) [iommu_group ${r.ret}]` };
    case 'open':
      return { text: `open("${call.path}", O_RDWR)` };
    case 'close':
      return { text: `close(${call.fd})` };
    case 'eventfd':
      return { text: 'eventfd2(0, EFD_CLOEXEC)' };
    case 'memfd':
      // The two calls as one line: the fd of the first is the result, the size the second's.
      return { text: `memfd_create("vfio-emu", MFD_CLOEXEC) + ftruncate(${call.len})` };
    case 'mmap': {
      const flags = call.fd === undefined ? 'MAP_PRIVATE|MAP_ANONYMOUS' : 'MAP_SHARED';
      return { text: `mmap(${call.hint ? hex(call.hint) : 'NULL'}, ${call.len}, ${protText(call.prot.prot)}, ${flags}, ${call.fd ?? -1}, ${hex(call.offset ?? 0n)})` };
    }
    case 'munmap':
      return { text: `munmap(${hex(call.addr)}, ${call.len})` };
    case 'mprotect':
      return { text: `mprotect(${hex(call.addr)}, ${call.len}, ${protText(call.prot.prot)})` };
    case 'ioctl': {
      const { text, fields, caps } = ioctlArg(call, era);
      return { text: `ioctl(${call.fd}, ${call.req.name}${text ? ', ' + text : ''})`, fields, caps };
    }
    case 'pread': {
      return { text: `pread64(${call.fd}, ${straceBuffer(call.out)}, ${call.len}, ${hex(call.offset)})` };
    }
    case 'pwrite':
      return { text: `pwrite64(${call.fd}, ${straceBuffer(call.data)}, ${call.data.length}, ${hex(call.offset)})` };
    case 'read':
      return { text: `read("${call.path}")${call.content !== undefined ? ` → ${JSON.stringify(call.content)}` : ''}` };
    case 'write':
      return { text: `write("${call.path}", ${JSON.stringify(call.text)})` };
    case 'fdread':
      return { text: `read(${call.fd}, ${straceBuffer(call.out)}, ${call.len})` };
    case 'fdwrite':
      return { text: `write(${call.fd}, ${straceBuffer(call.data)}, ${call.data.length})` };
    case 'readlink':
      // strace: readlink("PATH", "TARGET", 4096) = length (an empty buffer when it failed, as pread's).
      return { text: `readlink("${call.path}", ${JSON.stringify(call.target ?? '')}, ${READLINK_BUFSIZ})` };
    // Not syscalls: the access as a C expression, the value read, and the signal if one came.
    case 'load':
      return { text: `load${call.len * 8}(${hex(call.addr)})${r.errno ? '' : ` → ${hex(leValue(call.out))}`}${signalText(r, call.addr)}` };
    case 'store':
      return { text: `store${call.data.length * 8}(${hex(call.addr)}, ${hex(leValue(call.data))})${signalText(r, call.addr)}` };
  }
}

/** Bytes as the little-endian value a load or store of their width moves. */
const leValue = (b: Uint8Array): bigint => b.reduceRight((v, x) => (v << 8n) | BigInt(x), 0n);

/** strace's line for a signal an access raised: `--- SIGBUS {si_addr=0x…} ---`. */
const signalText = (r: SysResult, addr: bigint): string => (r.signal ? ` --- ${r.signal} {si_addr=${hex(addr)}} ---` : '');

/** A capability as --json gives it: its name, where it is, its fields and entries as hex strings. */
function jsonCap(c: DecodedCap): JsonCap {
  const vals = (m: Map<string, bigint>) => Object.fromEntries([...m].map(([k, v]) => [k, hex(v)]));
  return { name: c.def?.name ?? `id ${c.id}`, offset: c.off, version: c.version, fields: vals(c.fields), entries: c.entries.map(vals) };
}

/** Bytes as strace writes a buffer it cannot decode: "\\x00\\x01". */
const hexEscape = (b: Uint8Array): string => Array.from(b, (x) => `\\x${x.toString(16).padStart(2, '0')}`).join('');

/** strace -xx's buffer: every byte `\xNN`, the first 32 (strace's default -s) and `...` after a longer one. */
const STRACE_STRSIZE = 32;
function straceBuffer(b: Uint8Array): string {
  return `"${hexEscape(b.subarray(0, STRACE_STRSIZE))}"${b.length > STRACE_STRSIZE ? '...' : ''}`;
}

/** An ioctl's argument as strace decodes it: a value, a string, a struct with its capability chain. */
function ioctlArg(call: Extract<Call, { op: 'ioctl' }>, era: Era): { text: string; fields?: Record<string, string>; caps?: JsonCap[] } {
  const { req, after } = call;
  if (req.arg === 'value' || req.arg === 'unknown') {
    return { text: req.name === 'VFIO_CHECK_EXTENSION' || req.name === 'VFIO_SET_IOMMU' ? extensionName(Number(call.arg)) : hex(call.arg) };
  }
  if (req.arg === 'none') return { text: '' };
  if (req.arg === 'string') return { text: `"${new TextDecoder().decode(after!.subarray(0, Math.max(0, after!.indexOf(0))))}"` };
  if (req.struct && req.struct.fields.length === 1 && req.struct.fields[0].role === 'fd') {
    // A raw= buffer may be shorter than the int the kernel reads: show what was there.
    return { text: after && after.length >= 4 ? `[${new DataView(after.buffer, after.byteOffset).getInt32(0, true)}]` : `"${hexEscape(after ?? new Uint8Array(0))}"` };
  }
  if (req.struct && after) {
    let text = formatStruct(req.struct, era, after, call.before);
    const chain = structCaps(req.struct, era, after);
    if (chain.caps.length) text += ` caps=[${chain.caps.map(formatCap).join(', ')}]`;
    if (chain.problem) text += ` (${chain.problem})`;
    return { text, fields: decodeFields(req.struct, era, after), caps: chain.caps.length ? chain.caps.map(jsonCap) : undefined };
  }
  return { text: 'NULL' };
}

/** The buffer size `readlink` passes (PATH_MAX, what readlink(1) starts with). */
const READLINK_BUFSIZ = 4096;

/** The call as a vfio-trace/1 event, or undefined for a call the format has no op for (readlink). */
export function traceEvent(call: Call, r: SysResult): TraceEventData | undefined {
  const ret = Number(r.ret);
  const errno = r.errno;
  switch (call.op) {
    case 'param':
      return { op: 'param', name: call.name, value: call.value, ret, errno };
    case 'bind':
      return { op: 'bind', device: call.device, driver: call.driver, group: ret, ret: 0, errno };
    case 'open':
      return { op: 'open', path: call.path, flags: 'O_RDWR', ret, errno };
    case 'close':
      return { op: 'close', fd: call.fd, ret, errno };
    case 'eventfd':
      return { op: 'eventfd', ret, errno };
    case 'memfd':
      return { op: 'memfd', len: call.len, ret, errno };
    case 'mmap':
      return {
        op: 'mmap',
        addr: call.hint ?? null,
        len: call.len,
        prot: call.prot.name,
        ...(call.fd !== undefined ? { fd: call.fd, offset: call.offset ?? 0n } : {}),
        ret: r.errno ? -1 : (r.ret as bigint),
        errno,
      };
    case 'munmap':
      return { op: 'munmap', addr: call.addr, len: call.len, ret, errno };
    case 'mprotect':
      return { op: 'mprotect', addr: call.addr, len: call.len, prot: call.prot.name, ret, errno };
    case 'ioctl':
      return call.before && call.after
        ? { op: 'ioctl', fd: call.fd, request: call.req.name, nr: call.req.nr, in: call.before, out: call.after, ret, errno }
        : { op: 'ioctl', fd: call.fd, request: call.req.name, nr: call.req.nr, arg: call.arg, ret, errno };
    case 'pread':
      return { op: 'pread', fd: call.fd, offset: call.offset, len: call.len, out: call.out.slice(), ret, errno };
    case 'pwrite':
      return { op: 'pwrite', fd: call.fd, offset: call.offset, len: call.data.length, in: call.data, ret, errno };
    case 'read':
      return { op: 'sysfs', path: call.path, content: call.content ?? '', ret, errno };
    case 'write': {
      // A module parameter's file is traced as the parameter it sets.
      const m = /^\/sys\/module\/([a-z0-9_]+)\/parameters\/([a-z0-9_]+)$/.exec(call.path);
      return m
        ? { op: 'param', name: `${m[1]}.${m[2]}`, value: call.text, ret, errno }
        : { op: 'sysfs-write', path: call.path, content: call.text, ret, errno };
    }
    case 'load':
      return { op: 'load', addr: call.addr, len: call.len, ...(errno ? {} : { out: call.out.slice() }), ...(r.signal ? { signal: r.signal } : {}), ret, errno };
    case 'store':
      return { op: 'store', addr: call.addr, len: call.data.length, in: call.data.slice(), ...(r.signal ? { signal: r.signal } : {}), ret, errno };
    case 'readlink':
      // Not a VFIO interaction, and exec's served readlinks are not recorded either.
      return undefined;
    case 'fdread':
    case 'fdwrite':
      // vfio-trace/1 has read(2) only for eventfds (eventfd-read).
      return undefined;
  }
}
