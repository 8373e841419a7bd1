// Inbound transactions from a device: DMA reads and writes, and MSI writes, as they cross the
// device's IOMMU. A write either lands (in memory, or at an MSI doorbell) or raises a fault
// record in the IOMMU's own terms. The x86 interrupt window is decoded before translation.

import type { IommuFault, IommuProt } from '../../hw/iommu/iommu.js';
import type { IommuDomain, KDevice } from './core.js';

export type Translation =
  | { ok: true; pa: bigint; translated: boolean }
  | { ok: false; fault: IommuFault };

/** The domain a device's transactions are translated by: its group's VFIO domain, if attached. */
export function deviceDomain(dev: KDevice): IommuDomain | undefined {
  return dev.group.domain;
}

/**
 * Translates one access of `len` bytes at `iova`. Without a VFIO domain the group sits in its
 * default (kernel DMA API) domain, which maps nothing a user chose: every access faults.
 */
export function translate(dev: KDevice, iova: bigint, len: bigint, write: boolean): Translation {
  const domain = deviceDomain(dev);
  let first: bigint | undefined;
  for (let a = iova; a < iova + len; a = (a | 0xfffn) + 1n) {
    const t = domain?.hw.translate(a);
    if (!t) return { ok: false, fault: reported(dev, dev.iommu.fault(dev.bdf, a, write, 'translation')) };
    if (!allowed(t.prot, write)) return { ok: false, fault: reported(dev, dev.iommu.fault(dev.bdf, a, write, 'permission')) };
    first ??= t.pa;
  }
  return { ok: true, pa: first ?? 0n, translated: true };
}

function allowed(p: IommuProt, write: boolean): boolean {
  return write ? p.write : p.read;
}

/**
 * The fault record as the log shows it. A record the IOMMU driver prints against the faulting
 * device (pci_err(), as amd_iommu_report_page_fault() does) gets dev_printk's prefix: the
 * bound driver's name and the device's. The model names vfio-pci, the driver of every device
 * whose DMA a scenario drives.
 */
function reported(dev: KDevice, f: IommuFault): IommuFault {
  if (!f.devicePrefix) return f;
  const { devicePrefix: _printed, ...record } = f;
  return { ...record, text: `vfio-pci ${dev.bdf}: ${f.text}` };
}
