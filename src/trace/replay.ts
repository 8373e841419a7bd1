// Replaying a vfio-trace/1 trace against the model (TRACE-FORMAT.md, "What replay compares").
//
// The header picks the era (the newest modelled one not after `kernel`), the preset and its
// options. Every input is re-executed in order; `ret`, `errno`, every byte of `out`, sysfs
// content and kernel log lines are compared. Values that belong to the recording process
// rather than the kernel (fd numbers, user addresses) are mapped: the model is asked to place
// each mmap where the recording had it, and a table rewrites whatever still differs.

import { UserError } from '../lib/user-error.js';
import type { FileKind } from '../kernel/file.js';
import type { Kernel, SysResult } from '../kernel/kernel.js';
import type { DeferredBootLine } from '../kernel/deferred-boot-log.js';
import { WARN_CUT_HERE, WARN_END, warnCpuLine, warnHeadline, type LogLine, type WarnReport } from '../kernel/log.js';
import { parseTaintText, TAINT_FLAG_COUNT, TAINT_WARN, taintText, taintVerboseText } from '../kernel/taint.js';
import type { Process } from '../kernel/process.js';
import { boot, type Machine } from '../machine/boot.js';
import { BootError, bootProblemText, presetNames, type BootProblem } from '../machine/boot-problem.js';
import { requestByNr } from '../uapi/requests.js';
import { VfioContainer } from '../kernel/vfio/container.js';
import { fieldWidth, readField, writeField, type StructDef } from '../uapi/struct.js';
import { VFIO_IRQ_SET } from '../uapi/structs.js';
import type { Trace, TraceEvent, TraceHeader } from './format.js';
import { blockedMessage } from '../machine/blocked.js';
import type { Blocked } from '../kernel/would-block.js';
import { toHex } from './hex.js';

export interface Difference {
  field: string;
  recorded: string;
  model: string;
}

export interface EventResult {
  line: number;
  op: string;
  what: string;
  status: 'match' | 'differs' | 'skipped';
  diffs: Difference[];
  /** Why an event was skipped. */
  reason?: string;
}

export interface ReplayReport {
  file: string;
  era: string;
  preset: string;
  results: EventResult[];
  events: number;
  match: number;
  differ: number;
  skipped: number;
}

/** A trace's prot names (the reader admits only these) as the model's protections. */
const PROTS = new Map<string, { read: boolean; write: boolean }>([
  ['none', { read: false, write: false }],
  ['r', { read: true, write: false }],
  ['w', { read: false, write: true }],
  ['rw', { read: true, write: true }],
  ['rx', { read: true, write: false }],
  ['wx', { read: false, write: true }],
  ['rwx', { read: true, write: true }],
  ['x', { read: false, write: false }],
]);

/** Kernel log lines that depend on earlier processes of the same boot. */
export const ONCE_PER_BOOT_REASON =
  'printed once per boot on a first enable; an earlier process of the recorded boot may already have triggered it';

/** Recorded lines of deferred boot work (kernel/deferred-boot-log.ts), each once per trace. */
export const DEFERRED_BOOT_REASON =
  'printed once per boot by deferred boot work (x86: the TSC refined calibration), at a moment no system call of the process decides';

/** The lines of a recorded WARN report that belong to the machine and build, not the kernel's logic. */
export const WARN_MACHINE_REASON =
  'part of a WARN report that belongs to the recorded machine and build (module list, registers, code bytes, call trace); the report is compared as a unit on its WARNING, CPU, Tainted, Hardware name and end lines';

/** The header's kernel and platform, booted; a problem is the header's, at line 1. */
function bootFromHeader(h: TraceHeader, file: string): Machine {
  try {
    return boot(h.kernel, h.platform.preset, h.platform.options ?? {}, h.config);
  } catch (e) {
    if (e instanceof BootError) throw new UserError(replayBootText(e.problem), { file, line: 1 });
    throw e;
  }
}

/** A header's kernel is a recorded release (6.1.0-56-amd64): one that resolves to no era is older than the first. */
function replayBootText(p: BootProblem): string {
  if (p.kind === 'unknown-era') return `kernel "${p.name}" is older than every modelled era`;
  if (p.kind === 'unknown-preset') return `unknown preset "${p.name}" (presets: ${presetNames().join(', ')})`;
  return bootProblemText(p);
}

