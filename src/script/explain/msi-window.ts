// Why enabling MSI/MSI-X failed with -EINVAL in the posted series v10: the device's IOMMU
// translates MSI writes and took the series' msi-iommu cookie, so the MSI layer must map the
// doorbell in the window the user registers (msi_domain_alloc_irqs, "[PATCH 42/57] genirq/msi:
// map/unmap the MSI doorbells on msi_domain_alloc/free_irqs"); with no window
// iommu_msi_get_doorbell_iova() answers -EINVAL (kernel/irq/pci-msi.ts, Era.msiWindowMissing).

import type { Kernel } from '../../kernel/kernel.js';
import type { KDevice } from '../../kernel/iommu/core.js';
import { hex } from '../../lib/hex.js';

/** The note for a refused MSI/MSI-X trigger setup of `kdev`, or undefined if another rule decided. */
export function msiWindowLines(kernel: Kernel, kdev: KDevice): string[] | undefined {
  const era = kernel.era;
  const domain = kdev.group.domain;
  if (era.msiMapping !== 'user-window' || era.msiWindowMissing !== 'fails') return undefined;
  if (!kdev.iommu.msiTranslated || !kdev.iommu.seriesMsiCookie || !domain || domain.msiWindow) return undefined;
  const doorbells = kdev.msi.doorbells().map((d) => `${hex(d.base)} (${d.size} bytes)`);
  return [
    `${kdev.bdf}: ${kdev.iommu.name} translates MSI writes, so its doorbell must be mapped in the domain, in the MSI window the user registers, and none is registered`,
    `  rule (kernel ${era.name}): msi_domain_alloc_irqs() maps the doorbell with iommu_msi_get_doorbell_iova(), -EINVAL while no window is set; MSI and MSI-X cannot be enabled`,
    `  - ${kdev.msi.name}: doorbell ${doorbells.join(', ')}`,
    `  register it first: MAP_DMA with flags=RESERVED_MSI_IOVA, of the size GET_INFO's MSI_GEOMETRY capability gives`,
  ];
}
