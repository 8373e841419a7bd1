// The VFIO IOMMU backends a kernel can register, by the name a platform lists them under
// (vfio_iommu_type1, vfio_iommu_spapr_tce). The container polls the registered ones in order.

import type { VfioIommuDriver } from './iommu-driver.js';
import { Type1Driver, type Type1Context } from './type1.js';
import { SpaprTceDriver } from './spapr-tce.js';

export const VFIO_IOMMU_DRIVERS: Record<string, (ctx: Type1Context) => VfioIommuDriver> = {
  type1: (ctx) => new Type1Driver(ctx),
  spapr: (ctx) => new SpaprTceDriver(ctx),
};
