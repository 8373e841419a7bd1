// What a verb of the scenario language is: a handler of one of four kinds. The runner does
// the rest in one place per kind (runner.ts): it boots the machine, collects the kernel log
// lines, shows a system call (syscall.ts), binds `as NAME`, and records the last action.

import type { SysResult } from '../../kernel/kernel.js';
import type { Command } from '../ast.js';
import type { HwOutcome, ScenarioContext } from '../context.js';
import type { RunEvent } from '../events.js';
import type { Binding } from '../names.js';
import type { Call } from '../syscall.js';

/** A system call a verb made: what it asked, what came back, what `as NAME` binds on success. */
export interface Syscall {
  call: Call;
  result: SysResult;
  binds?: (ret: bigint) => Binding;
}

export type VerbHandler =
  /** Chooses the machine before it boots (kernel, platform). */
  | { kind: 'setup'; run(cmd: Command, ctx: ScenarioContext): void }
  /** A system call of the scenario's process, or of the administrator (param, bind). */
  | { kind: 'syscall'; run(cmd: Command, ctx: ScenarioContext): Syscall }
  /** A transaction a device issues (dma, msi). */
  | { kind: 'hardware'; run(cmd: Command, ctx: ScenarioContext): HwOutcome }
  /** Looks without acting: one event (expect, show). */
  | { kind: 'inspect'; run(cmd: Command, ctx: ScenarioContext): RunEvent };
