// Live devices on a booted machine: the kernel programs the composed MSI message into the
// device, the device's own writes (MSI, DMA) take the IOMMU path, and its interrupts reach
// vfio-pci's eventfds (kernel/irq/pci-msi.ts, kernel/irq/pci-intr.ts, iommu/dma-path.ts).

import { describe, expect, it } from 'vitest';
import type { EventFd } from '../../src/kernel/eventfd.js';
import type { PciFunction } from '../../src/hw/pci/device.js';
import { PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER, PCI_STATUS, PCI_STATUS_INTERRUPT } from '../../src/hw/pci/regs.js';
import { IDX, IRQ, irqSet } from '../vfio-pci/helpers.js';
import { Machine } from './fixture.js';

const EDU = '0000:00:01.0';
const E1000E = '0000:00:02.0';
const { NONE, EVENTFD, UNMASK, TRIGGER } = IRQ;

/** The command register through the device fd's config region (index 7), as a user writes it. */
function command_(m: Machine, dev: number): number {
  const b = new Uint8Array(2).fill(0xaa);
  expect(m.kernel.pread(m.proc, dev, b, (7n << 40n) | BigInt(PCI_COMMAND)).ret).toBe(2);
  return b[0]! | (b[1]! << 8);
}
function set_command(m: Machine, dev: number, value: number): void {
  expect(m.kernel.pwrite(m.proc, dev, new Uint8Array([value & 0xff, value >> 8]), (7n << 40n) | BigInt(PCI_COMMAND)).ret).toBe(2);
}

/**
 * A machine with `bdf` bound, its container set up, and the device fd open; unless `master`
 * is false the user then sets Bus Master Enable, as a driver's pci_set_master() does.
 */
function device(era: string, preset: string, bdf: string, options: Record<string, string> = {}, master = true) {
  const m = new Machine(era, preset, options);
  m.setup(bdf);
  const fd = m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', new TextEncoder().encode(`${bdf}\0`));
  expect(fd.errno).toBe(0);
  const hw = m.kernel.devices.get(bdf)!.hw as PciFunction;
  if (master) set_command(m, fd.ret, command_(m, fd.ret) | PCI_COMMAND_MASTER);
  return { m, dev: fd.ret, hw };
}

function eventfd(m: Machine): { fd: number; efd: EventFd } {
  const fd = Number(m.kernel.eventfd(m.proc).ret);
  return { fd, efd: m.proc.eventfdGet(fd) as EventFd };
}

const set_irqs = (m: Machine, dev: number, flags: number, index: number, start: number, count: number, data: number[] = []): void =>
  expect(m.ioctl_(dev, 'VFIO_DEVICE_SET_IRQS', irqSet(flags, index, start, count, data)).errno).toBe(0);

/** A BAR register write through the device fd (region N at N << 40). */
function bar_write(m: Machine, dev: number, bar: number, off: number, value: bigint, size: 4 | 8 = 4): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, value, true);
  expect(m.kernel.pwrite(m.proc, dev, size === 8 ? b : b.subarray(0, 4), (BigInt(bar) << 40n) | BigInt(off)).ret).toBe(size);
}

describe('the composed message is written into the device (__pci_write_msi_msg)', () => {
  // MSI: the capability's address and data, host view (the user's view is virtualised)
  it('edu MSI on q35: 0xfee00000 and the APIC data in the capability', () => {
    const { m, dev, hw } = device('6.1', 'qemu-q35-vtd', EDU);
    const { fd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 1, [fd]);
    const v = m.kernel.msi.get(EDU)!.vectors[0]!;
    expect(hw.config.read(0x44, 4)).toBe(Number(v.msg.addr));
    expect(hw.config.read(0x48, 4)).toBe(0);
    expect(hw.config.read(0x4c, 2)).toBe(v.msg.data);
    expect(v.msg.addr).toBe(0xfee00000n);
  });

  // MSI-X: the entry's address/data, unmasked only once a handler is requested
  it('e1000e MSI-X entries: vector 0 with a trigger unmasked, vector 1 without one masked', () => {
    const { m, dev, hw } = device('6.1', 'qemu-q35-vtd', E1000E);
    const { fd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSIX, 0, 2, [fd, -1]);
    const t = hw.msixTableBytes();
    const dv = new DataView(t.buffer);
    const v0 = m.kernel.msi.get(E1000E)!.vectors[0]!;
    expect(dv.getUint32(0, true)).toBe(Number(v0.msg.addr & 0xffffffffn));
    expect(dv.getUint32(8, true)).toBe(v0.msg.data);
    expect(dv.getUint32(12, true)).toBe(0);
    expect(dv.getUint32(16 + 12, true)).toBe(1);
  });
});

