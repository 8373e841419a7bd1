// Which machine a scenario boots and where a mistake in choosing it is reported: the `kernel`
// and `platform` lines (at the word at fault), --kernel and --platform (the option, no place),
// or the first command that boots when neither said. Also the verb table's own lookups.

import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/lib/user-error.js';
import { ERAS } from '../../src/kernel/era.js';
import { presets } from '../../src/hw/presets.js';
import { parseScript } from '../../src/script/parser.js';
import { Runner, type RunOptions } from '../../src/script/runner.js';
import type { RunEvent } from '../../src/script/events.js';

const F = 's.vfio';
const ERA_NAMES = [...ERAS.keys()].join(', ');
const PRESET_NAMES = presets().map((p) => p.name).join(', ');

/** Runs `lines`; the events and the error that stopped the run, if any. */
function run_(lines: string[], opts: RunOptions = {}): { events: RunEvent[]; error?: UserError } {
  const runner = new Runner(opts);
  try {
    runner.run(parseScript(lines.join('\n') + '\n', F));
    return { events: runner.events };
  } catch (e) {
    if (e instanceof UserError) return { events: runner.events, error: e };
    throw e;
  }
}

/** Runs `lines` to the end; the text of its setup event (the machine it booted). */
function run(lines: string[], opts: RunOptions = {}): string {
  const r = run_(lines, opts);
  expect(r.error?.format()).toBe(undefined);
  const setup = r.events.find((e) => e.type === 'setup');
  return setup?.type === 'setup' ? setup.text : 'no setup event';
}

/** Runs `lines`, which must stop at a user mistake; the error as the CLI prints it. */
function run_err(lines: string[], opts: RunOptions = {}): string {
  const r = run_(lines, opts);
  expect(r.error).toBeInstanceOf(UserError);
  return r.error!.format();
}

const OPEN = 'open /dev/vfio/vfio as c';

describe('the kernel line', () => {
  // An era that does not exist is the word's mistake.
  it('unknown era', () => {
    expect(run_err(['kernel banana', 'platform qemu-q35-vtd', OPEN])).toBe(
      `${F}:1:8: unknown kernel "banana": expected a version (4.10 … 7.2, any later x.y) or one of ${ERA_NAMES}`,
    );
  });

  // --kernel replaces the line, so the line's era is not checked.
  it('--kernel overrides a wrong line', () => {
    expect(run(['kernel banana', 'platform qemu-q35-vtd', OPEN], { kernel: '6.1' })).toBe('kernel 6.1, platform qemu-q35-vtd intremap=on');
  });

  // Once, before platform, before the machine boots.
  it('order', () => {
    expect(run_err(['kernel 6.1', 'kernel 6.12'])).toBe(`${F}:2:1: kernel given twice (first at line 1)`);
    expect(run_err(['platform qemu-q35-vtd', 'kernel 6.1'])).toBe(`${F}:2:1: "kernel" must come before "platform"`);
    expect(run_err(['kernel'])).toBe(`${F}:1:1: "kernel" needs a kernel era such as 7.2 or rfc-v10`);
  });
});

