// `vfio-emu serve` and `exec`: the booted model behind a Unix socket (docs/exec.md). The preload
// library in each client process forwards the VFIO system calls of its emulated fds; this file
// answers them on one model process, so that a session's fds, mappings and eventfds are one
// process's, as a recorded trace has them. Client fds are the library's business: the server
// knows the model's fd numbers only, and counts the references each connection holds, so that a
// dup, a fork, a close, or a client that dies holding fds releases a file exactly when its last
// reference goes (fput → release).
//
// The model never opens a host path a client names: paths are looked up in the model's own
// trees (serve-sysfs.ts), user memory is the model's record of the client's mappings. The one
// host file it opens for a client is the program's own memfd under IOMMU_IOAS_MAP_FILE, and only
// for the process tree exec started (serve-memfd.ts).

import { closeSync, mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EACCES, EBADF, EINVAL, EMFILE, ENOENT, ENOMEM } from '../uapi/errno.js';
import { requestByNr } from '../uapi/requests.js';
import type { FileKind } from '../uapi/fd-kind.js';
import { EventFd } from '../kernel/eventfd.js';
import type { Kernel, SysResult } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import type { Prot } from '../kernel/file.js';
import { VfioContainer } from '../kernel/vfio/container.js';
import type { Blocked } from '../kernel/would-block.js';
import { blockedMessage } from './blocked.js';
import { MAX_FRAME, MAX_PATH, MEM_RANGE, NEED_MEM, NODE, NOT_EMULATED, OP, PROTOCOL_VERSION, REPLY_HEADER, REQ_HEADER, SIGNAL_SIZE, SYSFS } from './serve-protocol.js';
import { sysfsList, sysfsLookup } from './serve-sysfs.js';
import { SharedUserMemory } from './serve-memory.js';
import { inTree, openProgramMemfd, type ProgramMemfd } from './serve-memfd.js';
import { isMemFd } from '../kernel/memfd.js';
import { LIMITS } from '../lib/limits.js';
import { userRanges, userRangesIn, userRangesOut, vmaGaps, type UserRange } from './serve-user-buffers.js';

type ProtText = 'none' | 'r' | 'w' | 'rw';
interface Outcome {
  ret: number;
  errno: number;
}
/** A served call as vfio-trace/1 records it (the trace layer writes these unchanged). */
export type ServedEvent =
  | ({ op: 'open'; path: string; flags: string } & Outcome)
  | ({ op: 'close'; fd: number } & Outcome)
  | ({ op: 'ioctl'; fd: number; request: string; nr: number; arg: bigint } & Outcome)
  | ({ op: 'ioctl'; fd: number; request: string; nr: number; in: Uint8Array; out: Uint8Array } & Outcome)
  | ({ op: 'pread'; fd: number; offset: bigint; len: number; out: Uint8Array } & Outcome)
  | ({ op: 'pwrite'; fd: number; offset: bigint; len: number; in: Uint8Array } & Outcome)
  | ({ op: 'eventfd' } & Outcome)
  | ({ op: 'memfd'; len: bigint } & Outcome)
  | ({ op: 'store'; addr: bigint; len: number; in: Uint8Array } & Outcome)
  | ({ op: 'load'; addr: bigint; len: number; out: Uint8Array } & Outcome)
  | { op: 'mmap'; addr: bigint; len: bigint; prot: ProtText; ret: bigint | -1; errno: number }
  | ({ op: 'sysfs'; path: string; content: string } & Outcome)
  | ({ op: 'sysfs-write'; path: string; content: string } & Outcome)
  | ({ op: 'param'; name: string; value: string } & Outcome)
  | { op: 'kmsg'; text: string };

export interface ServeOptions {
  kernel: Kernel;
  proc: Process;
  /** Each served call and kernel log line, in order (for --trace). */
  onEvent?: (e: ServedEvent) => void;
  /** Diagnostics (for --log): never the client's stdout. */
  log?: (line: string) => void;
  /**
   * Share the client's DMA memory with the model (serve-memory.ts) so that device DMA reaches
   * it (default true).
   */
  shareMemory?: boolean;
}

interface Reply {
  errno: number;
  ret: bigint;
  payload?: Uint8Array;
}

