// Runs a scenario against the kernel model, one logical line at a time. Each command is a
// verb (verbs/index.ts): setup verbs choose the machine, which boots on the first command
// that needs it; a system call is shown here, in one place for every verb (syscall.ts: the
// strace line, the trace event, what `expect` sees), with the kernel log lines it caused and,
// for a refused attach, why; hardware actions likewise; expect and show add one event. Events
// (events.ts) go to a sink as they happen, built only when the sink consumes them; a user
// mistake is a UserError at the offending word.

import { configName, DEFAULT_CONFIG_NAME } from '../kernel/config.js';
import { UserError } from '../lib/user-error.js';
import { didYouMean } from '../lib/did-you-mean.js';
import type { Kernel } from '../kernel/kernel.js';
import type { LogLine } from '../kernel/log.js';
import type { IommuFault } from '../hw/iommu/iommu.js';
import type { Machine } from '../machine/boot.js';
import { blockedMessage } from '../machine/blocked.js';
import type { Command, Script } from './ast.js';
import type { HwOutcome, LastAction, ScenarioContext } from './context.js';
import type { ExpectEvent, RunEvent, RunSink, Where } from './events.js';
import { deviceActivity, eventfdMark } from './inbound.js';
import { Names } from './names.js';
import { OptionError, ScenarioSetup, type RunOptions } from './setup.js';
import { ScriptReader } from './parser.js';
import { blockedCall, callEvent, lastOfCall, traceEvent } from './syscall.js';
import { whyNote } from './explain/why.js';
import { VERBS } from './verbs/index.js';
import type { VerbHandler } from './verbs/verb.js';
import { failAt, quote, whereOf } from './where.js';
import { MemoryGuard } from './memory-guard.js';

export type { Binding } from './names.js';
export type { HwOutcome, LastAction } from './context.js';
export type { RunOptions } from './setup.js';
export type { RunSink } from './events.js';

/** The kernel log lines of a call that logged none. */
const NO_LOGS = Object.freeze([]) as readonly LogLine[] as LogLine[];

/** The most commands of a scenario kept between its syntax check and its run (a few MB). */
const KEEP_COMMANDS = 4096;

type Handler<K extends VerbHandler['kind']> = Extract<VerbHandler, { kind: K }>;

export class Runner implements ScenarioContext {
  /** The events, when the runner was made without a sink (then it keeps them all, trace included). */
  readonly events: RunEvent[] = [];
  readonly setup: ScenarioSetup;
  readonly names = new Names();
  last?: LastAction;
  readonly faults: IommuFault[] = [];
  private readonly sink: RunSink;
  /** Each syscall event carries its trace event (the keep-everything mode, for recordTrace). */
  private readonly traceInEvents: boolean;
  /**
   * A syntax error voided the run: as for a scenario that never ran, nothing of it counts (an
   * unwatched run, see runUnseen, may have run lines before the reader met the error).
   */
  voided = false;
  /**
   * Expectations held until the whole text has been read (runUnseen), or undefined: they go
   * to the sink's `held` or `failed` at once. A list, not a closure swapped in and out: a
   * runner whose function-valued field was reassigned per run stayed reachable through V8's
   * young-generation collections, and `check` copied and promoted every file's machine.
   */
  private heldBack?: ExpectEvent[];

  /**
   * With a sink, events go to it as they happen and are not kept; without, they are kept in
   * `events` (each system call with its vfio-trace/1 event).
   */
  constructor(opts: RunOptions = {}, sink?: RunSink) {
    this.setup = new ScenarioSetup(opts);
    this.traceInEvents = sink === undefined;
    this.sink = sink ?? { event: (ev) => this.events.push(ev) };
  }

  get watched(): boolean {
    return this.sink.event !== undefined || this.sink.trace !== undefined;
  }

  /** The booted kernel, once a command has needed it. */
  get kernel(): Kernel | undefined {
    return this.setup.booted?.kernel;
  }

  run(script: Script): RunEvent[] {
    this.setup.checkOptions();
    for (const cmd of script.commands) this.step(cmd);
    return this.events;
  }

  /**
   * Runs a scenario's text as it is read: each logical line is lexed, parsed and run before
   * the next is read, and nothing of it is kept but what a later line can refer to. A syntax
   * error stops the scenario before anything runs (nothing is shown), so the text is read
   * through once first; a short scenario's commands are kept from that reading, a long one's
   * are read again.
   */
  runText(text: string, file: string): void {
    if (!this.sink.event && !this.sink.trace) return this.runUnseen(text, file);
    const first = new ScriptReader(text, file);
    let kept: Command[] | undefined = [];
    for (let cmd = first.next(); cmd; cmd = first.next()) {
      if (kept?.push(cmd) === KEEP_COMMANDS) kept = undefined;
    }
    this.setup.checkOptions();
    if (kept) {
      for (const cmd of kept) this.step(cmd);
      return;
    }
    const reader = new ScriptReader(text, file);
    for (let cmd = reader.next(); cmd; cmd = reader.next()) this.step(cmd);
  }

