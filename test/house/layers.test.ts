// The house rules: imports point down only (cli → script/trace → machine → kernel → hw →
// uapi/lib), inside the kernel from the drivers down to the core, and no two files import
// each other, however far round.

import { describe, expect, test } from 'vitest';
import { cycles, importGraph } from './import-graph.js';

/**
 * Layers, lowest first; a file may import its own layer and those below. The longest prefix
 * that matches a path decides its layer. Inside the kernel the order follows the kernel's own
 * tree: the core objects (files, processes, memory, the log), then the subsystems (IOMMU,
 * IRQ, PCI), then VFIO's core, then the drivers built on it, and the booted kernel on top.
 */
const LAYERS: [prefix: string, rank: number][] = [
  ['lib/', 0],
  ['uapi/', 1],
  ['hw/', 2],
  ['kernel/', 3],
  ['kernel/iommu/', 4],
  ['kernel/irq/', 4],
  ['kernel/pci/', 4],
  // iommufd sits on the IOMMU core and under VFIO, which binds devices through it.
  ['kernel/iommufd/', 4.5],
  ['kernel/vfio/', 5],
  ['kernel/vfio-pci/', 6],
  ['kernel/drivers/', 6],
  ['kernel/kernel.ts', 7],
  ['machine/', 8],
  ['script/', 9],
  ['trace/', 9],
  ['cli/', 10],
  ['index.ts', 10],
];

function layerOf(file: string): [string, number] {
  let best: [string, number] | undefined;
  for (const [prefix, rank] of LAYERS) if (file.startsWith(prefix) && (!best || prefix.length > best[0].length)) best = [prefix, rank];
  if (!best) throw new Error(`${file}: in no layer; add its folder to LAYERS`);
  return best;
}

/** Files that speak to a user (text, positions): nothing below the machine may use them. */
const TEXT_ONLY = ['lib/user-error.ts'];
const TEXT_FLOOR = 8;

const graph = importGraph();

describe('imports point down', () => {
  // Every file belongs to a layer.
  test('every file has a layer', () => {
    for (const f of graph.keys()) expect(() => layerOf(f), f).not.toThrow();
  });

  // A file imports only its own layer and lower ones.
  test('no upward import', () => {
    const up: string[] = [];
    for (const [f, deps] of graph) {
      for (const d of deps) if (layerOf(d)[1] > layerOf(f)[1]) up.push(`${f} -> ${d}`);
    }
    expect(up).toEqual([]);
  });

  // The model below the machine returns facts and errnos; only the text layers raise UserError.
  test('user-facing errors stay in the text layers', () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      for (const d of deps) if (TEXT_ONLY.includes(d) && layerOf(f)[1] < TEXT_FLOOR) bad.push(`${f} -> ${d}`);
    }
    expect(bad).toEqual([]);
  });

  // Imports resolve to files that exist, so the rules above see every edge.
  test('every relative import names a source file', () => {
    const missing: string[] = [];
    for (const [f, deps] of graph) for (const d of deps) if (!graph.has(d)) missing.push(`${f} -> ${d}`);
    expect(missing).toEqual([]);
  });
});

describe('no import cycles', () => {
  // Two files that need each other are one concern, or one of them is in the wrong place.
  test('the graph is acyclic', () => {
    expect(cycles(graph)).toEqual([]);
  });
});