// asm-generic/errno-base.h and errno.h: the two only the served paths need.
const ENOTDIR = 20;
const EISDIR = 21;
const ENAMETOOLONG = 36;
const O_ACCMODE = 3;
/**
 * fs/file.c: sysctl_nr_open's default (1024 * 1024), the most fds a process can hold; a dup past
 * it is -EMFILE. No real client holds more references; the cap keeps each count, and their sum
 * over connections, an exact double (a connection adopting its own FORK doubles what it holds).
 */
const NR_OPEN = 1024 * 1024;
const ACCESS_TEXT = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'];
const PROT_TEXT: ProtText[] = ['none', 'r', 'w', 'rw'];
const decoder = new TextDecoder('utf-8', { fatal: false });

const fail = (errno: number): Reply => ({ errno, ret: -1n });
const okReply = (ret: number | bigint, payload?: Uint8Array): Reply => ({ errno: 0, ret: BigInt(ret), payload });
const fromSys = (r: SysResult, payload?: Uint8Array): Reply => (r.errno ? fail(r.errno) : okReply(r.ret, payload));
const outcome = (r: SysResult): Outcome => ({ ret: r.errno ? -1 : Number(r.ret), errno: r.errno });

/** One client connection: the model fds it holds, and how many times. */
class Connection {
  readonly held = new Map<number, number>();
  /** Its number, which its helper thread's SUBSCRIBE names. */
  id = 0;
  /** The connection signals raised outside a call go to (the helper thread's). */
  events?: Connection;
  /** FORK tokens this connection gave out that no child has adopted yet. */
  readonly forks = new Set<bigint>();
  pid = 0;
  /** A call of this connection would block for ever: the model waits with it. */
  stuck = false;
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(readonly socket: Socket) {}

  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  /** The next whole frame, undefined when it has not all arrived, or 'bad' for broken framing. */
  nextFrame(): Buffer | undefined | 'bad' {
    if (this.size < 4) return undefined;
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    const buf = this.chunks[0]!;
    const len = buf.readUInt32LE(0);
    if (len < REQ_HEADER || len > MAX_FRAME) return 'bad';
    if (buf.length < len) return undefined;
    const frame = buf.subarray(0, len);
    const rest = buf.subarray(len);
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
    return frame;
  }
}

/** The model side of a session: one model process shared by every connection. */
export class ModelSession {
  private readonly k: Kernel;
  private readonly proc: Process;
  /** Model fd → references held over all connections (and pending forks). */
  private readonly refs = new Map<number, number>();
  /** The model eventfds mirroring client eventfds, and the connection that mirrored each. */
  private readonly eventfds = new Map<number, { efd: EventFd; owner: Connection }>();
  /** Mirrors of eventfds the client writes and the kernel consumes: never signalled back. */
  private readonly inbound = new Set<number>();
  private readonly connections = new Map<number, Connection>();
  private nextId = 1;
  private flushQueued = false;
  private readonly pending = new Map<bigint, { from: Connection; held: Map<number, number> }>();
  private logMark: number;
  private inboundMark: number;
  /**
   * The process `exec` started: a memfd passed to IOMMU_IOAS_MAP_FILE is opened through /proc
   * only for it and its descendants (HELLO's pid is the client's word; serve-memfd.ts).
   */
  programPid?: number;

  constructor(
    private readonly opts: ServeOptions,
    private readonly memory?: SharedUserMemory,
  ) {
    this.k = opts.kernel;
    this.proc = opts.proc;
    this.logMark = this.k.log.lines.length;
    this.inboundMark = this.k.inbound.seq;
  }

  private emit(e: ServedEvent): void {
    this.opts.onEvent?.(e);
  }

  private flushLog(): void {
    for (const l of this.k.log.since(this.logMark)) {
      this.emit({ op: 'kmsg', text: l.text });
      this.opts.log?.(`kmsg: ${l.text}`);
    }
    this.logMark = this.k.log.lines.length;
    // A device's DMA or MSI write that the IOMMU stopped: the fault record in the driver's own
    // words (the SMMU's "Unhandled context fault", a DMAR fault), for --log only — the trace
    // holds syscalls, and a replay re-raises the fault itself.
    for (const r of this.k.inbound.since(this.inboundMark)) {
      const fault = r.what === 'dma' ? (r.result.ok ? undefined : r.result.fault) : r.result === 'fault' ? r.fault : undefined;
      if (fault) this.opts.log?.(`fault: ${fault.text}`);
    }
    this.inboundMark = this.k.inbound.seq;
  }

