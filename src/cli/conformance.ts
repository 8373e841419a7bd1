// `npm run conformance`: replays every trace under a directory of <config>/<trace>.jsonl and
// prints a table per configuration (traces, events, match %).

import { writeOut } from './out.js';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../lib/user-error.js';
import { replayFile } from './replay-cmd.js';

export function conformanceCommand(dir: string): number {
  let configs: string[];
  try {
    configs = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
  } catch {
    throw new UserError(`${dir}: not a directory of <config>/<trace>.jsonl`);
  }
  const rows: string[][] = [['configuration', 'traces', 'events', 'match', 'differ', 'skipped', 'match %']];
  let differ = 0;
  for (const cfg of configs) {
    const files = readdirSync(join(dir, cfg)).filter((f) => f.endsWith('.jsonl')).sort();
    let events = 0, match = 0, diff = 0, skipped = 0;
    for (const f of files) {
      const r = replayFile(join(dir, cfg, f));
      events += r.events;
      match += r.match;
      diff += r.differ;
      skipped += r.skipped;
    }
    differ += diff;
    const pct = events ? ((100 * match) / (events - skipped || 1)).toFixed(2) : '-';
    rows.push([cfg, String(files.length), String(events), String(match), String(diff), String(skipped), pct]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const lines = [fmt(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(fmt)];
  writeOut(lines.join('\n') + '\n');
  return differ ? 1 : 0;
}
