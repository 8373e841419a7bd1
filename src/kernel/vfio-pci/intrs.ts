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
import { EBUSY, EINVAL, ENODEV, ENOTTY, ERANGE } from '../../uapi/errno.js';
import { flagBit } from '../../uapi/struct.js';
import { IRQ_SET_ACTION_TYPE_MASK, IRQ_SET_DATA_TYPE_MASK, IRQ_SET_FLAGS } from '../../uapi/structs.js';
import type { EventFd } from '../eventfd.js';
import type { Process } from '../process.js';
import type { IrqKind } from '../irq/pci-irq.js';
import {
  isIntx,
  isIrqNone,
  VFIO_PCI_ERR_IRQ_INDEX,
  VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
  VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_NUM_IRQS,
  VFIO_PCI_REQ_IRQ_INDEX,
  type VfioPciCoreDevice,
  type VfioPciIrqCtx,
} from './core-device.js';

// The SET_IRQS flags, from the uapi table.
const irqSetFlag = (name: string): number => Number(flagBit(IRQ_SET_FLAGS, name));
export const VFIO_IRQ_SET_DATA_NONE = irqSetFlag('DATA_NONE');
export const VFIO_IRQ_SET_DATA_BOOL = irqSetFlag('DATA_BOOL');
export const VFIO_IRQ_SET_DATA_EVENTFD = irqSetFlag('DATA_EVENTFD');
export const VFIO_IRQ_SET_ACTION_MASK = irqSetFlag('ACTION_MASK');
export const VFIO_IRQ_SET_ACTION_UNMASK = irqSetFlag('ACTION_UNMASK');
export const VFIO_IRQ_SET_ACTION_TRIGGER = irqSetFlag('ACTION_TRIGGER');
export const VFIO_IRQ_SET_DATA_TYPE_MASK = Number(IRQ_SET_DATA_TYPE_MASK);
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = Number(IRQ_SET_ACTION_TYPE_MASK);

/** The SET_IRQS payload: DATA_BOOL bytes or DATA_EVENTFD fds, as the user gave them. */
export interface IrqData {
  bytes: Uint8Array;
}

const fdAt = (d: IrqData | null, i: number): number =>
  d ? new DataView(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength).getInt32(i * 4, true) : -1;
const boolAt = (d: IrqData | null, i: number): boolean => !!d && d.bytes[i]! !== 0;

/** The eventfd routed to a vector, for tests and displays. */
export function irqTrigger(vdev: VfioPciCoreDevice, vector: number): EventFd | null {
  return vdev.irqCtx.get(vector)?.trigger ?? null;
}

