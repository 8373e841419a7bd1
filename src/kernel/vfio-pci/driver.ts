// vfio-pci as a PCI driver (drivers/vfio/pci/vfio_pci.c, struct pci_driver vfio_pci_driver):
// its name, its id table (override-only: it binds a device only when driver_override names
// it), driver_managed_dma, and vfio_pci_probe(), whose vfio_pci_core_register_device() puts
// the device in its VFIO group (creating /dev/vfio/GROUP with the group's first device). Its
// SR-IOV side and remove are sriov.ts.

import type { Era } from '../era.js';
import type { KDevice } from '../iommu/core.js';
import { PciMsi } from '../irq/pci-msi.js';
import type { PciDriver } from '../pci/pci-driver.js';
import type { VfioCore } from '../vfio/device.js';
import { VfioDevice, VfioGroup } from '../vfio/group.js';
import type { IrqBypass } from '../vfio/irq-bypass.js';
import { vfioPciSriovOps, type VfioPciSriovHost } from './sriov.js';
import { createVfioPciDevice } from './vfio-pci.js';

/** vfio_pci_driver.name. */
const VFIO_PCI_NAME = 'vfio-pci';

/** What vfio-pci's probe needs from the kernel, beyond its SR-IOV side's. */
export interface VfioPciDriverHost extends VfioPciSriovHost {
  era: Era;
  /** The VFIO core the device registers with (its groups are created over it). */
  vfioCore: VfioCore;
  /** Per-device MSI state, keyed by BDF: the probe creates the device's. */
  msi: Map<string, PciMsi>;
  /** PAGE_SIZE. */
  pageSize: bigint;
  /** virt/lib/irqbypass.c's producer list. */
  irqBypass: IrqBypass;
  /**
   * The function's interrupts and DMA reach the kernel from now on: the handlers vfio-pci
   * requests, and its bus mastering through the IOMMU.
   */
  connect(dev: KDevice): void;
  /** pci_enable_device()'s INTx routing on the platform (pcibios_enable_irq). */
  routeIntx(bdf: string): void;
  /** ida_alloc_max(&vfio.device_ida): the new device's index. */
  vfioDeviceIndex(): number;
}

/** vfio-pci's struct pci_driver over the kernel's state. */
export function vfioPciDriver(host: VfioPciDriverHost): PciDriver {
  const { era, log } = host;
  return {
    ...vfioPciSriovOps(host, VFIO_PCI_NAME),
    name: VFIO_PCI_NAME,
    // vfio_pci_table: PCI_DRIVER_OVERRIDE_DEVICE_VFIO entries only (its ids= parameter and
    // new_id are not modelled).
    matchesId: () => false,
    driverManagedDma: true,
    registersVfioDevice: true,
    // vfio_pci_probe() → vfio_pci_core_register_device() → vfio_register_group_dev().
    probe: (dev) => {
      let group = host.vfioGroups.get(dev.group.id);
      if (!group) {
        group = new VfioGroup(dev.group, host.vfioCore);
        host.vfioGroups.set(dev.group.id, group);
      }
      const irq = new PciMsi(dev, era.msiMapping, era.msiCookieMapAt, era.msiWindowMissing, { log, line: era.mapMsiMsgWarnLine, form: era.warnForm });
      host.msi.set(dev.bdf, irq);
      host.connect(dev);
      const ops = createVfioPciDevice({ era, log, irq, pageSize: host.pageSize, irqBypass: host.irqBypass, irqEnable: () => host.routeIntx(dev.bdf) }, dev.hw);
      group.devices.push(new VfioDevice(ops, group, dev, host.vfioDeviceIndex()));
      return 0;
    },
  };
}
