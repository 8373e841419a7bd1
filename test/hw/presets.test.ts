// The shipped presets: valid against the preset schema, and buildable with every option.

import { describe, expect, it } from 'vitest';
import { buildPlatform, parsePreset, presets } from '../../src/hw/presets.js';

describe('presets', () => {
  // Every shipped preset is plain data that passes the zod schema unchanged.
  for (const p of presets()) {
    it(`${p.name} validates`, () => {
      expect(parsePreset(JSON.parse(JSON.stringify(p)))).toEqual(p);
    });

    // Every value of every option builds a machine with devices in it.
    it(`${p.name} builds with each option`, () => {
      const combos = Object.entries(p.options).flatMap(([k, o]) => o.values.map((v) => ({ [k]: v })));
      for (const opts of combos.length ? combos : [{}]) {
        const m = buildPlatform(p, opts);
        expect(m.devices.length).toBeGreaterThan(0);
        expect(m.devices.every((d) => m.iommus.includes(d.iommu) && m.msiControllers.includes(d.msi))).toBe(true);
      }
    });
  }

  // The component parameters of every shipped preset pass their models' schemas (a run
  // trusts them and does not validate them again).
  for (const p of presets()) {
    it(`${p.name} parameters validate`, () => {
      for (const opts of Object.entries(p.options).flatMap(([k, o]) => o.values.map((v) => ({ [k]: v }))).concat([{}])) {
        expect(() => buildPlatform(p, opts, true)).not.toThrow();
      }
    });
  }

  // Validation is real: a shipped preset with a bad component parameter is refused.
  it('a bad parameter is refused', () => {
    const p = presets().find((x) => x.name === 'amd-overdrive')!;
    const bad = { ...p, iommus: p.iommus.map((c) => ({ ...c, params: { ...c.params, base: 'nowhere' } })) };
    expect(() => buildPlatform(bad, {}, true)).toThrow(/^preset amd-overdrive: smmu0: /);
  });

  // A malformed preset says where it is wrong.
  it('malformed', () => {
    expect(parsePreset({ name: 'Bad Name' })).toBe('name: expected a lower-case name');
  });
});