export function replayTrace(trace: Trace, file: string): ReplayReport {
  const h = trace.header;
  const { era, platform, kernel, proc } = bootFromHeader(h, file);
  const r = new Replayer(kernel, proc);
  const evs = trace.events;
  for (let i = 0; i < evs.length; i++) {
    const n = warnReportLength(evs, i);
    if (n > 0) {
      r.warnReport(evs.slice(i, i + n) as KmsgEvent[]);
      i += n - 1;
    } else r.step(evs[i]!);
  }
  r.flushLog(trace.events.length ? trace.events[trace.events.length - 1].line : 1);
  const results = r.results;
  return {
    file,
    era: era.name,
    preset: `${platform.preset}${Object.entries(platform.options).map(([k, v]) => ` ${k}=${v}`).join('')}`,
    results,
    events: results.length,
    match: results.filter((x) => x.status === 'match').length,
    differ: results.filter((x) => x.status === 'differs').length,
    skipped: results.filter((x) => x.status === 'skipped').length,
  };
}

/** A call that would not return stops the replay: what it waits for (machine/blocked.ts). */
const blockedError = (call: string, b: Blocked): UserError => new UserError(blockedMessage(call, b));

/** A sysfs write's answer when it returned. */
function returned(call: string, r: number | Blocked): number {
  if (typeof r !== 'number') throw blockedError(call, r);
  return r;
}

/**
 * Kernel log values that differ from boot to boot and are compared as wildcards: the hashed
 * pointer of vfio-pci's "irq bypass producer (token|eventfd %p) registration fails" (%p hashes with a
 * per-boot key; the model prints its own per-boot value). Everything else compares exactly.
 */
const PER_BOOT_VALUES: readonly RegExp[] = [/(irq bypass producer \((?:token|eventfd) )[0-9a-f]{8,16}(\))/];

function sameKmsg(model: string, recorded: string): boolean {
  if (model === recorded) return true;
  const norm = (t: string): string => PER_BOOT_VALUES.reduce((acc, re) => acc.replace(re, '$1*$2'), t);
  return norm(model) === norm(recorded);
}

type KmsgEvent = Extract<TraceEvent, { op: 'kmsg' }>;

const isKmsg = (ev: TraceEvent | undefined): ev is KmsgEvent => ev?.op === 'kmsg';

/**
 * A recorded WARN report starting at `events[i]`: its kmsg events from the `WARNING:` line (with
 * the CUT_HERE line just before it) through `---[ end trace … ]---`, or up to the last kmsg
 * before another event when the end marker is missing. 0: no report starts there.
 */
function warnReportLength(events: readonly TraceEvent[], i: number): number {
  const at = events[i];
  if (!isKmsg(at)) return 0;
  const head = at.text === WARN_CUT_HERE ? i + 1 : i;
  const h = events[head];
  if (!isKmsg(h) || !h.text.startsWith('WARNING: ')) return 0;
  let j = head;
  while (isKmsg(events[j + 1]) && !END_TRACE.test((events[j] as KmsgEvent).text)) j++;
  return j - i + 1;
}

/** print_oops_end_marker()'s line, whatever its id. */
const END_TRACE = /^---\[ end trace [0-9a-f]+ \]---$/;

/** __warn's first line: file:line (absent for a bug entry without one), the symbol with %pS's +off/size and [module], CPU, comm/pid. */
const WARN_HEADLINE = /^WARNING: (?:(\S+):(\d+) )?at ([^\s+]+)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)?(?: \[[^\]]+\])?, CPU#(\d+): (.*)\/(\d+)$/;
/** dump_stack_print_info()'s CPU line up to the comm; the taint follows it. */
/** The older headline (__warn before the 6.19 form): "WARNING: CPU: %d PID: %d at %s:%d %pS". */
const OLD_WARN_HEADLINE = /^WARNING: CPU: (\d+) PID: (\d+) at (\S+):(\d+) ([^\s+]+)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)?(?: \[[^\]]+\])?$/;
const WARN_CPU_LINE = /^CPU: (\d+) UID: (\d+) PID: (\d+) Comm: (.*)$/;