describe('the platform line', () => {
  // An unknown preset is the preset word's mistake.
  it('unknown preset', () => {
    expect(run_err(['platform nope', OPEN])).toBe(`${F}:1:10: unknown platform "nope": expected one of ${PRESET_NAMES}`);
  });

  // An option the preset does not have is the key's mistake; a value it does not allow, the value's.
  it('options', () => {
    expect(run_err(['platform qemu-q35-vtd gic=v2'])).toBe(`${F}:1:23: platform qemu-q35-vtd has no option "gic" (options: intremap)`);
    expect(run_err(['platform qemu-q35-vtd intremap=maybe'])).toBe(`${F}:1:32: option intremap="maybe": expected one of on, off`);
    expect(run_err(['platform powernv windows=16'])).toBe(`${F}:1:18: platform powernv has no option "windows" (it takes no options)`);
  });

  // Option names are the user's words: a name Object.prototype has is no option either.
  it('an option named like an object property', () => {
    expect(run_err(['platform qemu-q35-vtd constructor=on'])).toBe(`${F}:1:23: platform qemu-q35-vtd has no option "constructor" (options: intremap)`);
    expect(run_err([], { platform: 'qemu-q35-vtd,toString=on' })).toBe('--platform: platform qemu-q35-vtd has no option "toString" (options: intremap)');
  });

  // The line's options are the machine's.
  it('options boot', () => {
    expect(run(['platform qemu-q35-vtd intremap=off', OPEN])).toBe('kernel 7.2, platform qemu-q35-vtd intremap=off');
  });

  // Once, before the machine boots.
  it('order', () => {
    expect(run_err(['platform qemu-q35-vtd', 'platform powernv'])).toBe(`${F}:2:1: platform given twice (first at line 1)`);
    expect(run_err([OPEN, 'platform powernv'], { platform: 'qemu-q35-vtd' })).toBe(
      `${F}:2:1: "platform" must come before the first action (the machine has booted)`,
    );
    expect(run_err([OPEN, 'kernel 6.1'], { platform: 'qemu-q35-vtd' })).toBe(`${F}:2:1: "kernel" must come before the first action (the machine has booted)`);
    expect(run_err(['platform qemu-q35-vtd', OPEN, 'kernel 6.1'])).toBe(`${F}:3:1: "kernel" must come before "platform"`);
  });

  // No platform at all: the first command that needs the machine says so.
  it('no platform', () => {
    expect(run_err(['kernel 6.1', OPEN])).toBe(
      `${F}:2:1: no platform: start the scenario with "platform PRESET" (one of ${PRESET_NAMES}) or pass --platform`,
    );
  });
});

describe('--platform over the platform line', () => {
  // Another preset replaces the line and its options, which are then not checked.
  it('another preset', () => {
    expect(run(['platform qemu-q35-vtd gic=v9', OPEN], { platform: 'qemu-virt-smmuv3,gic=v2' })).toBe('kernel 7.2, platform qemu-virt-smmuv3 gic=v2');
  });

  // The same preset keeps the line's options; the option's own win.
  it('the same preset', () => {
    expect(run(['platform qemu-q35-vtd intremap=off', OPEN], { platform: 'qemu-q35-vtd' })).toBe('kernel 7.2, platform qemu-q35-vtd intremap=off');
    expect(run(['platform qemu-q35-vtd intremap=off', OPEN], { platform: 'qemu-q35-vtd,intremap=on' })).toBe('kernel 7.2, platform qemu-q35-vtd intremap=on');
  });

  // A mistake in the option is the command line's, before the scenario runs.
  it('option mistakes have no place', () => {
    expect(run_err(['platform qemu-q35-vtd', OPEN], { platform: 'qemu-q35-vtd,intremap=maybe' })).toBe(
      '--platform: option intremap="maybe" of qemu-q35-vtd: expected one of on, off',
    );
    expect(run_err([OPEN], { platform: 'nope' })).toBe(`--platform: unknown platform "nope": expected one of ${PRESET_NAMES}`);
    expect(run_err([OPEN], { kernel: '4.9' })).toBe(`--kernel: unknown kernel "4.9": expected a version (4.10 … 7.2, any later x.y) or one of ${ERA_NAMES}`);
  });
});

describe('verbs', () => {
  // The verb table lists every verb, in its order, for an unknown one.
  it('unknown command', () => {
    expect(run_err(['frob'])).toBe(
      `${F}:1:1: unknown command "frob": expected one of kernel, platform, param, bind, unbind, driver_override, open, close, mmap, munmap, mprotect, eventfd, memfd, ioctl, pread, pwrite, load, store, read, write, readlink, expect, show, dma, msi`,
    );
  });

  // prot= is looked up in a table of its own: a name Object.prototype has is no protection.
  it('prot names', () => {
    expect(run_err(['platform qemu-q35-vtd', 'mmap 4K prot=constructor'])).toBe(`${F}:2:14: prot="constructor": expected one of r, w, rw, none`);
    expect(run_err(['platform qemu-q35-vtd', 'mmap 4K as b', 'mprotect b 4K prot=valueOf'])).toBe(
      `${F}:3:20: prot="valueOf": expected one of r, w, rw, none`,
    );
  });
});