  /** Whether c may take `more` references (each a client fd) and stay within NR_OPEN. */
  private room(c: Connection, more: number): boolean {
    let n = more;
    for (const k of c.held.values()) n += k;
    return n <= NR_OPEN;
  }

  private take(c: Connection, fd: number, n = 1): void {
    c.held.set(fd, (c.held.get(fd) ?? 0) + n);
    this.refs.set(fd, (this.refs.get(fd) ?? 0) + n);
  }

  /** Drops n of the session's references to fd; the last one closes the model fd. */
  private drop(fd: number, n: number): void {
    const left = (this.refs.get(fd) ?? 0) - n;
    if (left > 0) {
      this.refs.set(fd, left);
      return;
    }
    this.refs.delete(fd);
    this.eventfds.delete(fd);
    this.inbound.delete(fd);
    const r = this.k.close(this.proc, fd);
    this.emit({ op: 'close', fd, ...outcome(r) });
  }

  private release(c: Connection, fd: number): void {
    const n = c.held.get(fd) ?? 0;
    if (n <= 1) c.held.delete(fd);
    else c.held.set(fd, n - 1);
    this.drop(fd, 1);
  }

  /** The connection ended (close, exit, crash): its references go, as exit() closes a process's fds. */
  connect(c: Connection): void {
    c.id = this.nextId++;
    this.connections.set(c.id, c);
  }

  disconnect(c: Connection): void {
    // Once: an EXECED ends a connection before its socket's close arrives.
    if (this.connections.get(c.id) !== c) return;
    this.connections.delete(c.id);
    for (const other of this.connections.values()) if (other.events === c) other.events = undefined;
    // The eventfds it mirrored are signalled to a process that still holds them (one that
    // inherited them over fork or exec): the client eventfd is the same file there.
    for (const [fd, e] of this.eventfds) {
      if (e.owner !== c) continue;
      const heir = [...this.connections.values()].find((o) => o.held.has(fd));
      if (heir) e.owner = heir;
    }
    for (const [fd, n] of c.held) this.drop(fd, n);
    c.held.clear();
    for (const t of c.forks) {
      const p = this.pending.get(t);
      this.pending.delete(t);
      if (p) for (const [fd, n] of p.held) this.drop(fd, n);
    }
    c.forks.clear();
    this.flushLog();
  }

  /** Answers one request frame. */
  handle(c: Connection, frame: Buffer): Reply | 'blocked' {
    const op = frame.readUInt32LE(4);
    const body = frame.subarray(REQ_HEADER);
    let r: Reply | Blocked;
    try {
      r = this.dispatch(c, op, body);
    } catch (e) {
      // A body shorter than its op needs (Buffer reads check their bounds).
      if (e instanceof RangeError) r = fail(EINVAL);
      else throw e;
    }
    this.flushLog();
    if ('waits' in r) {
      this.opts.log?.(blockedMessage(`request ${op}`, r));
      return 'blocked';
    }
    return r;
  }

  /**
   * Counts the model's eventfds gathered since the last reply: the library writes them into the
   * client's. `to` takes those its process mirrored (and those whose mirroring process is gone).
   */
  takeSignals(to: Connection): [number, bigint][] {
    const out: [number, bigint][] = [];
    for (const [fd, { efd, owner }] of this.eventfds) {
      if (this.inbound.has(fd) || efd.count === 0n) continue;
      if (owner !== to && owner.events !== to && this.connections.has(owner.id)) continue;
      out.push([fd, efd.count]);
      efd.count = 0n;
    }
    return out;
  }

