// The PCI MSI core for one device (pci_alloc_irq_vectors and the MSI domain beneath it), as
// vfio-pci reaches it through PciIrqOps.
//
// Enabling MSI/MSI-X composes each vector's message through the device's MSI controller. When
// the device's IOMMU translates MSI writes (ARM), the doorbell must also be mapped at an IOVA
// in the device's domain, and the message carries that IOVA instead of the doorbell's
// physical address. Who maps it is the era's choice:
// - 'sw-msi-cookie' (4.11+): dma-iommu's cookie in the SW_MSI region, a bump allocator, one
//   mapping per doorbell page kept for the domain's life (iommu_dma_get_msi_page);
// - 'user-window' (the series): msi-iommu's allocator inside the window the user registered,
//   refcounted per doorbell page; an exhausted window is -ENOMEM (abi.md §1.7);
// - 'none' (4.10): nothing; the message keeps the physical address and the write faults.
// On x86 the 0xfee00000 window bypasses translation, so nothing is mapped.

import type { MsiMapping } from '../era.js';
import { ENOMEM } from '../../uapi/errno.js';
import type { EventFd } from '../eventfd.js';
import type { IommuDomain, KDevice } from '../iommu/core.js';
import type { IrqKind, PciIrqOps } from './pci-irq.js';
import type { MsiMessage } from '../../hw/msi/msi-controller.js';
import { hex } from '../../lib/hex.js';

const PAGE = 0x1000n;

export interface MsiVector {
  kind: IrqKind;
  index: number;
  /** What the device is programmed to write (address possibly an IOVA). */
  msg: MsiMessage;
  /** The physical doorbell the message targets. */
  doorbell: bigint;
  /** How the doorbell became reachable, for `show doorbells`. */
  mapping: string;
  trigger: EventFd | null;
}

export class PciMsi implements PciIrqOps {
  /** Enabled vectors of the enabled kind. */
  readonly vectors: MsiVector[] = [];
  enabled?: IrqKind;

  constructor(
    private readonly dev: KDevice,
    private readonly msiMapping: MsiMapping,
    /** When the software-MSI cookie maps a doorbell (Era.msiCookieMapAt). */
    private readonly mapAt: 'compose' | 'prepare' = 'prepare',
  ) {}

  canAllocDynamicMsix(): boolean {
    return this.dev.msi.dynamicMsix;
  }

  enable(kind: IrqKind, nvec: number): number {
    this.disable(this.enabled ?? kind);
    this.enabled = kind;
    for (let i = 0; i < nvec; i++) {
      const ret = this.addVector(kind, i);
      if (ret) {
        this.disable(kind);
        return ret;
      }
    }
    return 0;
  }

  addVector(kind: IrqKind, index: number): number {
    if (kind === 'intx') {
      this.vectors.push({ kind, index, msg: { addr: 0n, data: 0 }, doorbell: 0n, mapping: 'INTx line', trigger: null });
      return 0;
    }
    const phys = this.dev.msi.compose(this.dev.bdf, index);
    const domain = this.dev.group.domain;
    let addr = phys.addr;
    let mapping = 'not translated (MSI window bypasses the IOMMU)';
    if (this.dev.iommu.msiTranslated && domain) {
      const r = this.mapDoorbell(domain, phys.addr);
      if (typeof r === 'number') return r;
      ({ addr, mapping } = r);
    } else if (this.dev.iommu.msiTranslated) {
      mapping = 'no IOMMU domain: the doorbell is reached untranslated';
    }
    this.vectors.push({ kind, index, msg: { addr, data: phys.data }, doorbell: phys.addr, mapping, trigger: null });
    return 0;
  }

  /** Gives the doorbell an IOVA in the domain, by the era's mechanism. */
  private mapDoorbell(domain: IommuDomain, pa: bigint): { addr: bigint; mapping: string } | number {
    const page = pa & ~(PAGE - 1n);
    const off = pa - page;
    const prot = { read: false, write: true, mmio: true };
    switch (this.msiMapping) {
      case 'sw-msi-cookie': {
        const cookie = domain.msiCookie;
        if (!cookie) return { addr: pa, mapping: 'no MSI cookie: the physical doorbell address is programmed' };
        let iova = cookie.pages.get(page);
        if (iova === undefined) {
          iova = cookie.next;
          const ret = domain.hw.map(iova, page, PAGE, prot);
          if (ret) {
            // 5.3+ (iommu_dma_prepare_msi) fails the vector allocation; before, the compose
            // path WARNs and programs an address of ~0.
            if (this.mapAt === 'prepare') return -ENOMEM;
            return { addr: 0xffff_ffffn, mapping: `mapping the doorbell at IOVA ${hex(iova)} failed: the message address is ~0` };
          }
          cookie.next += PAGE;
          cookie.pages.set(page, iova);
        }
        return { addr: iova + off, mapping: `software MSI cookie: IOVA ${hex(iova)} in the SW_MSI window` };
      }
      case 'user-window': {
        // iommu_msi_get_doorbell_iova(): the doorbell's PA aligned down to the IOVA granule
        // (the domain's smallest page), one refcounted mapping per granule.
        const win = domain.msiWindow;
        if (!win) return { addr: pa, mapping: 'no MSI window registered: the physical doorbell address is programmed' };
        const bitmap = domain.pgsizeBitmap;
        const granule = bitmap & -bitmap;
        const base = pa & ~(granule - 1n);
        const hit = win.pages.get(base);
        if (hit) {
          hit.refs++;
          return { addr: hit.iova + (pa - base), mapping: `user MSI window: IOVA ${hex(hit.iova)} (shared, ${hit.refs} refs)` };
        }
        // alloc_iova(..., limit = the window's end, size_aligned): the highest free granule.
        const used = new Set([...win.pages.values()].map((x) => x.iova));
        let iova = ((win.end + 1n) & ~(granule - 1n)) - granule;
        while (iova >= win.start && used.has(iova)) iova -= granule;
        if (iova < win.start) return -ENOMEM;
        const ret = domain.hw.map(iova, base, granule, prot);
        if (ret) return ret;
        win.pages.set(base, { iova, refs: 1 });
        const size = granule === PAGE ? '' : ` (a whole ${granule >> 20n} MiB granule around the doorbell)`;
        return { addr: iova + (pa - base), mapping: `user MSI window: IOVA ${hex(iova)}${size}` };
      }
      case 'none':
        return { addr: pa, mapping: 'nothing maps MSI doorbells in this kernel: the physical address is programmed' };
    }
  }

  disable(kind: IrqKind): void {
    if (this.enabled !== kind) return;
    const domain = this.dev.group.domain;
    for (const v of this.vectors) {
      // The series drops its refcounted window mappings; the cookie keeps its pages.
      if (this.msiMapping !== 'user-window' || !domain?.msiWindow) continue;
      const bitmap = domain.pgsizeBitmap;
      const granule = bitmap & -bitmap;
      const base = v.doorbell & ~(granule - 1n);
      const hit = domain.msiWindow.pages.get(base);
      if (hit && --hit.refs === 0) {
        domain.hw.unmap(hit.iova, granule);
        domain.msiWindow.pages.delete(base);
      }
    }
    this.vectors.length = 0;
    this.enabled = undefined;
  }

  setTrigger(kind: IrqKind, vector: number, trigger: EventFd | null): void {
    const v = this.vectors.find((x) => x.kind === kind && x.index === vector);
    if (v) v.trigger = trigger;
  }
}
