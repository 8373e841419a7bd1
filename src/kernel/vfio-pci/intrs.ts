// vfio-pci's interrupt handling (drivers/vfio/pci/vfio_pci_intrs.c): the INTx, MSI and MSI-X
// state machine behind VFIO_DEVICE_SET_IRQS, and the ERR/REQ eventfds.
//
// One mode at a time (irq_type: INTx, MSI, MSI-X or none). Enabling allocates vectors through
// the interrupt core (ctx.irq: pci_alloc_irq_vectors, pci_msix_alloc_irq_at, request_irq,
// pci_free_irq_vectors) and turns the capability's enable bits on in the hardware, as
// msi_capability_init/msix_capability_init do; the messages are the interrupt core's.
//
// Two eras: up to 6.4 the contexts are an array of num_ctx entries fixed at enable, so a
// vector outside it is -EINVAL; from 6.5 (era.msixDynamic) contexts are allocated per vector
// and an MSI-X vector beyond those enabled is allocated on the fly when the MSI domain can
// (pci_msix_can_alloc_dyn), else -EINVAL as before.

import {
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_INTERRUPT_PIN,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_QMASK,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_STATUS_INTERRUPT,
} from '../../hw/pci/regs.js';
import { EINVAL, ENODEV, ENOTTY } from '../../uapi/errno.js';
import type { EventFd } from '../eventfd.js';
import type { Process } from '../process.js';
import type { IrqKind } from '../irq/pci-irq.js';
import type { VfioPciDevice } from './vfio-pci.js';

export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;
export const VFIO_PCI_NUM_IRQS = 5;

export const VFIO_IRQ_SET_DATA_NONE = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
export const VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;
export const VFIO_IRQ_SET_DATA_TYPE_MASK = 0x7;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;

/** struct vfio_pci_irq_ctx. */
interface IrqCtx {
  trigger: EventFd | null;
  masked: boolean;
  /** The unmask eventfd (virqfd) of INTx. */
  unmask: EventFd | null;
}

/** The SET_IRQS payload: DATA_BOOL bytes or DATA_EVENTFD fds, as the user gave them. */
export interface IrqData {
  bytes: Uint8Array;
}

const fdAt = (d: IrqData | null, i: number): number =>
  d ? new DataView(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength).getInt32(i * 4, true) : -1;
const boolAt = (d: IrqData | null, i: number): boolean => !!d && d.bytes[i]! !== 0;

const KIND: Record<number, IrqKind> = {
  [VFIO_PCI_INTX_IRQ_INDEX]: 'intx',
  [VFIO_PCI_MSI_IRQ_INDEX]: 'msi',
  [VFIO_PCI_MSIX_IRQ_INDEX]: 'msix',
};

export class VfioPciIntrs {
  /** VFIO_PCI_NUM_IRQS when no mode is enabled. */
  irqType = VFIO_PCI_NUM_IRQS;
  private readonly ctxs = new Map<number, IrqCtx>();
  /** num_ctx (eras before 6.5): the size of the context array fixed at enable. */
  private numCtx = 0;
  /** Vectors the interrupt core has allocated (pci_irq_vector() succeeds for these). */
  private readonly allocated = new Set<number>();
  errTrigger: EventFd | null = null;
  reqTrigger: EventFd | null = null;

  constructor(private readonly vdev: VfioPciDevice) {}

  isIntx(): boolean {
    return this.irqType === VFIO_PCI_INTX_IRQ_INDEX;
  }
  isMsi(): boolean {
    return this.irqType === VFIO_PCI_MSI_IRQ_INDEX;
  }
  isMsix(): boolean {
    return this.irqType === VFIO_PCI_MSIX_IRQ_INDEX;
  }
  isNone(): boolean {
    return this.irqType === VFIO_PCI_NUM_IRQS;
  }

  /** The eventfd routed to a vector, for tests and displays. */
  trigger(vector: number): EventFd | null {
    return this.ctxs.get(vector)?.trigger ?? null;
  }

