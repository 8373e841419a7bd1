// VFIO_DEVICE_SET_IRQS: vfio_set_irqs_validate_and_prepare and the INTx/MSI/MSI-X state
// machine of vfio_pci_intrs.c, one stanza per rule. Errnos from the real-kernel traces where
// they have them.

import { describe, expect, test } from 'vitest';
import { EBADF, EFAULT, EINVAL, ENOTTY } from '../../src/uapi/errno.js';
import type { EventFd } from '../../src/kernel/eventfd.js';
import { PCI_COMMAND, PCI_MSIX_FLAGS_ENABLE } from '../../src/hw/pci/regs.js';
import { isIntx, isIrqNone, isMsi, isMsix } from '../../src/kernel/vfio-pci/core-device.js';
import { irqTrigger } from '../../src/kernel/vfio-pci/intrs.js';
import {
  IDX,
  IRQ,
  SET_IRQS,
  _ioctl,
  hex,
  irqSet,
  open,
  set_irqs,
  set_irqs_err,
  type Rig,
} from './helpers.js';

const { NONE, BOOL, EVENTFD, MASK, UNMASK, TRIGGER } = IRQ;
const { INTX, MSI, MSIX, ERR, REQ } = IDX;

/** Two eventfds at fds 5 and 6 (3 and 4 are container and group). */
function efds(r: Rig): [number, number] {
  return [r.proc.eventfd(), r.proc.eventfd()];
}
const efd = (r: Rig, fd: number): EventFd => r.proc.eventfdGet(fd) as EventFd;

describe('vfio_set_irqs_validate_and_prepare', () => {
  // argsz below offsetofend(count) (20): EINVAL
  test('argsz < minsz', () => {
    const r = open('e1000e', '6.1');
    expect(_ioctl(r, SET_IRQS, irqSet(NONE | TRIGGER, MSIX, 0, 0, [], 16))).toBe(-EINVAL);
  });

  // the header must be readable
  test('unreadable header', () => {
    const r = open('e1000e', '6.1');
    expect(_ioctl(r, SET_IRQS, new Uint8Array(19))).toBe(-EFAULT);
  });

  // flags outside the data and action masks: EINVAL
  test('unknown flags', () => set_irqs_err(open('e1000e', '6.1'), EINVAL, NONE | TRIGGER | 0x40, MSIX, 0, 0));

  // index >= VFIO_PCI_NUM_IRQS: EINVAL
  test('index', () => set_irqs_err(open('e1000e', '6.1'), EINVAL, NONE | TRIGGER, 5, 0, 0));

  // start + count beyond the index's count: EINVAL (trace: count 4096)
  test('count > max', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs_err(r, EINVAL, EVENTFD | TRIGGER, MSIX, 0, 4096, [a]);
    set_irqs_err(r, EINVAL, EVENTFD | TRIGGER, MSIX, 5, 1, [a]);
  });

  // count >= U32_MAX - start: EINVAL before the bound check
  test('count overflow', () => set_irqs_err(open('e1000e', '6.1'), EINVAL, NONE | TRIGGER, MSIX, 1, 0xfffffffe));

  // an index with no interrupts (edu MSI-X, edu ERR): even start 0 count 0 is EINVAL
  test('index without vectors', () => {
    const r = open('edu', '6.1');
    set_irqs_err(r, EINVAL, NONE | TRIGGER, MSIX, 0, 0);
    set_irqs_err(r, EINVAL, NONE | TRIGGER, ERR, 0, 0);
  });

  // exactly one data type: none or two is EINVAL (trace: "two DATA flags")
  test('data type', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs_err(r, EINVAL, TRIGGER, MSIX, 0, 1, [a]);
    set_irqs_err(r, EINVAL, NONE | BOOL | TRIGGER, MSIX, 0, 1, [a]);
    const b = irqSet(NONE | EVENTFD | TRIGGER, MSIX, 0, 1, [a]);
    expect(_ioctl(r, SET_IRQS, b)).toBe(-EINVAL);
    expect(hex(b)).toBe('180000002500000002000000000000000100000005000000');
  });

  // argsz must cover count * size of data: EINVAL
  test('argsz too small for the data', () => {
    const r = open('e1000e', '6.1');
    expect(_ioctl(r, SET_IRQS, irqSet(EVENTFD | TRIGGER, MSIX, 0, 2, [5, 6], 24))).toBe(-EINVAL);
  });

  // argsz covers the data but the buffer does not: memdup_user faults
  test('data past the buffer', () => {
    const r = open('e1000e', '6.1');
    expect(_ioctl(r, SET_IRQS, irqSet(EVENTFD | TRIGGER, MSIX, 0, 2, [5], 28))).toBe(-EFAULT);
  });
});

