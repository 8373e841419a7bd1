// GICv2m: an MMIO-to-SPI bridge. A write of an SPI number to MSI_SETSPI_NS (frame + 0x40)
// raises that SPI. Any device that can write the frame can raise any SPI of the frame, so the
// doorbell does not isolate MSIs (irq-gic-v2m.c registers it with irq_remapping = false, and
// never sets IRQ_DOMAIN_FLAG_MSI_REMAP).

import { hex } from '../../lib/hex.js';
import type { MsiController, MsiDoorbell, MsiMessage } from './msi-controller.js';

const V2M_MSI_SETSPI_NS = 0x40n;

export interface GicV2mParams {
  name: string;
  /** Frame base (QEMU virt: 0x08020000). */
  base: bigint;
  /** First SPI of the frame and how many (QEMU virt: 64 SPIs from 80). */
  spiBase?: number;
  spiCount?: number;
}

export class GicV2m implements MsiController {
  readonly model = 'GICv2m';
  readonly isolating = false;
  readonly registersDoorbells = true;
  readonly dynamicMsix = false;
  /**
   * gicv2m_msi_domain_info sets MSI_FLAG_MULTI_PCI_MSI, and gicv2m_irq_domain_alloc() takes
   * an aligned region of the frame's SPIs. Early drivers (before ~4.15 [U]) lacked the flag;
   * that era difference is not modelled.
   */
  readonly multiPciMsi = true;
  readonly name: string;
  private readonly base: bigint;
  private readonly spiBase: number;
  private readonly spiCount: number;
  /** SPI → (device, vector), allocated as devices compose messages. */
  private readonly spis = new Map<number, { bdf: string; vector: number }>();

  constructor(p: GicV2mParams) {
    this.name = p.name;
    this.base = p.base;
    this.spiBase = p.spiBase ?? 80;
    this.spiCount = p.spiCount ?? 64;
  }

  doorbells(): MsiDoorbell[] {
    // The series registered the frame base with size 4 (irq-gic-v2m.c, v10+).
    return [{ base: this.base, size: 4n, perCpu: false, isolating: false }];
  }

  compose(bdf: string, vector: number): MsiMessage {
    let spi = [...this.spis].find(([, v]) => v.bdf === bdf && v.vector === vector)?.[0];
    if (spi === undefined) {
      spi = this.spiBase + this.spis.size;
      if (spi >= this.spiBase + this.spiCount) spi = this.spiBase + this.spiCount - 1;
      this.spis.set(spi, { bdf, vector });
    }
    return { addr: this.base + V2M_MSI_SETSPI_NS, data: spi };
  }

  /** bitmap_find_free_region(v2m->bm, nr_spis, get_count_order(nvec)): an aligned block of SPIs. */
  allocMultiMsi(bdf: string, nvec: number): void {
    for (const [spi, x] of [...this.spis]) if (x.bdf === bdf && x.vector < nvec) this.spis.delete(spi);
    for (let off = 0; off + nvec <= this.spiCount; off += nvec) {
      const free = Array.from({ length: nvec }, (_, i) => this.spiBase + off + i).every((s) => !this.spis.has(s));
      if (!free) continue;
      for (let i = 0; i < nvec; i++) this.spis.set(this.spiBase + off + i, { bdf, vector: i });
      return;
    }
  }

  receive(pa: bigint, data: number): { bdf: string; vector: number } | { miss: string } {
    if (pa !== this.base + V2M_MSI_SETSPI_NS) return { miss: `${hex(pa)} is not the MSI_SETSPI_NS of ${this.name}` };
    const hit = this.spis.get(data);
    // Whoever writes the SPI number raises it: the requester is not checked.
    return hit ?? { miss: `SPI ${data} is not allocated` };
  }

  describe(): string {
    return `${this.name}: GICv2m frame at ${hex(this.base)}, doorbell MSI_SETSPI_NS ${hex(this.base + V2M_MSI_SETSPI_NS)} (does not isolate MSIs)`;
  }
}
