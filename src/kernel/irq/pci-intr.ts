// The interrupt path from a PCI function to the handlers the kernel requested for it: the
// sink the kernel connects to the function at bind (PciDeviceModel.connectInterrupts).
//
// INTx: the pin's level goes to the device's interrupt core (PciMsi.intxLine), which runs
// the requested handler (vfio_intx_handler) while the line is asserted and enabled.
// MSI/MSI-X: the function's message write crosses the IOMMU like any DMA write
// (dma-path.ts msiWrite) and reaches an MSI controller, which names the device and vector
// whose interrupt it raises; that vector's handler (vfio_msihandler) signals its eventfd.
// Each write is recorded in the kernel's inbound log with where it ended.

import type { PciInterruptSink } from '../../hw/pci/device.js';
import type { KDevice } from '../iommu/core.js';
import { msiWrite, type InboundLog } from '../iommu/dma-path.js';
import type { PciMsi } from './pci-msi.js';

export class PciInterruptRouter {
  constructor(
    /** The interrupt core of each device bound to a driver that enabled interrupts. */
    private readonly irqs: ReadonlyMap<string, PciMsi>,
    private readonly inbound: InboundLog,
  ) {}

  /** The sink for `dev`'s interrupts. */
  sinkFor(dev: KDevice): PciInterruptSink {
    return {
      intx: (level) => this.irqs.get(dev.bdf)?.intxLine(level),
      msi: (kind, vector, addr, data) => this.messageWrite(dev, kind, vector, addr, data),
    };
  }

  private messageWrite(dev: KDevice, kind: 'msi' | 'msix', vector: number, addr: bigint, data: number): void {
    const what = { bdf: dev.bdf, kind, vector, addr, data };
    const r = msiWrite(dev, addr, data);
    if (r.result !== 'raised') {
      this.inbound.add({ what: 'msi', ...what, ...r });
      return;
    }
    // The doorbell names the interrupt (it may be another device's, when a message is forged).
    const v = this.irqs.get(r.target.bdf)?.vectors.find((x) => x.index === r.target.vector && x.kind !== 'intx');
    const trigger = v?.trigger ?? null;
    this.inbound.add({ what: 'msi', ...what, ...r, trigger });
    trigger?.signal();
  }
}
