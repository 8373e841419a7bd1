// SET_IRQS rules the device-fd recordings showed (tools/realkernel/DEVICE-DIFFERENCES.md §9-11):
// the PCI core's vector range, the virqfd slot, and the irqbypass producer list. One stanza
// per rule.

import { describe, expect, test } from 'vitest';
import { EBUSY, ERANGE } from '../../src/uapi/errno.js';
import { PCI_MSIX_FLAGS_ENABLE } from '../../src/hw/pci/regs.js';
import { IrqBypass } from '../../src/kernel/vfio/irq-bypass.js';
import { VfioPciDevice } from '../../src/kernel/vfio-pci/vfio-pci.js';
import { isIrqNone } from '../../src/kernel/vfio-pci/core-device.js';
import { IDX, IRQ, bind, open, set_irqs, set_irqs_err, type Rig } from './helpers.js';

const { NONE, EVENTFD, UNMASK, TRIGGER } = IRQ;
const { INTX, MSI, MSIX } = IDX;

/** The rig with an irqbypass list, as the booted kernel gives every vfio-pci device. */
function withBypass(model: string, eraName: string): Rig {
  const r = bind(model, eraName);
  const dev = new VfioPciDevice({ era: r.dev.ex, log: r.log, irq: r.irq, pageSize: 0x1000n, irqBypass: new IrqBypass() }, r.hw);
  expect(dev.openDevice()).toBe(0);
  return { ...r, dev };
}

describe('vfio_msi_enable: pci_alloc_irq_vectors(pdev, 1, start + count)', () => {
  // start + count = 0 from the disabled state: max < min, -ERANGE, nothing enabled (every era).
  test('DATA_EVENTFD count 0 from disabled', () => {
    for (const era of ['4.10', '6.1', '6.12']) {
      const r = open('e1000e', era);
      set_irqs_err(r, ERANGE, EVENTFD | TRIGGER, MSI, 0, 0);
      set_irqs_err(r, ERANGE, EVENTFD | TRIGGER, MSIX, 0, 0);
      expect(isIrqNone(r.dev)).toBe(true);
      expect(r.hw.config.read(0xa2, 2) & PCI_MSIX_FLAGS_ENABLE).toBe(0);
      expect(r.irq.calls).toEqual([]);
    }
  });
});

describe('vfio_virqfd_enable: one unmask eventfd per INTx', () => {
  // A second registration while one is set: -EBUSY; fd -1 clears it, then it registers again.
  test('unmask eventfd twice', () => {
    const r = open('e1000e', '6.1');
    const [a, b] = [r.proc.eventfd(), r.proc.eventfd()];
    set_irqs(r, EVENTFD | TRIGGER, INTX, 0, 1, [a]);
    set_irqs(r, EVENTFD | UNMASK, INTX, 0, 1, [b]);
    set_irqs_err(r, EBUSY, EVENTFD | UNMASK, INTX, 0, 1, [b]);
    set_irqs(r, EVENTFD | UNMASK, INTX, 0, 1, [-1]);
    set_irqs(r, EVENTFD | UNMASK, INTX, 0, 1, [b]);
  });
});

describe('irq_bypass_register_producer: one producer per token', () => {
  // One eventfd on four MSI-X vectors: SET_IRQS succeeds; each vector after the first logs the
  // refusal with the eventfd's per-boot %p (the same token on every line).
  test('one eventfd, four vectors', () => {
    const r = withBypass('e1000e', '6.1');
    const e = r.proc.eventfd();
    const seen = r.log.lines.length;
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 4, [e, e, e, e]);
    const lines = r.log.lines.slice(seen).map((l) => l.text);
    expect(lines.length).toBe(3);
    expect(new Set(lines).size).toBe(1);
    expect(lines[0]).toMatch(/^vfio-pci 0000:00:02\.0: irq bypass producer \(token [0-9a-f]{16}\) registration fails: -16$/);
  });

  // A token is free again once its vector lets go of it: disable, then the same eventfd on one
  // vector registers without a line.
  test('released at disable', () => {
    const r = withBypass('e1000e', '6.1');
    const e = r.proc.eventfd();
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 2, [e, e]);
    set_irqs(r, NONE | TRIGGER, MSIX, 0, 0);
    const seen = r.log.lines.length;
    set_irqs(r, EVENTFD | TRIGGER, MSIX, 0, 1, [e]);
    expect(r.log.lines.slice(seen)).toEqual([]);
  });
});
