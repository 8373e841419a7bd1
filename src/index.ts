// The library API: `import { boot, runScenario } from 'vfio-emu'`. A test suite (a VMM's, a
// library's) drives the model without the command line, at either of two levels:
//
// - system calls in bytes: `boot(era, preset, options)` gives the kernel and a process;
//   `kernel.ioctl(proc, fd, nr, { value, buf })` runs a handler on a user buffer and writes
//   back exactly the bytes the kernel would, as the scenarios' `ioctl` does;
// - the scenario language: `runScenario(text)` runs the same verbs as `vfio-emu run` and
//   returns the events it prints (syscall lines, kernel log lines, expectation results).
//
// Everything here is a re-export of the model's own modules: the package's types are the
// model's types (dist/*.d.ts), so nothing is translated on the way out.

import { UserError } from './lib/user-error.js';
import type { Kernel } from './kernel/kernel.js';
import type { RunEvent } from './script/events.js';
import { parseScript } from './script/parser.js';
import { Runner, type RunOptions } from './script/runner.js';

// Booting a machine, and the objects a syscall-level test talks to.
export { boot, eraProblem, platformProblem, type Machine } from './machine/boot.js';
export { BootError, type BootProblem } from './machine/boot-problem.js';
export type { Kernel, SysResult } from './kernel/kernel.js';
export type { Process } from './kernel/process.js';
export type { UserArg } from './kernel/file.js';
export { ERAS, DEFAULT_ERA, resolveEra, type Era } from './kernel/era.js';
export { presets, findPreset, type PresetData } from './hw/presets.js';

// The uapi as data: request numbers, struct layouts, errno names.
export { REQUESTS, EXTENSIONS, requestNr, requestNames, resolveRequest, type RequestDef } from './uapi/requests.js';
export { ERRNO, errnoByName, errnoName, errnoText, type ErrnoName } from './uapi/errno.js';
export { readField, writeField, type FieldDef, type StructDef } from './uapi/struct.js';

// The scenario language and traces.
export { parseScript } from './script/parser.js';
export { Runner, type RunOptions } from './script/runner.js';
export type { RunEvent, Where } from './script/events.js';
export type { Script, Command } from './script/ast.js';
export { UserError } from './lib/user-error.js';
export { readTrace, type Trace, type TraceEvent, type TraceHeader } from './trace/reader.js';

/** What `runScenario` returns: every event of the run, the booted kernel, and the mistake that stopped it. */
export interface ScenarioRun {
  events: RunEvent[];
  /** The kernel the scenario booted (absent when it stopped before its first action). */
  kernel?: Kernel;
  /** A scenario error (`file:line:col: message` from `error.format()`); the events before it are kept. */
  error?: UserError;
  /** True when no expectation failed and no scenario error stopped the run. */
  ok: boolean;
}

/**
 * Runs a scenario's text as `vfio-emu run` does. `options.kernel` and `options.platform`
 * override the scenario's own, as the command line's --kernel and --platform; `options.file`
 * names the text in positions (default `<scenario>`).
 */
export function runScenario(text: string, options: RunOptions & { file?: string } = {}): ScenarioRun {
  const { file = '<scenario>', ...opts } = options;
  const runner = new Runner(opts);
  let error: UserError | undefined;
  try {
    runner.run(parseScript(text, file));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    error = e;
  }
  const failed = runner.events.some((e) => e.type === 'expect' && !e.ok);
  const run: ScenarioRun = { events: runner.events, ok: !failed && !error };
  if (runner.kernel) run.kernel = runner.kernel;
  if (error) run.error = error;
  return run;
}
