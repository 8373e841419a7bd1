// The posted series' msi-doorbell registry (kernel/irq/msi-doorbell.c, v10–v14): MSI
// controllers register their doorbells at probe with address, size, per-CPU or global, and
// whether they isolate MSIs ("irq_remapping"). VFIO reads it twice: to size the IOVA window
// the user must register (msi_doorbell_calc_pages → MSI_GEOMETRY size / MSI_RESV size), and
// to decide safety (msi_doorbell_safe: no unsafe doorbell registered; the rule is a predicate
// over the attach facts, irq/isolation.ts).

import type { MsiController, MsiDoorbell } from '../../hw/msi/msi-controller.js';

export interface DoorbellRegistration extends MsiDoorbell {
  owner: MsiController;
}

export class MsiDoorbellRegistry {
  readonly doorbells: DoorbellRegistration[] = [];

  constructor(private readonly possibleCpus: number) {}

  /** msi_doorbell_register_global() for each doorbell a controller exposes. */
  register(ctrl: MsiController): void {
    for (const d of ctrl.doorbells()) this.doorbells.push(Object.assign({}, d, { owner: ctrl })); // not `{ ...d, owner }` (hw/pci/device.ts setup)
  }

  /** Unsafe doorbells registered (v11+'s nb_unsafe_doorbells). */
  get unsafeCount(): number {
    return this.doorbells.filter((d) => !d.isolating).length;
  }

  /**
   * msi_doorbell_calc_pages(order): IOVA pages of 2^order bytes needed to map every doorbell:
   * per doorbell ALIGN(size + (addr & (2^order - 1)), 2^order) >> order, times the possible
   * CPUs for per-CPU doorbells.
   */
  calcPages(order: number): bigint {
    const granule = 1n << BigInt(order);
    let pages = 0n;
    for (const d of this.doorbells) {
      const span = d.size + (d.base & (granule - 1n));
      const n = (span + granule - 1n) / granule;
      pages += d.perCpu ? n * BigInt(this.possibleCpus) : n;
    }
    return pages;
  }
}
