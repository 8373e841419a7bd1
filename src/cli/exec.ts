// `vfio-emu exec` and `vfio-emu serve` (docs/exec.md): boot the machine, run the setup prefix,
// and serve the model on a private socket, to a PROGRAM started under the preload library
// (exec) or to whatever connects (serve). Diagnostics go to --log, never to PROGRAM's output.

import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../lib/user-error.js';
import { parseScript } from '../script/parser.js';
import { Runner } from '../script/runner.js';
import type { Machine } from '../machine/boot.js';
import { serveModel, type ServedEvent } from '../machine/serve.js';
import { formatEvent } from '../trace/writer.js';
import type { TraceEventData } from '../trace/format.js';
import { checkOutputPath, readInput } from './input.js';
import { recordTrace } from './record.js';

export interface MachineOptions {
  kernel?: string;
  platform?: string;
  bind: string[];
  param: string[];
  setup?: string;
  trace?: string;
  log?: string;
}

/** Where the preload library is: VFIO_EMU_PRELOAD, or dist/ beside the running bundle. */
export function preloadLibrary(): string {
  return process.env.VFIO_EMU_PRELOAD ?? resolve(dirname(process.argv[1] ?? '.'), '..', 'dist', 'vfio-preload.so');
}

const BDF_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const PARAM_RE = /^[a-z0-9_]+\.[a-z0-9_]+=[^\s]*$/;

/** The machine the options describe, booted, with the setup scenario run on it. */
function bootMachine(o: MachineOptions): { runner: Runner; machine: Machine } {
  const lines: string[] = [];
  for (const p of o.param) {
    if (!PARAM_RE.test(p)) throw new UserError(`--param ${p}: expected module.name=value`);
    lines.push(`param ${p}`);
  }
  for (const b of o.bind) {
    if (!BDF_RE.test(b)) throw new UserError(`--bind ${b}: expected a PCI address such as 0000:00:02.0`);
    lines.push(`bind ${b} vfio-pci`);
  }
  const setupText = o.setup !== undefined ? readInput(o.setup) : '';
  const runner = new Runner({ kernel: o.kernel, platform: o.platform });
  // The setup file first (it may name the kernel and platform), then the options' own steps.
  const script = parseScript(`${setupText}\n${lines.join('\n')}\n`, o.setup ?? '<exec>');
  runner.run(script);
  // Booted by the setup's first step, or here when the options asked for nothing to be done.
  const machine = runner.machine(parseScript('show\n', '<exec>').commands[0]!);
  const failed = runner.events.find((e) => e.type === 'expect' && !e.ok);
  if (failed) throw new UserError(`--setup: an expectation failed (run the file with \`vfio-emu run\` to see it)`);
  return { runner, machine };
}

function logger(file: string | undefined): (line: string) => void {
  if (file === undefined) return () => {};
  writeFileSync(file, '');
  return (line) => appendFileSync(file, `${line}\n`);
}

/** `exec`: PROGRAM's exit status (128 + signal number when a signal ended it). */
export async function execCommand(argv: string[], o: MachineOptions): Promise<number> {
  if (argv.length === 0) throw new UserError('exec: give the program to run after --');
  const lib = preloadLibrary();
  if (!existsSync(lib)) throw new UserError(`exec: the preload library ${lib} was not built (no C compiler when \`npm run build\` ran)`);
  if (o.trace !== undefined) checkOutputPath('--trace', o.trace, o.setup ? [o.setup] : []);
  const { runner, machine } = bootMachine(o);
  const log = logger(o.log);
  const served: ServedEvent[] = [];
  const model = await serveModel({ kernel: machine.kernel, proc: machine.proc, log, onEvent: o.trace === undefined ? undefined : (e) => served.push(e) });
  log(`serving ${model.path}; running ${argv.join(' ')}`);
  const preload = [lib, process.env.LD_PRELOAD].filter((s) => s).join(':');
  const status = await runProgram(argv, { LD_PRELOAD: preload, VFIO_EMU_SOCKET: model.path }, (pid) => {
    model.session.programPid = pid;
  });
  // Connections the program's processes left open end with them; let their close events land.
  await new Promise((r) => setTimeout(r, 20));
  await model.close();
  log(`program exited with status ${status}`);
  if (o.trace !== undefined) {
    const body = served.map((e) => `${formatEvent(e as TraceEventData)}\n`).join('');
    writeFileSync(o.trace, recordTrace(runner) + body);
  }
  return status;
}

/** `serve`: prints the socket's path on stdout and serves until interrupted. */
export async function serveCommand(o: MachineOptions): Promise<void> {
  const { runner, machine } = bootMachine(o);
  const log = logger(o.log);
  const served: ServedEvent[] = [];
  const model = await serveModel({ kernel: machine.kernel, proc: machine.proc, log, onEvent: o.trace === undefined ? undefined : (e) => served.push(e) });
  process.stdout.write(`${model.path}\n`);
  await new Promise<void>((done) => {
    const stop = (): void => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await model.close();
  if (o.trace !== undefined) {
    const body = served.map((e) => `${formatEvent(e as TraceEventData)}\n`).join('');
    writeFileSync(o.trace, recordTrace(runner) + body);
  }
}

/**
 * `record`: PROGRAM on the real /dev/vfio, with the library only observing and writing the trace
 * itself (no model here, and no Node needed in the recorded environment). PROGRAM's status.
 */
export async function recordCommand(argv: string[], o: { trace: string; platform?: string }): Promise<number> {
  if (argv.length === 0) throw new UserError('record: give the program to run after --');
  const lib = preloadLibrary();
  if (!existsSync(lib)) throw new UserError(`record: the preload library ${lib} was not built (no C compiler when \`npm run build\` ran)`);
  checkOutputPath('--trace', o.trace, []);
  writeFileSync(o.trace, '');
  const preload = [lib, process.env.LD_PRELOAD].filter((s) => s).join(':');
  return runProgram(argv, { LD_PRELOAD: preload, VFIO_EMU_RECORD: resolve(o.trace), VFIO_EMU_PLATFORM: o.platform ?? '' });
}

/** Runs PROGRAM with stdio inherited and `env` added: its exit status (128 + N for signal N). */
function runProgram(argv: string[], env: Record<string, string>, started?: (pid: number) => void): Promise<number> {
  return new Promise<number>((done, fail) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
    if (child.pid !== undefined) started?.(child.pid);
    // An interrupt or a kill of vfio-emu goes to the program; its end ends the run as usual
    // (the trace is still written).
    const forward = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    for (const sig of FORWARDED) process.on(sig, forward);
    const settle = (): void => {
      for (const sig of FORWARDED) process.off(sig, forward);
    };
    child.on('error', (e) => {
      settle();
      fail(new UserError(`cannot run ${argv[0]}: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      settle();
      done(code ?? 128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const SIGNALS = new Map<string, number>([
  ['SIGHUP', 1],
  ['SIGINT', 2],
  ['SIGQUIT', 3],
  ['SIGILL', 4],
  ['SIGTRAP', 5],
  ['SIGABRT', 6],
  ['SIGBUS', 7],
  ['SIGFPE', 8],
  ['SIGKILL', 9],
  ['SIGSEGV', 11],
  ['SIGPIPE', 13],
  ['SIGALRM', 14],
  ['SIGTERM', 15],
]);
const signalNumber = (name: string): number => SIGNALS.get(name) ?? 0;
