// One boot for every front end: the era by name, the preset and its options, the kernel and
// its first process; a problem is a BootError carrying the fact, which replay words as a
// trace header's mistake at line 1.

import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/lib/user-error.js';
import { findPreset, presets } from '../../src/hw/presets.js';
import { boot } from '../../src/machine/boot.js';
import { BootError, type BootProblem } from '../../src/machine/boot-problem.js';
import { replayTrace } from '../../src/trace/replay.js';
import type { Trace } from '../../src/trace/format.js';

/** The problem boot() reports, or a string saying it booted. */
function boot_(era: string, preset: Parameters<typeof boot>[1], options: Record<string, string> = {}): BootProblem | string {
  try {
    const m = boot(era, preset, options);
    return `booted ${m.era.name} ${m.platform.preset}`;
  } catch (e) {
    if (e instanceof BootError) return e.problem;
    throw e;
  }
}

/** A trace of no events with this header's kernel and platform, replayed: the error's text. */
function replay_err(kernel: string, preset: string, options: Record<string, string> = {}): string {
  const trace: Trace = { header: { trace: 'vfio-trace/1', kernel, arch: 'x86_64', platform: { preset, options } }, events: [] };
  try {
    replayTrace(trace, 't.jsonl');
  } catch (e) {
    if (e instanceof UserError) return e.format();
    throw e;
  }
  return 'replayed';
}

describe('boot', () => {
  // A release resolves to the newest era not after it; the options default; one process runs.
  it('boots the machine and its first process', () => {
    const m = boot('6.1.0-56-amd64', 'qemu-q35-vtd');
    expect(m.era.name).toBe('6.1');
    expect(m.platform.options).toEqual({ intremap: 'on' });
    expect(m.kernel.open(m.proc, '/dev/vfio/vfio')).toEqual({ ret: 3, errno: 0 });
  });

  // Given options replace the defaults.
  it('options', () => {
    expect(boot('6.12', 'qemu-virt-smmuv3', { gic: 'v2' }).platform.options).toEqual({ gic: 'v2' });
  });

  // Preset data, not only a shipped preset's name.
  it('preset data', () => {
    expect(boot_('rfc-v10', { ...findPreset('amd-overdrive')!, name: 'my-board' })).toBe('booted rfc-v10 my-board');
  });
});

describe('boot problems are facts', () => {
  // No era before 4.10.
  it('unknown era', () => {
    expect(boot_('4.9', 'qemu-q35-vtd')).toEqual({ kind: 'unknown-era', name: '4.9' });
  });

  it('unknown preset', () => {
    expect(boot_('6.12', 'nope')).toEqual({ kind: 'unknown-preset', name: 'nope' });
  });

  // An option the preset lacks (own properties only), a value it does not allow.
  it('options', () => {
    expect(boot_('6.12', 'qemu-q35-vtd', { constructor: 'on' })).toEqual({
      kind: 'option',
      problem: { kind: 'no-such-option', preset: 'qemu-q35-vtd', option: 'constructor', known: ['intremap'] },
    });
    expect(boot_('6.12', 'qemu-q35-vtd', { intremap: 'maybe' })).toEqual({
      kind: 'option',
      problem: { kind: 'bad-value', preset: 'qemu-q35-vtd', option: 'intremap', value: 'maybe', values: ['on', 'off'] },
    });
  });

  // Preset data that does not build: the model table has no such model.
  it('preset data', () => {
    const p = findPreset('qemu-q35-vtd')!;
    const bad = { ...p, name: 'bad', msiControllers: [{ name: 'apic', model: 'toString' }] };
    expect(boot_('6.12', bad)).toEqual({ kind: 'preset', message: 'preset bad: unknown model "toString" for apic' });
  });

  // A model refusing its parameters (hw/model-error.ts): the model's words.
  it('a model refusing its parameters', () => {
    const p = findPreset('fsl-pamu')!;
    const bad = { ...p, iommus: p.iommus.map((c) => ({ ...c, params: { ...c.params, apertureSize: '0xc0000000' } })) };
    expect(boot_('6.12', bad)).toEqual({
      kind: 'preset',
      message: 'pamu0: PAMU aperture size 0xc0000000 is not a power of two of at least 4 KiB (check_size)',
    });
  });
});

describe("replay words a header's boot problem at line 1", () => {
  it('kernel', () => {
    expect(replay_err('4.9', 'qemu-q35-vtd')).toBe('t.jsonl:1: kernel "4.9" is older than every modelled era');
  });

  it('preset', () => {
    expect(replay_err('6.12', 'nope')).toBe(`t.jsonl:1: unknown preset "nope" (presets: ${presets().map((p) => p.name).join(', ')})`);
  });

  it('options', () => {
    expect(replay_err('6.12', 'qemu-q35-vtd', { intremap: 'maybe' })).toBe('t.jsonl:1: option intremap="maybe" of qemu-q35-vtd: expected one of on, off');
    expect(replay_err('6.12', 'powernv', { windows: '16' })).toBe('t.jsonl:1: platform powernv has no option "windows" (it takes no options)');
  });
});
