// The shipped presets: valid against the preset schema, and buildable with every option.

import { describe, expect, it } from 'vitest';
import type { Platform } from '../../src/hw/platform.js';
import { buildPlatform, parsePreset, presets, type PresetData } from '../../src/hw/presets.js';

/** Each value of each option on its own (the others at their defaults); {} for no options. */
function optionCombos(p: PresetData): Record<string, string>[] {
  const combos = Object.entries(p.options).flatMap(([k, o]) => o.values.map((v) => ({ [k]: v })));
  return combos.length ? combos : [{}];
}

/** The class and message of what f throws. */
function refusal(f: () => unknown): [string, string] {
  try {
    f();
  } catch (e) {
    return [(e as Error).name, (e as Error).message];
  }
  return ['no error', ''];
}

/** What a built machine is: its IOMMUs, MSI controllers, and each device's wiring. */
function machine(m: Platform): { iommus: string[]; msi: string[]; devices: string[] } {
  return {
    iommus: m.iommus.map((i) => `${i.name} ${i.model} pgsize=0x${i.pgsizeBitmap.toString(16)}${i.capable('intr-remap') ? ' intr-remap' : ''}`),
    msi: m.msiControllers.map((c) => `${c.name} ${c.model}`),
    devices: m.devices.map((d) => `${d.bdf} ${d.iommu.name} ${d.msi.name} group ${d.group}`),
  };
}

const Q35 = (iommu: string) =>
  ['0000:00:00.0', '0000:00:01.0', '0000:00:02.0'].map((b, g) => `${b} ${iommu} apic group ${g}`).concat(
    ['0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3'].map((b) => `${b} ${iommu} apic group 3`),
  );
const PAMU = (pgsize: string) => ({
  iommus: [`pamu0 Freescale PAMU pgsize=${pgsize}`],
  msi: ['msi0 Freescale MPIC MSI bank'],
  devices: ['0000:01:00.0 pamu0 msi0 group 0'],
});

/** Every shipped preset with each option value, as built. */
const MACHINES = new Map<string, { iommus: string[]; msi: string[]; devices: string[] }>([
  ['qemu-q35-vtd {"intremap":"on"}', { iommus: ['dmar0 Intel VT-d pgsize=0x40201000 intr-remap'], msi: ['apic x86 local APIC MSI window'], devices: Q35('dmar0') }],
  ['qemu-q35-vtd {"intremap":"off"}', { iommus: ['dmar0 Intel VT-d pgsize=0x40201000'], msi: ['apic x86 local APIC MSI window'], devices: Q35('dmar0') }],
  ['qemu-virt-smmuv3 {"gic":"v3"}', { iommus: ['smmu0 SMMUv3 pgsize=0x40201000'], msi: ['its GICv3 ITS'], devices: ['0000:00:01.0 smmu0 its group 0', '0000:00:02.0 smmu0 its group 1'] }],
  ['qemu-virt-smmuv3 {"gic":"v2"}', { iommus: ['smmu0 SMMUv3 pgsize=0x40201000'], msi: ['v2m GICv2m'], devices: ['0000:00:01.0 smmu0 v2m group 0', '0000:00:02.0 smmu0 v2m group 1'] }],
  ['amd-overdrive {}', { iommus: ['smmu0 ARM SMMU v2 pgsize=0x40201000'], msi: ['v2m0 GICv2m'], devices: ['0000:01:00.0 smmu0 v2m0 group 0', '0000:01:00.1 smmu0 v2m0 group 1'] }],
  ['arm-its-plus-v2m {}', { iommus: ['smmu0 SMMUv3 pgsize=0x40201000'], msi: ['its0 GICv3 ITS', 'spi-bridge GICv2m'], devices: ['0000:00:01.0 smmu0 its0 group 0', '0000:00:02.0 smmu0 spi-bridge group 1'] }],
  ['armada-7040 {}', { iommus: ['smmu0 ARM SMMU v2 pgsize=0x40201000'], msi: ['gicp GICv2m'], devices: ['0000:01:00.0 smmu0 gicp group 0'] }],
  ['fsl-pamu {"windows":"256"}', PAMU('0x1000000')],
  ['fsl-pamu {"windows":"16"}', PAMU('0x10000000')],
  ['fsl-pamu {"windows":"1"}', PAMU('0x100000000')],
  ['x86-amd-vi {"intremap":"on"}', { iommus: ['ivhd0 AMD-Vi pgsize=0xffffff7ffffff000 intr-remap'], msi: ['apic x86 local APIC MSI window'], devices: Q35('ivhd0') }],
  ['x86-amd-vi {"intremap":"off"}', { iommus: ['ivhd0 AMD-Vi pgsize=0xffffff7ffffff000'], msi: ['apic x86 local APIC MSI window'], devices: Q35('ivhd0') }],
  ['powernv {}', { iommus: ['phb1 IBM PHB3 (IODA2) pgsize=0x11011000'], msi: ['phb1-msi PHB3 MSI (IODA2 IVT)'], devices: ['0001:01:00.0 phb1 phb1-msi group 0'] }],
]);

describe('presets', () => {
  // Every shipped preset is plain data that passes the zod schema unchanged.
  for (const p of presets()) {
    it(`${p.name} validates`, () => {
      expect(parsePreset(JSON.parse(JSON.stringify(p)))).toEqual(p);
    });

    // Every value of every option builds the machine below, its devices wired as the preset says.
    it(`${p.name} builds with each option`, () => {
      for (const opts of optionCombos(p)) {
        const key = `${p.name} ${JSON.stringify(opts)}`;
        expect([key, machine(buildPlatform(p, opts))]).toEqual([key, MACHINES.get(key)]);
      }
    });
  }

  // The component parameters of every shipped preset pass their models' schemas, and the
  // validated build is the machine a run builds trusting them (it does not validate again).
  for (const p of presets()) {
    it(`${p.name} parameters validate`, () => {
      for (const opts of optionCombos(p).concat([{}])) {
        expect(machine(buildPlatform(p, opts, true))).toEqual(machine(buildPlatform(p, opts)));
      }
    });
  }

  // Validation is real: a shipped preset with a bad component parameter is refused.
  it('a bad parameter is refused', () => {
    const p = presets().find((x) => x.name === 'amd-overdrive')!;
    const bad = { ...p, iommus: p.iommus.map((c) => ({ ...c, params: { ...c.params, base: 'nowhere' } })) };
    expect(refusal(() => buildPlatform(bad, {}, true))).toEqual(['PresetError', 'preset amd-overdrive: smmu0: expected a hex address such as "0x08020000"']);
  });

  // A model's refusal of its geometry (hw/model-error.ts) reaches the user with the model's text.
  it('a model refusing its parameters is a user error', () => {
    const p = presets().find((x) => x.name === 'fsl-pamu')!;
    const bad = { ...p, iommus: p.iommus.map((c) => ({ ...c, params: { ...c.params, apertureSize: '0xc0000000' } })) };
    const why = 'pamu0: PAMU aperture size 0xc0000000 is not a power of two of at least 4 KiB (check_size)';
    expect(refusal(() => buildPlatform(bad, {}, true))).toEqual(['PresetError', why]);
    expect(refusal(() => buildPlatform(bad, {}, false))).toEqual(['PresetError', why]);
  });

  // A malformed preset says where it is wrong.
  it('malformed', () => {
    expect(parsePreset({ name: 'Bad Name' })).toBe('name: expected a lower-case name');
  });
});
