// Seeded random scenarios over every preset and era: whatever a user throws at the model, it
// answers with a result or a UserError (never another exception), and the run, recorded as
// vfio-trace/1, replays against the model with no difference. The generator is in
// random-scenario-gen.ts.

import { describe, expect, it } from 'vitest';
import { recordTrace } from '../../src/cli/record.js';
import { UserError } from '../../src/lib/user-error.js';
import { parseScript } from '../../src/script/parser.js';
import { Runner } from '../../src/script/runner.js';
import { readTrace } from '../../src/trace/reader.js';
import { ONCE_PER_BOOT_REASON, replayTrace } from '../../src/trace/replay.js';
import { PLANTED, prng, scenario } from './random-scenario-gen.js';

const COUNT = 60;
const completed: number[] = [];

describe('random scenarios', () => {
  const r = prng(0x5eed_1234_abcd_0001n);
  for (let n = 0; n < COUNT; n++) {
    const text = scenario(r);
    const file = `random-${n}.vfio`;
    it(`#${n}`, () => {
      const runner = new Runner();
      let stop: unknown;
      try {
        runner.run(parseScript(text, file));
        completed.push(n);
      } catch (e) {
        stop = e;
      }
      if (stop !== undefined) {
        // Rule: the only exception that may escape is a UserError...
        expect(stop).toBeInstanceOf(UserError);
        const where = (stop as UserError).where;
        // ...located at file:line:col...
        expect(where).toMatchObject({ file, line: expect.any(Number), col: expect.any(Number) });
        expect((stop as UserError).format().startsWith(`${file}:${where!.line}:${where!.col}: `)).toBe(true);
        // ...on a line the generator planted as a user mistake (a well-formed line never stops).
        expect(text.split('\n')[where!.line - 1]).toMatch(new RegExp(`${PLANTED}$`));
      }
      // Rule: the device fd was opened, so device actions ran.
      expect(runner.names.has('d')).toBe(true);
      // Rule: the record → replay round trip has no difference.
      const rep = replayTrace(readTrace(recordTrace(runner), `random-${n}.jsonl`), `random-${n}.jsonl`);
      expect(rep.results.filter((x) => x.status === 'differs')).toEqual([]);
      expect(rep.events).toBeGreaterThan(0);
      // Rule: skips only for the once-per-boot log lines (as in test/replay/real-kernel.test.ts).
      for (const s of rep.results.filter((x) => x.status === 'skipped')) expect(s.reason).toBe(ONCE_PER_BOOT_REASON);
    });
  }

  // Rule: at least 90% of the scenarios run to their last line.
  it('most scenarios run to the end', () => {
    expect(completed.length).toBeGreaterThanOrEqual(Math.ceil(COUNT * 0.9));
  });
});
