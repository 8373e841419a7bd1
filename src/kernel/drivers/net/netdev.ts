// netdev_printk() for the modelled network drivers: "<driver> <bdf> <ifname>: text", with the
// interface name the modelled boards' distributions give a PCI network function.

import type { KDevice } from '../../iommu/core.js';
import type { KernelLog } from '../../log.js';
import { parseBdf } from '../../../hw/iommu/pci-rid.js';
import { PCI_HEADER_TYPE, PCI_HEADER_TYPE_MFD } from '../../../hw/pci/regs.js';

/**
 * systemd's path-based interface name for a PCI network function: en[P<domain>]p<bus>s<slot>,
 * with f<fn> for a function of a multi-function device.
 */
export function predictableNetdevName(bdf: string, multifunction: boolean): string {
  const p = parseBdf(bdf)!;
  return `en${p.domain ? `P${p.domain}` : ''}p${p.bus}s${p.dev}${multifunction || p.fn > 0 ? `f${p.fn}` : ''}`;
}

/** systemd's is_pci_multifunction(): header type bit 7 in the device's config space. */
function multifunction(d: KDevice): boolean {
  return (d.hw.config.read(PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MFD) !== 0;
}

/** netdev_info() on the interface of `d` (bound to its driver). */
export function netdevInfo(log: KernelLog, d: KDevice, text: string): void {
  log.info(`${d.driver} ${d.bdf} ${predictableNetdevName(d.bdf, multifunction(d))}: ${text}`);
}
