// Why a MAP_DMA was refused by the valid IOVA list (5.4+, vfio_iommu_iova_dma_valid()): the
// list is every domain's aperture minus the groups' reserved regions (all but
// direct-relaxable ones, vfio_iommu_resv_exclude()); a mapping must fit in one node of it.
// The kernel reports the list (Type1State.iovaList); this file names what cut it.

import { hex } from '../../lib/hex.js';
import type { VfioContainer } from '../../kernel/vfio/container.js';
import type { Kernel } from '../../kernel/kernel.js';
import { RESV_TYPE_STRING } from '../../hw/iommu/iommu.js';

const range = (start: bigint, end: bigint): string => `${hex(start)}-${hex(end)}`;

/** The note under a MAP_DMA of [iova, iova + size) that the IOVA list refused, or undefined when an earlier check did. */
export function iovaListLines(k: Kernel, c: VfioContainer, iova: bigint, size: bigint, vaddr: bigint): string[] | undefined {
  const s = c.iommu?.state();
  if (!k.era.iovaList || s?.kind !== 'type1' || s.iovaList.length === 0 || size === 0n) return undefined;
  // The checks MAP_DMA makes before the list's: alignment to the smallest IOMMU page, no wrap.
  const pgmask = (s.pgsizeBitmap & -s.pgsizeBitmap) - 1n;
  const end = iova + size - 1n;
  if ((iova | size | vaddr) & pgmask || end >= 1n << 64n) return undefined;
  if (s.iovaList.some((n) => iova >= n.start && end <= n.end)) return undefined;
  const lines = [
    `MAP_DMA ${range(iova, end)} is not inside one range of the valid IOVA list (vfio_iommu_iova_dma_valid(), 5.4+)`,
    `  valid IOVA ranges: ${s.iovaList.map((n) => range(n.start, n.end)).join(', ')}`,
  ];
  for (const g of c.groups) {
    const ap = g.domain?.hw.aperture;
    if (ap && (iova < ap.start || end > ap.end)) lines.push(`  - outside the aperture ${range(ap.start, ap.end)} of group ${g.id}'s domain (${g.iommu.name})`);
    for (const r of k.iommu.resvRegions(g)) {
      const re = r.start + r.length - 1n;
      if (r.type === 'direct-relaxable' || re < iova || r.start > end) continue;
      lines.push(`  - overlaps the reserved region ${range(r.start, re)} (${RESV_TYPE_STRING[r.type]}) of group ${g.id}${r.why ? `: ${r.why}` : ''}`);
    }
  }
  if (lines.length === 2) lines.push('  - it spans a gap between two valid ranges');
  return [...new Set(lines)];
}
