// GICv3 ITS: devices write their EventID to GITS_TRANSLATER (ITS base + 0x10040); the ITS
// identifies the writer by its DeviceID (the PCI requester id as the bus presents it) and
// translates (DeviceID, EventID) to an LPI. A device cannot raise another device's LPI, so
// MSIs are isolated (irq-gic-v3-its.c sets IRQ_DOMAIN_FLAG_MSI_REMAP / ISOLATED_MSI; the
// series registered the doorbell with irq_remapping = true).

import { requesterId } from '../iommu/pci-rid.js';
import { hex } from '../../lib/hex.js';
import type { MsiController, MsiDoorbell, MsiMessage } from './msi-controller.js';

export const GITS_TRANSLATER = 0x10040n;

export interface GicV3ItsParams {
  name: string;
  /** ITS base (QEMU virt: 0x08080000). */
  base: bigint;
}

export class GicV3Its implements MsiController {
  readonly model = 'GICv3 ITS';
  readonly isolating = true;
  readonly registersDoorbells = true;
  readonly dynamicMsix = false;
  /**
   * its_pci_msi_domain_info sets MSI_FLAG_MULTI_PCI_MSI; a device's EventIDs are allocated
   * from 0 in aligned blocks (its_alloc_device_irq), so vector N is EventID N. Early drivers
   * (before ~4.15 [U]) lacked the flag; that era difference is not modelled.
   */
  readonly multiPciMsi = true;
  readonly name: string;
  private readonly base: bigint;

  constructor(p: GicV3ItsParams) {
    this.name = p.name;
    this.base = p.base;
  }

  doorbells(): MsiDoorbell[] {
    return [{ base: this.base + GITS_TRANSLATER, size: 4n, perCpu: false, isolating: true }];
  }

  compose(_bdf: string, vector: number): MsiMessage {
    return { addr: this.base + GITS_TRANSLATER, data: vector };
  }

  receive(pa: bigint, data: number, requester: string): { bdf: string; vector: number } | { miss: string } {
    if (pa !== this.base + GITS_TRANSLATER) return { miss: `${hex(pa)} is not the GITS_TRANSLATER of ${this.name}` };
    // The DeviceID comes from the bus, not from the message: the writer is who it is.
    return { bdf: requester, vector: data };
  }

  describe(): string {
    return `${this.name}: GICv3 ITS at ${hex(this.base)}, doorbell GITS_TRANSLATER ${hex(this.base + GITS_TRANSLATER)} (isolates MSIs by DeviceID)`;
  }

  /** DeviceID as the ITS sees a PCI requester. */
  deviceId(bdf: string): number {
    return requesterId(bdf);
  }
}
