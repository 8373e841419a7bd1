// Where a PCI function's directory sits in sysfs. device_add() places a function under its
// parent device: a function on a root bus under the host bridge's "pci%04x:%02x" (domain, root
// bus number; pci_register_host_bridge), a function on a secondary bus under the bridge whose
// subordinate bus it is (pci_add_new_bus, with the bridge as the bus's parent). So the directory
// is /sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0 for a function below a root port, and
// every link into or out of it (/sys/bus/pci/devices/BDF, its iommu_group and driver links, an
// IOMMU group's devices/BDF) is relative to that depth.
//
// The platform names the bridges above its secondary buses (Platform.pciBridges); a bus with
// no bridge named is a root bus. A VF sits on its PF's bus (the modelled VF offsets and strides
// keep VFs on the PF's bus number), so the same rule places it beside its PF, as sysfs does.

import type { PciBridge } from '../../hw/platform.js';
import { parseBdf } from '../../hw/iommu/pci-rid.js';

/** The path of `bdf`'s directory below /sys/devices ("pci0000:00/0000:00:1c.0/0000:01:00.0"). */
export function pciSysfsPath(bdf: string, bridges: readonly PciBridge[]): string {
  const chain = [bdf];
  const seen = new Set<string>([bdf]);
  let at = bdf;
  for (;;) {
    const b = parseBdf(at);
    const domain = at.slice(0, 4);
    const up = b && bridges.find((br) => br.bdf.slice(0, 4) === domain && br.secondaryBus === b.bus);
    if (!b || !up || seen.has(up.bdf)) return [`pci${domain}:${hex2(b?.bus ?? 0)}`, ...chain].join('/');
    chain.unshift(up.bdf);
    seen.add(up.bdf);
    at = up.bdf;
  }
}

/** The "../" that lead from `bdf`'s directory up to /sys (one per level below it). */
export function sysfsUpFromDevice(bdf: string, bridges: readonly PciBridge[]): string {
  return '../'.repeat(1 + pciSysfsPath(bdf, bridges).split('/').length);
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