class Replayer {
  readonly results: EventResult[] = [];
  /** Recorded fd → model fd. */
  private readonly fds = new Map<number, number>();
  /** Recorded mapping start → [model start, length]. */
  private readonly maps: { rec: bigint; model: bigint; len: bigint }[] = [];
  /**
   * Model log lines not yet matched by a recorded kmsg. `held`: a line printed after its call
   * returned (LogLine.afterCall), kept through the next event, after which the recorder found it.
   */
  private pending: { line: LogLine; after: number; held?: boolean }[] = [];
  private logMark = 0;
  /** Deferred boot lines already seen: a boot prints each once. */
  private readonly deferredSeen = new Set<DeferredBootLine>();
  /** The recording's process as its first WARN report named it → the model's (one process per trace). */
  private task?: { comm: string; pid: number; line: number };

  constructor(
    private readonly k: Kernel,
    private readonly proc: Process,
  ) {}

  step(ev: TraceEvent): void {
    if (ev.op === 'kmsg') return this.kmsg(ev);
    // Lines the model logged for the previous action and the recording did not have.
    this.flushLog(ev.line, true);
    const diffs: Difference[] = [];
    const cmp = (field: string, recorded: unknown, model: unknown) => {
      const a = String(recorded);
      const b = String(model);
      if (a !== b) diffs.push({ field, recorded: a, model: b });
    };
    const outcome = (res: SysResult, rec: { ret: number; errno: number }, mapRet?: (m: number) => number) => {
      cmp('errno', rec.errno, res.errno);
      const modelRet = res.errno ? -1 : Number(res.ret);
      cmp('ret', rec.ret, mapRet && !res.errno ? mapRet(modelRet) : modelRet);
    };
    let what: string = ev.op;
    switch (ev.op) {
      case 'param': {
        const [mod, name] = ev.name.split('.');
        const n = returned(`write /sys/module/${mod}/parameters/${name}`, this.k.sysfsWrite(`/sys/module/${mod}/parameters/${name}`, ev.value));
        outcome(n < 0 ? { ret: -1, errno: -n } : { ret: n, errno: 0 }, ev);
        what = `param ${ev.name}=${ev.value}`;
        break;
      }
      case 'bind': {
        const res = this.k.bind(ev.device, ev.driver);
        if (res.blocked) throw blockedError(`bind ${ev.device}`, res.blocked);
        cmp('errno', ev.errno, res.errno);
        if (!res.errno) cmp('group', ev.group, Number(res.ret));
        what = `bind ${ev.device} ${ev.driver}`;
        break;
      }
      case 'sysfs': {
        const c = this.k.sysfsRead(ev.path);
        if (typeof c === 'number') outcome({ ret: -1, errno: -c }, ev);
        else {
          outcome({ ret: Buffer.byteLength(c), errno: 0 }, ev);
          cmp('content', JSON.stringify(ev.content), JSON.stringify(c));
        }
        what = `sysfs ${ev.path}`;
        break;
      }
      case 'sysfs-write': {
        const n = returned(`write ${ev.path}`, this.k.sysfsWrite(ev.path, ev.content));
        outcome(n < 0 ? { ret: -1, errno: -n } : { ret: n, errno: 0 }, ev);
        what = `write ${ev.path} ${JSON.stringify(ev.content)}`;
        break;
      }
      case 'open': {
        const res = this.k.open(this.proc, ev.path);
        if (!res.errno && ev.ret >= 0) this.fds.set(ev.ret, Number(res.ret));
        outcome(res, ev, (m) => this.recordedFd(m));
        what = `open ${ev.path}`;
        break;
      }
      case 'close': {
        const fd = this.modelFd(ev.fd);
        outcome(this.k.close(this.proc, fd), ev);
        if (ev.ret === 0) this.fds.delete(ev.fd);
        what = `close ${ev.fd}`;
        break;
      }
      case 'eventfd':
      case 'memfd': {
        const res = ev.op === 'memfd' ? this.k.memfd(this.proc, ev.len) : this.k.eventfd(this.proc);
        if (!res.errno && ev.ret >= 0) this.fds.set(ev.ret, Number(res.ret));
        outcome(res, ev, (m) => this.recordedFd(m));
        if (ev.op === 'memfd') what = `memfd ${ev.len}`;
        break;
      }
      case 'eventfd-read': {
        // The counter the model's interrupts signalled since the last read (kernel/eventfd.ts).
        const e = this.proc.eventfdGet(this.modelFd(ev.fd));
        const n = typeof e === 'number' ? e : e.read8();
        const failed = typeof n === 'number';
        outcome(failed ? { ret: -1, errno: -n } : { ret: 8, errno: 0 }, ev);
        if (!failed && ev.value !== undefined) cmp('value', `0x${ev.value.toString(16)}`, `0x${n.toString(16)}`);
        what = `eventfd-read fd ${ev.fd}`;
        break;
      }
      case 'mmap': {
        const prot = PROTS.get(ev.prot)!;
        const hint = ev.ret === -1 ? (ev.addr ?? undefined) : ev.ret;
        const res = this.k.mmap(this.proc, BigInt(ev.len), prot, {
          fd: ev.fd === undefined ? undefined : this.modelFd(ev.fd),
          offset: ev.offset,
          hint,
        });
        cmp('errno', ev.errno, res.errno);
        if (!res.errno && ev.ret !== -1) this.maps.push({ rec: ev.ret, model: res.ret as bigint, len: BigInt(ev.len) });
        if (res.errno && ev.ret !== -1) cmp('ret', `0x${ev.ret.toString(16)}`, -1);
        what = `mmap ${ev.len}${ev.fd !== undefined ? ` fd ${ev.fd}` : ''}`;
        break;
      }
      case 'munmap': {
        outcome(this.k.munmap(this.proc, this.addr(ev.addr), BigInt(ev.len)), ev);
        what = `munmap 0x${ev.addr.toString(16)}`;
        break;
      }
      case 'mprotect': {
        outcome(this.k.mprotect(this.proc, this.addr(ev.addr), BigInt(ev.len), PROTS.get(ev.prot)!), ev);
        what = `mprotect 0x${ev.addr.toString(16)} ${ev.prot}`;
        break;
      }
      case 'ioctl': {
        const fd = this.modelFd(ev.fd);
        const ops = this.proc.file(fd)?.ops;
        const backend = ops instanceof VfioContainer ? ops.driver?.backend : undefined;
        const req = ops ? requestByNr(ev.nr, ops.kind as FileKind, backend) : undefined;
        what = `ioctl ${ev.request}${ev.label ? ` (${ev.label})` : ''}`;
        if (ev.arg !== undefined) {
          const res = this.k.ioctl(this.proc, fd, ev.nr, { value: BigInt(ev.arg) });
          if (res.blocked) throw blockedError(`ioctl ${ev.request}`, res.blocked);
          outcome(res, ev, req?.returnsFd ? (m) => this.recordedFd(m) : undefined);
          break;
        }
        const buf = ev.in.slice();
        if (req?.struct) this.rewrite(req.struct, buf, 'to-model');
        const res = this.k.ioctl(this.proc, fd, ev.nr, { value: 0x7f00_dead_0000n, buf });
        if (res.blocked) throw blockedError(`ioctl ${ev.request}`, res.blocked);
        if (req?.returnsFd && !res.errno) this.fds.set(ev.ret, Number(res.ret));
        outcome(res, ev, req?.returnsFd ? (m) => this.recordedFd(m) : undefined);
        if (req?.struct) this.rewrite(req.struct, buf, 'to-recorded');
        this.compareBytes(diffs, ev.out, buf);
        break;
      }
      case 'pread': {
        const out = new Uint8Array(ev.len).fill(0);
        const res = this.k.pread(this.proc, this.modelFd(ev.fd), out, ev.offset);
        outcome(res, ev);
        // Only the first `ret` bytes are the kernel's: a read clipped at the end of a region
        // (vfio_pci_bar_rw, vfio_pci_config_rw) leaves the rest of the caller's buffer as it was,
        // so the recorded tail is the caller's fill, not an answer.
        if (!res.errno && ev.errno === 0) this.compareBytes(diffs, ev.out.subarray(0, Math.max(0, ev.ret)), out.subarray(0, Number(res.ret)));
        what = `pread fd ${ev.fd} 0x${ev.offset.toString(16)}${ev.label ? ` (${ev.label})` : ''}`;
        break;
      }
      case 'load': {
        const out = new Uint8Array(ev.len);
        const res = this.k.load(this.proc, this.addr(ev.addr), out);
        outcome(res, ev);
        cmp('signal', ev.signal ?? 'none', res.signal ?? 'none');
        if (!res.errno && ev.out) this.compareBytes(diffs, ev.out, out);
        what = `load${ev.len * 8} 0x${ev.addr.toString(16)}${ev.label ? ` (${ev.label})` : ''}`;
        break;
      }
      case 'store': {
        const res = this.k.store(this.proc, this.addr(ev.addr), ev.in);
        outcome(res, ev);
        cmp('signal', ev.signal ?? 'none', res.signal ?? 'none');
        what = `store${ev.len * 8} 0x${ev.addr.toString(16)}${ev.label ? ` (${ev.label})` : ''}`;
        break;
      }
      case 'pwrite': {
        outcome(this.k.pwrite(this.proc, this.modelFd(ev.fd), ev.in.slice(), ev.offset), ev);
        what = `pwrite fd ${ev.fd} 0x${ev.offset.toString(16)}`;
        break;
      }
    }
    this.results.push({ line: ev.line, op: ev.op, what, status: diffs.length ? 'differs' : 'match', diffs });
    const lines = this.k.log.since(this.logMark);
    this.logMark = this.k.log.lines.length;
    for (const l of lines) this.pending.push({ line: l, after: ev.line });
  }