/** vfio_pci_get_irq_count(): from the hardware's capability registers. */
export function vfioPciGetIrqCount(vdev: VfioPciCoreDevice, index: number): number {
  const pdev = vdev.pdev;
  switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
      if (vdev.nointx || pdev.isVirtfn) return 0;
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
function pdevIrq(vdev: VfioPciCoreDevice): number {
  return vdev.pdev.readConfig(PCI_INTERRUPT_PIN, 1) ? 1 : 0;
}

/** vfio_pci_intx_mask(): from the ioctl, or from the user's INTx-disable bit. */
export function vfioPciIntxMask(vdev: VfioPciCoreDevice): boolean {
  const pdev = vdev.pdev;
  if (!isIntx(vdev)) {
    // Not using INTx: the physical bit follows the virtual one.
    if (vdev.pci23) pdev.intx(false);
    return false;
  }
  const ctx = vdev.irqCtx.get(0)!;
  if (ctx.masked) return false;
  if (vdev.pci23) pdev.intx(false);
  else vdev.ctx.irq.disableIntx();
  ctx.masked = true;
  return true;
}

/** vfio_pci_intx_unmask_handler(): 1 when an interrupt was already pending (stay masked). */
function intxUnmaskHandler(vdev: VfioPciCoreDevice): number {
  const pdev = vdev.pdev;
  if (!isIntx(vdev)) {
    if (vdev.pci23) pdev.intx(true);
    return 0;
  }
  const ctx = vdev.irqCtx.get(0)!;
  let ret = 0;
  if (ctx.masked && !vdev.virqDisabled) {
    // A pending interrupt is resent to the user rather than left to fire again.
    if (vdev.pci23) {
      if (!pdev.checkAndUnmaskIntx()) ret = 1;
      ctx.masked = ret > 0;
    } else {
      // enable_irq(): the handler runs after the lock drops, so the line, if still
      // asserted, fires on an unmasked context and masks it again.
      ctx.masked = false;
      vdev.ctx.irq.enableIntx();
    }
  }
  return ret;
}

/** vfio_pci_intx_unmask(): a pending interrupt is resent to the user. */
export function vfioPciIntxUnmask(vdev: VfioPciCoreDevice): void {
  if (intxUnmaskHandler(vdev) > 0) sendIntxEventfd(vdev);
}

/** vfio_send_intx_eventfd(). */
function sendIntxEventfd(vdev: VfioPciCoreDevice): void {
  if (isIntx(vdev) && !vdev.virqDisabled) vdev.irqCtx.get(0)?.trigger?.signal();
}

/**
 * vfio_intx_handler(): the function asserted INTx. The interrupt path calls this (the line
 * is shared: with INTx masking the kernel checks the status bit and masks at the device).
 * Returns whether the interrupt was ours.
 */
export function vfioIntxHandler(vdev: VfioPciCoreDevice): boolean {
  if (!isIntx(vdev)) return false;
  const ctx = vdev.irqCtx.get(0)!;
  const pdev = vdev.pdev;
  let handled = false;
  if (!vdev.pci23) {
    vdev.ctx.irq.disableIntx();
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
  if (handled) sendIntxEventfd(vdev);
  return handled;
}

/** vfio_intx_enable(). */
function intxEnable(vdev: VfioPciCoreDevice): number {
  if (!isIrqNone(vdev)) return -EINVAL;
  if (!pdevIrq(vdev)) return -ENODEV;
  const ret = vdev.ctx.irq.enable('intx', 1);
  if (ret < 0) return ret;
  const ctx: VfioPciIrqCtx = { trigger: null, masked: vdev.virqDisabled, unmask: null };
  vdev.irqCtx.set(0, ctx);
  vdev.numCtx = 1;
  // Devices with INTx masking can be masked at the device now; others wait for the IRQ.
  if (vdev.pci23) vdev.pdev.intx(!ctx.masked);
  vdev.irqType = VFIO_PCI_INTX_IRQ_INDEX;
  return 0;
}

/** vfio_intx_set_signal(): replace the trigger (fd < 0: none). */
function intxSetSignal(vdev: VfioPciCoreDevice, proc: Process | null, fd: number): number {
  const ctx = vdev.irqCtx.get(0)!;
  const irq = vdev.ctx.irq;
  if (ctx.trigger) {
    irq.requestIntx(null); // free_irq()
    irq.setTrigger('intx', 0, null);
    ctx.trigger = null;
  }
  if (fd < 0) return 0;
  const t = proc ? proc.eventfdGet(fd) : -EINVAL;
  if (typeof t === 'number') return t;
  ctx.trigger = t;
  irq.setTrigger('intx', 0, t);
  // request_irq(pdev->irq, vfio_intx_handler): a line already asserted fires at once. INTx
  // disable sticks across the new handler; disable_irq does not, so a masked context on a
  // device without INTx masking disables the line again.
  irq.requestIntx(() => vfioIntxHandler(vdev));
  if (!vdev.pci23 && ctx.masked) irq.disableIntx();
  return 0;
}

/** vfio_intx_disable(). */
function intxDisable(vdev: VfioPciCoreDevice): void {
  const ctx = vdev.irqCtx.get(0);
  if (ctx) {
    setUnmaskEventfd(vdev, ctx, null);
    if (ctx.trigger) {
      vdev.ctx.irq.requestIntx(null);
      vdev.ctx.irq.setTrigger('intx', 0, null);
    }
  }
  vdev.ctx.irq.disable('intx');
  vdev.irqCtx.clear();
  vdev.irqType = VFIO_PCI_NUM_IRQS;
  vdev.numCtx = 0;
}

function setIntxUnmask(vdev: VfioPciCoreDevice, start: number, count: number, flags: number, data: IrqData | null, proc: Process | null): number {
  if (!isIntx(vdev) || start !== 0 || count !== 1) return -EINVAL;
  if (flags & VFIO_IRQ_SET_DATA_NONE) vfioPciIntxUnmask(vdev);
  else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
    if (boolAt(data, 0)) vfioPciIntxUnmask(vdev);
  } else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
    const fd = fdAt(data, 0);
    const ctx = vdev.irqCtx.get(0)!;
    if (fd >= 0) {
      const t = proc ? proc.eventfdGet(fd) : -EINVAL;
      if (typeof t === 'number') return t;
      // vfio_virqfd_enable(): one virqfd per slot; a second registration is -EBUSY.
      if (ctx.unmask) return -EBUSY;
      setUnmaskEventfd(vdev, ctx, t);
      return 0;
    }
    setUnmaskEventfd(vdev, ctx, null);
  }
  return 0;
}

