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
//   refcounted per doorbell page; an exhausted window is -ENOMEM (abi.md §1.7), and no window
//   at all is -EINVAL in v10 behind an ARM SMMU (Era.msiWindowMissing), otherwise the
//   physical address;
// - 'none' (4.10): nothing; the message keeps the physical address and the write faults.
// On x86 the 0xfee00000 window bypasses translation, so nothing is mapped.
//
// The composed message is then written into the device (pci_msi_domain_write_msg →
// __pci_write_msi_msg): the MSI capability's address and data registers, or the vector's
// MSI-X table entry through the kernel's mapping of the table BAR. That is the host's view;
// vfio-pci shows the user its virtualised copy of the capability (vfio_pci_config.c) and
// keeps the table out of the user's BAR accesses (vfio_pci_bar_rw's excluded range). MSI-X
// entries stay masked until a handler is requested (irq_startup unmasks, irq_shutdown masks).
//
// The device's INTx pin arrives here too (`intxLine`): a level-triggered line that runs the
// requested handler while asserted and enabled (request_irq, disable_irq_nosync, enable_irq).

import type { MsiMapping } from '../era.js';
import { EINVAL, ENOMEM } from '../../uapi/errno.js';
import type { EventFd } from '../eventfd.js';
import type { IommuDomain, KDevice, MsiCookieOwner } from '../iommu/core.js';
import type { IrqKind, PciIrqOps } from './pci-irq.js';
import type { MsiMessage } from '../../hw/msi/msi-controller.js';
import {
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_32,
  PCI_MSI_DATA_64,
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_DATA,
  PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_UPPER_ADDR,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
} from '../../hw/pci/regs.js';
import type { KernelLog, WarnForm, WarnSite } from '../log.js';

/** iommu_dma_map_msi_msg()'s `WARN_ON(!msi_page)`, at the era's line (Era.mapMsiMsgWarnLine). */
function mapMsiMsgWarn(line: number): WarnSite {
  return { file: 'drivers/iommu/dma-iommu.c', line, fn: 'iommu_dma_map_msi_msg' };
}

const PAGE = 0x1000n;

/**
 * How a vector's doorbell became reachable from the device, by the era's mechanism and by who
 * keeps the domain's doorbell map (MsiCookie.owner); the script layer words it.
 */
export type DoorbellMapping =
  | { how: 'intx' }
  /** The MSI window bypasses translation (x86's 0xfee00000). */
  | { how: 'untranslated' }
  /** The IOMMU translates MSIs but the device is in no domain. */
  | { how: 'no-domain' }
  /** The kernel maps no doorbells (before 4.11 and the series). */
  | { how: 'none' }
  /** The domain has no software-MSI map: the physical address is programmed. */
  | { how: 'no-cookie' }
  /**
   * The doorbell page at `iova` in the SW_MSI window: dma-iommu's MSI cookie
   * (iommu_dma_prepare_msi/compose) or, on an iommufd HWPT from 6.15, iommufd's sw_msi map
   * (iommufd_sw_msi), which every paging HWPT the group attaches gets installed.
   */
  | { how: 'sw-msi'; owner: MsiCookieOwner; iova: bigint }
  /** The cookie could not map the page: 4.11's compose path writes an all-ones message. */
  | { how: 'map-failed'; iova: bigint }
  /** The series' user window (iommu_msi_get_doorbell_iova): a page or granule, refcounted. */
  | { how: 'user-window'; iova: bigint; granule: bigint; refs: number }
  | { how: 'no-window' };

export interface MsiVector {
  kind: IrqKind;
  index: number;
  /** What the device is programmed to write (address possibly an IOVA). */
  msg: MsiMessage;
  /** The physical doorbell the message targets. */
  doorbell: bigint;
  /** How the doorbell became reachable, as a fact (`show doorbells` explains it). */
  mapping: DoorbellMapping;
  trigger: EventFd | null;
}

export class PciMsi implements PciIrqOps {
  /** Enabled vectors of the enabled kind. */
  readonly vectors: MsiVector[] = [];
  enabled?: IrqKind;
  /** The INTx line as the device drives it, the handler requested on it, and disable_irq depth. */
  private intxLevel = false;
  private intxHandler: (() => void) | null = null;
  private intxDepth = 0;

  constructor(
    private readonly dev: KDevice,
    private readonly msiMapping: MsiMapping,
    /** When the software-MSI cookie maps a doorbell (Era.msiCookieMapAt). */
    private readonly mapAt: 'compose' | 'prepare' = 'prepare',
    /** The series with no MSI window registered (Era.msiWindowMissing). */
    private readonly windowMissing: 'fails' | 'physical' = 'physical',
    /** Where the compose path's WARN is reported: its line (Era.mapMsiMsgWarnLine) and form (Era.warnForm). */
    private readonly warn?: { log: KernelLog; line: number; form: WarnForm },
  ) {}