  /**
   * A run nobody watches line by line (check: only the expectations are wanted) reads the text
   * once: it runs each line as it is read and keeps the expectations until the end, since a syntax
   * error anywhere means nothing ran. After a mistake that stops the run, the rest is still
   * read for a syntax error, which is then the one reported.
   */
  private runUnseen(text: string, file: string): void {
    const kept: ExpectEvent[] = [];
    this.heldBack = kept;
    const reader = new ScriptReader(text, file);
    let stop: UserError | undefined;
    try {
      try {
        this.setup.checkOptions();
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        stop = e;
      }
      const next = (): Command | undefined => {
        try {
          return reader.next();
        } catch (e) {
          this.voided = e instanceof UserError;
          throw e;
        }
      };
      for (let cmd = next(); cmd; cmd = next()) {
        if (stop) continue;
        try {
          this.step(cmd);
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          stop = e;
        }
      }
    } finally {
      this.heldBack = undefined;
    }
    for (const e of kept) this.expectation(e);
    if (stop) throw stop;
  }

  /** An expectation, to the sink: `held` or `failed`. */
  private expectation(ev: ExpectEvent): void {
    if (ev.ok) this.sink.held?.(ev);
    else this.sink.failed?.(ev);
  }

  /** The machine, booted on first use: its first event says which. */
  machine(cmd: Command): Machine {
    if (this.setup.booted) return this.setup.booted;
    const m = this.setup.boot(cmd);
    if (this.sink.event) {
      const optText = Object.entries(m.platform.options).map(([k, v]) => ` ${k}=${v}`).join('');
      const config = configName(m.kernel.config);
      const configText = config === DEFAULT_CONFIG_NAME ? '' : ` config=${config}`;
      this.sink.event({ type: 'setup', at: whereOf(cmd), text: `kernel ${m.era.name}${configText}, platform ${m.platform.preset}${optText}` });
    }
    return m;
  }

  private readonly memory = new MemoryGuard();

  step(cmd: Command): void {
    this.memory.tick(cmd.verbPos);
    try {
      this.dispatch(cmd);
    } catch (e) {
      // A UserError raised without a position (a boot problem no line chose, a missing
      // argument of the whole command) is the command's: say where. Errors about the command
      // line (--platform: …) keep none.
      if (e instanceof UserError && !e.where && !(e instanceof OptionError)) failAt(cmd.verbPos, e.message);
      throw e;
    }
  }

  private dispatch(cmd: Command): void {
    const verb = VERBS.get(cmd.verb) ?? failAt(cmd.verbPos, `unknown command ${quote(cmd.verb)}: expected one of ${[...VERBS.keys()].join(', ')}${didYouMean(cmd.verb, VERBS.keys())}`);
    switch (verb.kind) {
      case 'setup':
        return verb.run(cmd, this);
      case 'syscall':
        return this.syscall(cmd, verb);
      case 'hardware':
        return this.hardware(cmd, verb);
      case 'inspect': {
        const ev = verb.run(cmd, this);
        if (ev.type === 'expect') {
          if (this.heldBack) this.heldBack.push(ev);
          else this.expectation(ev);
        }
        this.sink.event?.(ev);
        return;
      }
    }
  }

  private syscall(cmd: Command, verb: Handler<'syscall'>): void {
    const m = this.machine(cmd);
    const before = m.kernel.log.lines.length;
    const seq = m.kernel.inbound.seq;
    const signals = eventfdMark();
    const { call, result, binds } = verb.run(cmd, this);
    // A call that would not return stops the scenario: one process cannot wait on itself.
    if (result.blocked) failAt(cmd.verbPos, blockedMessage(blockedCall(call), result.blocked));
    if (binds) this.names.bindResult(cmd, result, binds);
    const at = whereOf(cmd);
    // (Most calls log nothing: no list made for them. Nothing changes a call's list.)
    const logs = m.kernel.log.lines.length === before ? NO_LOGS : m.kernel.log.since(before);
    this.last = lastOfCall(call, result, at, cmd.verb, logs);
    const { event, trace } = this.sink;
    if (trace) {
      const t = traceEvent(call, result);
      if (t) trace(t);
      for (const l of logs) trace({ op: 'kmsg', text: l.text });
    }
    if (event) {
      event(callEvent(call, result, at, m.era, this.traceInEvents));
      for (const l of logs) event({ type: 'dmesg', at, text: l.text });
    }
    // What the devices did meanwhile (DMA, interrupts), as the hardware actions report theirs.
    const act = deviceActivity(m.kernel, m.proc, this.names, seq, signals);
    for (const o of act.outcomes) this.hwEvents(at, o);
    this.last.hw = act.last;
    if (!event) return;
    const why = whyNote(call, result, m);
    if (why) event({ type: 'note', at, lines: why });
  }

  private hardware(cmd: Command, verb: Handler<'hardware'>): void {
    const m = this.machine(cmd);
    const before = m.kernel.log.lines.length;
    const out = verb.run(cmd, this);
    const logs = m.kernel.log.since(before);
    const at = whereOf(cmd);
    this.last = { at, verb: cmd.verb, ret: 0n, errno: 0, returnsFd: false, logs, hw: out, out: out.data };
    this.hwEvents(at, out);
    // vfio-trace/1 has no op for a device's DMA or MSI: the log lines they caused (IOMMU
    // faults) are left out of the trace with them, or a replay would look for a cause it
    // cannot have.
    const { event } = this.sink;
    if (event) for (const l of logs) event({ type: 'dmesg', at, text: l.text });
  }

  /** A hardware outcome's events (when shown), its fault kept for `show faults`. */
  private hwEvents(at: Where, out: HwOutcome): void {
    if (out.fault && !this.faults.includes(out.fault)) this.faults.push(out.fault);
    const { event } = this.sink;
    if (!event) return;
    event({ type: 'hw', at, text: out.text });
    if (out.fault) event({ type: 'fault', at, iommu: out.fault.iommu, text: out.fault.text, logged: (out.fault.log ?? [out.fault.text]).length > 0 });
  }
}