/**
 * vfio_virqfd_enable()/vfio_virqfd_disable() for the unmask eventfd: a signal on it runs
 * vfio_pci_intx_unmask_handler, and its thread resends the trigger when an interrupt was
 * pending (vfio_send_intx_eventfd).
 */
function setUnmaskEventfd(vdev: VfioPciCoreDevice, ctx: VfioPciIrqCtx, t: EventFd | null): void {
  if (ctx.unmask && ctx.unmaskWaiter) ctx.unmask.removeWaiter(ctx.unmaskWaiter);
  ctx.unmask = t;
  ctx.unmaskWaiter = undefined;
  if (!t) return;
  ctx.unmaskWaiter = () => vfioPciIntxUnmask(vdev);
  t.addWaiter(ctx.unmaskWaiter);
}

function setIntxMask(vdev: VfioPciCoreDevice, start: number, count: number, flags: number, data: IrqData | null): number {
  if (!isIntx(vdev) || start !== 0 || count !== 1) return -EINVAL;
  if (flags & VFIO_IRQ_SET_DATA_NONE) vfioPciIntxMask(vdev);
  else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
    if (boolAt(data, 0)) vfioPciIntxMask(vdev);
  } else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
    return -ENOTTY; // not implemented in the kernel either
  }
  return 0;
}

function setIntxTrigger(vdev: VfioPciCoreDevice, start: number, count: number, flags: number, data: IrqData | null, proc: Process | null): number {
  if (isIntx(vdev) && !count && flags & VFIO_IRQ_SET_DATA_NONE) {
    intxDisable(vdev);
    return 0;
  }
  if (!(isIntx(vdev) || isIrqNone(vdev)) || start !== 0 || count !== 1) return -EINVAL;
  if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
    const fd = fdAt(data, 0);
    if (isIntx(vdev)) return intxSetSignal(vdev, proc, fd);
    const ret = intxEnable(vdev);
    if (ret) return ret;
    const r2 = intxSetSignal(vdev, proc, fd);
    if (r2) intxDisable(vdev);
    return r2;
  }
  if (!isIntx(vdev)) return -EINVAL;
  if (flags & VFIO_IRQ_SET_DATA_NONE) sendIntxEventfd(vdev);
  else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
    if (boolAt(data, 0)) sendIntxEventfd(vdev);
  }
  return 0;
}

// ---- MSI / MSI-X ----------------------------------------------------------------------------

/** vfio_msi_enable(): allocate `nvec` vectors of one kind. */
function msiEnable(vdev: VfioPciCoreDevice, nvec: number, msix: boolean): number {
  if (!isIrqNone(vdev)) return -EINVAL;
  // pci_alloc_irq_vectors(pdev, 1, nvec, flag): fewer than the minimum one vector asked for
  // (start + count = 0) is -ERANGE (__pci_enable_msi{,x}_range: maxvec < minvec), before anything is set up.
  if (nvec < 1) return -ERANGE;
  const kind: IrqKind = msix ? 'msix' : 'msi';
  const ret = vdev.ctx.irq.enable(kind, nvec);
  // "return the number of supported vectors if we can't get all": pci_alloc_irq_vectors()
  // gave fewer than nvec, vfio frees them and SET_IRQS returns that count (QEMU retries
  // with it: "vfio: Error: Failed to enable %d MSI vectors, retry with %d").
  if (ret) return ret;
  if (msix) vdev.pdev.setMsixHw(true);
  else vdev.pdev.setMsiHw(true, nvec);
  vdev.irqAllocated.clear();
  for (let v = 0; v < nvec; v++) vdev.irqAllocated.add(v);
  vdev.numCtx = nvec;
  vdev.irqType = msix ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
  // The virtual Multiple Message Capable field: log2 of the vectors enabled.
  if (!msix) vdev.msiQmax = Math.floor(Math.log2(nvec * 2 - 1));
  return 0;
}

/** vfio_msi_alloc_irq() (6.5+): the vector's IRQ, allocating a dynamic MSI-X one if needed. */
function msiAllocIrq(vdev: VfioPciCoreDevice, vector: number, msix: boolean): number {
  if (vdev.irqAllocated.has(vector)) return 0;
  if (!msix || !vdev.hasDynMsix) return -EINVAL;
  const ret = vdev.ctx.irq.addVector('msix', vector);
  if (ret < 0) return ret;
  vdev.irqAllocated.add(vector);
  return 0;
}

/**
 * The vector's irqbypass producer, token = its trigger (vfio_msi_set_vector_signal()): a token
 * another producer holds is refused with -EBUSY, which vfio-pci only logs.
 */
