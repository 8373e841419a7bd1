// x86 MSIs: writes to the 0xfee00000–0xfeefffff window go to the local APICs and bypass DMA
// translation. Without interrupt remapping the message itself names the destination and
// vector, so any device can raise any vector: isolation comes only from the IOMMU's
// interrupt remapping (IOMMU_CAP_INTR_REMAP), never from the APIC. Nothing is registered
// with the series' msi-doorbell layer. The x86 vector domain supports dynamic MSI-X.

import { hex } from '../../lib/hex.js';
import type { MsiController, MsiDoorbell, MsiMessage } from './msi-controller.js';

const MSI_WINDOW = 0xfee0_0000n;
const FIRST_VECTOR = 0x21;

export class X86Apic implements MsiController {
  readonly model = 'x86 local APIC MSI window';
  readonly isolating = false;
  readonly registersDoorbells = false;
  readonly dynamicMsix = true;
  /**
   * x86_vector_domain's MSI info has no MSI_FLAG_MULTI_PCI_MSI (it cannot promise contiguous
   * vectors); the interrupt-remapping domain (pci_msi_ir_domain_info) has it, and its blocks
   * come from allocMultiMsi.
   */
  readonly multiPciMsi = false;
  private readonly vectors = new Map<number, { bdf: string; vector: number }>();
  /** The next vector a single allocation takes. */
  private next = FIRST_VECTOR;

  constructor(readonly name: string) {}

  doorbells(): MsiDoorbell[] {
    return [];
  }

  compose(bdf: string, vector: number): MsiMessage {
    let v = [...this.vectors].find(([, x]) => x.bdf === bdf && x.vector === vector)?.[0];
    if (v === undefined) {
      v = this.next++;
      this.vectors.set(v, { bdf, vector });
    }
    return { addr: MSI_WINDOW, data: v };
  }

  /**
   * A block of `nvec` entries aligned to nvec, as intel_irq_remapping_alloc()/alloc_irte()
   * (bitmap_find_free_region with order ilog2(nvec)) and amd_ir's alloc_irq_index() give a
   * multi-MSI device. The model keeps the message in APIC form, so the block is of vectors.
   */
  allocMultiMsi(bdf: string, nvec: number): void {
    const mine = [...this.vectors].filter(([, x]) => x.bdf === bdf && x.vector < nvec).sort((a, b) => a[0] - b[0]);
    const base = mine[0]?.[0];
    if (base !== undefined && base % nvec === 0 && mine.length === nvec && mine.every(([v, x]) => v === base + x.vector)) return;
    for (const [v] of mine) this.vectors.delete(v);
    const start = Math.ceil(this.next / nvec) * nvec;
    for (let i = 0; i < nvec; i++) this.vectors.set(start + i, { bdf, vector: i });
    this.next = start + nvec;
  }

  receive(pa: bigint, data: number): { bdf: string; vector: number } | { miss: string } {
    if (pa < MSI_WINDOW || pa >= MSI_WINDOW + 0x10_0000n) return { miss: `${hex(pa)} is outside the APIC window` };
    return this.vectors.get(data & 0xff) ?? { miss: `vector ${hex(data & 0xff)} is not allocated` };
  }

  describe(): string {
    return `${this.name}: x86 APIC MSI window ${hex(MSI_WINDOW)}-0xfeefffff (not translated; isolation only through interrupt remapping)`;
  }
}
