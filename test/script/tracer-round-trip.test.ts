// The tracer records what the model did: every shipped scenario, recorded as vfio-trace/1,
// replays with no difference on the same model that recorded it. Since recorder and replayer
// share one model, this catches tracer bugs (a field lost, a byte or log line misrecorded,
// an event the replay cannot re-execute), never a model bug: a wrong errno is recorded and
// replayed alike. The model's faithfulness is test/replay/real-kernel.test.ts's job.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordTrace } from '../../src/cli/record.js';
import { parseScript } from '../../src/script/parser.js';
import { Runner } from '../../src/script/runner.js';
import { readTrace } from '../../src/trace/reader.js';
import { ONCE_PER_BOOT_REASON, replayTrace } from '../../src/trace/replay.js';

function scenarios(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? scenarios(p) : e.endsWith('.vfio') ? [p] : [];
  });
}

describe('the tracer records what the model did (record → replay on the recording model)', () => {
  for (const f of scenarios('scenarios')) {
    it(f, () => {
      const r = new Runner();
      r.run(parseScript(readFileSync(f, 'utf8'), f));
      expect(r.events.filter((e) => e.type === 'expect' && !e.ok)).toEqual([]);
      const text = recordTrace(r);
      const rep = replayTrace(readTrace(text, `${f}.jsonl`), `${f}.jsonl`);
      expect(rep.results.filter((x) => x.status === 'differs')).toEqual([]);
      expect(rep.events).toBeGreaterThan(0);
      // Rule: skipped events may only be the once-per-boot kernel log lines...
      for (const s of rep.results.filter((x) => x.status === 'skipped')) expect(s.reason, s.what).toBe(ONCE_PER_BOOT_REASON);
      // ...and every recorded event was compared (kmsg lines the model added are extra results).
      const recorded = text.trim().split('\n').length - 1;
      expect(rep.results.filter((x) => !x.what.endsWith('(model only)')).length).toBe(recorded);
    });
  }
});