function bypassRegister(vdev: VfioPciCoreDevice, ctx: VfioPciIrqCtx, trigger: EventFd): void {
  const bypass = vdev.ctx.irqBypass;
  if (!bypass) return;
  const ret = bypass.register(trigger);
  if (ret) {
    vdev.pdev.info(bypass.failureText(vdev.ctx.era, trigger, ret));
    return;
  }
  ctx.producer = trigger;
}

function bypassUnregister(vdev: VfioPciCoreDevice, ctx: VfioPciIrqCtx): void {
  if (ctx.producer) vdev.ctx.irqBypass?.unregister(ctx.producer);
  ctx.producer = undefined;
}

/** vfio_msi_set_vector_signal(): (re)route one vector to an eventfd (fd < 0: none). */
function msiSetVectorSignal(vdev: VfioPciCoreDevice, proc: Process | null, vector: number, fd: number, msix: boolean): number {
  const kind: IrqKind = msix ? 'msix' : 'msi';
  const irq = vdev.ctx.irq;
  if (!vdev.ex.msixDynamic) {
    if (vector < 0 || vector >= vdev.numCtx) return -EINVAL;
    const ctx = vdev.irqCtx.get(vector) ?? { trigger: null, masked: false, unmask: null };
    vdev.irqCtx.set(vector, ctx);
    if (ctx.trigger) {
      bypassUnregister(vdev, ctx);
      irq.setTrigger(kind, vector, null);
      ctx.trigger = null;
    }
    if (fd < 0) return 0;
    const t = proc ? proc.eventfdGet(fd) : -EINVAL;
    if (typeof t === 'number') return t;
    irq.setTrigger(kind, vector, t);
    bypassRegister(vdev, ctx, t);
    ctx.trigger = t;
    return 0;
  }
  // 6.5+: a context exists only while a trigger is set.
  let haveIrq = false;
  const old = vdev.irqCtx.get(vector);
  if (old) {
    bypassUnregister(vdev, old);
    irq.setTrigger(kind, vector, null);
    vdev.irqCtx.delete(vector);
    haveIrq = true; // the interrupt stays allocated until disable
  }
  if (fd < 0) return 0;
  if (!haveIrq) {
    const r = msiAllocIrq(vdev, vector, msix);
    if (r < 0) return r;
  }
  const t = proc ? proc.eventfdGet(fd) : -EINVAL;
  if (typeof t === 'number') return t;
  irq.setTrigger(kind, vector, t);
  const ctx: VfioPciIrqCtx = { trigger: t, masked: false, unmask: null };
  bypassRegister(vdev, ctx, t);
  vdev.irqCtx.set(vector, ctx);
  return 0;
}

/** vfio_msi_set_block(): vectors start..start+count-1; on error, the ones done are undone. */
function msiSetBlock(vdev: VfioPciCoreDevice, proc: Process | null, start: number, count: number, data: IrqData | null, msix: boolean): number {
  if (!vdev.ex.msixDynamic && (start >= vdev.numCtx || start + count > vdev.numCtx)) return -EINVAL;
  let ret = 0;
  let j = start;
  for (let i = 0; i < count && !ret; i++, j++) ret = msiSetVectorSignal(vdev, proc, j, data ? fdAt(data, i) : -1, msix);
  if (ret) for (let k = start; k < j; k++) msiSetVectorSignal(vdev, proc, k, -1, msix);
  return ret;
}

/** vfio_msi_disable(). */
function msiDisable(vdev: VfioPciCoreDevice, msix: boolean): void {
  const kind: IrqKind = msix ? 'msix' : 'msi';
  if (vdev.ex.msixDynamic) {
    for (const v of [...vdev.irqCtx.keys()]) msiSetVectorSignal(vdev, null, v, -1, msix);
  } else {
    msiSetBlock(vdev, null, 0, vdev.numCtx, null, msix);
  }
  vdev.ctx.irq.disable(kind);
  if (msix) vdev.pdev.setMsixHw(false);
  else vdev.pdev.setMsiHw(false, 0);
  // Both disable paths clear INTx disable on the way out (pci_intx_for_msi); a NoINTx
  // device gets it back.
  if (vdev.nointx) vdev.pdev.intx(false);
  vdev.irqCtx.clear();
  vdev.irqAllocated.clear();
  vdev.irqType = VFIO_PCI_NUM_IRQS;
  vdev.numCtx = 0;
}

