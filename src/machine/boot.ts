// Booting a machine: the kernel era by name, a platform preset and its options, the platform
// built from them, the kernel booted on it, and the first process. The scenario runner,
// replay and the tests all boot through here; a problem is a BootError carrying the fact
// (boot-problem.ts), which each of them words as it needs.

import { resolveEra, type Era } from '../kernel/era.js';
import { Kernel } from '../kernel/kernel.js';
import { configProblem, KERNEL_CONFIGS, resolveConfig } from '../kernel/config.js';
import type { Process } from '../kernel/process.js';
import type { Platform } from '../hw/platform.js';
import { buildPlatform, findPreset, firstOptionProblem, PresetError, type PresetData } from '../hw/presets.js';
import { BootError, type BootProblem } from './boot-problem.js';

/** A booted machine and the process that runs on it. */
export interface Machine {
  era: Era;
  platform: Platform;
  kernel: Kernel;
  proc: Process;
}

/** Why `name` names no era, or nothing. */
export function eraProblem(name: string): BootProblem | undefined {
  return resolveEra(name) ? undefined : { kind: 'unknown-era', name };
}

/** Why the preset, with these options, cannot be asked for (checked without building it), or nothing. */
export function platformProblem(preset: string, options: Record<string, string>): BootProblem | undefined {
  const p = findPreset(preset);
  if (!p) return { kind: 'unknown-preset', name: preset };
  const problem = firstOptionProblem(p, options);
  return problem ? { kind: 'option', problem } : undefined;
}

/** A kernel as `--kernel` and a scenario's `kernel` line name it: `ERA` or `ERA config=NAME`. */
export interface KernelSpec {
  era: string;
  config?: string;
}

/** `ERA [config=NAME]` split; a word that is neither is the problem's text. */
export function parseKernelSpec(text: string): KernelSpec | { problem: string } {
  const [era = '', ...rest] = text.trim().split(/\s+/);
  let config: string | undefined;
  for (const w of rest) {
    const m = /^config=(.*)$/.exec(w);
    if (!m) return { problem: `unexpected "${w}": a kernel is ERA or "ERA config=NAME" (NAME one of ${[...KERNEL_CONFIGS.keys()].join(', ')})` };
    config = m[1];
  }
  return { era, config };
}

/** Why the era cannot be built with the configuration `config` (kernel/config.ts), or nothing. */
export function kernelConfigProblem(era: string, config: string): BootProblem | undefined {
  const e = resolveEra(era);
  const text = e && configProblem(config, e, era);
  return text ? { kind: 'config', message: text } : undefined;
}

/**
 * Boots `preset` (a shipped preset's name, or preset data) with `options` over its defaults on
 * the kernel era `era` (a version such as 6.1.0-56-amd64 or an era name), built with the
 * named configuration `config` (kernel/config.ts; default: the era's, Debian's legacy one).
 */
export function boot(era: string, preset: string | PresetData, options: Record<string, string> = {}, config?: string): Machine {
  const e = resolveEra(era);
  if (!e) throw new BootError({ kind: 'unknown-era', name: era });
  const configWrong = config === undefined ? undefined : kernelConfigProblem(era, config);
  if (configWrong) throw new BootError(configWrong);
  const data = typeof preset === 'string' ? findPreset(preset) : preset;
  if (!data) throw new BootError({ kind: 'unknown-preset', name: preset as string });
  let platform: Platform;
  try {
    platform = buildPlatform(data, options);
  } catch (err) {
    if (err instanceof PresetError) throw new BootError(err.option ? { kind: 'option', problem: err.option } : { kind: 'preset', message: err.message });
    throw err;
  }
  const kernel = new Kernel(e, platform, resolveConfig(config, e));
  return { era: e, platform, kernel, proc: kernel.newProcess() };
}
