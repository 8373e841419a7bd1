// The entry point bin/vfio-emu.cjs bundles apart for the command users run most: `run FILE…`
// with no option. It runs exactly what main.ts's `run` action runs (run.ts), without building
// the command line: commander and the other commands are not in this bundle, so a cold start
// does not read, deserialize or evaluate them. bin/vfio-emu.cjs (plainRun) sends here only an
// argv commander would read as `run` and files alone; anything else goes to main.ts.

import type { RunSink } from '../script/runner.js';
import { makeChalk, renderText } from './render.js';
import { endWith, runCommand, runScenario } from './run.js';

/**
 * argv: node, the script, "run", then the files. A run writes its output with writeSync and
 * leaves nothing pending (no timer, stream or child), so once it has ended the process exits
 * with the status it set, without first tearing the heap down, which takes a start-up's
 * worth of pages and milliseconds on the way out ('exit' listeners still run).
 */
export async function main(argv: string[]): Promise<void> {
  try {
    await runCommand(argv.slice(3), {});
  } catch (e) {
    endWith(e);
  }
  process.exit();
}

/**
 * Warms the code cache at build time (scripts/bundle.mjs): runs a scenario as runCommand does,
 * streaming its events to a sink that renders them as text (and drops the text), so that the
 * functions of that path are in the cache, not compiled on every run.
 */
export async function warm(text: string): Promise<void> {
  const c = makeChalk(false);
  const sink: RunSink = { event: (ev) => void renderText(ev, c), failed: () => undefined };
  runScenario('warm.vfio', text, {}, sink);
}