function setMsiTrigger(vdev: VfioPciCoreDevice, index: number, start: number, count: number, flags: number, data: IrqData | null, proc: Process | null): number {
  const msix = index === VFIO_PCI_MSIX_IRQ_INDEX;
  if (vdev.irqType === index && !count && flags & VFIO_IRQ_SET_DATA_NONE) {
    msiDisable(vdev, msix);
    return 0;
  }
  if (!(vdev.irqType === index || isIrqNone(vdev))) return -EINVAL;
  if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
    if (vdev.irqType === index) return msiSetBlock(vdev, proc, start, count, data, msix);
    const ret = msiEnable(vdev, start + count, msix);
    if (ret) return ret;
    const r2 = msiSetBlock(vdev, proc, start, count, data, msix);
    if (r2) msiDisable(vdev, msix);
    return r2;
  }
  // DATA_NONE / DATA_BOOL: loopback, signal the triggers.
  if (vdev.irqType !== index) return -EINVAL;
  if (!vdev.ex.msixDynamic && start + count > vdev.numCtx) return -EINVAL;
  for (let i = start; i < start + count; i++) {
    const t = vdev.irqCtx.get(i)?.trigger;
    if (!t) continue;
    if (flags & VFIO_IRQ_SET_DATA_NONE) t.signal();
    else if (flags & VFIO_IRQ_SET_DATA_BOOL && boolAt(data, i - start)) t.signal();
  }
  return 0;
}

// ---- ERR / REQ ------------------------------------------------------------------------------

/** vfio_pci_set_ctx_trigger_single(): DATA_NONE/BOOL signal (loopback), EVENTFD sets. */
function setCtxTriggerSingle(
  vdev: VfioPciCoreDevice,
  which: 'errTrigger' | 'reqTrigger',
  count: number,
  flags: number,
  data: IrqData | null,
  proc: Process | null,
): number {
  const cur = vdev[which];
  if (flags & VFIO_IRQ_SET_DATA_NONE) {
    if (cur) {
      if (count) cur.signal();
      else vdev[which] = null;
      return 0;
    }
  } else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
    if (!count) return -EINVAL;
    if (boolAt(data, 0) && cur) cur.signal();
    return 0;
  } else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
    if (!count) return -EINVAL;
    const fd = fdAt(data, 0);
    if (fd === -1) vdev[which] = null;
    else if (fd >= 0) {
      const t = proc ? proc.eventfdGet(fd) : -EINVAL;
      if (typeof t === 'number') return t;
      vdev[which] = t;
    }
    return 0;
  }
  return -EINVAL;
}

// ---- dispatch (vfio_pci_set_irqs_ioctl) ------------------------------------------------------

export function vfioPciSetIrqsIoctl(
  vdev: VfioPciCoreDevice,
  flags: number,
  index: number,
  start: number,
  count: number,
  data: IrqData | null,
  proc: Process | null,
): number {
  const action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
  switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
      if (action === VFIO_IRQ_SET_ACTION_MASK) return setIntxMask(vdev, start, count, flags, data);
      if (action === VFIO_IRQ_SET_ACTION_UNMASK) return setIntxUnmask(vdev, start, count, flags, data, proc);
      if (action === VFIO_IRQ_SET_ACTION_TRIGGER) return setIntxTrigger(vdev, start, count, flags, data, proc);
      return -ENOTTY;
    case VFIO_PCI_MSI_IRQ_INDEX:
    case VFIO_PCI_MSIX_IRQ_INDEX:
      // MASK/UNMASK: "XXX Need masking support exported" — no handler.
      if (action === VFIO_IRQ_SET_ACTION_TRIGGER) return setMsiTrigger(vdev, index, start, count, flags, data, proc);
      return -ENOTTY;
    case VFIO_PCI_ERR_IRQ_INDEX:
      if (action === VFIO_IRQ_SET_ACTION_TRIGGER && vdev.pdev.isPcie) {
        if (start !== 0 || count > 1) return -EINVAL;
        return setCtxTriggerSingle(vdev, 'errTrigger', count, flags, data, proc);
      }
      return -ENOTTY;
    case VFIO_PCI_REQ_IRQ_INDEX:
      if (action === VFIO_IRQ_SET_ACTION_TRIGGER) {
        if (start !== 0 || count > 1) return -EINVAL;
        return setCtxTriggerSingle(vdev, 'reqTrigger', count, flags, data, proc);
      }
      return -ENOTTY;
    default:
      return -ENOTTY;
  }
}

/** What close does: the enabled mode off (DATA_NONE|TRIGGER, count 0), ERR/REQ dropped. */
export function vfioPciIrqsShutdown(vdev: VfioPciCoreDevice): void {
  if (!isIrqNone(vdev)) vfioPciSetIrqsIoctl(vdev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, vdev.irqType, 0, 0, null, null);
}