  canAllocDynamicMsix(): boolean {
    return this.dev.msi.dynamicMsix;
  }

  /**
   * Enables `kind` with `nvec` vectors: 0, -errno, or for MSI a positive count when the
   * device's MSI domain gives fewer (multi-MSI refused: one), as pci_alloc_irq_vectors()
   * returns it. Multi-MSI needs MSI_FLAG_MULTI_PCI_MSI in the domain (pci_msi_domain_check_cap;
   * 6.2+ msi_capability_init's early reject), and its vectors are one aligned block whose
   * data the device extends by the vector number (PCI 3.0 §6.8.1.6).
   */
  enable(kind: IrqKind, nvec: number): number {
    if (kind === 'msi' && nvec > 1) {
      if (!this.multiMsi()) return 1;
      this.dev.msi.allocMultiMsi?.(this.dev.bdf, 1 << Math.ceil(Math.log2(nvec)));
    }
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

  /**
   * Whether the device's PCI MSI domain takes multi-MSI: its controller's, or on x86 the
   * interrupt-remapping domain's (pci_msi_ir_domain_info has MSI_FLAG_MULTI_PCI_MSI). That
   * domain stands between the device and the APIC when its IOMMU remaps interrupts and the
   * MSI window bypasses translation (VT-d / AMD-Vi with IR on).
   */
  private multiMsi(): boolean {
    const irDomain = !this.dev.iommu.msiTranslated && this.dev.iommu.capable('intr-remap');
    return this.dev.msi.multiPciMsi || irDomain;
  }

  addVector(kind: IrqKind, index: number): number {
    if (kind === 'intx') {
      this.vectors.push({ kind, index, msg: { addr: 0n, data: 0 }, doorbell: 0n, mapping: { how: 'intx' }, trigger: null });
      return 0;
    }
    const phys = this.dev.msi.compose(this.dev.bdf, index);
    const domain = this.dev.group.domain;
    let addr = phys.addr;
    let data = phys.data;
    let mapping: DoorbellMapping = { how: 'untranslated' };
    if (this.dev.iommu.msiTranslated && domain) {
      const r = this.mapDoorbell(domain, phys.addr);
      if (typeof r === 'number') return r;
      ({ addr, mapping } = r);
      if (r.data !== undefined) data = r.data;
    } else if (this.dev.iommu.msiTranslated) {
      mapping = { how: 'no-domain' };
    }
    this.vectors.push({ kind, index, msg: { addr, data }, doorbell: phys.addr, mapping, trigger: null });
    this.writeMsg(kind, index, { addr, data });
    return 0;
  }

  /**
   * __pci_write_msi_msg(): MSI has one address/data pair (vector 0's message; the device adds
   * the vector number to the data), MSI-X one table entry per vector, written masked.
   */
  private writeMsg(kind: IrqKind, index: number, msg: MsiMessage): void {
    const hw = this.dev.hw;
    const lo = Number(msg.addr & 0xffff_ffffn);
    const hi = Number(msg.addr >> 32n);
    if (kind === 'msi' && hw.msi && index === 0) {
      const m = hw.msi;
      hw.config.write(m.offset + PCI_MSI_ADDRESS_LO, 4, lo);
      if (m.addr64) hw.config.write(m.offset + PCI_MSI_ADDRESS_HI, 4, hi);
      hw.config.write(m.offset + (m.addr64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2, msg.data);
    } else if (kind === 'msix' && hw.msix && index < hw.msix.tableSize) {
      this.msixEntryMask(index, true);
      const at = BigInt(hw.msix.tableOffset + index * PCI_MSIX_ENTRY_SIZE);
      hw.barWrite(hw.msix.tableBar, at + BigInt(PCI_MSIX_ENTRY_LOWER_ADDR), 4, BigInt(lo));
      hw.barWrite(hw.msix.tableBar, at + BigInt(PCI_MSIX_ENTRY_UPPER_ADDR), 4, BigInt(hi));
      hw.barWrite(hw.msix.tableBar, at + BigInt(PCI_MSIX_ENTRY_DATA), 4, BigInt(msg.data >>> 0));
    }
  }

  /** pci_msix_mask()/pci_msix_unmask(): the entry's vector control mask bit. */
  private msixEntryMask(index: number, masked: boolean): void {
    const hw = this.dev.hw;
    if (!hw.msix || index >= hw.msix.tableSize) return;
    const at = BigInt(hw.msix.tableOffset + index * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL);
    const ctrl = hw.barRead(hw.msix.tableBar, at, 4);
    const next = masked ? ctrl | BigInt(PCI_MSIX_ENTRY_CTRL_MASKBIT) : ctrl & ~BigInt(PCI_MSIX_ENTRY_CTRL_MASKBIT);
    if (next !== ctrl) hw.barWrite(hw.msix.tableBar, at, 4, next);
  }

  /** Gives the doorbell an IOVA in the domain, by the era's mechanism. */
  private mapDoorbell(domain: IommuDomain, pa: bigint): { addr: bigint; data?: number; mapping: DoorbellMapping } | number {
    const page = pa & ~(PAGE - 1n);
    const off = pa - page;
    const prot = { read: false, write: true, mmio: true };
    switch (this.msiMapping) {
      case 'sw-msi-cookie': {
        const cookie = domain.msiCookie;
        if (!cookie) return { addr: pa, mapping: { how: 'no-cookie' } };
        let iova = cookie.pages.get(page);
        if (iova === undefined) {
          iova = cookie.next;
          const ret = domain.hw.map(iova, page, PAGE, prot);
          if (ret) {
            // 5.3+ (iommu_dma_prepare_msi) fails the vector allocation; before, the compose
            // path WARNs and programs an address of ~0.
            if (this.mapAt === 'prepare') return -ENOMEM;
            // iommu_dma_map_msi_msg() (4.11): WARN_ON(!msi_page), then "msg->address_hi =
            // ~0U; msg->address_lo = ~0U; msg->data = ~0U;", an obviously bogus message.
            if (this.warn?.line) this.warn.log.warnOn(mapMsiMsgWarn(this.warn.line), this.warn.form);
            return { addr: 0xffff_ffff_ffff_ffffn, data: 0xffff_ffff, mapping: { how: 'map-failed', iova } };
          }
          cookie.next += PAGE;
          cookie.pages.set(page, iova);
        }
        return { addr: iova + off, mapping: { how: 'sw-msi', owner: cookie.owner, iova } };
      }
      case 'user-window': {
        // iommu_msi_get_doorbell_iova(): the doorbell's PA aligned down to the IOVA granule
        // (the domain's smallest page), one refcounted mapping per granule.
        const win = domain.msiWindow;
        // v10 behind an ARM SMMU: iommu_msi_get_doorbell_iova() is -EINVAL while no aperture
        // is set, and the allocation fails with it (msi_domain_alloc_irqs, "[PATCH 42/57]
        // genirq/msi: map/unmap the MSI doorbells on msi_domain_alloc/free_irqs").
        if (!win && this.windowMissing === 'fails' && this.dev.iommu.seriesMsiCookie) return -EINVAL;
        if (!win) return { addr: pa, mapping: { how: 'no-window' } };
        const bitmap = domain.pgsizeBitmap;
        const granule = bitmap & -bitmap;
        const base = pa & ~(granule - 1n);
        const hit = win.pages.get(base);
        if (hit) {
          hit.refs++;
          return { addr: hit.iova + (pa - base), mapping: { how: 'user-window', iova: hit.iova, granule, refs: hit.refs } };
        }
        // alloc_iova(..., limit = the window's end, size_aligned): the highest free granule.
        const used = new Set([...win.pages.values()].map((x) => x.iova));
        let iova = ((win.end + 1n) & ~(granule - 1n)) - granule;
        while (iova >= win.start && used.has(iova)) iova -= granule;
        if (iova < win.start) return -ENOMEM;
        const ret = domain.hw.map(iova, base, granule, prot);
        if (ret) return ret;
        win.pages.set(base, { iova, refs: 1 });
        return { addr: iova + (pa - base), mapping: { how: 'user-window', iova, granule, refs: 1 } };
      }
      case 'none':
        return { addr: pa, mapping: { how: 'none' } };
    }
  }

  disable(kind: IrqKind): void {
    if (this.enabled !== kind) return;
    const domain = this.dev.group.domain;
    for (const v of this.vectors) {
      // pci_msix_shutdown(): every entry masked; the messages stay in the table.
      if (v.kind === 'msix') this.msixEntryMask(v.index, true);
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
    if (!v) return;
    v.trigger = trigger;
    if (kind === 'msix') this.msixEntryMask(vector, trigger === null);
  }

  restoreMessages(): void {
    for (const v of this.vectors) {
      if (v.kind === 'intx') continue;
      this.writeMsg(v.kind, v.index, v.msg);
      if (v.kind === 'msix' && v.trigger) this.msixEntryMask(v.index, false);
    }
  }

  // ---- the INTx line --------------------------------------------------------------------------

  /** The device's INTx pin changed level (the interrupt sink connected at bind). */
  intxLine(level: boolean): void {
    this.intxLevel = level;
    this.runIntx();
  }

  requestIntx(handler: (() => void) | null): void {
    this.intxHandler = handler;
    this.intxDepth = 0;
    this.runIntx();
  }

  disableIntx(): void {
    this.intxDepth++;
  }

  enableIntx(): void {
    if (this.intxDepth > 0) this.intxDepth--;
    this.runIntx();
  }

  /** handle_level_irq(): an asserted, enabled line with a handler runs it. */
  private runIntx(): void {
    if (this.intxLevel && this.intxHandler && this.intxDepth === 0) this.intxHandler();
  }
}
