// The interrupt core as a PCI driver sees it (pci_alloc_irq_vectors(), pci_free_irq_vectors()
// and friends in drivers/pci/msi/): the kinds of PCI interrupt and what a driver may ask of
// them for one device. kernel/irq/pci-msi.ts implements it; vfio-pci (kernel/vfio-pci/intrs.ts)
// uses it.

import type { EventFd } from '../eventfd.js';

export type IrqKind = 'intx' | 'msi' | 'msix';

/**
 * What a PCI driver (vfio-pci) asks of the interrupt core for one device:
 * pci_alloc_irq_vectors() and friends. The interrupt path (message composition, doorbell
 * mapping, delivery) lives behind this interface, so the driver does not know which MSI
 * controller it talks to.
 */
export interface PciIrqOps {
  /** pci_msix_can_alloc_dyn(): the device's MSI domain can add MSI-X vectors while enabled. */
  canAllocDynamicMsix(): boolean;
  /**
   * Enables `kind` with `nvec` vectors (INTx: 1). 0, -errno, or a positive count of the
   * vectors that could be had (MSI without multi-MSI support: 1), with nothing enabled.
   */
  enable(kind: IrqKind, nvec: number): number;
  /** Adds one MSI-X vector while MSI-X is enabled (dynamic MSI-X). 0 or -errno. */
  addVector(kind: IrqKind, vector: number): number;
  disable(kind: IrqKind): void;
  /**
   * Routes vector `vector` of `kind` to `trigger` (null: no eventfd): request_irq() with the
   * eventfd-signalling handler, or free_irq(). For MSI-X this unmasks (masks) the vector's
   * table entry, as irq_startup()/irq_shutdown() do through pci_msi_unmask_irq().
   */
  setTrigger(kind: IrqKind, vector: number, trigger: EventFd | null): void;
  /**
   * request_irq()/free_irq() on the INTx line: the handler an asserted line runs (null: none).
   * The line is level-triggered, so requesting it while asserted runs the handler at once.
   */
  requestIntx(handler: (() => void) | null): void;
  /** disable_irq_nosync(): an asserted line no longer runs the handler. */
  disableIntx(): void;
  /** enable_irq(): a line still asserted runs the handler again. */
  enableIntx(): void;
  /**
   * pci_restore_msi_state()'s message half, after a reset cleared the device: every enabled
   * vector's message written again, MSI-X entries unmasked where a handler is requested.
   */
  restoreMessages(): void;
}
