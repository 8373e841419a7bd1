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
  private readonly vectors = new Map<number, { bdf: string; vector: number }>();

  constructor(readonly name: string) {}

  doorbells(): MsiDoorbell[] {
    return [];
  }

  compose(bdf: string, vector: number): MsiMessage {
    let v = [...this.vectors].find(([, x]) => x.bdf === bdf && x.vector === vector)?.[0];
    if (v === undefined) {
      v = FIRST_VECTOR + this.vectors.size;
      this.vectors.set(v, { bdf, vector });
    }
    return { addr: MSI_WINDOW, data: v };
  }

  receive(pa: bigint, data: number): { bdf: string; vector: number } | { miss: string } {
    if (pa < MSI_WINDOW || pa >= MSI_WINDOW + 0x10_0000n) return { miss: `${hex(pa)} is outside the APIC window` };
    return this.vectors.get(data & 0xff) ?? { miss: `vector ${hex(data & 0xff)} is not allocated` };
  }

  describe(): string {
    return `${this.name}: x86 APIC MSI window ${hex(MSI_WINDOW)}-0xfeefffff (not translated; isolation only through interrupt remapping)`;
  }
}
