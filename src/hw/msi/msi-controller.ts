// What an MSI controller model offers the kernel model: its doorbells and whether its irq
// domain isolates MSIs, and the two hardware halves of an MSI: composing the message a
// device is programmed with, and recognising a write that reaches a doorbell.

export interface MsiDoorbell {
  /** The physical address the controller registers (the series' msi_doorbell_register_global). */
  base: bigint;
  /** Bytes registered (4 for a single 32-bit doorbell register). */
  size: bigint;
  /** One doorbell per CPU (summed over possible CPUs in msi_doorbell_calc_pages). */
  perCpu: boolean;
  /** The controller tells devices apart (IRQ remapping / ITS translation): MSIs are isolated. */
  isolating: boolean;
}

export interface MsiMessage {
  /** Physical doorbell address the device must write. */
  addr: bigint;
  data: number;
}

export interface MsiController {
  readonly name: string;
  readonly model: string;
  /**
   * Its irq domain isolates MSIs per device: IRQ_DOMAIN_FLAG_MSI_REMAP (4.11–6.2) /
   * IRQ_DOMAIN_FLAG_ISOLATED_MSI (6.3+); the series' "irq_remapping" doorbell property.
   */
  readonly isolating: boolean;
  /**
   * Whether the kernel's irq domain for it says so (IRQ_DOMAIN_FLAG_MSI_REMAP /
   * ISOLATED_MSI), which is what type1's rules read. Absent: the same as `isolating`. The two
   * differ where hardware isolates without the flag (PowerNV's PHB binds MSIs to PEs).
   */
  readonly irqDomainIsolated?: boolean;
  /** Whether the series' drivers registered their doorbells (x86 has nothing to register). */
  readonly registersDoorbells: boolean;
  /** The controller's MSI domain can add MSI-X vectors to an enabled device (MSI_FLAG_PCI_MSIX_ALLOC_DYN). */
  readonly dynamicMsix: boolean;
  /**
   * Its PCI MSI domain sets MSI_FLAG_MULTI_PCI_MSI: an MSI capability may be given more than
   * one vector. Without it the PCI core offers one (pci_msi_domain_check_cap returns 1;
   * 6.2+ msi_capability_init rejects multi-MSI early the same way).
   */
  readonly multiPciMsi: boolean;
  /**
   * Allocates the hwirqs of MSI vectors 0..nvec-1 (nvec a power of two) as one block aligned
   * to nvec, so that vector N's write (vector 0's data with N in its low bits) names vector
   * N. Absent where the data already starts at 0 per device (the ITS's EventIDs).
   */
  allocMultiMsi?(bdf: string, nvec: number): void;
  doorbells(): MsiDoorbell[];
  /** The message for hwirq `vector` of a device (bdf), as the irqchip's compose_msi_msg writes it. */
  compose(bdf: string, vector: number): MsiMessage;
  /**
   * A write of `data` reached physical address `pa`: which device/vector's interrupt it
   * raises, or why nothing happened.
   */
  receive(pa: bigint, data: number, requester: string): { bdf: string; vector: number } | { miss: string };
  /** How `show doorbells` and verdicts describe the controller. */
  describe(): string;
}