describe('a reset keeps the messages (pci_restore_msi_state)', () => {
  // the X540 resets by FLR, which clears its table; the restore writes vector 0 back, unmasked
  // (4.10 on the Overdrive: the restored physical address then faults in the SMMU, as before)
  it('X540 after RESET: vector 0 written to the same doorbell address', () => {
    const { m, dev, hw } = device('4.10', 'amd-overdrive', '0000:01:00.0');
    const { fd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSIX, 0, 1, [fd]);
    expect(m.ioctl_(dev, 'VFIO_DEVICE_RESET').errno).toBe(0);
    expect(hw.resets.flr).toBe(2); // one at open (vfio_pci_core_enable), one for RESET
    const seq = m.kernel.inbound.seq;
    expect(hw.signalMessage(0)).toEqual({ kind: 'msix', outcome: 'sent' });
    const [r] = m.kernel.inbound.since(seq);
    expect(r!.what === 'msi' ? r!.addr : 'no write').toBe(0xe1180040n);
  });
});

describe('the device raises a vector (msix_notify through the IOMMU path)', () => {
  // x86: the interrupt window bypasses translation and the APIC names the vector
  it('delivered on q35: the eventfd counts 1', () => {
    const { m, dev, hw } = device('6.1', 'qemu-q35-vtd', E1000E);
    const { fd, efd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSIX, 0, 1, [fd]);
    expect(hw.signalMessage(0)).toEqual({ kind: 'msix', outcome: 'sent' });
    expect(efd.count).toBe(1n);
  });

  // a masked entry sets its PBA bit and writes nothing
  it('masked vector: pending, the eventfd untouched', () => {
    const { m, dev, hw } = device('6.1', 'qemu-q35-vtd', E1000E);
    const { fd, efd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSIX, 0, 2, [fd, -1]);
    const seq = m.kernel.inbound.seq;
    expect(hw.signalMessage(1)).toEqual({ kind: 'msix', outcome: 'pending' });
    expect(m.kernel.inbound.since(seq)).toEqual([]);
    expect(efd.count).toBe(0n);
  });

  // 4.10 ARM: nothing maps the doorbell, the SMMU faults on the physical address
  it('4.10 virt/SMMUv3/v2m: the MSI write faults at the doorbell PA', () => {
    const { m, dev, hw } = device('4.10', 'qemu-virt-smmuv3', EDU, { gic: 'v2' });
    const { fd, efd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 1, [fd]);
    const seq = m.kernel.inbound.seq;
    hw.signalMessage(0);
    const [r] = m.kernel.inbound.since(seq);
    expect(r!.what === 'msi' && r!.result === 'fault' ? r!.fault.iova : 'not a fault').toBe(0x8020040n);
    expect(efd.count).toBe(0n);
  });
});

