// generic_pt (drivers/iommu/generic_pt/): the page-table code the VT-d and AMD drivers share
// since 6.19, built once per format (fmt/iommu_<format>.c includes iommu_pt.h through
// iommu_template.h, and every function is prefixed with the format's name: vtdss_map_range).

import type { Era } from '../era.js';
import type { WarnSite } from '../log.js';
import type { IommuHw } from '../../hw/iommu/iommu.js';

/** __FILE__ of iommu_pt.h as a format's object file sees it (fmt/iommu_template.h's include). */
const IOMMU_PT_H = 'drivers/iommu/generic_pt/fmt/../iommu_pt.h';

/**
 * Where map_range()'s WARN_ON(!(prot & (IOMMU_READ | IOMMU_WRITE))) fires for this IOMMU's
 * paging domains in this era: the era's line of iommu_pt.h and the format's function. Nothing
 * before the drivers were converted (Era.genericPtMapWarnLine) or when the hardware's page
 * table is not a generic_pt format.
 */
export function mapNoAccessWarnSite(era: Era, iommu: IommuHw): WarnSite | undefined {
  const line = era.genericPtMapWarnLine;
  const format = iommu.pageTableFormat;
  if (line === undefined || format === undefined) return undefined;
  return { file: IOMMU_PT_H, line, fn: `${format}_map_range` };
}
