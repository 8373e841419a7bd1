// Device models raising their own interrupts and running their DMA engines, with no kernel:
// a recording interrupt sink and a bus-master port over a plain byte array (edu.ts,
// e1000e.ts, ixgbe-intr.ts, device.ts).

import { describe, expect, it } from 'vitest';
import type { PciBusMaster, PciFunction } from '../../src/hw/pci/device.js';
import type { Edu } from '../../src/hw/pci/edu.js';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_STATUS, PCI_STATUS_INTERRUPT } from '../../src/hw/pci/regs.js';
import { makeHw, recorder } from '../vfio-pci/helpers.js';

/** Bus Master Enable set or cleared, as a driver's pci_set_master()/pci_clear_master() does. */
function setMaster(hw: PciFunction, on: boolean): void {
  hw.config.setBits(PCI_COMMAND, 2, PCI_COMMAND_MASTER, on);
}


/** Bus memory of 64K at bus address 0x10000; outside it every access fails. */
function memory(): PciBusMaster & { mem: Uint8Array; log: string[] } {
  const mem = new Uint8Array(0x10000);
  const log: string[] = [];
  const inside = (a: bigint, n: number) => a >= 0x10000n && a + BigInt(n) <= 0x20000n;
  return {
    mem,
    log,
    dmaRead(addr, len) {
      log.push(`read 0x${addr.toString(16)} ${len}`);
      return inside(addr, len) ? mem.slice(Number(addr - 0x10000n), Number(addr - 0x10000n) + len) : undefined;
    },
    dmaWrite(addr, data) {
      log.push(`write 0x${addr.toString(16)} ${data.length}`);
      if (!inside(addr, data.length)) return false;
      mem.set(data, Number(addr - 0x10000n));
      return true;
    },
  };
}

function edu(master = true) {
  const hw = makeHw('edu', '0000:00:01.0', { firmware: 'x86' }) as Edu;
  const sink = recorder();
  const bus = memory();
  hw.connectInterrupts(sink);
  hw.connectBusMaster(bus);
  setMaster(hw, master);
  const w = (off: number, v: bigint, size: 4 | 8 = 8) => hw.barWrite(0, BigInt(off), size, v);
  const r = (off: number, size: 4 | 8 = 4) => hw.barRead(0, BigInt(off), size);
  return { hw, sink, bus, w, r };
}

/** Programs edu's DMA registers and writes the command. */
function eduDma(w: (off: number, v: bigint) => void, src: bigint, dst: bigint, cnt: bigint, cmd: bigint): void {
  w(0x80, src);
  w(0x88, dst);
  w(0x90, cnt);
  w(0x98, cmd);
}

describe('edu DMA (edu_dma_timer, run when the command is written)', () => {
  // from bus memory into the buffer, then back out 0x100 further on
  it('round trip: 8 bytes of 0xaa', () => {
    const { bus, w, r } = edu();
    bus.mem.fill(0xaa, 0, 8);
    eduDma(w, 0x10000n, 0x40000n, 8n, 1n);
    eduDma(w, 0x40000n, 0x10100n, 8n, 3n);
    expect(Buffer.from(bus.mem.subarray(0x100, 0x109)).toString('hex')).toBe('aaaaaaaaaaaaaaaa00');
    expect(bus.log).toEqual(['read 0x10000 8', 'write 0x10100 8']);
    expect(r(0x98, 8)).toBe(2n);
  });

  // QEMU 7.2's range check: the end must lie inside the buffer too (0x41000 does not)
  it('a transfer ending at the buffer end is refused; RUN clears, nothing moves', () => {
    const { bus, w, r } = edu();
    eduDma(w, 0x10000n, 0x40000n, 0x1000n, 1n);
    expect(bus.log).toEqual([]);
    expect(r(0x98, 8)).toBe(0n);
  });

  // addresses are clamped to the 28-bit dma_mask
  it('bus address clamped to 28 bits', () => {
    const { bus, w } = edu();
    eduDma(w, 0x40000n, 0x1_0001_0000n, 4n, 3n);
    expect(bus.log).toEqual(['write 0x10000 4']);
  });

  // DMA_IRQ (0x100) with the IRQ bit: INTA# without MSI, status bit set
  it('DMA interrupt by INTx: status 0x100, line asserted, lowered by the ack', () => {
    const { hw, sink, w, r } = edu();
    eduDma(w, 0x10000n, 0x40000n, 4n, 5n);
    expect(r(0x24)).toBe(0x100n);
    expect(hw.config.read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT).toBe(PCI_STATUS_INTERRUPT);
    w(0x64, 0x100n, 4);
    expect(sink.events).toEqual(['intx true', 'intx false']);
  });
});

