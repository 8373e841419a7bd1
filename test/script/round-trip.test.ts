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
    });
  }
});
