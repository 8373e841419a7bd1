// vfio-pci's SR-IOV side (drivers/vfio/pci/vfio_pci_core.c, vfio_pci.c): its sriov_configure,
// the bus notifier that captures a PF's new VFs, and what removing a VF it drives does.
//
//   vfio_pci_sriov_configure (5.7+) -ENOENT, silently, unless vfio_pci.enable_sriov=Y; VFs
//                            added under a vfio-pci PF get driver_override vfio-pci
//                            (vfio_pci_bus_notifier: "Captured SR-IOV VF %s driver_override").
//                            The same notifier warns when such a VF is bound to another driver
//                            (BUS_NOTIFY_BOUND_DRIVER; the line's end changed in 5.15).
//                            vfio_pci_remove → pci_disable_sriov. Before 5.7 vfio-pci has no
//                            SR-IOV side at all.
//   vfio_pci_remove          vfio_del_group_dev (vfio_unregister_group_dev in later kernels):
//                            the device leaves its VFIO group, and the group goes when it has
//                            no device and its file is closed. While a user holds the device
//                            open, it waits for the release (Blocked: vf-release).
//
// The VF token rules themselves: vf-token.ts.

import { ENOENT } from '../../uapi/errno.js';
import { vfTokenRemove } from './vf-token.js';
import type { Era } from '../era.js';
import type { KDevice } from '../iommu/core.js';
import type { KernelLog } from '../log.js';
import type { PciDriverSriovOps, PciSriov, SriovPfApi } from '../pci/iov.js';
import type { VfioGroup } from '../vfio/group.js';
import type { Blocked } from '../would-block.js';

const VFIO_PCI_ENABLE_SRIOV = 'vfio_pci.enable_sriov';

/** What vfio-pci's SR-IOV side needs from the kernel. */
export interface VfioPciSriovHost {
  era: Pick<Era, 'vfioPciSriovConfigure' | 'vfioPciVfBoundLine'>;
  log: KernelLog;
  /** Module parameters (vfio_pci.enable_sriov). */
  params: { has(key: string): boolean; bool(key: string): boolean };
  /** VFIO groups by number: a device vfio-pci drives is registered in its group's. */
  vfioGroups: Map<number, VfioGroup>;
  /** Per-device MSI state the kernel keeps for vfio-pci devices; a removed device's entry goes. */
  msi: { delete(bdf: string): boolean };
}

/** vfio-pci (registered as `name`) as the PCI core's SR-IOV sees it, in this era. */
export function vfioPciSriovOps(host: VfioPciSriovHost, name: string): PciDriverSriovOps {
  /** The VFIO device registered for `dev`, if any. */
  const vfioDevice = (dev: KDevice) => host.vfioGroups.get(dev.group.id)?.devices.find((d) => d.ops.name === dev.bdf);

  const common: PciDriverSriovOps = {
    removeWaits: (dev): Blocked | undefined => {
      const vd = vfioDevice(dev);
      return vd && vd.openCount > 0 ? { waits: 'vf-release', device: dev.bdf } : undefined;
    },
    remove: (dev) => {
      // vfio_del_group_dev() for a device nobody holds open: it leaves its VFIO group; the
      // group goes when it has no device and its file is closed.
      host.msi.delete(dev.bdf);
      vfTokenRemove(dev.hw);
      const vg = host.vfioGroups.get(dev.group.id);
      if (!vg) return;
      const at = vg.devices.findIndex((d) => d.ops.name === dev.bdf);
      if (at >= 0) vg.devices.splice(at, 1);
      if (vg.devices.length === 0 && !vg.file) host.vfioGroups.delete(dev.group.id);
    },
  };
  if (!host.era.vfioPciSriovConfigure) return common;

  /** vfio_pci_sriov_configure() → vfio_pci_core_sriov_configure(). */
  const sriovConfigure = (pci: SriovPfApi, s: PciSriov, n: number): number | Blocked => {
    if (!(host.params.has(VFIO_PCI_ENABLE_SRIOV) && host.params.bool(VFIO_PCI_ENABLE_SRIOV))) return -ENOENT;
    if (n === 0) return pci.disable(s);
    const ret = pci.enable(s, n);
    return ret < 0 ? ret : n;
  };
  // Object.assign, not `{ ...common, … }`: every boot builds this (hw/pci/device.ts setup).
  return Object.assign({}, common, {
    sriovConfigure,
    disablesVfsOnRemove: true,
    // vfio_pci_bus_notifier(): BUS_NOTIFY_ADD_DEVICE for a VF of a PF vfio-pci drives sets
    // the VF's driver_override to vfio_pci_driver.name; the bus's probe then binds it here.
    vfAdded: (pf, vf) => {
      vf.driverOverride = name;
      host.log.info(`${pf.driver} ${pf.bdf}: Captured SR-IOV VF ${vf.bdf} driver_override`);
    },
    // The same notifier on BUS_NOTIFY_BOUND_DRIVER: a VF of this PF bound to another driver.
    vfBound: (pf, vf) => {
      if (vf.driver === undefined || vf.driver === pf.driver) return;
      const pfSide = host.era.vfioPciVfBoundLine === 'pf-driver' ? `driver ${pf.driver}` : name;
      host.log.warn(`${pf.driver} ${pf.bdf}: VF ${vf.bdf} bound to driver ${vf.driver} while PF bound to ${pfSide}`);
    },
  } satisfies PciDriverSriovOps);
}
