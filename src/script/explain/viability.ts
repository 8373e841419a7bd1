// Why a group is not usable by VFIO: its viability, device by device. Which rule decides is
// the era's (Era.dmaOwnerClaim): since 5.19 VFIO claims the group's DMA ownership at
// SET_CONTAINER (iommu_group_claim_dma_owner(), -EPERM while a kernel driver uses the DMA API
// of any device of the group; vfio-pci and pci-stub set driver_managed_dma); before, the group
// joins a container anyway and GET_DEVICE_FD is -EINVAL until vfio_group_viable() holds
// (every device bound to a VFIO driver, to a driver on the allowed list, or to none).

import type { IommuGroup } from '../../kernel/iommu/core.js';
import type { Kernel } from '../../kernel/kernel.js';

/** The viability verdict on a group, one line per device, in the era's terms. */
export function viabilityLines(k: Kernel, g: IommuGroup): string[] {
  const claim = k.era.dmaOwnerClaim;
  const rule = claim
    ? 'iommu_group_claim_dma_owner() (5.19+: VFIO claims the group\'s DMA at SET_CONTAINER; -EPERM while a kernel driver uses the DMA API on any device of the group)'
    : 'vfio_group_viable() (before 5.19: every device of the group bound to a VFIO driver, to pci-stub, or to none; GET_DEVICE_FD is -EINVAL until then)';
  const lines = [
    `group ${g.id} (${g.devices.map((d) => d.bdf).join(', ')}): not viable — ${claim ? 'attach refused' : 'no device fd'}`,
    `  rule (kernel ${k.era.name}): ${rule}`,
  ];
  for (const d of g.devices) {
    const what = !d.driver
      ? 'no driver'
      : d.driverUsesDma
        ? `bound to ${d.driver}, which uses the DMA API${claim ? ' (owns the group\'s DMA)' : ' (not a VFIO driver)'}`
        : `bound to ${d.driver}${claim ? ' (driver_managed_dma)' : ''}`;
    lines.push(`  - ${d.bdf}: ${what}`);
  }
  lines.push('  unbind the devices that use the DMA API (or bind them to vfio-pci) to make the group viable');
  return lines;
}