describe('edu factorial and raise/lower (edu_fact_thread, edu_raise_irq)', () => {
  // 10! with IRQFACT: the result and FACT_IRQ (0x01)
  it('10! = 0x375f00, FACT_IRQ', () => {
    const { sink, w, r } = edu();
    w(0x20, 0x80n, 4);
    w(0x08, 10n, 4);
    expect(r(0x08)).toBe(0x375f00n);
    expect(r(0x24)).toBe(1n);
    expect(sink.events).toEqual(['intx true']);
  });

  // with MSI enabled the interrupt is vector 0's message, as programmed
  it('MSI: the programmed address and data', () => {
    const { hw, sink, w } = edu();
    hw.config.write(0x44, 4, 0xfee00000);
    hw.config.write(0x4c, 2, 0x4021);
    hw.config.write(0x42, 2, 0x0081);
    w(0x60, 0x8n, 4);
    expect(sink.events).toEqual(['msi 0 0xfee00000 0x4021']);
  });
});

describe('e1000e interrupt causes (e1000e_core.c)', () => {
  function e1000e() {
    const hw = makeHw('e1000e', '0000:00:02.0', { firmware: 'x86' }) as PciFunction;
    const sink = recorder();
    hw.connectInterrupts(sink);
    setMaster(hw, true);
    const w = (off: number, v: number) => hw.barWrite(0, BigInt(off), 4, BigInt(v));
    const r = (off: number) => Number(hw.barRead(0, BigInt(off), 4));
    return { hw, sink, w, r };
  }

  // ICS with the cause masked: ICR holds it (and ASSERTED), nothing raised
  it('ICS masked: ICR 0x80000004, no interrupt', () => {
    const { sink, w, hw } = e1000e();
    w(0xc8, 0x4);
    expect(hw.barRead(0, 0xc0n, 4)).toBe(0x80000004n);
    expect(sink.events).toEqual([]);
  });

  // IMS unmasks a pending cause: INTA#; reading ICR (not MSI-X) clears it and lowers the line
  it('IMS then ICR read: INTx up, then down', () => {
    const { sink, w, r } = e1000e();
    w(0xc8, 0x4);
    w(0xd0, 0x4);
    expect(r(0xc0)).toBe(0x80000004);
    expect(r(0xc0)).toBe(0);
    expect(sink.events).toEqual(['intx true', 'intx false']);
  });

  // MSI-X: RxQ0 goes to the vector IVAR names (valid bit 3, vector 2)
  it('MSI-X: RxQ0 to IVAR vector 2', () => {
    const { hw, sink, w } = e1000e();
    hw.config.write(0xa2, 2, 0x8000);
    hw.barWrite(3, 2n * 16n + 12n, 4, 0n); // unmask entry 2
    w(0xe4, 0xa);
    w(0xd0, 0x00100000);
    w(0xc8, 0x00100000);
    expect(sink.events).toEqual(['msix 2 0x0 0x0']);
  });
});

describe('e1000e MSI-X causes are sent once (e1000e_send_msi)', () => {
  // RxQ0 raised twice without clearing ICR: one message; cleared and raised again: a second
  it('RxQ0: one message until ICR is cleared', () => {
    const hw = makeHw('e1000e', '0000:00:02.0', { firmware: 'x86' }) as PciFunction;
    const sink = recorder();
    hw.connectInterrupts(sink);
    setMaster(hw, true);
    const w = (off: number, v: number) => hw.barWrite(0, BigInt(off), 4, BigInt(v));
    hw.config.write(0xa2, 2, 0x8000);
    hw.barWrite(3, 12n, 4, 0n);
    w(0xe4, 0x8);
    w(0xd0, 0x00100000);
    w(0xc8, 0x00100000);
    w(0xc8, 0x00100000);
    expect(sink.events).toEqual(['msix 0 0x0 0x0']);
    w(0xc0, 0x00100000);
    w(0xc8, 0x00100000);
    expect(sink.events).toEqual(['msix 0 0x0 0x0', 'msix 0 0x0 0x0']);
  });
});