describe('INTx: vfio_intx_handler masks at the device, unmask re-arms', () => {
  // assert → DisINTx set, eventfd 1; unmask after the ack → DisINTx clear
  it('edu INTx: mask on assert, unmask after acknowledge', () => {
    const { m, dev, hw } = device('6.1', 'qemu-q35-vtd', EDU);
    const { fd, efd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.INTX, 0, 1, [fd]);
    bar_write(m, dev, 0, 0x60, 1n);
    expect(efd.count).toBe(1n);
    expect(hw.config.read(PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE).toBe(PCI_COMMAND_INTX_DISABLE);
    expect(hw.config.read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT).toBe(PCI_STATUS_INTERRUPT);
    bar_write(m, dev, 0, 0x64, 1n);
    set_irqs(m, dev, NONE | UNMASK, IDX.INTX, 0, 1);
    expect(hw.config.read(PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE).toBe(0);
    expect(efd.count).toBe(1n);
  });

  // the unmask eventfd (virqfd): a signal unmasks; a still-asserted line resends the trigger
  it('unmask eventfd while still asserted: trigger resent, stays masked', () => {
    const { m, dev, hw } = device('6.1', 'qemu-q35-vtd', EDU);
    const trig = eventfd(m);
    const unmask = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.INTX, 0, 1, [trig.fd]);
    set_irqs(m, dev, EVENTFD | UNMASK, IDX.INTX, 0, 1, [unmask.fd]);
    bar_write(m, dev, 0, 0x60, 1n);
    unmask.efd.signal();
    expect(trig.efd.count).toBe(2n);
    expect(hw.config.read(PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE).toBe(PCI_COMMAND_INTX_DISABLE);
  });
});

/** edu's DMA registers (src 0x80, dst 0x88, count 0x90) then its command (0x98), through the device fd. */
function edu_dma(m: Machine, dev: number, src: bigint, dst: bigint, cnt: bigint, cmd: bigint): void {
  bar_write(m, dev, 0, 0x80, src, 8);
  bar_write(m, dev, 0, 0x88, dst, 8);
  bar_write(m, dev, 0, 0x90, cnt, 8);
  bar_write(m, dev, 0, 0x98, cmd, 8);
}

describe("edu's DMA engine through the IOMMU (edu_dma_timer)", () => {
  // from memory into the buffer and back out: the 0xaa bytes arrive 0x1000 further on
  it('round trip through VT-d: 16 bytes of 0xaa, DMA interrupt by MSI', () => {
    const { m, dev } = device('6.1', 'qemu-q35-vtd', EDU);
    const vaddr = m.mmap(0x10000n);
    m.map_dma(vaddr, 0x100000n, 0x10000n);
    m.proc.mm.copyToUser(vaddr, new Uint8Array(16).fill(0xaa));
    const { fd, efd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 1, [fd]);
    edu_dma(m, dev, 0x100000n, 0x40000n, 16n, 0x5n);
    edu_dma(m, dev, 0x40000n, 0x101000n, 16n, 0x7n);
    expect(Buffer.from(m.proc.mm.copyFromUser(vaddr + 0x1000n, 17) as Uint8Array).toString('hex')).toBe('aa'.repeat(16) + '00');
    expect(efd.count).toBe(2n);
  });

  // an unmapped IOVA faults; the command still completes and raises its interrupt
  it('unmapped destination: an IOMMU fault record, nothing written', () => {
    const { m, dev } = device('6.1', 'qemu-q35-vtd', EDU);
    const { fd, efd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 1, [fd]);
    const seq = m.kernel.inbound.seq;
    edu_dma(m, dev, 0x40000n, 0x200000n, 4n, 0x7n);
    const [dma] = m.kernel.inbound.since(seq);
    expect(dma!.what === 'dma' && !dma!.result.ok ? dma!.result.fault.iova : 'no fault').toBe(0x200000n);
    expect(efd.count).toBe(1n);
  });

  // edu runs the command from its timer (dma_timer): the fault interrupt's lines come after
  // the write returned (LogLine.afterCall), a recorder's next drain finds them
  it('the fault lines of a timer DMA are printed after the call', () => {
    const { m, dev } = device('7.2', 'qemu-q35-vtd', EDU);
    const mark = m.kernel.log.lines.length;
    edu_dma(m, dev, 0x40000n, 0x200000n, 4n, 0x3n);
    expect(m.kernel.log.since(mark)).toEqual([
      { level: 'err', text: 'DMAR: DRHD: handling fault status reg 2', afterCall: true },
      { level: 'err', text: 'DMAR: [DMA Write NO_PASID] Request device [0000:00:01.0] fault addr 0x200000 [fault reason 0x05] PTE Write access is not set', afterCall: true },
    ]);
  });
});

describe('Bus Master Enable through vfio-pci (passed through: vfio_pci_config.c virtualises only IO/MEM/INTx disable)', () => {
  // open leaves BME as the host had it (vfio_pci_core_enable does not pci_set_master)
  it('edu on q35 after open: BME clear in the device and in the user view', () => {
    const { m, dev, hw } = device('6.1', 'qemu-q35-vtd', EDU, {}, false);
    expect(hw.config.read(PCI_COMMAND, 2) & PCI_COMMAND_MASTER).toBe(0);
    expect(command_(m, dev) & PCI_COMMAND_MASTER).toBe(0);
  });

  // the user's write reaches the device, which then sends; clearing it loses the next MSI
  it('user sets BME: the MSI is delivered; user clears it: no write, eventfd unchanged', () => {
    const { m, dev, hw } = device('6.1', 'qemu-q35-vtd', EDU, {}, false);
    const { fd, efd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 1, [fd]);
    const seq = m.kernel.inbound.seq;
    expect(hw.signalMessage(0)).toEqual({ kind: 'msi', outcome: 'no-bus-master' });
    expect(m.kernel.inbound.since(seq)).toEqual([]);
    set_command(m, dev, command_(m, dev) | PCI_COMMAND_MASTER);
    expect(hw.config.read(PCI_COMMAND, 2) & PCI_COMMAND_MASTER).toBe(PCI_COMMAND_MASTER);
    expect(hw.signalMessage(0)).toEqual({ kind: 'msi', outcome: 'sent' });
    expect(efd.count).toBe(1n);
    set_command(m, dev, command_(m, dev) & ~PCI_COMMAND_MASTER);
    expect(hw.signalMessage(0)).toEqual({ kind: 'msi', outcome: 'no-bus-master' });
    expect(efd.count).toBe(1n);
  });

  // edu's engine without BME: no DMA record at all (no fault either), RUN clears, and the
  // DMA interrupt's MSI is lost too
  it('edu DMA without BME: nothing crosses the IOMMU', () => {
    const { m, dev } = device('6.1', 'qemu-q35-vtd', EDU, {}, false);
    const vaddr = m.mmap(0x10000n);
    m.map_dma(vaddr, 0x100000n, 0x10000n);
    const { fd, efd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 1, [fd]);
    const seq = m.kernel.inbound.seq;
    edu_dma(m, dev, 0x40000n, 0x100000n, 16n, 0x7n);
    expect(m.kernel.inbound.since(seq)).toEqual([]);
    expect(efd.count).toBe(0n);
  });
});

describe('multi-vector MSI (msi_capability_init, PCI 3.0 §6.8.1.6: vector N sends data | N)', () => {
  /**
   * edu with its MSI capability saying Multiple Message Capable = 4 (the field written as
   * hardware strapping, before vfio-pci reads it), bus mastering on, the device fd open.
   * Platforms whose MSIs are not isolated need allow_unsafe_interrupts for the attach.
   */
  function multiEdu(era: string, preset: string, options: Record<string, string> = {}, unsafe = false) {
    const m = new Machine(era, preset, options);
    if (unsafe) m.param('allow_unsafe_interrupts', 'Y');
    m.setup(EDU);
    const hw = m.kernel.devices.get(EDU)!.hw as PciFunction;
    hw.config.setBits(hw.msi!.offset + 2, 2, 2 << 1, true);
    const fd = m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', new TextEncoder().encode(`${EDU}\0`));
    expect(fd.errno).toBe(0);
    set_command(m, fd.ret, command_(m, fd.ret) | PCI_COMMAND_MASTER);
    return { m, dev: fd.ret, hw };
  }
  const fds = (m: Machine, n: number) => Array.from({ length: n }, () => eventfd(m));

  // VT-d with interrupt remapping: the IR domain takes multi-MSI; MME = 2 (4 vectors), one
  // aligned block, and each vector's write reaches its own eventfd
  it('q35 intremap=on, 3 vectors asked: MME 4, vectors 0..2 each delivered to their eventfd', () => {
    const { m, dev, hw } = multiEdu('6.1', 'qemu-q35-vtd', { intremap: 'on' });
    const e = fds(m, 3);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 3, e.map((x) => x.fd));
    expect((hw.config.read(hw.msi!.offset + 2, 2) >> 4) & 7).toBe(2);
    const data0 = hw.config.read(hw.msi!.offset + 0xc, 2);
    expect(data0 % 4).toBe(0);
    for (const v of [2, 0, 1]) expect(hw.signalMessage(v)).toEqual({ kind: 'msi', outcome: 'sent' });
    expect(e.map((x) => x.efd.count)).toEqual([1n, 1n, 1n]);
    // vector 3 exists in the hardware's block (MME = 4) but has no eventfd
    const seq = m.kernel.inbound.seq;
    expect(hw.signalMessage(3)).toEqual({ kind: 'msi', outcome: 'sent' });
    const [r] = m.kernel.inbound.since(seq);
    expect(r!.what === 'msi' && r!.result === 'raised' ? [r!.data, r!.target.vector, r!.trigger] : 'not raised').toEqual([data0 | 3, 3, null]);
    expect(hw.signalMessage(4)).toEqual({ kind: 'msi', outcome: 'no-such-vector' });
  });

  // the x86 vector domain has no MSI_FLAG_MULTI_PCI_MSI: pci_alloc_irq_vectors() gets 1,
  // vfio_msi_enable() frees it and returns 1, and MSI stays off
  it('q35 intremap=off, 2 vectors asked: SET_IRQS returns 1, MSI not enabled', () => {
    const { m, dev, hw } = multiEdu('6.1', 'qemu-q35-vtd', { intremap: 'off' }, true);
    const e = fds(m, 2);
    const r = m.ioctl_(dev, 'VFIO_DEVICE_SET_IRQS', irqSet(EVENTFD | TRIGGER, IDX.MSI, 0, 2, e.map((x) => x.fd)));
    expect([r.ret, r.errno]).toEqual([1, 0]);
    expect(hw.config.read(hw.msi!.offset + 2, 2) & 1).toBe(0);
    // QEMU's retry with 1 vector then succeeds
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 1, [e[0]!.fd]);
    expect(hw.signalMessage(0)).toEqual({ kind: 'msi', outcome: 'sent' });
    expect(e[0]!.efd.count).toBe(1n);
  });

  // GICv3 ITS: EventIDs 0..3 for the device, vector N is EventID N
  it('virt/SMMUv3/ITS 6.12, 4 vectors: vector 3 writes EventID 3 and reaches eventfd 3', () => {
    const { m, dev, hw } = multiEdu('6.12', 'qemu-virt-smmuv3', { gic: 'v3' });
    const e = fds(m, 4);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 4, e.map((x) => x.fd));
    const seq = m.kernel.inbound.seq;
    expect(hw.signalMessage(3)).toEqual({ kind: 'msi', outcome: 'sent' });
    const [r] = m.kernel.inbound.since(seq);
    expect(r!.what === 'msi' ? r!.data : 'no write').toBe(3);
    expect(e.map((x) => x.efd.count)).toEqual([0n, 0n, 0n, 1n]);
  });

  // GICv2m: an aligned block of SPIs; vector 1's SPI is vector 0's + 1
  it('virt/SMMUv3/v2m 6.12, 2 vectors: SPIs aligned, vector 1 delivered', () => {
    const { m, dev, hw } = multiEdu('6.12', 'qemu-virt-smmuv3', { gic: 'v2' }, true);
    const e = fds(m, 2);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 2, e.map((x) => x.fd));
    const data0 = hw.config.read(hw.msi!.offset + 0xc, 2);
    expect((data0 - 80) % 2).toBe(0);
    hw.signalMessage(1);
    expect(e.map((x) => x.efd.count)).toEqual([0n, 1n]);
  });
});

