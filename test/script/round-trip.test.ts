// Every shipped scenario, recorded as vfio-trace/1, replays against the model with no
// difference (the recording and the replay must agree on every byte, errno and log line).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordTrace } from '../../src/cli/record.js';
import { parseScript } from '../../src/script/parser.js';
import { Runner } from '../../src/script/runner.js';
import { readTrace } from '../../src/trace/reader.js';
import { replayTrace } from '../../src/trace/replay.js';

// The one documented reason a replayed event may be skipped (test/replay/real-kernel.test.ts).
const ALLOWED_SKIP = /^printed once per boot on a first enable/;

function scenarios(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? scenarios(p) : e.endsWith('.vfio') ? [p] : [];
  });
}

describe('record → replay', () => {
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
      for (const s of rep.results.filter((x) => x.status === 'skipped')) expect(s.reason, s.what).toMatch(ALLOWED_SKIP);
      // ...and every recorded event was compared (kmsg lines the model added are extra results).
      const recorded = text.trim().split('\n').length - 1;
      expect(rep.results.filter((x) => !x.what.endsWith('(model only)')).length).toBe(recorded);
    });
  }
});
