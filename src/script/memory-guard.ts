// The memory a run may use (lib/limits.ts). Resident size is read every CHECK_EVERY commands
// (a cheap call, but not free), so the check costs nothing measurable on the hot path; a run
// past the limit stops at the command that crossed it, with a UserError.

import { LIMITS, sizeText } from '../lib/limits.js';
import type { Pos } from './ast.js';
import { failAt } from './where.js';

const CHECK_EVERY = 4096;

export class MemoryGuard {
  private count = 0;

  constructor(private readonly limit = LIMITS.runMemoryBytes) {}

  /** Counts a command; every CHECK_EVERY, fails at `p` if the process is over the limit. */
  tick(p: Pos): void {
    if (++this.count % CHECK_EVERY !== 0) return;
    const rss = process.memoryUsage.rss();
    if (rss > this.limit) {
      failAt(p, `the run uses ${Math.round(rss / 2 ** 20)} MiB, more than the ${sizeText(this.limit)} a run may use (VFIO_EMU_MAX_MEMORY_MIB raises it)`);
    }
  }
}
