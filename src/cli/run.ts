// `vfio-emu run`: the command, and how any command ends on an error. Apart from the command
// line (main.ts) so that bin/vfio-emu.cjs can load a bundle of this file alone for a plain
// `run FILE…` (main-run.ts): commander, check, decode, replay, exec and serve are not parsed
// or compiled for the command users run most.

import { UserError } from '../lib/user-error.js';
import { newerThanModelled } from '../kernel/era.js';
import { Runner, type RunSink } from '../script/runner.js';
import type { RunEvent } from '../script/events.js';
import { checkOutputPath, readInput } from './input.js';
import { makeChalk, renderJson, renderText } from './render.js';
import { StdoutClosed, writeOut } from './out.js';

class Output {
  private readonly chunks: string[] = [];
  line(s: string): void {
    this.chunks.push(s);
    if (this.chunks.length >= 512) this.flush();
  }
  flush(): void {
    if (this.chunks.length) writeOut(this.chunks.join('\n') + '\n');
    this.chunks.length = 0;
  }
}

export interface ScenarioResult {
  file: string;
  /** Every event, when no sink was given; with a sink they went there and none are kept. */
  events: RunEvent[];
  runner: Runner;
  error?: UserError;
}

/** Kernels asked for that are newer than any modelled era: said once per process, on stderr. */
const saidNewer = new Set<string>();

function newerKernelNotice(runner: Runner): void {
  const asked = runner.setup.kernelAsked;
  const ran = runner.kernel?.era.name;
  if (asked === undefined || ran === undefined || runner.voided || !newerThanModelled(asked) || saidNewer.has(asked)) return;
  saidNewer.add(asked);
  writeOut(`vfio-emu: kernel ${asked} is newer than the newest modelled era: it runs as ${ran}\n`, 2);
}

/**
 * Runs one scenario, streaming: each line is read, run and checked before the next, and its
 * events go to `sink` as they happen (without a sink they are all kept, for callers that want
 * them at the end). A user's mistake ends the scenario and is returned, not thrown.
 */
export function runScenario(
  file: string,
  text: string,
  opts: { kernel?: string; platform?: string },
  sink?: RunSink,
  runner = new Runner(opts, sink),
): ScenarioResult {
  try {
    runner.runText(text, file === '-' ? '<stdin>' : file);
    return { file, events: runner.events, runner };
  } catch (e) {
    if (e instanceof UserError) return { file, events: runner.events, runner, error: e };
    throw e;
  } finally {
    newerKernelNotice(runner);
  }
}

export interface RunOptions {
  kernel?: string;
  platform?: string;
  json?: boolean;
  trace?: string;
}

/** `vfio-emu run FILE…`: prints each scenario's events; exit status 1 if an expectation failed, 2 on a mistake. */
export async function runCommand(files: string[], o: RunOptions): Promise<void> {
  for (const f of files) {
    if (f.endsWith('.jsonl')) throw new UserError(`${f}: a vfio-trace/1 recording, not a scenario: replay it with "vfio-emu replay ${f}"`);
  }
  if (o.trace !== undefined) {
    if (files.length !== 1) throw new UserError('--trace records one scenario: give one file');
    checkOutputPath('--trace', o.trace, files);
  }
  const c = makeChalk(!!o.json);
  const out = new Output();
  const { TraceRecorder } = o.trace !== undefined ? await import('./record.js') : { TraceRecorder: undefined };
  let status = 0;
  for (const f of files) {
    const text = readInput(f);
    if (files.length > 1 && !o.json) out.line(c.bold(`== ${f}`));
    let failed = false;
    const tracer = TraceRecorder && new TraceRecorder(o.trace!);
    const sink: RunSink = {
      event: (ev) => out.line(o.json ? renderJson(ev, f) : renderText(ev, c)),
      failed: () => (failed = true),
      trace: tracer?.event,
    };
    const runner = new Runner(o, sink);
    tracer?.boundTo(() => runner.kernel);
    const res = runScenario(f, text, o, sink, runner);
    if (failed) status = Math.max(status, 1);
    if (res.error) {
      out.flush();
      writeOut(res.error.format() + '\n', 2);
      status = 2;
    }
    // So far: if the reader of stdout goes away, the run ends with the status it has.
    process.exitCode = status;
    if (tracer) {
      out.flush();
      tracer.finish(res.runner.kernel);
    }
  }
  out.flush();
  process.exitCode = status;
}

/** How a command that threw ends: quietly, as a one-line mistake (status 2), or as an internal error. */
export function endWith(e: unknown): void {
  if (e instanceof StdoutClosed) {
    // `vfio-emu run x | head -1`: the reader has what it wanted. Quietly, as Unix tools do,
    // with the status the run had so far.
    process.exitCode ??= 0;
    return;
  }
  if (e instanceof UserError) {
    writeOut(e.format() + '\n', 2);
    process.exitCode = 2;
    return;
  }
  writeOut(`vfio-emu: internal error: ${(e as Error).message}\n`, 2);
  if (process.env.VFIO_EMU_DEBUG) writeOut(`${(e as Error).stack}\n`, 2);
  process.exitCode = 2;
}
