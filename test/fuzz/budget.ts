// How hard the fuzz suite tries. `npm test` runs a small, seeded budget (the same cases every
// run, so CI is repeatable); `npm run fuzz` sets VFIO_EMU_FUZZ=long for a long budget with a
// fresh seed, which fast-check prints with any counterexample so it can be replayed with
// VFIO_EMU_FUZZ_SEED.

import type { Parameters } from 'fast-check';

const LONG = process.env.VFIO_EMU_FUZZ === 'long';
const SEED = process.env.VFIO_EMU_FUZZ_SEED;

/** fast-check parameters for a property whose one run costs about `weight` model calls. */
export function budget(runs: number): Parameters<unknown> {
  return {
    numRuns: LONG ? runs * 50 : runs,
    ...(SEED !== undefined ? { seed: Number(SEED) } : LONG ? {} : { seed: 0x5eed }),
    endOnFailure: true,
  };
}

/** Vitest's per-test time limit for a property (the long budget runs for minutes). */
export const TIMEOUT = LONG ? 3_600_000 : 120_000;