describe('MSI / MSI-X', () => {
  // enable one vector with an eventfd (trace); the interrupt core allocates it and routes it
  test('enable', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [a]);
    expect(r.irq.calls).toEqual(['enable msix 1', 'trigger msix 0 set']);
    expect(r.irq.triggers.get('msix0')).toBe(efd(r, a));
    // MSI-X Enable set in the hardware; Table Size (N-1) as the function has it: 5 vectors.
    expect(r.hw.config.read(0xa0 + 2, 2)).toBe(PCI_MSIX_FLAGS_ENABLE | 4);
  });

  // MASK/UNMASK on MSI and MSI-X have no handler: ENOTTY (trace)
  test('mask is ENOTTY', () => {
    const r = open('e1000e', '6.1');
    set_irqs_err(r, ENOTTY, NONE | MASK, MSIX, 0, 1);
    set_irqs_err(r, ENOTTY, NONE | UNMASK, MSIX, 0, 1);
    const e = open('edu', '6.1');
    set_irqs_err(e, ENOTTY, NONE | MASK, MSI, 0, 1);
  });

  // no action, or two actions: ENOTTY
  test('action bits', () => {
    const r = open('e1000e', '6.1');
    set_irqs_err(r, ENOTTY, NONE, MSIX, 0, 1);
    set_irqs_err(r, ENOTTY, NONE | MASK | TRIGGER, MSIX, 0, 1);
  });

  // adding a vector while enabled: 6.1 EINVAL (trace)
  test('add a vector: 6.1', () => {
    const r = open('e1000e', '6.1');
    const [a, b] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [a]);
    set_irqs_err(r, EINVAL, EVENTFD | TRIGGER, MSIX, 1, 1, [b]);
  });

  // 6.5+ with dynamic MSI-X: the vector is allocated on the fly (trace: 6.12 x86)
  test('add a vector: 6.12 dynamic', () => {
    const r = open('e1000e', '6.12', { dynamic: true });
    const [a, b] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [a]);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 1, 1, [b]);
    expect(r.irq.calls).toEqual(['enable msix 1', 'trigger msix 0 set', 'add msix 1', 'trigger msix 1 set']);
  });

  // 6.5+ without dynamic allocation (arm64 ITS): EINVAL as before (trace: 6.12 arm64)
  test('add a vector: 6.12 static', () => {
    const r = open('e1000e', '6.12', { dynamic: false });
    const [a, b] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [a]);
    set_irqs_err(r, EINVAL, EVENTFD | TRIGGER, MSIX, 1, 1, [b]);
  });

  // MSI never grows, whatever the era
  test('add an MSI vector: 6.12', () => {
    const r = open('x540', '6.12', { dynamic: true, params: { bars: { 0: '0x80000000', 4: '0x80200000' } } });
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSI, 0, 1, [a]);
    expect(isMsi(r.dev)).toBe(true);
  });

  // DATA_NONE with count 0 disables (trace); every vector unrouted, then freed
  test('disable', () => {
    const r = open('e1000e', '6.1');
    const [a, b] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 2, [a, b]);
    set_irqs(r, NONE | TRIGGER, MSIX, 0, 0);
    expect(r.irq.calls.slice(-3)).toEqual(['trigger msix 0 null', 'trigger msix 1 null', 'disable msix']);
    expect(isIrqNone(r.dev)).toBe(true);
    expect(r.hw.config.read(0xa0 + 2, 2) & PCI_MSIX_FLAGS_ENABLE).toBe(0);
  });

  // disabling what is not enabled: EINVAL (trace: edu after a failed enable)
  test('disable when off', () => {
    const r = open('edu', '6.1');
    set_irqs_err(r, EINVAL, NONE | TRIGGER, MSI, 0, 0);
  });

  // more vectors than MSI offers: EINVAL (trace: edu, 2 vectors)
  test('edu MSI 2 vectors', () => {
    const r = open('edu', '6.1');
    const [a, b] = efds(r);
    set_irqs_err(r, EINVAL, EVENTFD | TRIGGER, MSI, 0, 2, [a, b]);
  });

  // fd -1 enables the vector without a trigger
  test('fd -1', () => {
    const r = open('e1000e', '6.1');
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [-1]);
    expect(isMsix(r.dev)).toBe(true);
    expect(r.irq.calls).toEqual(['enable msix 1']);
  });

  // a closed fd is EBADF, a non-eventfd EINVAL; the enable is undone
  test('bad eventfd', () => {
    const r = open('e1000e', '6.1');
    set_irqs_err(r, EBADF, EVENTFD | TRIGGER, MSIX, 0, 1, [40]);
    expect(isIrqNone(r.dev)).toBe(true);
    set_irqs_err(r, EINVAL, EVENTFD | TRIGGER, MSIX, 0, 1, [3]);
    expect(r.irq.calls).toEqual(['enable msix 1', 'disable msix', 'enable msix 1', 'disable msix']);
  });

  // a failure in the middle of a block undoes the vectors already routed
  test('block rollback', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs_err(r, EBADF, EVENTFD | TRIGGER, MSIX, 0, 2, [a, 40]);
    expect(r.irq.calls).toEqual(['enable msix 2', 'trigger msix 0 set', 'trigger msix 0 null', 'disable msix']);
  });

  // changing the trigger of an enabled vector
  test('retarget', () => {
    const r = open('e1000e', '6.1');
    const [a, b] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [a]);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [b]);
    expect(irqTrigger(r.dev, 0)).toBe(efd(r, b));
  });

  // DATA_NONE / DATA_BOOL with a count: loopback, signals the routed eventfds
  test('loopback', () => {
    const r = open('e1000e', '6.1');
    const [a, b] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 2, [a, b]);
    set_irqs(r, NONE | TRIGGER, MSIX, 0, 2);
    expect(efd(r, a).signals).toBe(1);
    expect(efd(r, b).signals).toBe(1);
    // DATA_BOOL: one byte per vector; only vector 1 fires.
    const bools = new Uint8Array(22);
    bools.set(irqSet(BOOL | TRIGGER, MSIX, 0, 2, [], 22).subarray(0, 20));
    bools.set([0, 1], 20);
    expect(_ioctl(r, SET_IRQS, bools)).toBe(0);
    expect(efd(r, a).signals).toBe(1);
    expect(efd(r, b).signals).toBe(2);
  });

  // loopback on a mode that is not enabled: EINVAL
  test('loopback when off', () => set_irqs_err(open('e1000e', '6.1'), EINVAL, NONE | TRIGGER, MSIX, 0, 1));

  // MSI while INTx is enabled: EINVAL (trace)
  test('MSI-X while INTx', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, INTX, 0, 1, [a]);
    set_irqs_err(r, EINVAL, EVENTFD | TRIGGER, MSIX, 0, 1, [a]);
  });

  // MSI: the virtual Multiple Message Capable follows the vectors enabled (msi_qmax)
  test('msi_qmax', () => {
    const r = open('edu', '6.1');
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSI, 0, 1, [a]);
    expect(r.dev.msiQmax).toBe(0);
  });
});

