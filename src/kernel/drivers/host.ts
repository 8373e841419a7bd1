// The host's own PCI drivers (e1000e, ahci, lpc_ich, ixgbe, ixgbevf …): drivers that use the
// DMA API. What VFIO meets of them is modelled: they bind and unbind, a device they drive makes
// its group's DMA kernel-owned (pci_dma_configure takes the default domain, and refuses with
// -EBUSY while a user owns the group: kernel/pci/pci-driver.ts), and the SR-IOV side of those
// that have one. Their probe's own work and lines are not modelled.

import type { KDevice } from '../iommu/core.js';
import type { PciDriverSriovOps } from '../pci/iov.js';
import { pciIds, type PciDriver } from '../pci/pci-driver.js';
import { IXGBE_SRIOV } from './net/ixgbe/sriov.js';
import { IXGBEVF_IDS } from './net/ixgbevf.js';

/** What the model knows of a host driver beyond its name. */
interface HostDriverSpec {
  /** Its id table as vendor:device pairs, where the model has it. */
  idTable?: readonly string[];
  /** Its SR-IOV ops (sriov_configure, what probe and remove do to SR-IOV). */
  sriov?: PciDriverSriovOps;
}

/** The host drivers the model knows more of than their name, by driver name. */
const HOST_PCI_DRIVERS: ReadonlyMap<string, HostDriverSpec> = new Map<string, HostDriverSpec>([
  ['ixgbe', { sriov: IXGBE_SRIOV }],
  ['ixgbevf', { idTable: IXGBEVF_IDS }],
]);

/**
 * A host driver as registered on the bus. `bootDevices` are the functions the platform says it
 * took at enumeration: they stand for the part of its id table that matched this machine.
 */
export function hostPciDriver(name: string, bootDevices: ReadonlySet<string> = new Set()): PciDriver {
  const spec = HOST_PCI_DRIVERS.get(name);
  return {
    ...spec?.sriov,
    name,
    matchesId: (dev) => bootDevices.has(dev.bdf) || (spec?.idTable?.includes(pciIds(dev)) ?? false),
    // The driver's own probe work is not modelled; the DMA API use is the bus's
    // (driver_managed_dma unset).
    probe: () => 0,
  };
}

/**
 * The host driver module whose id table has a new device (udev's modalias rule loading it, as
 * the modelled systems run udev), or undefined.
 */
export function hostDriverModuleFor(dev: KDevice): string | undefined {
  const ids = pciIds(dev);
  for (const [name, spec] of HOST_PCI_DRIVERS) if (spec.idTable?.includes(ids)) return name;
  return undefined;
}
