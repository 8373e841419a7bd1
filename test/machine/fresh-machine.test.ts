// Every scenario boots a machine of its own: `check` runs many files in one process, and what
// one file does to its machine (config-space writes, sysfs writes, virtual functions created)
// must not reach the next. Config spaces share slabs of memory (lib/slab.ts), so a carving
// mistake would show here as bytes of the first machine read by the second.

import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run.js';
import { makeChalk, renderText } from '../../src/cli/render.js';
import { presets } from '../../src/hw/presets.js';
import { boot, type Machine } from '../../src/machine/boot.js';

const plain = makeChalk(true);

/** The scenario's output as `run` prints it (no colour); every expectation must hold. */
const output = (text: string): string => {
  const r = runScenario('t.vfio', text, {});
  if (r.error) throw r.error;
  const failed = r.events.filter((e) => e.type === 'expect' && !e.ok).map((e) => renderText(e, plain));
  expect(failed).toEqual([]);
  return r.events.map((e) => renderText(e, plain)).join('\n');
};

/** An amd-overdrive with `n` VFs on its first X540 port; VF `bdf` (in IOMMU group `group`) opened as `vf`. */
const vfOpened = (n: number, bdf: string, group: number): string => `kernel rfc-v10
platform amd-overdrive
param vfio_iommu_type1.allow_unsafe_interrupts=Y
write /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs "${n}"
expect ret=1
bind ${bdf} vfio-pci
expect ret=${group}
open /dev/vfio/vfio as container
open /dev/vfio/${group} as group
ioctl group SET_CONTAINER container
ioctl container SET_IOMMU TYPE1v2
expect ok
ioctl group GET_DEVICE_FD ${bdf} as vf
`;

/** An X540 VF given to the user and written to: the MSI window, MSI-X, config space, sysfs, VFs. */
const MUTATE = `${vfOpened(4, '0000:01:10.2', 3)}ioctl container MAP_DMA flags=RESERVED_MSI_IOVA iova=0x8000000 size=1M
expect ok
eventfd as efd0
ioctl vf SET_IRQS index=MSIX start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=efd0
expect ok
pwrite vf region=CONFIG offset=0x4 data=0600
pwrite vf region=CONFIG offset=0x70 data=ffff
pwrite vf region=CONFIG offset=0x100 data=ffffffffffffffff
bind 0000:01:00.1 vfio-pci
expect ret=1
`;

/** What a fresh machine of the same preset shows: no VFs, then a VF's config space as created. */
const LOOK = `kernel rfc-v10
platform amd-overdrive
read /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
expect content "0\\n"
read /sys/bus/pci/devices/0000:01:10.2/vendor
expect errno=ENOENT
${vfOpened(1, '0000:01:10.0', 2).replace(/^kernel .*\nplatform .*\n/, '')}pread vf region=CONFIG offset=0 len=4
expect bytes 86801515
pread vf region=CONFIG offset=0 len=256
pread vf region=CONFIG offset=0x100 len=256
`;

describe('a machine per scenario', () => {
  // The second file's machine is the preset as booted: its output is byte for byte that of
  // the same file run with nothing before it.
  it('writes of one file are not seen by the next', () => {
    const alone = output(LOOK);
    output(MUTATE);
    expect(output(LOOK)).toBe(alone);
  });

  // Run twice in a row, the mutating file itself does the same both times.
  it('a file run twice does the same', () => {
    const first = output(MUTATE);
    expect(output(MUTATE)).toBe(first);
  });
});

/** Every function's config space on the machine, VFs included, as hex by BDF. */
function configs(m: Machine): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of m.platform.devices) {
    out[d.bdf] = Buffer.from(d.hw.config.bytes).toString('hex');
    for (let i = 0; d.hw.virtfn?.(i); i++) out[`${d.bdf} vf${i}`] = Buffer.from(d.hw.virtfn(i)!.config.bytes).toString('hex');
  }
  return out;
}

/** Enables 2 VFs on every PF with SR-IOV (where the preset placed their BARs and a driver takes the write). */
function enableVfs(m: Machine): void {
  for (const d of m.platform.devices) if (d.hw.sriov) m.kernel.sysfsWrite(`/sys/bus/pci/devices/${d.bdf}/sriov_numvfs`, '2');
}

/** Writes all ones over every dword of every function's config space, VFs included. */
function scribble(m: Machine): void {
  for (const d of m.platform.devices) {
    for (let i = 0; d.hw.virtfn?.(i); i++) for (let a = 0; a < d.hw.virtfn(i)!.config.size; a += 4) d.hw.virtfn(i)!.config.write(a, 4, 0xffffffff);
    for (let a = 0; a < d.hw.config.size; a += 4) d.hw.config.write(a, 4, 0xffffffff);
  }
}

describe('every preset boots fresh', () => {
  // For each shipped preset: a machine booted after another had VFs enabled and its config
  // spaces scribbled over has the config spaces (and no VFs) of one booted first.
  for (const p of presets()) {
    it(p.name, () => {
      const fresh = configs(boot('6.1', p.name));
      const used = boot('6.1', p.name);
      enableVfs(used);
      // amd-overdrive: two X540 ports with their VF BARs placed, 2 VFs each.
      if (p.name === 'amd-overdrive') expect(Object.keys(configs(used)).length).toBe(Object.keys(fresh).length + 4);
      scribble(used);
      expect(configs(used)).not.toEqual(fresh);
      expect(configs(boot('6.1', p.name))).toEqual(fresh);
    });
  }
});

describe('shared layouts stay unwritten', () => {
  // Functions of one preset row share their config space's reset image and masks
  // (config-space.ts layoutScope): a reset after all ones were written everywhere reads the
  // same bytes on a used machine as on a fresh one, and a third boot is still fresh.
  for (const p of presets()) {
    it(p.name, () => {
      const fresh = boot('6.1', p.name);
      for (const d of fresh.platform.devices) d.hw.config.reset();
      const used = boot('6.1', p.name);
      scribble(used);
      for (const d of used.platform.devices) d.hw.config.reset();
      expect(configs(used)).toEqual(configs(fresh));
      const again = configs(boot('6.1', p.name));
      expect(configs(boot('6.1', p.name))).toEqual(again);
      expect(again).not.toEqual(configs(fresh));
    });
  }

  // e1000e's MAC registers (VET, 0x38) written on one machine read their reset value on the next.
  it('e1000e registers', () => {
    const e1000e = (m: Machine) => m.platform.devices.find((d) => d.hw.model === 'e1000e')!.hw;
    const before = e1000e(boot('6.1', 'qemu-q35-vtd')).barRead(0, 0x38n, 4);
    expect(before).toBe(0x8100n);
    const used = e1000e(boot('6.1', 'qemu-q35-vtd'));
    used.barWrite(0, 0x38n, 4, 0x1234n);
    expect(used.barRead(0, 0x38n, 4)).toBe(0x1234n);
    expect(e1000e(boot('6.1', 'qemu-q35-vtd')).barRead(0, 0x38n, 4)).toBe(0x8100n);
  });
});