  private kmsg(ev: KmsgEvent): void {
    // A WARN report's lines are matched as a unit (warnReport), never one by one.
    const i = this.pending.findIndex((p) => !p.line.warn && sameKmsg(p.line.text, ev.text));
    const deferred = i < 0 ? this.k.deferredBootLog.find((d) => d.pattern.test(ev.text) && !this.deferredSeen.has(d)) : undefined;
    if (deferred) {
      this.deferredSeen.add(deferred);
      this.results.push({ line: ev.line, op: 'kmsg', what: `kmsg ${JSON.stringify(ev.text)}`, status: 'skipped', diffs: [], reason: DEFERRED_BOOT_REASON });
      return;
    }
    if (i < 0) {
      this.results.push({
        line: ev.line,
        op: 'kmsg',
        what: `kmsg ${JSON.stringify(ev.text)}`,
        status: 'differs',
        diffs: [{ field: 'text', recorded: JSON.stringify(ev.text), model: this.pending.length ? this.pending.map((p) => JSON.stringify(p.line.text)).join('; ') : 'no log line' }],
      });
      return;
    }
    // Lines the model printed before this one, and the recording did not, are reported first.
    for (const p of this.pending.slice(0, i)) this.extraLine(p, ev.line);
    this.pending = this.pending.slice(i + 1);
    this.results.push({ line: ev.line, op: 'kmsg', what: `kmsg ${JSON.stringify(ev.text)}`, status: 'match', diffs: [] });
  }

