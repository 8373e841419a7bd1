// A Freescale MPIC MSI bank (arch/powerpc/sysdev/fsl_msi.c). A device raises an MSI by writing
// the interrupt number (the hwirq) to the bank's MSI index register; the MPIC sets that bit in
// one of the bank's MSIR registers and raises the bank's cascade interrupt.
//
// - Where MSIIR is: fsl_of_msi_probe() takes the second "reg" of the node when there is one
//   (MSIIR, or MSIIR1 on MPIC v4.3), else the bank base + mpic_msi_feature.msiir_offset (0x140).
//   The T4240's qoriq-mpic4.3.dtsi gives msi0 reg = <0x41600 0x200 0x44148 4>: MSIIR1 at CCSR
//   offset 0x44148, not at bank + 0x140.
// - The interrupt number: msi_hwirq() = msir_index << srs_shift | intr_index << ibs_shift;
//   MSIIR: srs_shift 5, ibs_shift 0 (8 MSIRs of 32); MSIIR1 (v4.3): srs_shift 0, ibs_shift 4
//   (16 MSIRs of 32). fsl_setup_msi_irqs() takes the lowest free hwirq of the bitmap
//   (msi_bitmap_alloc_hwirqs) and fsl_compose_msi_msg() writes it as the message data
//   (byte-swapped only with MPIC 2.0's erratum PIC1, which a v4.3 bank does not have).
// - The address a host kernel programs is the PCIe-side alias of MSIIR (fsl_pci_immrbar_base(),
//   the controller's PEXCSRBAR window onto CCSR, + the MSIIR offset). When the write must go
//   through a PAMU window, the window maps the CPU physical address of MSIIR: that is the
//   doorbell this model exposes and composes messages for.
// - Isolation: the bank is shared by every device that can reach it and the write carries only
//   the interrupt number; nothing tells devices apart, so it does NOT isolate MSIs. The irq
//   domain never had IRQ_DOMAIN_FLAG_MSI_REMAP / ISOLATED_MSI.
//
// registersDoorbells: the posted series (v10–v14) converted only GICv2m and the GICv3 ITS to
// msi_doorbell_register_global(); fsl_msi was never converted. THIS MODEL REGISTERS THE BANK
// ANYWAY (MSIIR, 4 bytes, irq_remapping = false), as the series' API would have had fsl_msi do
// it: Freescale was the series' named second user (Bharat Bhushan co-signed the reserved-IOVA
// patch), type1 driving PAMU is itself the model's extrapolation, and without a registration
// the series would size the MSI window at 0 bytes and count the bank as "safe"
// (msi_doorbell_safe() with no unsafe doorbell) — an answer about the unconverted driver, not
// about the hardware. The registration is the one extrapolated fact in this file.

import { hex } from '../../lib/hex.js';
import type { MsiController, MsiDoorbell, MsiMessage } from './msi-controller.js';

/** mpic_msi_feature.msiir_offset: MSIIR relative to the bank when the node has no second reg. */
export const MPIC_MSIIR_OFFSET = 0x140n;

const IRQS_PER_MSI_REG = 32;
/** NR_MSI_REG_MSIIR / NR_MSI_REG_MSIIR1. */
const NR_MSI_REG_MSIIR = 8;
const NR_MSI_REG_MSIIR1 = 16;

export interface FslMsiParams {
  name: string;
  /** The bank's register block (the node's first reg), e.g. CCSR + 0x41600. */
  base: bigint;
  /** MSIIR's physical address (the node's second reg); default base + 0x140. */
  msiir?: bigint;
  /** MPIC v4.3 "fsl,mpic-msi-v4.3": MSIIR1 layout (16 MSIRs, srs_shift 0, ibs_shift 4). */
  msiir1?: boolean;
}

export class FslMsi implements MsiController {
  readonly model = 'Freescale MPIC MSI bank';
  readonly isolating = false;
  readonly registersDoorbells = true;
  readonly dynamicMsix = false;
  /** powerpc's arch_setup_msi_irqs(): "PowerPC doesn't support multiple MSI yet" (returns 1). */
  readonly multiPciMsi = false;
  readonly name: string;
  readonly base: bigint;
  readonly msiir: bigint;
  readonly msiir1: boolean;
  private readonly srsShift: number;
  private readonly ibsShift: number;
  private readonly nrRegs: number;
  /** hwirq → (device, vector), allocated lowest first as messages are composed. */
  private readonly hwirqs = new Map<number, { bdf: string; vector: number }>();

  constructor(p: FslMsiParams) {
    this.name = p.name;
    this.base = p.base;
    this.msiir = p.msiir ?? p.base + MPIC_MSIIR_OFFSET;
    this.msiir1 = p.msiir1 ?? false;
    this.srsShift = this.msiir1 ? 0 : 5;
    this.ibsShift = this.msiir1 ? 4 : 0;
    this.nrRegs = this.msiir1 ? NR_MSI_REG_MSIIR1 : NR_MSI_REG_MSIIR;
  }

  /** msi_hwirq(). */
  hwirq(msirIndex: number, intrIndex: number): number {
    return (msirIndex << this.srsShift) | (intrIndex << this.ibsShift);
  }

  /** How many hwirqs the bank has (every MSIR with its cascade interrupt). */
  get hwirqCount(): number {
    return this.nrRegs * IRQS_PER_MSI_REG;
  }

  doorbells(): MsiDoorbell[] {
    return [{ base: this.msiir, size: 4n, perCpu: false, isolating: false }];
  }

  compose(bdf: string, vector: number): MsiMessage {
    let irq = [...this.hwirqs].find(([, v]) => v.bdf === bdf && v.vector === vector)?.[0];
    if (irq === undefined) {
      // msi_bitmap_alloc_hwirqs(bitmap, 1): the lowest free hwirq.
      irq = 0;
      while (this.hwirqs.has(irq) && irq < this.hwirqCount - 1) irq++;
      this.hwirqs.set(irq, { bdf, vector });
    }
    return { addr: this.msiir, data: irq };
  }

  receive(pa: bigint, data: number): { bdf: string; vector: number } | { miss: string } {
    if (pa !== this.msiir) return { miss: `${hex(pa)} is not the ${this.msiir1 ? 'MSIIR1' : 'MSIIR'} of ${this.name} (${hex(this.msiir)})` };
    // Whoever writes an interrupt number raises it: the requester is not checked.
    return this.hwirqs.get(data) ?? { miss: `hwirq ${hex(data)} is not allocated` };
  }

  describe(): string {
    return `${this.name}: Freescale MPIC MSI bank at ${hex(this.base)}, doorbell ${this.msiir1 ? 'MSIIR1' : 'MSIIR'} ${hex(this.msiir)} (shared by all devices: does not isolate MSIs)`;
  }
}