  /** vfio_pci_get_irq_count(): from the hardware's capability registers. */
  getIrqCount(index: number): number {
    const pdev = this.vdev.pdev;
    switch (index) {
      case VFIO_PCI_INTX_IRQ_INDEX:
        if (this.vdev.nointx || pdev.isVirtfn) return 0;
        return pdev.readConfig(PCI_INTERRUPT_PIN, 1) ? 1 : 0;
      case VFIO_PCI_MSI_IRQ_INDEX:
        if (!pdev.msiCap) return 0;
        return 1 << ((pdev.readConfig(pdev.msiCap + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QMASK) >> 1);
      case VFIO_PCI_MSIX_IRQ_INDEX:
        if (!pdev.msixCap) return 0;
        return (pdev.readConfig(pdev.msixCap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;
      case VFIO_PCI_ERR_IRQ_INDEX:
        return pdev.isPcie ? 1 : 0;
      case VFIO_PCI_REQ_IRQ_INDEX:
        return 1;
      default:
        return 0;
    }
  }

  // ---- INTx ---------------------------------------------------------------------------------

  /** The Linux IRQ of INTx: routed whenever the function has a pin. */
  private get pdevIrq(): number {
    return this.vdev.pdev.readConfig(PCI_INTERRUPT_PIN, 1) ? 1 : 0;
  }

  /** vfio_pci_intx_mask(): from the ioctl, or from the user's INTx-disable bit. */
  intxMask(): boolean {
    const pdev = this.vdev.pdev;
    if (!this.isIntx()) {
      // Not using INTx: the physical bit follows the virtual one.
      if (this.vdev.pci23) pdev.intx(false);
      return false;
    }
    const ctx = this.ctxs.get(0)!;
    if (ctx.masked) return false;
    if (this.vdev.pci23) pdev.intx(false);
    ctx.masked = true;
    return true;
  }

  /** vfio_pci_intx_unmask_handler(): 1 when an interrupt was already pending (stay masked). */
  private intxUnmaskHandler(): number {
    const pdev = this.vdev.pdev;
    if (!this.isIntx()) {
      if (this.vdev.pci23) pdev.intx(true);
      return 0;
    }
    const ctx = this.ctxs.get(0)!;
    let ret = 0;
    if (ctx.masked && !this.vdev.virqDisabled) {
      if (this.vdev.pci23) {
        if (!pdev.checkAndUnmaskIntx()) ret = 1;
      }
      ctx.masked = ret > 0;
    }
    return ret;
  }

  /** vfio_pci_intx_unmask(): a pending interrupt is resent to the user. */
  intxUnmask(): void {
    if (this.intxUnmaskHandler() > 0) this.sendIntxEventfd();
  }

  /** vfio_send_intx_eventfd(). */
  private sendIntxEventfd(): void {
    if (this.isIntx() && !this.vdev.virqDisabled) this.ctxs.get(0)?.trigger?.signal();
  }

  /**
   * vfio_intx_handler(): the function asserted INTx. The interrupt path calls this (the line
   * is shared: with INTx masking the kernel checks the status bit and masks at the device).
   * Returns whether the interrupt was ours.
   */
  intxInterrupt(): boolean {
    if (!this.isIntx()) return false;
    const ctx = this.ctxs.get(0)!;
    const pdev = this.vdev.pdev;
    let handled = false;
    if (!this.vdev.pci23) {
      ctx.masked = true;
      handled = true;
    } else if (!ctx.masked) {
      // pci_check_and_mask_intx(): ours if the status bit is set; then mask at the device.
      const status = pdev.readConfig(PCI_COMMAND, 4) >>> 16;
      if (status & PCI_STATUS_INTERRUPT) {
        pdev.writeConfig(PCI_COMMAND, 2, pdev.readConfig(PCI_COMMAND, 2) | PCI_COMMAND_INTX_DISABLE);
        ctx.masked = true;
        handled = true;
      }
    }
    if (handled) ctx.trigger?.signal();
    return handled;
  }

  /** vfio_intx_enable(). */
  private intxEnable(): number {
    if (!this.isNone()) return -EINVAL;
    if (!this.pdevIrq) return -ENODEV;
    const ret = this.vdev.ctx.irq.enable('intx', 1);
    if (ret < 0) return ret;
    const ctx: IrqCtx = { trigger: null, masked: this.vdev.virqDisabled, unmask: null };
    this.ctxs.set(0, ctx);
    this.numCtx = 1;
    // Devices with INTx masking can be masked at the device now; others wait for the IRQ.
    if (this.vdev.pci23) this.vdev.pdev.intx(!ctx.masked);
    this.irqType = VFIO_PCI_INTX_IRQ_INDEX;
    return 0;
  }

  /** vfio_intx_set_signal(): replace the trigger (fd < 0: none). */
  private intxSetSignal(proc: Process | null, fd: number): number {
    const ctx = this.ctxs.get(0)!;
    if (ctx.trigger) {
      this.vdev.ctx.irq.setTrigger('intx', 0, null);
      ctx.trigger = null;
    }
    if (fd < 0) return 0;
    const t = proc ? proc.eventfdGet(fd) : -EINVAL;
    if (typeof t === 'number') return t;
    ctx.trigger = t;
    this.vdev.ctx.irq.setTrigger('intx', 0, t);
    return 0;
  }

  /** vfio_intx_disable(). */
  private intxDisable(): void {
    const ctx = this.ctxs.get(0);
    if (ctx) {
      ctx.unmask = null;
      if (ctx.trigger) this.vdev.ctx.irq.setTrigger('intx', 0, null);
    }
    this.vdev.ctx.irq.disable('intx');
    this.ctxs.clear();
    this.irqType = VFIO_PCI_NUM_IRQS;
    this.numCtx = 0;
  }

  private setIntxUnmask(start: number, count: number, flags: number, data: IrqData | null, proc: Process | null): number {
    if (!this.isIntx() || start !== 0 || count !== 1) return -EINVAL;
    if (flags & VFIO_IRQ_SET_DATA_NONE) this.intxUnmask();
    else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
      if (boolAt(data, 0)) this.intxUnmask();
    } else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
      const fd = fdAt(data, 0);
      const ctx = this.ctxs.get(0)!;
      if (fd >= 0) {
        // vfio_virqfd_enable(): a signal on this eventfd unmasks.
        const t = proc ? proc.eventfdGet(fd) : -EINVAL;
        if (typeof t === 'number') return t;
        ctx.unmask = t;
        return 0;
      }
      ctx.unmask = null;
    }
    return 0;
  }

  private setIntxMask(start: number, count: number, flags: number, data: IrqData | null): number {
    if (!this.isIntx() || start !== 0 || count !== 1) return -EINVAL;
    if (flags & VFIO_IRQ_SET_DATA_NONE) this.intxMask();
    else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
      if (boolAt(data, 0)) this.intxMask();
    } else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
      return -ENOTTY; // not implemented in the kernel either
    }
    return 0;
  }

  private setIntxTrigger(start: number, count: number, flags: number, data: IrqData | null, proc: Process | null): number {
    if (this.isIntx() && !count && flags & VFIO_IRQ_SET_DATA_NONE) {
      this.intxDisable();
      return 0;
    }
    if (!(this.isIntx() || this.isNone()) || start !== 0 || count !== 1) return -EINVAL;
    if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
      const fd = fdAt(data, 0);
      if (this.isIntx()) return this.intxSetSignal(proc, fd);
      const ret = this.intxEnable();
      if (ret) return ret;
      const r2 = this.intxSetSignal(proc, fd);
      if (r2) this.intxDisable();
      return r2;
    }
    if (!this.isIntx()) return -EINVAL;
    if (flags & VFIO_IRQ_SET_DATA_NONE) this.sendIntxEventfd();
    else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
      if (boolAt(data, 0)) this.sendIntxEventfd();
    }
    return 0;
  }

  // ---- MSI / MSI-X ----------------------------------------------------------------------------

  /** vfio_msi_enable(): allocate `nvec` vectors of one kind. */
  private msiEnable(nvec: number, msix: boolean): number {
    if (!this.isNone()) return -EINVAL;
    const kind: IrqKind = msix ? 'msix' : 'msi';
    const ret = this.vdev.ctx.irq.enable(kind, nvec);
    if (ret < 0) return ret;
    if (msix) this.vdev.pdev.setMsixHw(true);
    else this.vdev.pdev.setMsiHw(true, nvec);
    this.allocated.clear();
    for (let v = 0; v < nvec; v++) this.allocated.add(v);
    this.numCtx = nvec;
    this.irqType = msix ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
    // The virtual Multiple Message Capable field: log2 of the vectors enabled.
    if (!msix) this.vdev.msiQmax = Math.floor(Math.log2(nvec * 2 - 1));
    return 0;
  }

  /** vfio_msi_alloc_irq() (6.5+): the vector's IRQ, allocating a dynamic MSI-X one if needed. */
  private msiAllocIrq(vector: number, msix: boolean): number {
    if (this.allocated.has(vector)) return 0;
    if (!msix || !this.vdev.hasDynMsix) return -EINVAL;
    const ret = this.vdev.ctx.irq.addVector('msix', vector);
    if (ret < 0) return ret;
    this.allocated.add(vector);
    return 0;
  }

  /** vfio_msi_set_vector_signal(): (re)route one vector to an eventfd (fd < 0: none). */
  private msiSetVectorSignal(proc: Process | null, vector: number, fd: number, msix: boolean): number {
    const kind: IrqKind = msix ? 'msix' : 'msi';
    const irq = this.vdev.ctx.irq;
    if (!this.vdev.ex.msixDynamic) {
      if (vector < 0 || vector >= this.numCtx) return -EINVAL;
      const ctx = this.ctxs.get(vector) ?? { trigger: null, masked: false, unmask: null };
      this.ctxs.set(vector, ctx);
      if (ctx.trigger) {
        irq.setTrigger(kind, vector, null);
        ctx.trigger = null;
      }
      if (fd < 0) return 0;
      const t = proc ? proc.eventfdGet(fd) : -EINVAL;
      if (typeof t === 'number') return t;
      irq.setTrigger(kind, vector, t);
      ctx.trigger = t;
      return 0;
    }
    // 6.5+: a context exists only while a trigger is set.
    let haveIrq = false;
    const old = this.ctxs.get(vector);
    if (old) {
      irq.setTrigger(kind, vector, null);
      this.ctxs.delete(vector);
      haveIrq = true; // the interrupt stays allocated until disable
    }
    if (fd < 0) return 0;
    if (!haveIrq) {
      const r = this.msiAllocIrq(vector, msix);
      if (r < 0) return r;
    }
    const t = proc ? proc.eventfdGet(fd) : -EINVAL;
    if (typeof t === 'number') return t;
    irq.setTrigger(kind, vector, t);
    this.ctxs.set(vector, { trigger: t, masked: false, unmask: null });
    return 0;
  }

  /** vfio_msi_set_block(): vectors start..start+count-1; on error, the ones done are undone. */
  private msiSetBlock(proc: Process | null, start: number, count: number, data: IrqData | null, msix: boolean): number {
    if (!this.vdev.ex.msixDynamic && (start >= this.numCtx || start + count > this.numCtx)) return -EINVAL;
    let ret = 0;
    let j = start;
    for (let i = 0; i < count && !ret; i++, j++) ret = this.msiSetVectorSignal(proc, j, data ? fdAt(data, i) : -1, msix);
    if (ret) for (let k = start; k < j; k++) this.msiSetVectorSignal(proc, k, -1, msix);
    return ret;
  }

  /** vfio_msi_disable(). */
  private msiDisable(msix: boolean): void {
    const kind: IrqKind = msix ? 'msix' : 'msi';
    if (this.vdev.ex.msixDynamic) {
      for (const v of [...this.ctxs.keys()]) this.msiSetVectorSignal(null, v, -1, msix);
    } else {
      this.msiSetBlock(null, 0, this.numCtx, null, msix);
    }
    this.vdev.ctx.irq.disable(kind);
    if (msix) this.vdev.pdev.setMsixHw(false);
    else this.vdev.pdev.setMsiHw(false, 0);
    // Both disable paths clear INTx disable on the way out (pci_intx_for_msi); a NoINTx
    // device gets it back.
    if (this.vdev.nointx) this.vdev.pdev.intx(false);
    this.ctxs.clear();
    this.allocated.clear();
    this.irqType = VFIO_PCI_NUM_IRQS;
    this.numCtx = 0;
  }

  private setMsiTrigger(index: number, start: number, count: number, flags: number, data: IrqData | null, proc: Process | null): number {
    const msix = index === VFIO_PCI_MSIX_IRQ_INDEX;
    if (this.irqType === index && !count && flags & VFIO_IRQ_SET_DATA_NONE) {
      this.msiDisable(msix);
      return 0;
    }
    if (!(this.irqType === index || this.isNone())) return -EINVAL;
    if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
      if (this.irqType === index) return this.msiSetBlock(proc, start, count, data, msix);
      const ret = this.msiEnable(start + count, msix);
      if (ret) return ret;
      const r2 = this.msiSetBlock(proc, start, count, data, msix);
      if (r2) this.msiDisable(msix);
      return r2;
    }
    // DATA_NONE / DATA_BOOL: loopback, signal the triggers.
    if (this.irqType !== index) return -EINVAL;
    if (!this.vdev.ex.msixDynamic && start + count > this.numCtx) return -EINVAL;
    for (let i = start; i < start + count; i++) {
      const t = this.ctxs.get(i)?.trigger;
      if (!t) continue;
      if (flags & VFIO_IRQ_SET_DATA_NONE) t.signal();
      else if (flags & VFIO_IRQ_SET_DATA_BOOL && boolAt(data, i - start)) t.signal();
    }
    return 0;
  }

  // ---- ERR / REQ ------------------------------------------------------------------------------

  /** vfio_pci_set_ctx_trigger_single(): DATA_NONE/BOOL signal (loopback), EVENTFD sets. */
  private setCtxTriggerSingle(which: 'errTrigger' | 'reqTrigger', count: number, flags: number, data: IrqData | null, proc: Process | null): number {
    const cur = this[which];
    if (flags & VFIO_IRQ_SET_DATA_NONE) {
      if (cur) {
        if (count) cur.signal();
        else this[which] = null;
        return 0;
      }
    } else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
      if (!count) return -EINVAL;
      if (boolAt(data, 0) && cur) cur.signal();
      return 0;
    } else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
      if (!count) return -EINVAL;
      const fd = fdAt(data, 0);
      if (fd === -1) this[which] = null;
      else if (fd >= 0) {
        const t = proc ? proc.eventfdGet(fd) : -EINVAL;
        if (typeof t === 'number') return t;
        this[which] = t;
      }
      return 0;
    }
    return -EINVAL;
  }

  // ---- dispatch (vfio_pci_set_irqs_ioctl) ------------------------------------------------------

  setIrqs(flags: number, index: number, start: number, count: number, data: IrqData | null, proc: Process | null): number {
    const action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    switch (index) {
      case VFIO_PCI_INTX_IRQ_INDEX:
        if (action === VFIO_IRQ_SET_ACTION_MASK) return this.setIntxMask(start, count, flags, data);
        if (action === VFIO_IRQ_SET_ACTION_UNMASK) return this.setIntxUnmask(start, count, flags, data, proc);
        if (action === VFIO_IRQ_SET_ACTION_TRIGGER) return this.setIntxTrigger(start, count, flags, data, proc);
        return -ENOTTY;
      case VFIO_PCI_MSI_IRQ_INDEX:
      case VFIO_PCI_MSIX_IRQ_INDEX:
        // MASK/UNMASK: "XXX Need masking support exported" — no handler.
        if (action === VFIO_IRQ_SET_ACTION_TRIGGER) return this.setMsiTrigger(index, start, count, flags, data, proc);
        return -ENOTTY;
      case VFIO_PCI_ERR_IRQ_INDEX:
        if (action === VFIO_IRQ_SET_ACTION_TRIGGER && this.vdev.pdev.isPcie) {
          if (start !== 0 || count > 1) return -EINVAL;
          return this.setCtxTriggerSingle('errTrigger', count, flags, data, proc);
        }
        return -ENOTTY;
      case VFIO_PCI_REQ_IRQ_INDEX:
        if (action === VFIO_IRQ_SET_ACTION_TRIGGER) {
          if (start !== 0 || count > 1) return -EINVAL;
          return this.setCtxTriggerSingle('reqTrigger', count, flags, data, proc);
        }
        return -ENOTTY;
      default:
        return -ENOTTY;
    }
  }

  /** What close does: the enabled mode off (DATA_NONE|TRIGGER, count 0), ERR/REQ dropped. */
  shutdown(): void {
    if (!this.isNone()) this.setIrqs(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, this.irqType, 0, 0, null, null);
  }

  /** The kind of the enabled mode, for displays. */
  mode(): IrqKind | undefined {
    return KIND[this.irqType];
  }
}