  /**
   * A recorded WARN report (warnReportLength) against the model's next one, as a unit. Compared:
   * the WARNING line's file:line and function, its comm/pid through the trace's process mapping,
   * the CPU line's taint (the model's flags must all be there; a W the model lacks came from an
   * earlier process's WARN in the recorded boot), the verbose taint line, the hardware name where
   * the model knows it, the end marker. The rest is the recorded machine's (WARN_MACHINE_REASON).
   */
  warnReport(unit: KmsgEvent[]): void {
    const at = this.pending.findIndex((p) => p.line.warn);
    const model = at >= 0 ? this.pending[at]!.line.warn! : undefined;
    if (model) {
      for (const p of this.pending.slice(0, at)) this.extraLine(p, unit[0]!.line);
      this.pending = this.pending.slice(at).filter((p) => p.line.warn !== model);
    }
    const head = unit.find((ev) => ev.text.startsWith('WARNING: '))!;
    // One result per recorded line, in the recording's order (the WARNING line's is filled last).
    const out: EventResult[] = [];
    const result = (ev: KmsgEvent, diffs: Difference[]): EventResult => ({
      line: ev.line,
      op: 'kmsg',
      what: `kmsg ${JSON.stringify(ev.text)}`,
      status: diffs.length ? 'differs' : 'match',
      diffs,
    });
    const push = (ev: KmsgEvent, diffs: Difference[]) => out.push(result(ev, diffs));
    if (!model) {
      for (const ev of unit) push(ev, [{ field: 'text', recorded: JSON.stringify(ev.text), model: 'no WARN report' }]);
      this.results.push(...out);
      return;
    }
    if (model.form === 'cpu-pid') {
      this.oldWarnReport(unit, head, model);
      return;
    }
    const hm = WARN_HEADLINE.exec(head.text);
    const recTask = hm ? { comm: hm[5]!, pid: Number(hm[6]) } : undefined;
    let recTaint: Set<string> | undefined;
    let sawVerbose = false;
    let sawHardware = false;
    let cpuEv: KmsgEvent | undefined;
    const headDiffs: Difference[] = [];
    let headAt = 0;
    for (const ev of unit) {
      const t = ev.text;
      const diffs: Difference[] = [];
      if (ev === head) {
        if (!hm) diffs.push({ field: 'text', recorded: JSON.stringify(t), model: JSON.stringify(warnHeadline(model)) });
        else {
          const site = hm[1] === undefined ? 'none' : `${hm[1]}:${hm[2]}`;
          if (site !== `${model.site.file}:${model.site.line}`) diffs.push({ field: 'file:line', recorded: site, model: `${model.site.file}:${model.site.line}` });
          if (hm[3] !== model.site.fn) diffs.push({ field: 'function', recorded: hm[3]!, model: model.site.fn });
          this.compareTask(diffs, recTask!, model, ev.line);
        }
        headDiffs.push(...diffs);
        headAt = out.length;
        out.push(result(ev, []));
        continue;
      }
      if (t === WARN_CUT_HERE || END_TRACE.test(t)) {
        const want = t === WARN_CUT_HERE ? WARN_CUT_HERE : WARN_END;
        push(ev, t === want ? [] : [{ field: 'text', recorded: JSON.stringify(t), model: JSON.stringify(want) }]);
      } else if (WARN_CPU_LINE.test(t)) {
        cpuEv = ev;
        recTaint = this.compareCpuLine(diffs, t, recTask, model);
        push(ev, diffs);
      } else if (t.startsWith('Tainted: [')) {
        sawVerbose = true;
        const want = recTaint && recTaint.size ? taintVerboseText(recTaint) : 'no such line (not tainted)';
        push(ev, t === want ? [] : [{ field: 'taint', recorded: JSON.stringify(t), model: JSON.stringify(want) }]);
      } else if (t.startsWith('Hardware name: ') && model.hardware !== undefined) {
        sawHardware = true;
        const want = `Hardware name: ${model.hardware}`;
        push(ev, t === want ? [] : [{ field: 'hardware', recorded: JSON.stringify(t), model: JSON.stringify(want) }]);
      } else {
        out.push({ line: ev.line, op: 'kmsg', what: `kmsg ${JSON.stringify(t)}`, status: 'skipped', diffs: [], reason: WARN_MACHINE_REASON });
      }
    }
    // Lines the model prints that the recorded report lacks.
    if (!cpuEv) headDiffs.push({ field: 'CPU line', recorded: 'none', model: JSON.stringify(warnCpuLine(model)) });
    if (recTaint?.size && !sawVerbose) headDiffs.push({ field: 'taint', recorded: 'no "Tainted: [..]" line', model: JSON.stringify(taintVerboseText(recTaint)) });
    if (model.hardware !== undefined && !sawHardware) headDiffs.push({ field: 'hardware', recorded: 'none', model: JSON.stringify(`Hardware name: ${model.hardware}`) });
    if (!END_TRACE.test(unit[unit.length - 1]!.text)) headDiffs.push({ field: 'end', recorded: 'none', model: JSON.stringify(WARN_END) });
    out[headAt] = result(head, headDiffs);
    this.results.push(...out);
  }

