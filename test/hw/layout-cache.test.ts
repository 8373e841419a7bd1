// A shipped preset's functions are built on first use, with their config-space layout made
// once per device row and shared (hw/presets.ts, config-space.ts layoutScope). The sharing is
// only right if a row lays out the same tables every time, and the lazy build only if the
// registry's SR-IOV flag says which functions can be PFs: checked here for every row.

import { describe, expect, it } from 'vitest';
import { layoutScope, type PciConfigSpace } from '../../src/hw/pci/config-space.js';
import { createPciDevice, pciModelRow } from '../../src/hw/pci/registry.js';
import type { PciDeviceModel } from '../../src/hw/pci/device.js';
import { presets } from '../../src/hw/presets.js';
import { PCI_EXT_CAP_ID_SRIOV, PCI_SRIOV_CTRL, PCI_SRIOV_CTRL_MSE, PCI_SRIOV_CTRL_VFE, PCI_SRIOV_NUM_VF } from '../../src/hw/pci/regs.js';

const hex = (a: Uint8Array): string => Buffer.from(a).toString('hex');

/** What a config space is made of, as comparable values: bytes, reset image, masks, capability lists. */
function shape(c: PciConfigSpace): unknown {
  const bytes = hex(c.bytes);
  const wmask = hex(c.wmask);
  const w1c = hex(c.w1cmask);
  c.reset();
  return { bytes, reset: hex(c.bytes), wmask, w1c, caps: c.caps, extCaps: c.extCaps };
}

const build = (d: { model: string; bdf: string; params?: Record<string, unknown> }): PciDeviceModel => {
  const hw = createPciDevice(d.model, d.bdf, d.params ?? {}, true);
  if (typeof hw === 'string') throw new Error(hw);
  return hw;
};

describe('config-space layouts shared per preset row', () => {
  for (const p of presets()) {
    // Built alone, built first under a key, and built again from the key's layout: the same.
    it(`${p.name}: a row lays out the same config space every time`, () => {
      for (const d of p.devices) {
        const key = {};
        const alone = shape(build(d).config);
        expect(shape(layoutScope(key, () => build(d)).config)).toEqual(alone);
        expect(shape(layoutScope(key, () => build(d)).config)).toEqual(alone);
      }
    });

    // A function not flagged as a possible PF has no SR-IOV capability (enumeration skips it).
    it(`${p.name}: the SR-IOV flag`, () => {
      for (const d of p.devices) {
        const row = pciModelRow(d.model, d.bdf);
        if (typeof row === 'string') throw new Error(row);
        expect([d.bdf, build(d).config.findExtCap(PCI_EXT_CAP_ID_SRIOV) !== undefined]).toEqual([d.bdf, row.sriov === true]);
      }
    });
  }

  // The hooks are the new function's: VF Enable written on the second X540 built from the
  // layout brings up a VF of that function, and none of the first.
  it('register behaviour belongs to each function', () => {
    const d = presets().find((p) => p.name === 'amd-overdrive')!.devices.find((x) => x.model === 'x540')!;
    const key = {};
    const a = layoutScope(key, () => build(d));
    const b = layoutScope(key, () => build(d));
    const pos = b.config.findExtCap(PCI_EXT_CAP_ID_SRIOV)!;
    b.config.write(pos + PCI_SRIOV_NUM_VF, 2, 1);
    b.config.write(pos + PCI_SRIOV_CTRL, 2, PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
    expect([a.virtfn?.(0)?.deviceId, b.virtfn?.(0)?.deviceId]).toEqual([undefined, 0x1515]);
  });
});