describe('MSI after VFIO_DEVICE_RESET (pci_restore_state → pci_restore_msi_state)', () => {
  // the X540's FLR clears its MSI capability and command register; the restore writes back
  // the command (bus mastering included), the message and the enable bits, so the device's
  // next MSI is the same write (4.10 on the Overdrive: to the physical doorbell, which faults)
  it('X540 MSI on amd-overdrive 4.10: FLR, then vector 0 writes the same message again', () => {
    const { m, dev, hw } = device('4.10', 'amd-overdrive', '0000:01:00.0');
    const { fd } = eventfd(m);
    set_irqs(m, dev, EVENTFD | TRIGGER, IDX.MSI, 0, 1, [fd]);
    const off = hw.msi!.offset;
    const msg = () => [hw.config.read(off + 4, 4), hw.config.read(off + 8, 4), hw.config.read(off + 0xc, 2)];
    const before = msg();
    expect(before[0]).not.toBe(0);
    expect(m.ioctl_(dev, 'VFIO_DEVICE_RESET').errno).toBe(0);
    expect(hw.resets.flr).toBe(2);
    expect(msg()).toEqual(before);
    expect(hw.config.read(off + 2, 2) & 1).toBe(1);
    expect(hw.config.read(PCI_COMMAND, 2) & PCI_COMMAND_MASTER).toBe(PCI_COMMAND_MASTER);
    const seq = m.kernel.inbound.seq;
    expect(hw.signalMessage(0)).toEqual({ kind: 'msi', outcome: 'sent' });
    const [r] = m.kernel.inbound.since(seq);
    expect(r!.what === 'msi' ? [r!.addr, r!.data] : 'no write').toEqual([BigInt(before[0]!), before[2]]);
  });
});