  /**
   * A report in the older form (Era.warnForm 'cpu-pid', "WARNING: CPU: %d PID: %d at %s:%d %pS"),
   * of which the model prints only CUT_HERE and the headline: the headline's file:line and
   * function are compared, its PID through the trace's process mapping; every other line
   * (the CPU line, registers, the end marker with its random id) is the recorded machine's.
   */
  private oldWarnReport(unit: KmsgEvent[], head: KmsgEvent, model: WarnReport): void {
    const hm = OLD_WARN_HEADLINE.exec(head.text);
    for (const ev of unit) {
      const diffs: Difference[] = [];
      if (ev === head) {
        if (!hm) diffs.push({ field: 'text', recorded: JSON.stringify(ev.text), model: JSON.stringify(warnHeadline(model)) });
        else {
          const site = `${hm[3]}:${hm[4]}`;
          if (site !== `${model.site.file}:${model.site.line}`) diffs.push({ field: 'file:line', recorded: site, model: `${model.site.file}:${model.site.line}` });
          if (hm[5] !== model.site.fn) diffs.push({ field: 'function', recorded: hm[5]!, model: model.site.fn });
          this.compareTask(diffs, { comm: '', pid: Number(hm[2]) }, model, ev.line);
        }
      } else if (ev.text !== WARN_CUT_HERE) {
        this.results.push({ line: ev.line, op: 'kmsg', what: `kmsg ${JSON.stringify(ev.text)}`, status: 'skipped', diffs: [], reason: WARN_MACHINE_REASON });
        continue;
      }
      this.results.push({ line: ev.line, op: 'kmsg', what: `kmsg ${JSON.stringify(ev.text)}`, status: diffs.length ? 'differs' : 'match', diffs });
    }
  }

