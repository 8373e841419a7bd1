// PCI drivers as the bus sees them (include/linux/pci.h struct pci_driver,
// drivers/pci/pci-driver.c) and the bus's registry of them (bus_add_driver's klist). The core
// matches and probes a device through these ops and a driver's name; it never asks which
// driver it is.
//
//   pci_match_device      driver_override set: only the driver of that name matches (with its
//                         own id, or pci_device_id_any); otherwise the id table. vfio-pci's
//                         table matches nothing without driver_override (override_only entries,
//                         PCI_DRIVER_OVERRIDE_DEVICE_VFIO; its ids= parameter and new_id are
//                         not modelled).
//   pci_dma_configure     before the probe: iommu_device_use_default_domain() for a driver
//                         without driver_managed_dma (5.19), -EBUSY while a user owns the
//                         group's DMA (drivers/iommu/iommu.c, group->owner; Era.dmaOwnerClaim).
//                         really_probe() fails with it before the driver is called.
//   pci_device_probe      the driver's probe: 0, or -errno.
//   device_release_driver the driver's remove (which may wait for a user of the device).

import type { Era } from '../era.js';
import type { KDevice } from '../iommu/core.js';
import type { Blocked } from '../would-block.js';
import type { PciDriverSriovOps } from './iov.js';
import { EBUSY } from '../../uapi/errno.js';
import { hexPad } from '../../lib/hex.js';

/** struct pci_driver (and the driver's bus notifier), as far as the model reaches; SR-IOV's ops in iov.ts. */
export interface PciDriver extends PciDriverSriovOps {
  /** The driver's name: /sys/bus/pci/drivers/NAME, and what driver_override names. */
  readonly name: string;
  /** pci_match_id() over the id table, without driver_override: the driver claims `dev`. */
  matchesId(dev: KDevice): boolean;
  /**
   * struct pci_driver.driver_managed_dma: the driver does not use the DMA API, so binding it
   * neither needs nor takes the group's default domain (vfio-pci). Otherwise the bound device
   * counts as a kernel DMA owner of its group.
   */
  driverManagedDma?: boolean;
  /**
   * The driver registers each device it binds with VFIO (vfio_pci_core_register_device →
   * vfio_register_group_dev), so a bind gives /dev/vfio/GROUP: what the `bind` operation binds to.
   */
  registersVfioDevice?: boolean;
  /** pci_driver.probe(dev), the device already bound to the driver: 0 or -errno. */
  probe(dev: KDevice): number;
}

/** The vendor:device pair an id table entry names, in lowercase hex ("8086:1515"). */
export function pciIds(dev: KDevice): string {
  return `${hexPad(dev.hw.vendorId, 4)}:${hexPad(dev.hw.deviceId, 4)}`;
}

/** pci_match_device(): driver_override decides alone when set, else the id table. */
export function pciMatchDevice(drv: PciDriver, dev: KDevice): boolean {
  return dev.driverOverride !== undefined ? dev.driverOverride === drv.name : drv.matchesId(dev);
}

/**
 * pci_dma_configure() as really_probe() calls it before the driver's probe: 0, or -EBUSY when a
 * driver that uses the DMA API would bind into a group whose DMA a user owns.
 */
export function pciDmaConfigure(era: Pick<Era, 'dmaOwnerClaim'>, drv: PciDriver, dev: KDevice): number {
  if (drv.driverManagedDma) return 0;
  return era.dmaOwnerClaim && dev.group.owner ? -EBUSY : 0;
}

/** The PCI drivers registered on the bus (pci_register_driver), in registration order. */
export class PciDriverRegistry {
  private readonly byName = new Map<string, PciDriver>();

  /**
   * pci_register_driver(): 0, or -EBUSY for a name already registered (driver_register(),
   * "Driver '%s' is already registered"); the first driver stays.
   */
  register(drv: PciDriver): number {
    if (this.byName.has(drv.name)) return -EBUSY;
    this.byName.set(drv.name, drv);
    return 0;
  }

  /** The driver registered under `name`, or undefined (no /sys/bus/pci/drivers/NAME). */
  get(name: string): PciDriver | undefined {
    return this.byName.get(name);
  }

  /** The registered drivers' names, sorted (the model's readdir order). */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** The registered drivers in registration order (bus_for_each_drv). */
  all(): IterableIterator<PciDriver> {
    return this.byName.values();
  }
}