describe('INTx', () => {
  // enable with an eventfd (trace), then disable with DATA_NONE count 0 (trace)
  test('enable and disable', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, INTX, 0, 1, [a]);
    expect(isIntx(r.dev)).toBe(true);
    set_irqs(r, NONE | TRIGGER, INTX, 0, 0);
    expect(isIrqNone(r.dev)).toBe(true);
    expect(r.irq.calls).toEqual(['enable intx 1', 'trigger intx 0 set', 'request intx handler', 'request intx null', 'trigger intx 0 null', 'disable intx']);
  });

  // exactly start 0 count 1
  test('count', () => {
    const r = open('e1000e', '6.1');
    set_irqs_err(r, EINVAL, BOOL | TRIGGER, INTX, 0, 0);
  });

  // MASK/UNMASK need INTx enabled: EINVAL; MASK by eventfd is not implemented: ENOTTY
  test('mask and unmask', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs_err(r, EINVAL, NONE | MASK, INTX, 0, 1);
    set_irqs_err(r, EINVAL, NONE | UNMASK, INTX, 0, 1);
    set_irqs(r, EVENTFD | TRIGGER, INTX, 0, 1, [a]);
    set_irqs(r, NONE | MASK, INTX, 0, 1);
    // Masked at the device: the hardware's INTx disable bit (pci_intx).
    expect(r.hw.config.read(PCI_COMMAND, 2) & 0x400).toBe(0x400);
    set_irqs(r, NONE | UNMASK, INTX, 0, 1);
    expect(r.hw.config.read(PCI_COMMAND, 2) & 0x400).toBe(0);
    set_irqs_err(r, ENOTTY, EVENTFD | MASK, INTX, 0, 1, [a]);
    set_irqs(r, EVENTFD | UNMASK, INTX, 0, 1, [a]);
  });

  // loopback signals the trigger
  test('loopback', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, INTX, 0, 1, [a]);
    set_irqs(r, NONE | TRIGGER, INTX, 0, 1);
    expect(efd(r, a).signals).toBe(1);
  });

  // INTx while MSI-X is on: EINVAL
  test('INTx while MSI-X', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [a]);
    set_irqs_err(r, EINVAL, EVENTFD | TRIGGER, INTX, 0, 1, [a]);
  });
});

