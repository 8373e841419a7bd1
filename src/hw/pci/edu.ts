// QEMU 7.2's `edu` educational device (hw/misc/edu.c, docs/specs/edu.rst): 1234:11e8,
// conventional PCI, one 1 MiB memory BAR, MSI with one vector, INTA#.
//
// Config space as the real-kernel traces read it through vfio-pci:
//   00: 3412e811 <command> 1000 10 00ff00   vendor/device, status CAP_LIST, rev 0x10, class 00ff00
//   10: <BAR0> ...                          32-bit non-prefetchable memory, 1 MiB
//   2c: f41a0011                            subsystem 1af4:1100 (QEMU's default)
//   34: 40, 3c: <line> 01                   capability pointer 0x40, INTA#
//   40: 05008000 00000000 00000000 0000      MSI, next 0, 64-bit, 1 vector, no masking
// BAR0 registers (edu.rst), read as the traces show them: 00 ident 0x010000ed, 04 liveness
// (reads back the complement of what was written; 0 after reset), 08 factorial, 0c.. ~0.
// Registers at 0x00-0x7f answer only 4-byte accesses, 0x80+ 4- or 8-byte ones; anything else
// reads all ones. This is why Linux 6.12 (8-byte BAR reads) sees ffffffff... where 6.1 sees
// ed000001 00000000 00000000 ffffffff.
//
// The DMA engine (0x80-0x98) moves bytes between its 4 KiB buffer at device address 0x40000
// and bus addresses through the bus-master port (for a device behind an IOMMU, IOVAs), with
// addresses clamped to its 28-bit DMA mask. QEMU runs a command from a timer 100 ms after the
// write (edu_dma_timer); the model has no clock between accesses, so the timer fires as the
// write of RUN returns: the next access finds the transfer done, RUN clear, and the DMA
// interrupt (0x100) raised when the command asked for it. A user polling RUN sees it clear at
// once, one waiting for the interrupt gets it; both are deterministic. What the transfer makes
// the kernel print (an IOMMU fault interrupt's lines) comes after the write returned
// (PciFunction.fromTimer), so a recorder that drains /dev/kmsg after each call sees it after
// the next one (docs/trace-format.md). A range outside the buffer is refused
// (QEMU 7.2 stops with hw_error; later QEMU logs a guest error), and the command completes
// with nothing moved. With Bus Master Enable clear the engine still runs, but nothing leaves
// the device: reads fill the buffer with zeros and writes are dropped (device.ts dmaRead).
// The factorial (0x08) likewise completes when written.
//
// Interrupts: edu_raise_irq() sets bits in the interrupt status (0x24) and signals MSI vector
// 0 when MSI is enabled (a memory write, lost while Bus Master Enable is clear), else asserts
// INTA#; edu_lower_irq() (0x64) deasserts INTA# once the status is clear.

import { msiCap } from './config-space.js';
import { PciFunction, type PciPlacement } from './device.js';
import type { AccessSize, MmioOps } from './mmio.js';

const MiB = 1n << 20n;

const EDU_STATUS_COMPUTING = 0x01;
const EDU_STATUS_IRQFACT = 0x80;
const EDU_DMA_RUN = 0x1n;
/** Direction bit: 0 from bus memory into the buffer, 1 from the buffer to bus memory. */
const EDU_DMA_TO_PCI = 0x2n;
const EDU_DMA_IRQ = 0x4n;
const FACT_IRQ = 0x1;
const DMA_IRQ = 0x100;
/** The buffer's place in the device's own address space, and its size. */
const DMA_START = 0x40000n;
const DMA_SIZE = 4096n;
/** edu's default dma_mask: 28 address bits. */
const DMA_MASK = (1n << 28n) - 1n;

/** Where the traces' firmware put edu (QEMU 7.2; measured in the real-kernel traces). */
export const EDU_FIRMWARE: Record<'x86' | 'arm64', PciPlacement> = {
  // q35 + SeaBIOS: BAR0 0xfea00000, command I/O|memory|SERR# (0x0103), line 10.
  x86: { bars: { 0: 0xfea00000n }, command: 0x0103, interruptLine: 0x0a },
  // virt without firmware: Linux assigns BAR0 0x10000000 and leaves command 0; line = the
  // Linux IRQ number it wrote (0x14 on both 6.1/GICv2 and 6.12/GICv3).
  arm64: { bars: { 0: 0x10000000n }, command: 0x0000, interruptLine: 0x14 },
};

export interface EduParams {
  bdf: string;
  placement: PciPlacement;
  hostDriver?: string;
}

export class Edu extends PciFunction {
  /** 0x04: the complement of the last value written. */
  private addr4 = 0;
  /** 0x08: factorial input and result. */
  private fact = 0;
  /** 0x20: bit 0 computing, bit 7 raise an interrupt when done. */
  private status = 0;
  /** 0x24: interrupt status (raised by 0x60, acknowledged by 0x64). */
  private irqStatus = 0;
  private dma = { src: 0n, dst: 0n, cnt: 0n, cmd: 0n };
  /** The DMA buffer (dma_buf). */
  private readonly dmaBuf = new Uint8Array(Number(DMA_SIZE));

  constructor(p: EduParams) {
    super();
    this.setup({
      model: 'edu',
      bdf: p.bdf,
      header: {
        vendorId: 0x1234,
        deviceId: 0x11e8,
        revision: 0x10,
        classCode: 0x00ff00,
        subsystemVendorId: 0x1af4,
        subsystemId: 0x1100,
        interruptPin: 1,
      },
      bars: [{ index: 0, size: MiB, kind: 'mem32', prefetchable: false, ops: this.mmioOps() }],
      configSize: 256,
      caps: [msiCap({ off: 0x40, vectors: 1, addr64: true, perVectorMask: false })],
      placement: p.placement,
      hostDriver: p.hostDriver,
      pmSoftReset: false,
      d3StopsDecode: false,
      unclaimedWritable: true,
    });
  }