describe('ixgbe extended causes (82599 datasheet §7.3: EICS, EIMS, EIAC, IVAR_MISC)', () => {
  function x540() {
    const hw = makeHw('x540', '0000:01:00.0', {}) as PciFunction;
    const sink = recorder();
    hw.connectInterrupts(sink);
    setMaster(hw, true);
    const m = hw.msix!;
    hw.config.write(m.offset + 2, 2, 0x8000 | hw.config.read(m.offset + 2, 2)); // MSI-X enable
    const unmask = (v: number) => hw.barWrite(m.tableBar, BigInt(m.tableOffset + v * 16 + 12), 4, 0n);
    const w = (off: number, v: number) => hw.barWrite(0, BigInt(off), 4, BigInt(v));
    const r = (off: number) => Number(hw.barRead(0, BigInt(off), 4));
    const pba = () => Number(hw.barRead(m.pbaBar, BigInt(m.pbaOffset), 4));
    return { hw, sink, unmask, w, r, pba };
  }

  // cause bit 1 is vector 1; EIAC makes it clear itself once sent
  it('EICS bit 1, enabled, auto-cleared: vector 1, EICR 0', () => {
    const { sink, unmask, w, r } = x540();
    unmask(1);
    w(0x880, 0x2);
    w(0x810, 0x2);
    w(0x808, 0x2);
    expect(sink.events).toEqual(['msix 1 0x0 0x0']);
    expect(r(0x800)).toBe(0);
  });

  // a cause not enabled in EIMS is only recorded; enabling it fires once
  it('EICS before EIMS: held in EICR, sent when enabled', () => {
    const { sink, unmask, w, r } = x540();
    unmask(0);
    w(0x808, 0x1);
    expect(sink.events).toEqual([]);
    expect(r(0x800)).toBe(1);
    w(0x880, 0x1);
    expect(sink.events).toEqual(['msix 0 0x0 0x0']);
  });

  // a masked vector: its PBA bit, no message
  it('masked entry: PBA bit 3', () => {
    const { sink, w, pba } = x540();
    w(0x880, 0x8);
    w(0x808, 0x8);
    expect(sink.events).toEqual([]);
    expect(pba()).toBe(0x8);
  });

  // the function mask holds every vector pending; clearing it sends them (msix_write_config)
  it('function mask: pending while set, sent when cleared', () => {
    const { hw, sink, unmask, w, pba } = x540();
    const flags = hw.msix!.offset + 2;
    unmask(2);
    hw.config.write(flags, 2, hw.config.read(flags, 2) | 0x4000);
    w(0x880, 0x4);
    w(0x808, 0x4);
    expect(pba()).toBe(0x4);
    hw.config.write(flags, 2, hw.config.read(flags, 2) & ~0x4000);
    expect(sink.events).toEqual(['msix 2 0x0 0x0']);
    expect(pba()).toBe(0);
  });

  // the "other" causes (bit 20, link status change) go to IVAR_MISC's vector
  it('LSC (bit 20) to the IVAR_MISC vector 5', () => {
    const { sink, unmask, w } = x540();
    unmask(5);
    w(0xa00, 0x8500);
    w(0x880, 1 << 20);
    w(0x808, 1 << 20);
    expect(sink.events).toEqual(['msix 5 0x0 0x0']);
  });
});

describe('Bus Master Enable gates memory requests (PCI 3.0 §6.2.2; QEMU bus_master_enable_region)', () => {
  // a DMA read with BME clear issues nothing; QEMU's unassigned read fills the buffer with
  // zeros, and the write back out is dropped: bus memory is untouched, the log empty
  it('edu DMA without BME: no transaction, zeros into the buffer, RUN clears', () => {
    const { hw, bus, w, r } = edu(false);
    bus.mem.fill(0xaa, 0, 8);
    hw.dmaBuffer().fill(0x55, 0, 9);
    eduDma(w, 0x10000n, 0x40000n, 8n, 1n);
    expect(Buffer.from(hw.dmaBuffer().subarray(0, 9)).toString('hex')).toBe('000000000000000055');
    eduDma(w, 0x40000n, 0x10100n, 8n, 3n);
    expect(bus.log).toEqual([]);
    expect(Buffer.from(bus.mem.subarray(0x100, 0x108)).toString('hex')).toBe('0000000000000000');
    expect(r(0x98, 8)).toBe(2n);
  });

  // the DMA interrupt is still raised; by INTx it needs no bus mastering
  it('edu DMA interrupt by INTx without BME: the line still asserts', () => {
    const { sink, w, r } = edu(false);
    eduDma(w, 0x40000n, 0x10100n, 4n, 7n);
    expect(r(0x24)).toBe(0x100n);
    expect(sink.events).toEqual(['intx true']);
  });

  // msi_send_message into the disabled window: lost, and MSI has no pending bit to set
  it('edu MSI without BME: nothing written; with BME the next raise is sent', () => {
    const { hw, sink, w } = edu(false);
    hw.config.write(0x44, 4, 0xfee00000);
    hw.config.write(0x4c, 2, 0x4021);
    hw.config.write(0x42, 2, 0x0081);
    w(0x60, 0x8n, 4);
    expect(sink.events).toEqual([]);
    expect(hw.signalMessage(0)).toEqual({ kind: 'msi', outcome: 'no-bus-master' });
    setMaster(hw, true);
    w(0x64, 0x8n, 4);
    w(0x60, 0x8n, 4);
    expect(sink.events).toEqual(['msi 0 0xfee00000 0x4021']);
  });

  // MSI-X: an unmasked vector's write is lost (no PBA bit: msix_notify only sets it when masked)
  it('MSI-X without BME: outcome no-bus-master, PBA clear; masked vectors still go pending', () => {
    const hw = makeHw('x540', '0000:01:00.0', {}) as PciFunction;
    const sink = recorder();
    hw.connectInterrupts(sink);
    setMaster(hw, false);
    const m = hw.msix!;
    hw.config.write(m.offset + 2, 2, 0x8000 | hw.config.read(m.offset + 2, 2));
    hw.barWrite(m.tableBar, BigInt(m.tableOffset + 12), 4, 0n);
    const pba = () => Number(hw.barRead(m.pbaBar, BigInt(m.pbaOffset), 4));
    expect(hw.signalMessage(0)).toEqual({ kind: 'msix', outcome: 'no-bus-master' });
    expect(hw.signalMessage(1)).toEqual({ kind: 'msix', outcome: 'pending' });
    expect(pba()).toBe(0x2);
    expect(sink.events).toEqual([]);
  });
});
