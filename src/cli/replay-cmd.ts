// `vfio-emu replay TRACE…`: each differing event with the field, the recorded value and the
// model's, then `N events, M match, K differ, S skipped`. Exit 1 when anything differs.

import { writeOut } from './out.js';
import { readInput } from './input.js';
import { UserError } from '../lib/user-error.js';
import { readTrace } from '../trace/reader.js';
import { replayTrace, type ReplayReport } from '../trace/replay.js';
import { makeChalk } from './render.js';

export function replayFile(file: string): ReplayReport {
  const name = file === '-' ? '<stdin>' : file;
  if (file.endsWith('.vfio')) throw new UserError(`${file}: a scenario, not a vfio-trace/1 recording: run it with "vfio-emu run ${file}" (or record one with --trace)`);
  return replayTrace(readTrace(readInput(file), name), name);
}

export function replayCommand(files: string[], o: { json?: boolean; verbose?: boolean }): number {
  const c = makeChalk(!!o.json);
  const out: string[] = [];
  let total = { events: 0, match: 0, differ: 0, skipped: 0 };
  for (const f of files) {
    const rep = replayFile(f);
    total = {
      events: total.events + rep.events,
      match: total.match + rep.match,
      differ: total.differ + rep.differ,
      skipped: total.skipped + rep.skipped,
    };
    if (o.json) {
      for (const r of rep.results) if (r.status !== 'match' || o.verbose) out.push(JSON.stringify({ file: f, ...r }));
      out.push(JSON.stringify({ file: f, kernel: rep.era, platform: rep.preset, events: rep.events, match: rep.match, differ: rep.differ, skipped: rep.skipped }));
      continue;
    }
    out.push(c.bold(`${f}: kernel ${rep.era}, ${rep.preset}`));
    for (const r of rep.results) {
      if (r.status === 'differs') {
        out.push(c.red(`${f}:${r.line}: ${r.what}: differs`));
        for (const d of r.diffs) out.push(`    ${d.field}: recorded ${d.recorded}, model ${d.model}`);
      } else if (r.status === 'skipped') {
        if (o.verbose) out.push(c.yellow(`${f}:${r.line}: ${r.what}: skipped (${r.reason})`));
      } else if (o.verbose) out.push(`${f}:${r.line}: ${r.what}: match`);
    }
    out.push(`${rep.events} events, ${rep.match} match, ${rep.differ} differ, ${rep.skipped} skipped`);
  }
  if (files.length > 1 && !o.json) {
    out.push(`total: ${total.events} events, ${total.match} match, ${total.differ} differ, ${total.skipped} skipped`);
  }
  writeOut(out.join('\n') + '\n');
  return total.differ ? 1 : 0;
}