  protected resetRegisters(): void {
    // edu has no reset handler in QEMU 7.2: its registers keep their values.
  }

  private mmioOps(): MmioOps {
    return {
      read: (off, size) => this.mmioRead(Number(off), size),
      write: (off, size, value) => this.mmioWrite(Number(off), size, value),
      valid: { min: 4, max: 8 },
      impl: { min: 4, max: 8 },
    };
  }

  /** edu_mmio_read(). */
  private mmioRead(addr: number, size: AccessSize): bigint {
    const ones = (1n << 64n) - 1n;
    if (addr < 0x80 && size !== 4) return ones;
    if (addr >= 0x80 && size !== 4 && size !== 8) return ones;
    switch (addr) {
      case 0x00:
        return 0x010000edn;
      case 0x04:
        return BigInt(this.addr4);
      case 0x08:
        return BigInt(this.fact);
      case 0x20:
        return BigInt(this.status);
      case 0x24:
        return BigInt(this.irqStatus);
      case 0x80:
        return this.dma.src;
      case 0x88:
        return this.dma.dst;
      case 0x90:
        return this.dma.cnt;
      case 0x98:
        return this.dma.cmd;
      default:
        return ones;
    }
  }

  /** edu_mmio_write(). */
  private mmioWrite(addr: number, size: AccessSize, value: bigint): void {
    if (addr < 0x80 && size !== 4) return;
    if (addr >= 0x80 && size !== 4 && size !== 8) return;
    const v32 = Number(value & 0xffff_ffffn);
    switch (addr) {
      case 0x04:
        this.addr4 = ~v32 >>> 0;
        return;
      case 0x08:
        if (this.status & EDU_STATUS_COMPUTING) return;
        this.fact = v32;
        this.status |= EDU_STATUS_COMPUTING;
        this.computeFactorial();
        return;
      case 0x20:
        if (v32 & EDU_STATUS_IRQFACT) this.status |= EDU_STATUS_IRQFACT;
        else this.status &= ~EDU_STATUS_IRQFACT;
        return;
      case 0x60:
        this.raiseIrq(v32);
        return;
      case 0x64:
        this.lowerIrq(v32);
        return;
      case 0x80:
        if (!(this.dma.cmd & EDU_DMA_RUN)) this.dma.src = value;
        return;
      case 0x88:
        if (!(this.dma.cmd & EDU_DMA_RUN)) this.dma.dst = value;
        return;
      case 0x90:
        if (!(this.dma.cmd & EDU_DMA_RUN)) this.dma.cnt = value;
        return;
      case 0x98:
        if (!(value & EDU_DMA_RUN)) return;
        if (this.dma.cmd & EDU_DMA_RUN) return;
        this.dma.cmd = value;
        this.fromTimer(() => this.runDma());
        return;
    }
  }

  /** edu_dma_timer(): the transfer, RUN cleared, the DMA interrupt when asked for. */
  private runDma(): void {
    const { src, dst, cnt, cmd } = this.dma;
    const toPci = !!(cmd & EDU_DMA_TO_PCI);
    const local = toPci ? src : dst;
    // QEMU 7.2's edu_check_range(): start and end both within [DMA_START, DMA_START+DMA_SIZE)
    // and the count non-zero, so a transfer may not end exactly at the buffer's end.
    const end = local + cnt;
    const within = (a: bigint) => a >= DMA_START && a < DMA_START + DMA_SIZE;
    if (within(local) && end > local && within(end)) {
      const at = Number(local - DMA_START);
      const n = Number(cnt);
      if (toPci) {
        this.dmaWrite(dst & DMA_MASK, this.dmaBuf.slice(at, at + n));
      } else {
        // A failed read (an IOMMU fault) leaves the buffer as it was: pci_dma_read's result is
        // ignored. With Bus Master Enable clear the read answers zeros (PciFunction.dmaRead).
        const got = this.dmaRead(src & DMA_MASK, n);
        if (got) this.dmaBuf.set(got, at);
      }
    }
    this.dma.cmd &= ~EDU_DMA_RUN;
    if (cmd & EDU_DMA_IRQ) this.raiseIrq(DMA_IRQ);
  }

  /** The DMA buffer's bytes (for tests and displays). */
  dmaBuffer(): Uint8Array {
    return this.dmaBuf;
  }

  /** The factorial thread, run to completion at once (u32 arithmetic, as edu's uint32_t). */
  private computeFactorial(): void {
    let val = this.fact;
    let ret = 1;
    while (val > 0) {
      ret = Math.imul(ret, val) >>> 0;
      val--;
    }
    this.fact = ret;
    this.status &= ~EDU_STATUS_COMPUTING;
    if (this.status & EDU_STATUS_IRQFACT) this.raiseIrq(FACT_IRQ);
  }

  /** edu_raise_irq(): MSI when enabled, else INTA#. */
  private raiseIrq(val: number): void {
    this.irqStatus = (this.irqStatus | val) >>> 0;
    if (this.irqStatus) {
      if (this.msiEnabled()) this.notify(0);
      else this.setIntx(true);
    }
  }

  /** edu_lower_irq(). */
  private lowerIrq(val: number): void {
    this.irqStatus = (this.irqStatus & ~val) >>> 0;
    if (!this.irqStatus && !this.msiEnabled()) this.setIntx(false);
  }
}
