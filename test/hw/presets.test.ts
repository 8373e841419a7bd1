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

  // A malformed preset says where it is wrong.
  it('malformed', () => {
    expect(parsePreset({ name: 'Bad Name' })).toBe('name: expected a lower-case name');
  });
});
