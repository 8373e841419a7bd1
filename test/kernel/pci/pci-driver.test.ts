// The PCI bus's driver rules (src/kernel/pci/pci-driver.ts): pci_match_device() with and
// without driver_override, pci_dma_configure()'s -EBUSY for a DMA-API driver into a group a
// user owns (5.19, iommu_device_use_default_domain), and driver_register()'s -EBUSY for a
// name already registered. Devices are q35's, from a booted kernel.

import { describe, expect, it } from 'vitest';
import { boot } from '../../../src/machine/boot.js';
import { pciDmaConfigure, PciDriverRegistry, pciIds, pciMatchDevice, type PciDriver } from '../../../src/kernel/pci/pci-driver.js';
import { hostPciDriver } from '../../../src/kernel/drivers/host.js';
import { EBUSY } from '../../../src/uapi/errno.js';

const E1000E = '0000:00:02.0';
const device = (bdf = E1000E) => boot('6.1', 'qemu-q35-vtd').kernel.devices.get(bdf)!;
const driver = (name: string, managed = false): PciDriver => ({ name, matchesId: () => false, driverManagedDma: managed, probe: () => 0 });

describe('pci_match_device', () => {
  // without an override: the id table (here, the functions the driver took at boot)
  it('the id table', () => {
    const d = device();
    expect(pciMatchDevice(hostPciDriver('e1000e', new Set([E1000E])), d)).toBe(true);
    expect(pciMatchDevice(hostPciDriver('ahci', new Set(['0000:00:1f.2'])), d)).toBe(false);
  });

  // with one: the driver it names and no other, whatever the id tables say
  it('driver_override decides alone', () => {
    const d = device();
    d.driverOverride = 'ahci';
    expect(pciMatchDevice(hostPciDriver('e1000e', new Set([E1000E])), d)).toBe(false);
    expect(pciMatchDevice(driver('ahci'), d)).toBe(true);
  });

  // ixgbevf_pci_tbl by vendor:device
  it('an id table entry', () => {
    const d = device();
    expect(pciIds(d)).toBe('8086:10d3');
    expect(pciMatchDevice(hostPciDriver('ixgbevf'), d)).toBe(false);
  });
});

describe('pci_dma_configure', () => {
  const owned = () => {
    const d = device();
    d.group.owner = {};
    return d;
  };
  const era = (dmaOwnerClaim: boolean) => ({ dmaOwnerClaim });

  it('a DMA-API driver into a user-owned group: EBUSY from 5.19', () => {
    expect(pciDmaConfigure(era(true), driver('e1000e'), owned())).toBe(-EBUSY);
    expect(pciDmaConfigure(era(false), driver('e1000e'), owned())).toBe(0);
  });

  it('driver_managed_dma, or a group no user owns: 0', () => {
    expect(pciDmaConfigure(era(true), driver('vfio-pci', true), owned())).toBe(0);
    expect(pciDmaConfigure(era(true), driver('e1000e'), device())).toBe(0);
  });
});

describe('driver_register', () => {
  // a second driver of a name: -EBUSY, the first stays
  it('a name registered twice', () => {
    const reg = new PciDriverRegistry();
    const first = driver('e1000e');
    expect(reg.register(first)).toBe(0);
    expect(reg.register(driver('e1000e', true))).toBe(-EBUSY);
    expect(reg.get('e1000e')).toBe(first);
    expect(reg.names()).toEqual(['e1000e']);
  });
});