  /** The recording's comm/pid against the model's, through the mapping the trace's first report set. */
  private compareTask(diffs: Difference[], rec: { comm: string; pid: number }, model: WarnReport, line: number): void {
    if (!this.task) {
      this.task = { ...rec, line };
      return;
    }
    if (rec.comm !== this.task.comm || rec.pid !== this.task.pid) {
      diffs.push({ field: 'task', recorded: `${rec.comm}/${rec.pid}`, model: `${model.comm}/${model.pid} (the recording's ${this.task.comm}/${this.task.pid} at line ${this.task.line})` });
    }
  }

  /** The CPU line's task (the same as the WARNING line's) and taint; the recorded taint flags, if readable. */
  private compareCpuLine(diffs: Difference[], text: string, rec: { comm: string; pid: number } | undefined, model: WarnReport): Set<string> | undefined {
    const m = WARN_CPU_LINE.exec(text)!;
    const rest = m[4]!;
    if (rec && (Number(m[3]) !== rec.pid || !rest.startsWith(`${rec.comm} `))) {
      diffs.push({ field: 'task', recorded: `PID ${m[3]} Comm ${rest.split(' ')[0]}`, model: `the WARNING line's ${rec.comm}/${rec.pid}` });
      return undefined;
    }
    const after = rec ? rest.slice(rec.comm.length + 1) : rest;
    const taint = after.startsWith('Not tainted') ? 'Not tainted' : after.slice(0, 'Tainted: '.length + TAINT_FLAG_COUNT);
    const flags = parseTaintText(taint);
    const want = taintText(model.taint);
    if (!flags) {
      diffs.push({ field: 'taint', recorded: JSON.stringify(taint), model: JSON.stringify(want) });
      return undefined;
    }
    // Every flag the model has must be recorded; a recorded flag the model lacks may only be a
    // W another process's WARN set earlier in the recorded boot.
    const missing = [...model.taint].filter((f) => !flags.has(f));
    const extra = [...flags].filter((f) => !model.taint.has(f) && f !== TAINT_WARN);
    if (missing.length || extra.length) diffs.push({ field: 'taint', recorded: JSON.stringify(taint), model: JSON.stringify(want) });
    return flags;
  }