  /**
   * A signal raised outside any call (a device's interrupt, later): sent on the owning
   * process's event channel, where the library's helper thread writes the client's eventfd.
   */
  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      for (const c of this.connections.values()) {
        if (!c.events) continue;
        const sig = this.takeSignals(c.events);
        if (sig.length) c.events.socket.write(encodeReply(okReply(0), sig));
      }
    });
  }

  private watch(fd: number, efd: EventFd, owner: Connection): void {
    this.eventfds.set(fd, { efd, owner });
    const signal = efd.signal.bind(efd);
    efd.signal = () => {
      signal();
      this.queueFlush();
    };
  }

  private held(c: Connection, fd: number): boolean {
    return c.held.has(fd);
  }

  private dispatch(c: Connection, op: number, b: Buffer): Reply | Blocked {
    switch (op) {
      case OP.HELLO: {
        if (b.readUInt32LE(0) !== PROTOCOL_VERSION) return fail(EINVAL);
        c.pid = b.readInt32LE(4);
        return okReply(c.id);
      }
      case OP.SUBSCRIBE: {
        const main = this.connections.get(b.readUInt32LE(0));
        if (!main || main === c || main.pid !== b.readInt32LE(4)) return fail(EINVAL);
        main.events = c;
        return okReply(0);
      }
      case OP.EVENTFD_WRITE: {
        const fd = b.readInt32LE(0);
        const n = b.readBigUInt64LE(8);
        const e = this.eventfds.get(fd);
        if (!e || n === 0n) return fail(EINVAL);
        // The kernel consumes this one (virqfd): it is not echoed back to the client.
        this.inbound.add(fd);
        e.efd.signal();
        e.efd.count = 0n;
        return okReply(0);
      }
      case OP.OPEN: {
        const flags = b.readUInt32LE(0);
        const path = pathOf(b.subarray(4));
        if (typeof path === 'number') return fail(path);
        const node = sysfsLookup(this.k, path);
        if (node.kind === 'not-emulated') return fail(NOT_EMULATED);
        if (node.kind === 'node' && node.type !== NODE.CHR) return fail(NOT_EMULATED);
        const r = this.k.open(this.proc, path);
        this.emit({ op: 'open', path, flags: ACCESS_TEXT[flags & O_ACCMODE]!, ...outcome(r) });
        if (!r.errno) this.take(c, Number(r.ret));
        return fromSys(r);
      }
      case OP.CLOSE: {
        const fd = b.readInt32LE(0);
        if (!this.held(c, fd)) return fail(EBADF);
        this.release(c, fd);
        return okReply(0);
      }
      case OP.REF: {
        const fd = b.readInt32LE(0);
        if (!this.held(c, fd)) return fail(EBADF);
        if (!this.room(c, 1)) return fail(EMFILE);
        this.take(c, fd);
        return okReply(0);
      }
      case OP.IOCTL:
        return this.ioctl(c, b);
      case OP.PREAD: {
        const fd = b.readInt32LE(0);
        const len = b.readUInt32LE(4);
        const offset = b.readBigUInt64LE(8);
        if (!this.held(c, fd)) return fail(EBADF);
        if (len > LIMITS.bufferBytes) return fail(EINVAL);
        const out = new Uint8Array(len);
        const r = this.k.pread(this.proc, fd, out, offset);
        const data = out.subarray(0, r.errno ? 0 : Number(r.ret));
        this.emit({ op: 'pread', fd, offset, len, out: data.slice(), ...outcome(r) });
        return fromSys(r, data);
      }
      case OP.PWRITE: {
        const fd = b.readInt32LE(0);
        const offset = b.readBigUInt64LE(8);
        const data = new Uint8Array(b.subarray(16));
        if (!this.held(c, fd)) return fail(EBADF);
        const r = this.k.pwrite(this.proc, fd, data.slice(), offset);
        this.emit({ op: 'pwrite', fd, offset, len: data.length, in: data, ...outcome(r) });
        return fromSys(r);
      }
      case OP.MAPMEM:
        return this.mapMem(c, b.readBigUInt64LE(0), b.readBigUInt64LE(8), b.readUInt32LE(16), b.length >= 32 ? { fd: b.readInt32LE(20), offset: b.readBigUInt64LE(24) } : undefined);
      case OP.EVENTFD: {
        const r = this.k.eventfd(this.proc);
        this.emit({ op: 'eventfd', ...outcome(r) });
        if (!r.errno) {
          const fd = Number(r.ret);
          this.take(c, fd);
          const e = this.proc.eventfdGet(fd);
          if (e instanceof EventFd) this.watch(fd, e, c);
        }
        return fromSys(r);
      }
      case OP.SYSFS:
        if (b.readUInt32LE(0) === SYSFS.WRITE) return this.sysfsWrite(b.subarray(4));
        return this.sysfs(b.readUInt32LE(0), b.subarray(4));
      case OP.FORK: {
        const token = b.readBigUInt64LE(0);
        if (this.pending.has(token)) return fail(EINVAL);
        const held = new Map(c.held);
        for (const [fd, n] of held) this.refs.set(fd, (this.refs.get(fd) ?? 0) + n);
        this.pending.set(token, { from: c, held });
        c.forks.add(token);
        return okReply(0);
      }
      case OP.SHARE:
        return this.share(c, b);
      case OP.MEMFD:
        return this.programMemfd(c, b.readInt32LE(0), b.readUInt32LE(4) !== 0);
      case OP.EXECED: {
        // fs/exec.c: do_close_on_exec() runs before the new image does; the old image's
        // connection (FD_CLOEXEC) ended with it, and its references go now, not whenever its
        // socket's close is read. Another pid's connection (a vfork child's parent) stays.
        const old = this.connections.get(b.readUInt32LE(0));
        if (old && old !== c && old.pid === c.pid) {
          this.disconnect(old);
          old.socket.destroy();
        }
        return okReply(0);
      }
      case OP.ADOPT: {
        const token = b.readBigUInt64LE(0);
        const p = this.pending.get(token);
        if (!p) return fail(EINVAL);
        if (!this.room(c, [...p.held.values()].reduce((a, n) => a + n, 0))) return fail(EMFILE);
        this.pending.delete(token);
        p.from.forks.delete(token);
        for (const [fd, n] of p.held) c.held.set(fd, (c.held.get(fd) ?? 0) + n);
        return okReply(0);
      }
    }
    return fail(EINVAL);
  }

  /**
   * SHARE: before an execve the library's new connection takes a reference to each model fd the
   * new image keeps, from the connection that holds them (the exec'ing process's, or a vfork
   * child's parent's). All or nothing: each listed fd must be held there as many times.
   */
  private share(c: Connection, b: Buffer): Reply {
    const from = this.connections.get(b.readUInt32LE(0));
    if (!from || from === c || from.pid !== b.readInt32LE(4)) return fail(EINVAL);
    if ((b.length - 8) % 4 !== 0) return fail(EINVAL);
    const want = new Map<number, number>();
    for (let at = 8; at < b.length; at += 4) {
      const fd = b.readInt32LE(at);
      want.set(fd, (want.get(fd) ?? 0) + 1);
    }
    for (const [fd, n] of want) if ((from.held.get(fd) ?? 0) < n) return fail(EBADF);
    if (!this.room(c, (b.length - 8) / 4)) return fail(EMFILE);
    for (const [fd, n] of want) this.take(c, fd, n);
    return okReply(0);
  }

  private ioctl(c: Connection, b: Buffer): Reply | Blocked {
    const fd = b.readInt32LE(0);
    const nr = b.readUInt32LE(4);
    const hasBuf = b.readUInt32LE(8) !== 0;
    const value = b.readBigUInt64LE(16);
    if (!this.held(c, fd)) return fail(EBADF);
    const ops = this.proc.file(fd)?.ops;
    const backend = ops instanceof VfioContainer ? ops.driver?.backend : undefined;
    const req = ops ? requestByNr(nr, ops.kind as FileKind, backend) : undefined;
    const request = req?.name ?? 'UNKNOWN';
    if (!hasBuf) {
      const r = this.k.ioctl(this.proc, fd, nr, { value });
      if (r.blocked) return r.blocked;
      this.emit({ op: 'ioctl', fd, request, nr, arg: value, ...outcome(r) });
      if (req?.returnsFd && !r.errno) this.take(c, Number(r.ret));
      return fromSys(r);
    }
    // The memory behind the struct's pointer fields (serve-user-buffers.ts): asked for, then
    // sent by the library as nseg ranges before the struct, their bytes after it.
    const nseg = b.readUInt32LE(12);
    const heads = 24 + nseg * MEM_RANGE;
    if (b.length < heads) return fail(EINVAL);
    const ranges: UserRange[] = [];
    for (let i = 0; i < nseg; i++) ranges.push({ addr: b.readBigUInt64LE(24 + i * MEM_RANGE), len: b.readUInt32LE(32 + i * MEM_RANGE), dir: 'in' });
    const sent = ranges.reduce((n, r) => n + r.len, 0);
    if (b.length < heads + sent) return fail(EINVAL);
    const input = new Uint8Array(b.subarray(heads, b.length - sent));
    const wanted = userRanges(req?.struct, input);
    if (nseg === 0 && wanted.length) {
      const ask = Buffer.alloc(wanted.length * 16);
      wanted.forEach((w, i) => {
        ask.writeBigUInt64LE(w.addr, i * 16);
        ask.writeBigUInt64LE(BigInt(w.len), i * 16 + 8);
      });
      return { errno: NEED_MEM, ret: -1n, payload: ask };
    }
    if (nseg !== wanted.length || ranges.some((r, i) => r.addr !== wanted[i]!.addr || r.len > wanted[i]!.len)) return fail(EINVAL);
    ranges.forEach((r, i) => (r.dir = wanted[i]!.dir));
    const before: Uint8Array[] = [];
    for (let i = 0, at = b.length - sent; i < nseg; at += ranges[i]!.len, i++) before.push(new Uint8Array(b.subarray(at, at + ranges[i]!.len)));
    userRangesIn(this.k, this.proc, ranges, before, (e) => this.emit(e));
    const buf = input.slice();
    const r = this.k.ioctl(this.proc, fd, nr, { value, buf });
    if (r.blocked) return r.blocked;
    this.emit({ op: 'ioctl', fd, request, nr, in: input, out: buf.slice(), ...outcome(r) });
    if (req?.returnsFd && !r.errno) this.take(c, Number(r.ret));
    const after = userRangesOut(this.proc, ranges, before, (e) => this.emit(e));
    // The buffer goes back whatever the outcome: a handler may have written part of it.
    return { ...fromSys(r), payload: Buffer.concat([buf, ...after]) };
  }

  /**
   * IOMMU_IOAS_MAP_FILE of the program's own memfd `fd`: a model memfd of the same size whose
   * pages are that file (serve-memfd.ts opens it, serve-memory.ts backs the pages), traced as the
   * `memfd` it is to the model. EBADF, the answer for an fd the model does not have, for anything
   * else, and where the client is not the program `exec` started.
   */
  private programMemfd(c: Connection, fd: number, writable: boolean): Reply {
    const file = this.memory && this.openMemfd(c, fd, writable);
    if (!file || !this.memory) return fail(EBADF);
    const r = this.k.memfd(this.proc, file.size);
    this.emit({ op: 'memfd', len: file.size, ...outcome(r) });
    const ops = r.errno ? undefined : this.proc.file(Number(r.ret))?.ops;
    if (!ops || !isMemFd(ops)) {
      closeSync(file.fd);
      return fromSys(r);
    }
    this.memory.back(ops.phys, file.size, file.fd);
    this.take(c, Number(r.ret));
    return fromSys(r);
  }

  /** The client's memfd `fd`, when the client is of the program exec started (serve-memfd.ts). */
  private openMemfd(c: Connection, fd: number, writable: boolean): ProgramMemfd | undefined {
    const root = this.programPid;
    if (root === undefined || c.pid <= 0 || fd < 0 || !inTree(c.pid, root)) return undefined;
    return openProgramMemfd(c.pid, fd, writable);
  }

  /**
   * The client's own memory, as the model must know it for GUP (MAP_DMA, REGISTER_MEMORY):
   * the library reports the mappings that cover a range before it passes the call on; each part
   * the model has no VMA for becomes one, at the client's address, with the client's protection.
   */
  private mapMem(c: Connection, addr: bigint, len: bigint, protBits: number, memfd?: { fd: number; offset: bigint }): Reply {
    const mm = this.proc.mm;
    const page = mm.layout.pageSize;
    const start = addr & ~(page - 1n);
    const end = mm.pageAlignUp(addr + len);
    if (len === 0n || end <= start || end > mm.layout.taskSize) return fail(EINVAL);
    const prot: Prot = { read: (protBits & 1) !== 0, write: (protBits & 2) !== 0 };
    const protText = PROT_TEXT[protBits & 3]!;
    const shared: Buffer[] = [];
    for (const [s, e] of vmaGaps(mm, start, end)) {
      const r = this.k.mmap(this.proc, e - s, prot, { hint: s });
      if (!r.errno && r.ret !== s) {
        this.k.munmap(this.proc, r.ret as bigint, e - s);
        return fail(ENOMEM);
      }
      this.emit({ op: 'mmap', addr: s, len: e - s, prot: protText, ret: r.errno ? -1 : (r.ret as bigint), errno: r.errno });
      if (r.errno) return fail(r.errno);
      // A shared mapping of the program's memfd: the part is the memfd's pages from its offset
      // (QEMU's memory-backend-memfd guest RAM), nothing for the client to move.
      const file = memfd && memfd.fd >= 0 && this.memory && prot.read ? this.openMemfd(c, memfd.fd, prot.write) : undefined;
      if (file) {
        this.memory!.shareFile(s, e - s, file.fd, memfd!.offset + (s - addr));
        continue;
      }
      if (this.memory && prot.read) {
        // Where the client must map the server's file for this part (serve-memory.ts).
        const path = Buffer.from(this.memory.share(s, e - s));
        const head = Buffer.alloc(24);
        head.writeBigUInt64LE(s, 0);
        head.writeBigUInt64LE(e - s, 8);
        head.writeUInt32LE(path.length, 16);
        shared.push(head, path);
      }
    }
    return okReply(0, Buffer.concat(shared));
  }

  /**
   * One write(2) of an emulated sysfs file: the kernel model's store (a module parameter,
   * sriov_numvfs), traced as a script's write is (a parameter as `param`).
   */
  private sysfsWrite(raw: Buffer): Reply | Blocked {
    if (raw.length < 4) return fail(EINVAL);
    const plen = raw.readUInt32LE(0);
    if (raw.length < 4 + plen) return fail(EINVAL);
    const path = pathOf(raw.subarray(4, 4 + plen));
    if (typeof path === 'number') return fail(path);
    const node = sysfsLookup(this.k, path);
    if (node.kind === 'not-emulated') return fail(NOT_EMULATED);
    if (node.kind === 'missing') return fail(node.errno);
    if (node.type !== NODE.REG) return fail(EISDIR);
    const text = decoder.decode(raw.subarray(4 + plen));
    const stored = this.k.sysfsWrite(path, text);
    if (typeof stored !== 'number') return stored;
    // The file exists (the lookup found it): one the kernel model has no store for is kernfs's
    // -EACCES (kernfs_fop_open refuses write access to an attribute without ->store). Like the
    // reads of such files (pci-sysfs attributes), that answer is not the kernel's, so untraced.
    if (stored === -ENOENT) return fail(EACCES);
    const r = stored;
    const o: Outcome = r < 0 ? { ret: -1, errno: -r } : { ret: r, errno: 0 };
    const param = /^\/sys\/module\/([a-z0-9_]+)\/parameters\/([a-z0-9_]+)$/.exec(path);
    this.emit(param ? { op: 'param', name: `${param[1]}.${param[2]}`, value: text, ...o } : { op: 'sysfs-write', path, content: text, ...o });
    return r < 0 ? fail(-r) : okReply(r);
  }

  private sysfs(what: number, raw: Buffer): Reply {
    const path = pathOf(raw);
    if (typeof path === 'number') return fail(path);
    if (what === SYSFS.LIST) {
      const list = sysfsList(this.k, path);
      if (list === undefined) return fail(NOT_EMULATED);
      if (typeof list === 'number') return fail(-list);
      const parts = list.map((e) => Buffer.concat([Buffer.from([e.type]), Buffer.from(e.name), Buffer.alloc(1)]));
      return okReply(list.length, Buffer.concat(parts));
    }
    const node = sysfsLookup(this.k, path);
    if (node.kind === 'not-emulated') return fail(NOT_EMULATED);
    const traced = (content: string, r: Outcome): void => {
      if (node.kind === 'node' && node.traced) this.emit({ op: 'sysfs', path, content, ...r });
    };
    if (what === SYSFS.STAT) {
      if (node.kind === 'missing') return fail(node.errno);
      // u64 size, then for a char node whose number the model defines, u32 major and minor.
      const out = new Uint8Array(node.rdev ? 16 : 8);
      const v = new DataView(out.buffer);
      v.setBigUint64(0, BigInt(node.content?.length ?? 0), true);
      if (node.rdev) {
        v.setUint32(8, node.rdev.major, true);
        v.setUint32(12, node.rdev.minor, true);
      }
      return okReply(node.type, out);
    }
    if (what === SYSFS.READLINK) {
      if (node.kind === 'missing') return fail(node.errno);
      if (node.type !== NODE.LNK) return fail(EINVAL);
      const target = new TextEncoder().encode(node.link!);
      traced(`${node.link!}\n`, { ret: target.length + 1, errno: 0 });
      return okReply(target.length, target);
    }
    if (what === SYSFS.READ) {
      if (node.kind === 'missing') return fail(node.errno);
      if (node.type === NODE.DIR || node.type === NODE.LNK) return fail(EISDIR);
      if (node.type !== NODE.REG) return fail(NOT_EMULATED);
      // kernfs_fop_open(): opening for read an attribute without ->show is -EACCES, even for root.
      if (!node.content) return fail(EACCES);
      const content = node.content;
      traced(decoder.decode(content), { ret: content.length, errno: 0 });
      return okReply(content.length, content);
    }
    return fail(EINVAL);
  }
}

