// Which machine a scenario boots: the command line's --kernel and --platform over the file's
// `kernel` and `platform` lines, over the defaults. The machine boots on the first command
// that needs it (machine/boot.ts); a problem is reported where the choice was made: the
// option (`--platform: …`), the file's line, or, when neither made it, the command that booted.

import { UserError } from '../lib/user-error.js';
import { DEFAULT_ERA } from '../kernel/era.js';
import { boot, eraProblem, kernelConfigProblem, parseKernelSpec, platformProblem, type KernelSpec, type Machine } from '../machine/boot.js';
import { BootError, bootProblemText, presetNames, type BootProblem } from '../machine/boot-problem.js';
import type { Command, Pos } from './ast.js';
import { failAt } from './where.js';

export interface RunOptions {
  /**
   * --kernel, overriding the file's `kernel`: `ERA` or `ERA config=NAME` (a configuration
   * given here replaces the file's; without one, the file's stays).
   */
  kernel?: string;
  /** --platform, overriding the file's `platform`: `NAME` or `NAME,opt=value,…`. */
  platform?: string;
}

type OptionName = '--kernel' | '--platform';

/** A mistake in --kernel or --platform: the command line's, so it has no place in the file. */
export class OptionError extends UserError {
  constructor(option: OptionName, message: string) {
    super(`${option}: ${message}`);
  }
}

/** `--platform NAME,opt=value,…` as a preset name and its options. */
function splitPlatformOption(text: string): { name: string; opts: Record<string, string> } {
  const [name, ...kv] = text.split(',');
  // fromEntries makes every option an own property, whatever its name.
  const opts = Object.fromEntries(
    kv.map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
    }),
  );
  return { name: name!, opts };
}

export class ScenarioSetup {
  /** The file's `kernel` line, and its config= value. */
  private kernelLine?: { name: string; at: Pos; config?: { name: string; at: Pos } };
  /** The file's `platform` line. */
  private platformLine?: { name: string; opts: Record<string, string>; at: Pos };
  private machine?: Machine;

  constructor(readonly opts: RunOptions = {}) {}

  /** The machine, once booted. */
  get booted(): Machine | undefined {
    return this.machine;
  }

  /** --kernel split into its era and configuration (checkOptions has checked it). */
  private get kernelOption(): KernelSpec | undefined {
    if (this.opts.kernel === undefined) return undefined;
    const spec = parseKernelSpec(this.opts.kernel);
    return 'problem' in spec ? undefined : spec;
  }

  /** The kernel the options or the file asked for, as written (undefined: the default). */
  get kernelAsked(): string | undefined {
    return this.kernelOption?.era ?? this.kernelLine?.name;
  }

  /** Where the file's `kernel` line is, if it has one. */
  get kernelAt(): Pos | undefined {
    return this.kernelLine?.at;
  }

  /** Where the file's `platform` line is, if it has one. */
  get platformAt(): Pos | undefined {
    return this.platformLine?.at;
  }

  /**
   * The command line's --kernel and --platform, checked before the scenario runs: a mistake
   * there is the command line's (`--platform: …`), never the file's.
   */
  checkOptions(): void {
    const { kernel, platform } = this.opts;
    if (kernel !== undefined) {
      const spec = parseKernelSpec(kernel);
      if ('problem' in spec) throw new OptionError('--kernel', spec.problem);
      const kernelWrong = eraProblem(spec.era) ?? (spec.config === undefined ? undefined : kernelConfigProblem(spec.era, spec.config));
      if (kernelWrong) throw new OptionError('--kernel', bootProblemText(kernelWrong));
    }
    if (platform !== undefined) {
      const { name, opts } = splitPlatformOption(platform);
      const wrong = platformProblem(name, opts);
      if (wrong) throw new OptionError('--platform', bootProblemText(wrong));
    }
  }

  /** The file's `kernel NAME [config=NAME]` (already checked unless --kernel overrides it). */
  fileKernel(name: string, at: Pos, config?: { name: string; at: Pos }): void {
    this.kernelLine = { name, at, config };
  }

  /** The file's `platform NAME opt=value…` (already checked unless --platform replaces it). */
  filePlatform(name: string, opts: Record<string, string>, at: Pos): void {
    this.platformLine = { name, opts, at };
  }

  /** --platform names a preset other than `name`, which so does not boot. */
  replacedByOption(name: string): boolean {
    return this.opts.platform !== undefined && splitPlatformOption(this.opts.platform).name !== name;
  }

  /** Boots the machine the options and the file choose; `cmd` is the command that needs it. */
  boot(cmd: Command): Machine {
    const era = this.kernelOption?.era ?? this.kernelLine?.name ?? DEFAULT_ERA;
    const config = this.kernelOption?.config ?? this.kernelLine?.config?.name;
    const eraWrong = eraProblem(era);
    if (eraWrong) this.fail(eraWrong);
    let preset = this.platformLine?.name;
    let options = this.platformLine?.opts ?? {};
    if (this.opts.platform !== undefined) {
      const given = splitPlatformOption(this.opts.platform);
      // Another preset than the file's takes none of the file's options.
      if (given.name !== preset) options = {};
      preset = given.name;
      options = { ...options, ...given.opts };
    }
    if (preset === undefined) {
      return failAt(cmd.verbPos, `no platform: start the scenario with "platform PRESET" (one of ${presetNames().join(', ')}) or pass --platform`);
    }
    try {
      this.machine = boot(era, preset, options, config);
    } catch (e) {
      if (e instanceof BootError) this.fail(e.problem);
      throw e;
    }
    return this.machine;
  }

  /** A boot problem, said where the choice it concerns was made. */
  private fail(problem: BootProblem): never {
    const text = bootProblemText(problem);
    const [option, given, line] =
      problem.kind === 'unknown-era'
        ? (['--kernel', this.opts.kernel, this.kernelLine?.at] as const)
        : problem.kind === 'config'
          ? (['--kernel', this.opts.kernel, this.kernelLine?.config?.at] as const)
          : (['--platform', this.opts.platform, this.platformLine?.at] as const);
    if (given !== undefined) throw new OptionError(option, text);
    if (line) failAt(line, text);
    throw new UserError(text);
  }
}
