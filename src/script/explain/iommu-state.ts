// A container's IOMMU backend state, as `show mappings` prints it: the backend reports its
// state as data (VfioIommu.state()), discriminated by kind; this file writes it out.

import { hex } from '../../lib/hex.js';
import type { IommuState, TceState, Type1State } from '../../kernel/vfio/iommu-driver.js';

const rw = (m: { read: boolean; write: boolean }): string => `${m.read ? 'R' : '-'}${m.write ? 'W' : '-'}`;

/** struct vfio_iommu: the mappings in IOVA order. */
function type1Lines(s: Type1State): string[] {
  const out = [
    `type1${s.v2 ? 'v2' : ''}: ${s.dmas.length} mapping(s), dma_avail ${s.dmaAvail ?? 'unlimited'}, iova_pgsizes ${hex(s.pgsizeBitmap)}`,
  ];
  for (const d of s.dmas) {
    const what =
      d.type === 'reserved-msi'
        ? 'reserved MSI window'
        : `vaddr ${hex(d.vaddr)} ${rw(d)}${d.vaddrInvalid ? ' (vaddr invalidated)' : ''}`;
    out.push(`  iova ${hex(d.iova)}-${hex(d.iova + d.size - 1n)} size ${hex(d.size)} ${what}`);
  }
  return out;
}

/** struct tce_container: its windows and their TCEs, and the mm's preregistered memory. */
function tceLines(s: TceState): string[] {
  const out = [
    `spapr TCE ${s.v2 ? 'v2' : 'v1'}: ${s.enabled ? 'enabled' : 'not enabled (no memory registered)'}, ${s.groups} group(s)${s.defWindowPending ? ', default DMA32 window pending' : ''}`,
  ];
  s.tables.forEach((tbl, num) => {
    if (!tbl) return;
    const ps = tbl.pageSize;
    out.push(
      `  window #${num}: bus ${hex(tbl.start)}-${hex(tbl.start + tbl.windowSize - 1n)}, ${ps >= 0x10_0000n ? `${ps >> 20n}M` : `${ps >> 10n}K`} IOMMU pages, ${tbl.levels} level(s), ${tbl.validEntries} valid TCE(s)`,
    );
    for (const p of tbl.pieces()) {
      const start = p.entry << BigInt(tbl.pageShift);
      out.push(
        `    iova ${hex(start)}-${hex(start + (p.count << BigInt(tbl.pageShift)) - 1n)} → ${p.ua !== undefined ? `ua ${hex(p.ua)} ` : ''}hpa ${hex(p.hpa)} ${rw(p)}`,
      );
    }
  });
  for (const m of s.prereg) {
    out.push(
      `  preregistered ua ${hex(m.ua)}-${hex(m.end - 1n)} (${m.entries} page(s), ${m.tces} TCE(s) use it)${m.onList ? '' : ' — not on this container\'s list'}`,
    );
  }
  return out;
}

export function iommuStateLines(s: IommuState): string[] {
  switch (s.kind) {
    case 'type1':
      return type1Lines(s);
    case 'spapr-tce':
      return tceLines(s);
  }
}
