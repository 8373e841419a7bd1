// Why a machine could not boot, as facts, and the words the scenario language uses for them.
// Each front end says where the problem lies (a command-line option, a scenario line, a trace
// header); replay words two of them its own way (trace/replay.ts).

import { UserError } from '../lib/user-error.js';
import { DEFAULT_ERA, ERAS } from '../kernel/era.js';
import { presets, type OptionProblem } from '../hw/presets.js';

export type BootProblem =
  /** No modelled era answers to the name. */
  | { kind: 'unknown-era'; name: string }
  /** No shipped preset has the name. */
  | { kind: 'unknown-preset'; name: string }
  /** The preset does not take an option, or not that value. */
  | { kind: 'option'; problem: OptionProblem }
  /** The preset's data does not build (a model it does not know, parameters a model rejects). */
  | { kind: 'preset'; message: string }
  /** The kernel cannot be built with the configuration asked for (kernel/config.ts). */
  | { kind: 'config'; message: string };

/** The names of the shipped presets, in the order `vfio-emu platforms` lists them. */
export const presetNames = (): string[] => presets().map((p) => p.name);

export const unknownEraText = (name: string): string =>
  `unknown kernel "${name}": expected a version (4.10 … ${DEFAULT_ERA}, any later x.y) or one of ${[...ERAS.keys()].join(', ')}`;

export const unknownPresetText = (name: string): string => `unknown platform "${name}": expected one of ${presetNames().join(', ')}`;

/**
 * An option problem in words. A `platform` line names its preset a few words earlier, so a
 * bad value there leaves the preset out (`ofPreset` false).
 */
export function optionProblemText(p: OptionProblem, ofPreset = true): string {
  if (p.kind === 'no-such-option') {
    return `platform ${p.preset} has no option "${p.option}"` + (p.known.length ? ` (options: ${p.known.join(', ')})` : ' (it takes no options)');
  }
  return `option ${p.option}="${p.value}"${ofPreset ? ` of ${p.preset}` : ''}: expected one of ${p.values.join(', ')}`;
}

export function bootProblemText(p: BootProblem): string {
  switch (p.kind) {
    case 'unknown-era':
      return unknownEraText(p.name);
    case 'unknown-preset':
      return unknownPresetText(p.name);
    case 'option':
      return optionProblemText(p.problem);
    case 'preset':
    case 'config':
      return p.message;
  }
}

/** A boot that failed: the fact in `problem`, worded as the scenario language words it. */
export class BootError extends UserError {
  constructor(readonly problem: BootProblem) {
    super(bootProblemText(problem));
    this.name = 'BootError';
  }
}