describe('ERR / REQ', () => {
  // an eventfd is set, DATA_NONE count 1 signals it, count 0 drops it
  test('ERR trigger', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, ERR, 0, 1, [a]);
    set_irqs(r, NONE | TRIGGER, ERR, 0, 1);
    expect(efd(r, a).signals).toBe(1);
    set_irqs(r, NONE | TRIGGER, ERR, 0, 0);
    expect(r.dev.errTrigger).toBeNull();
    // Nothing set: DATA_NONE is EINVAL.
    set_irqs_err(r, EINVAL, NONE | TRIGGER, ERR, 0, 1);
  });

  // REQ: fd -1 clears; other actions have no handler
  test('REQ', () => {
    const r = open('edu', '6.1');
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, REQ, 0, 1, [a]);
    expect(r.dev.reqTrigger).toBe(efd(r, a));
    set_irqs(r, EVENTFD | TRIGGER, REQ, 0, 1, [-1]);
    expect(r.dev.reqTrigger).toBeNull();
    set_irqs_err(r, ENOTTY, NONE | MASK, REQ, 0, 1);
  });

  // closing the device drops them and disables the active mode
  test('close', () => {
    const r = open('e1000e', '6.1');
    const [a] = efds(r);
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [a]);
    set_irqs(r, EVENTFD | TRIGGER, REQ, 0, 1, [a]);
    r.dev.closeDevice();
    expect(isIrqNone(r.dev)).toBe(true);
    expect(r.dev.reqTrigger).toBeNull();
    expect(r.irq.calls.slice(-2)).toEqual(['trigger msix 0 null', 'disable msix']);
  });
});
