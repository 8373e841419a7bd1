// Running a scenario text in-process for tests: its events, the events of one kind at one
// line, or the scenario error it stopped with (file:line:col: message).

import { parseScript } from '../../src/script/parser.js';
import { Runner } from '../../src/script/runner.js';
import type { RunEvent } from '../../src/script/events.js';
import { UserError } from '../../src/lib/user-error.js';

export type Ev<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

export function run_(text: string): RunEvent[] {
  const r = new Runner();
  r.run(parseScript(text, 't.vfio'));
  return r.events;
}

/** The events of `type` that scenario line `line` caused. */
export const at = <T extends RunEvent['type']>(evs: RunEvent[], type: T, line: number): Ev<T>[] =>
  evs.filter((e): e is Ev<T> => e.type === type && e.at.line === line);

/** The scenario error a run stopped with, as `check` prints it, or undefined when it ran to the end. */
export function scenarioError(text: string): string | undefined {
  try {
    run_(text);
    return undefined;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return e.format();
  }
}