/** A request's path: NUL-free UTF-8 of at most PATH_MAX bytes, or -errno. */
function pathOf(raw: Buffer): string | number {
  if (raw.length >= MAX_PATH) return -ENAMETOOLONG;
  const s = decoder.decode(raw);
  if (!s.startsWith('/') || s.includes('\0')) return -EINVAL;
  return s;
}

function encodeReply(r: Reply, signals: [number, bigint][]): Buffer {
  const payload = r.payload ?? new Uint8Array(0);
  const len = REPLY_HEADER + signals.length * SIGNAL_SIZE + payload.length;
  const out = Buffer.alloc(len);
  out.writeUInt32LE(len, 0);
  out.writeInt32LE(r.errno, 4);
  out.writeBigInt64LE(r.ret, 8);
  out.writeUInt32LE(signals.length, 16);
  let off = REPLY_HEADER;
  for (const [fd, n] of signals) {
    out.writeInt32LE(fd, off);
    out.writeBigUInt64LE(n, off + 8);
    off += SIGNAL_SIZE;
  }
  out.set(payload, off);
  return out;
}

export interface ServedModel {
  /** The socket's path (inside a private 0700 directory). */
  readonly path: string;
  readonly session: ModelSession;
  /** Stops listening, ends every connection and removes the directory. */
  close(): Promise<void>;
}

/** Serves the model on a fresh socket in a private directory. */
export async function serveModel(opts: ServeOptions): Promise<ServedModel> {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-emu-'));
  chmodSync(dir, 0o700);
  const path = join(dir, 'model.sock');
  const memory = opts.shareMemory === false ? undefined : new SharedUserMemory(dir, opts.proc.mm);
  const session = new ModelSession(opts, memory);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const c = new Connection(socket);
    session.connect(c);
    let gone = false;
    const end = (): void => {
      if (gone) return;
      gone = true;
      sockets.delete(socket);
      session.disconnect(c);
    };
    socket.on('data', (chunk: Buffer) => {
      if (gone) return;
      c.push(chunk);
      for (;;) {
        if (c.stuck) return;
        const f = c.nextFrame();
        if (f === undefined) return;
        if (f === 'bad') {
          opts.log?.(`connection of pid ${c.pid}: malformed frame; closed`);
          socket.destroy();
          end();
          return;
        }
        const r = session.handle(c, f);
        if (r === 'blocked') {
          c.stuck = true;
          return;
        }
        socket.write(encodeReply(r, session.takeSignals(c)));
      }
    });
    socket.on('error', end);
    socket.on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    session,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      memory?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