  /**
   * Model log lines no recorded kmsg matched: a difference, unless they depend on the boot's
   * history. Before the next event (`next`), lines printed after their call returned are kept
   * for it: the recorder drained /dev/kmsg before they were printed (docs/trace-format.md).
   */
  flushLog(line: number, next = false): void {
    const lines = this.k.log.since(this.logMark);
    this.logMark = this.k.log.lines.length;
    for (const l of lines) this.pending.push({ line: l, after: line });
    const keep = next ? this.pending.filter((p) => p.line.afterCall && !p.held) : [];
    for (const p of this.pending) if (!keep.includes(p)) this.extraLine(p, p.after);
    this.pending = keep.map((p) => ({ ...p, held: true }));
  }

  private extraLine(p: { line: LogLine; after: number }, line: number): void {
    const what = `kmsg ${JSON.stringify(p.line.text)} (model only)`;
    if (p.line.oncePerBoot) {
      this.results.push({ line, op: 'kmsg', what, status: 'skipped', diffs: [], reason: ONCE_PER_BOOT_REASON });
    } else {
      this.results.push({
        line,
        op: 'kmsg',
        what,
        status: 'differs',
        diffs: [{ field: 'kmsg', recorded: 'no log line', model: JSON.stringify(p.line.text) }],
      });
    }
  }

  private compareBytes(diffs: Difference[], recorded: Uint8Array, model: Uint8Array): void {
    if (recorded.length === model.length && recorded.every((b, i) => b === model[i])) return;
    let first = 0;
    while (first < recorded.length && first < model.length && recorded[first] === model[first]) first++;
    const from = first & ~7;
    const rec = toHex(recorded.subarray(from, from + 32));
    const mod = toHex(model.subarray(from, from + 32));
    diffs.push({ field: `out[${first}]`, recorded: `…${rec}`, model: `…${mod}` });
  }

  // ---- mapping recorded values to the model's -------------------------------------------

  private modelFd(fd: number): number {
    return this.fds.get(fd) ?? fd;
  }

  private recordedFd(model: number): number {
    for (const [rec, m] of this.fds) if (m === model) return rec;
    return model;
  }

  /**
   * A recorded user address → the model's (addresses outside recorded mappings pass unchanged).
   * The newest mapping wins: the kernel hands an unmapped range out again, so an address the
   * recording reuses means its latest mapping.
   */
  private addr(a: bigint): bigint {
    for (let i = this.maps.length - 1; i >= 0; i--) {
      const m = this.maps[i]!;
      if (a >= m.rec && a < m.rec + m.len) return m.model + (a - m.rec);
    }
    return a;
  }

  private recordedAddr(a: bigint): bigint {
    for (let i = this.maps.length - 1; i >= 0; i--) {
      const m = this.maps[i]!;
      if (a >= m.model && a < m.model + m.len) return m.rec + (a - m.model);
    }
    return a;
  }

  /** Rewrites fd and user-address fields (and SET_IRQS eventfds) between recorded and model values. */
  private rewrite(def: StructDef, buf: Uint8Array, dir: 'to-model' | 'to-recorded'): void {
    for (const f of def.fields) {
      if (!f.role || f.role === 'pad' || f.off + fieldWidth(f) > buf.length) continue;
      const v = readField(buf, f.off, f.type);
      if (f.role === 'uaddr') writeField(buf, f.off, f.type, dir === 'to-model' ? this.addr(v) : this.recordedAddr(v));
      if (f.role === 'fd') {
        const fd = Number(BigInt.asIntN(32, v));
        writeField(buf, f.off, f.type, BigInt(dir === 'to-model' ? this.modelFd(fd) : this.recordedFd(fd)));
      }
    }
    if (def === VFIO_IRQ_SET && buf.length >= 20) {
      const flags = readField(buf, 4, 'u32');
      if (!(flags & 4n)) return; // not DATA_EVENTFD
      for (let off = 20; off + 4 <= buf.length; off += 4) {
        const fd = Number(BigInt.asIntN(32, readField(buf, off, 's32')));
        if (fd < 0) continue;
        writeField(buf, off, 's32', BigInt(dir === 'to-model' ? this.modelFd(fd) : this.recordedFd(fd)));
      }
    }
  }
}
