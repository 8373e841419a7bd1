// Choosing how the kernel was built (kernel/config.ts): `kernel ERA config=NAME` in a scenario,
// `--kernel "ERA config=NAME"` on the command line, and where a mistake in either is reported
// (the config= value's line:col, or the option).

import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/lib/user-error.js';
import { parseScript } from '../../../src/script/parser.js';
import { Runner, type RunOptions } from '../../../src/script/runner.js';
import { ERAS } from '../../../src/kernel/era.js';
import { configProblem, resolveConfig } from '../../../src/kernel/config.js';

const F = 's.vfio';
const OPEN = 'open /dev/vfio/vfio as c';

function run_(lines: string[], opts: RunOptions = {}): { setup?: string; error?: string } {
  const runner = new Runner(opts);
  try {
    runner.run(parseScript(lines.join('\n') + '\n', F));
  } catch (e) {
    if (e instanceof UserError) return { error: e.format() };
    throw e;
  }
  const s = runner.events.find((e) => e.type === 'setup');
  return { setup: s?.type === 'setup' ? s.text : undefined };
}

describe('kernel ERA config=NAME', () => {
  // Rule: the configuration boots and the setup line names it (the default, legacy, is not named).
  it('boots the configuration', () => {
    expect(run_(['kernel 6.12 config=iommufd-compat', 'platform qemu-q35-vtd', OPEN])).toEqual({ setup: 'kernel 6.12 config=iommufd-compat, platform qemu-q35-vtd intremap=on' });
    expect(run_(['kernel 6.12 config=legacy', 'platform qemu-q35-vtd', OPEN])).toEqual({ setup: 'kernel 6.12, platform qemu-q35-vtd intremap=on' });
  });

  // Rule: an unknown name, or iommufd on an era without it, is the config= value's mistake.
  it('mistakes at the value', () => {
    expect(run_(['kernel 6.12 config=bogus', 'platform qemu-q35-vtd', OPEN]).error).toBe(
      `${F}:1:20: unknown kernel configuration "bogus": expected one of legacy, iommufd, iommufd-compat`,
    );
    expect(run_(['kernel 6.2 config=iommufd', 'platform qemu-q35-vtd', OPEN]).error).toBe(
      `${F}:1:19: kernel 6.2 (modelled as 6.1) has no iommufd: config=iommufd needs a modelled era with CONFIG_IOMMUFD (iommufd came in 6.2; 6.3 is the first modelled era with it)`,
    );
    expect(run_(['kernel 6.12 cfg=iommufd', 'platform qemu-q35-vtd', OPEN]).error).toBe(`${F}:1:13: "kernel" takes no "cfg=" (it takes config=)`);
  });

  // Rule: --kernel "ERA config=NAME" replaces both; without config= it keeps the file's, and
  // an era that cannot have it is --kernel's mistake.
  it('--kernel', () => {
    expect(run_(['kernel 6.12', 'platform qemu-q35-vtd', OPEN], { kernel: '6.6 config=iommufd' }).setup).toBe('kernel 6.6 config=iommufd, platform qemu-q35-vtd intremap=on');
    expect(run_(['kernel 6.12 config=iommufd', 'platform qemu-q35-vtd', OPEN], { kernel: '6.6' }).setup).toBe('kernel 6.6 config=iommufd, platform qemu-q35-vtd intremap=on');
    expect(run_(['kernel 6.12 config=iommufd', 'platform qemu-q35-vtd', OPEN], { kernel: '5.4' }).error).toBe(
      '--kernel: kernel 5.4 has no iommufd: config=iommufd needs a modelled era with CONFIG_IOMMUFD (iommufd came in 6.2; 6.3 is the first modelled era with it)',
    );
  });

  // Rule: the device cdev only where the era has it (6.6); every era defaults to Debian's legacy build.
  it('per era', () => {
    expect(resolveConfig('iommufd', ERAS.get('6.3')!)).toEqual({ iommufd: true, vfioContainer: 'legacy', deviceCdev: false });
    expect(resolveConfig('iommufd-compat', ERAS.get('6.12')!)).toEqual({ iommufd: true, vfioContainer: 'iommufd', deviceCdev: true });
    for (const era of ERAS.values()) expect(resolveConfig(undefined, era)).toEqual({ iommufd: false, vfioContainer: 'legacy', deviceCdev: false });
    expect([...ERAS.values()].filter((e) => configProblem('iommufd', e) === undefined).map((e) => e.name)).toEqual(['6.3', '6.5', '6.6', '6.12', '6.13', '6.15', '6.17', '6.18', '6.19', '7.2', 'sw-msi-v2']);
  });
});
