// The MSI logic of an IBM PHB3 (IODA2): MSIs are DMA writes into the PHB's MSI windows
// (0xFFFF0000 for 32-bit messages, 1 << 60 for 64-bit ones), decoded by the PHB itself before
// any TCE translation. Address and data together name an IVE (interrupt vector entry) of the
// PHB's IVT; skiboot's phb3_get_msi_64() composes them as
//   address = (1 << 60) | ((ive << 4) & ~0x1f0),  data = ive & 0x1f.
//
// Isolation. When Linux sets up an MSI it binds the IVE to the device's PE:
// pnv_pci_ioda_msi_setup() calls opal_pci_set_xive_pe(phb, pe->pe_number, xive_num), which
// writes the PE# into the IVE. The PHB maps the requester id of every inbound MSI to its PE
// (the same RTT lookup DMA uses) and raises the interrupt only if that PE matches the IVE's
// PE#; a mismatch is a PHB error, not an interrupt. (This is the IODA2 design the PE# field
// of the IVE exists for; the model's reading of it, not a measurement.) So a device can only raise interrupts of
// its own PE, which on PowerNV is its IOMMU group: MSIs are isolated per group by the hardware,
// with no interrupt remapping in an IOMMU. That is the premise of the seed (003): the IODA
// host bridge isolates MSIs, so mmapping the MSI-X table is harmless, yet upstream never let
// the PHB report IOMMU_CAP_INTR_REMAP, and the PowerNV irq domain never set
// IRQ_DOMAIN_FLAG_MSI_REMAP / ISOLATED_MSI either. `isolating` here is the hardware fact;
// none of the kernel's type1 rules could see it (type1 is not built on PowerNV), and
// vfio_iommu_spapr_tce makes no interrupt-safety check at all.
//
// The Linux hwirq allocator (phb->msi_bmp) hands out IVE numbers from 0; the model does the
// same. Every message is 64-bit (both MSI-X and the ixgbe functions' 64-bit MSI capability).

import { peNumber } from '../iommu/ioda-phb.js';
import { hex } from '../../lib/hex.js';
import type { MsiController, MsiDoorbell, MsiMessage } from './msi-controller.js';

export const PHB3_MSI64_BASE = 1n << 60n;
export const PHB3_MSI32_BASE = 0xffff_0000n;
/** IVT_TABLE_ENTRIES. */
export const PHB3_IVT_ENTRIES = 2048;

export interface PhbMsiParams {
  name: string;
  /** The PHB's PCI domain number (for messages: PHB#1). */
  domain: number;
  /** PE number by bus, as the IOMMU model is given (ioda-phb.ts `pes`). */
  pes?: Record<string, number>;
}

interface Ive {
  bdf: string;
  vector: number;
  /** The PE# opal_pci_set_xive_pe() wrote. */
  pe: number;
}

export class PhbMsi implements MsiController {
  readonly model = 'PHB3 MSI (IODA2 IVT)';
  readonly isolating = true;
  /** PowerNV's irq domain never sets IRQ_DOMAIN_FLAG_MSI_REMAP / ISOLATED_MSI. */
  readonly irqDomainIsolated = false;
  readonly registersDoorbells = false;
  readonly dynamicMsix = false;
  /** powerpc's arch_setup_msi_irqs(): "PowerPC doesn't support multiple MSI yet" (returns 1). */
  readonly multiPciMsi = false;
  readonly name: string;
  private readonly domain: number;
  private readonly pes?: Record<string, number>;
  private readonly ives = new Map<number, Ive>();

  constructor(p: PhbMsiParams) {
    this.name = p.name;
    this.domain = p.domain;
    this.pes = p.pes;
  }

  doorbells(): MsiDoorbell[] {
    // Nothing registers with the posted series' doorbell layer on PowerNV.
    return [];
  }

  compose(bdf: string, vector: number): MsiMessage {
    let ive = [...this.ives].find(([, v]) => v.bdf === bdf && v.vector === vector)?.[0];
    if (ive === undefined) {
      ive = 0;
      while (this.ives.has(ive) && ive < PHB3_IVT_ENTRIES - 1) ive++;
      this.ives.set(ive, { bdf, vector, pe: peNumber(bdf, this.pes) });
    }
    // phb3_get_msi_64().
    return { addr: PHB3_MSI64_BASE | ((BigInt(ive) << 4n) & ~0x1f0n), data: ive & 0x1f };
  }

  receive(pa: bigint, data: number, requester: string): { bdf: string; vector: number } | { miss: string } {
    let ive: number;
    if (pa >= PHB3_MSI64_BASE && pa < PHB3_MSI64_BASE * 2n) {
      ive = (Number(((pa - PHB3_MSI64_BASE) >> 4n) & 0xffffn) & ~0x1f) | (data & 0x1f);
    } else if (pa >= PHB3_MSI32_BASE && pa <= 0xffff_ffffn) {
      ive = (Number(((pa - PHB3_MSI32_BASE) >> 4n) & 0xfffn) & ~0x1f) | (data & 0x1f);
    } else {
      return { miss: `${hex(pa)} is not in the MSI windows of ${this.name} (${hex(PHB3_MSI32_BASE)}, ${hex(PHB3_MSI64_BASE)})` };
    }
    const entry = this.ives.get(ive);
    if (!entry) return { miss: `IVE ${ive} is not set up` };
    const pe = peNumber(requester, this.pes);
    if (pe !== entry.pe) {
      return {
        miss: `PE check failed: the requester is in PE#${pe.toString(16)}, IVE ${ive} belongs to PE#${entry.pe.toString(16)} (the PHB rejects the MSI)`,
      };
    }
    return { bdf: entry.bdf, vector: entry.vector };
  }

  describe(): string {
    return `${this.name}: PHB#${this.domain.toString(16)} MSI windows ${hex(PHB3_MSI32_BASE)} (32-bit) and ${hex(PHB3_MSI64_BASE)} (64-bit), not translated; each IVE is bound to a PE and the PHB checks the requester's PE (isolates MSIs per PE)`;
  }
}
