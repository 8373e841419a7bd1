// `show WHAT`: the model's state at that point (show.ts), read-only.

import { whereOf } from '../where.js';
import { showState } from '../show.js';
import { onePositional } from './args.js';
import type { VerbHandler } from './verb.js';

export const show: VerbHandler = {
  kind: 'inspect',
  run(cmd, ctx) {
    const { kernel, proc } = ctx.machine(cmd);
    const w = onePositional(cmd, 'what to show');
    return { type: 'show', at: whereOf(cmd), what: w.text, lines: showState(w, kernel, ctx, proc) };
  },
};
