// pread/pwrite through the device fd (config virtualisation, BARs, ROM, MSI-X table and PBA)
// and the mmap rules, one stanza per rule. Bytes from the real-kernel traces where they have
// them.

import { installedQemuRom, syntheticRom } from '../../src/hw/pci/option-rom.js';
import { describe, expect, test } from 'vitest';
import { EFAULT, EINVAL, EIO } from '../../src/uapi/errno.js';
import { PCI_INTERRUPT_LINE } from '../../src/hw/pci/regs.js';
import { _pread, hex, mmap, mmap_err, open, pread, pread_err, pwrite, pwrite_err, region, u32 } from './helpers.js';

const le32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
const CFG = 7;

describe('config space (vfio_pci_config.c)', () => {
  // the virtual header as the traces read it: BARs as vfio sees them, command, line, pin
  test('header, x86', () => {
    const r = open('e1000e', '6.1', { firmware: 'x86' });
    expect(hex(pread(r, region(CFG), 64))).toBe(
      '8680d3100301100000000002000000000000b4fe0000b6fe41c000000000b8fe000000000000000000000000868000000000b0fec8000000000000000b010000',
    );
    const e = open('edu', '6.1', { firmware: 'x86' });
    expect(hex(pread(e, region(CFG), 64))).toBe(
      '3412e811030110001000ff00000000000000a0fe000000000000000000000000000000000000000000000000f41a00110000000040000000000000000a010000',
    );
  });

  // arm64: command as pci_enable_device set it, the ROM BAR reads 0 (never programmed)
  test('header, arm64', () => {
    const r = open('e1000e', '6.12', { firmware: 'arm64' });
    expect(hex(pread(r, region(CFG), 64))).toBe(
      '8680d310030010000000000200000000000014100000161001100000000018100000000000000000000000008680000000000000c80000000000000015010000',
    );
    const e = open('edu', '6.12', { firmware: 'arm64' });
    expect(hex(pread(e, region(CFG), 64))).toBe(
      '3412e811020010001000ff000000000000000010000000000000000000000000000000000000000000000000f41a001100000000400000000000000014010000',
    );
  });

  // the capability list as the traces read it: PM -> MSI -> PCIe -> MSI-X
  test('capabilities', () => {
    const r = open('e1000e', '6.1');
    expect(hex(pread(r, region(CFG, 0x40n), 192))).toBe(
      '00'.repeat(0x60) +
        '1100040003000000032000000000000000000000000000000000000000000000000000000000000001d022000000000005e0800000000000000000000000000010a0910000800000000000001104000000001100000000000000000000000000',
    );
  });

  // BAR sizing: all ones written to a virtual BAR read back as the size mask; hardware untouched
  test('BAR sizing', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(CFG, 0x10n), le32(0xffffffff));
    expect(u32(pread(r, region(CFG, 0x10n), 4), 0)).toBe(0xfffe0000);
    pwrite(r, region(CFG, 0x18n), le32(0xffffffff));
    expect(u32(pread(r, region(CFG, 0x18n), 4), 0)).toBe(0xffffffe1);
    pwrite(r, region(CFG, 0x30n), le32(0xfffff800));
    expect(u32(pread(r, region(CFG, 0x30n), 4), 0)).toBe(0xfffc0000);
    expect(r.hw.config.read(0x10, 4)).toBe(0xfeb40000);
  });

  // 64-bit BARs: the upper half sizes too
  test('64-bit BAR sizing', () => {
    const r = open('x540', '6.1', { params: { bars: { 0: '0x80000000', 4: '0x80200000' } } });
    pwrite(r, region(CFG, 0x10n), le32(0xffffffff));
    pwrite(r, region(CFG, 0x14n), le32(0xffffffff));
    expect(hex(pread(r, region(CFG, 0x10n), 8))).toBe('0c00e0ffffffffff');
  });

  // an unassigned BAR reads 0 ("unmapped by host = unimplemented to user")
  test('unassigned BARs read 0', () => {
    const r = open('e1000e', '6.1');
    expect(hex(pread(r, region(CFG, 0x20n), 8))).toBe('0000000000000000');
  });

  // interrupt line: virtual, writable; the hardware keeps its value
  test('interrupt line', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(CFG, BigInt(PCI_INTERRUPT_LINE)), new Uint8Array([0x55]));
    expect(hex(pread(r, region(CFG, 0x3cn), 2))).toBe('5501');
    expect(r.hw.config.read(PCI_INTERRUPT_LINE, 1)).toBe(0x0b);
  });

  // pin, IDs, status, capability pointer: not writable
  test('read-only header fields', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(CFG, 0n), le32(0));
    pwrite(r, region(CFG, 0x34n), new Uint8Array([0x40]));
    pwrite(r, region(CFG, 0x3dn), new Uint8Array([0]));
    expect(hex(pread(r, region(CFG, 0n), 4))).toBe('8680d310');
    expect(hex(pread(r, region(CFG, 0x34n), 1))).toBe('c8');
    expect(hex(pread(r, region(CFG, 0x3dn), 1))).toBe('01');
  });

  // memory decode off in the command register: BAR access is -EIO; I/O BARs still answer
  test('memory disabled', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(CFG, 4n), new Uint8Array([0x01, 0x01]));
    pread_err(r, region(0), 4, EIO);
    expect(pread(r, region(2), 4).length).toBe(4);
    pwrite(r, region(CFG, 4n), new Uint8Array([0x03, 0x01]));
    expect(hex(pread(r, region(0), 4))).toBe('41021400');
  });

  // INTx disable is virtual: the user's value reads back
  test('INTx disable', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(CFG, 4n), new Uint8Array([0x03, 0x05]));
    expect(hex(pread(r, region(CFG, 4n), 2))).toBe('0305');
    expect(r.dev.virqDisabled).toBe(true);
  });

  // capability next pointers come from vconfig and cannot be written
  test('capability next pointer', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(CFG, 0xc9n), new Uint8Array([0x00]));
    expect(hex(pread(r, region(CFG, 0xc8n), 2))).toBe('01d0');
  });

  // MSI address/data are virtual: the user's writes never reach the device
  test('MSI message is virtual', () => {
    const r = open('edu', '6.1');
    pwrite(r, region(CFG, 0x44n), le32(0xfee01000));
    expect(u32(pread(r, region(CFG, 0x44n), 4), 0)).toBe(0xfee01000);
    expect(r.hw.config.read(0x44, 4)).toBe(0);
  });

  // MSI enable is only through SET_IRQS: a written enable bit is cleared
  test('MSI enable bit', () => {
    const r = open('edu', '6.1');
    pwrite(r, region(CFG, 0x42n), new Uint8Array([0x81]));
    expect(hex(pread(r, region(CFG, 0x40n), 4))).toBe('05008000');
  });

  // MSI-X control is read from the hardware: enable shows once SET_IRQS enabled it
  test('MSI-X control from hardware', () => {
    const r = open('e1000e', '6.1');
    const fd = r.proc.eventfd();
    const b = new Uint8Array(24);
    new DataView(b.buffer).setUint32(0, 24, true);
    new DataView(b.buffer).setUint32(4, 0x24, true);
    new DataView(b.buffer).setUint32(8, 2, true);
    new DataView(b.buffer).setUint32(16, 1, true);
    new DataView(b.buffer).setInt32(20, fd, true);
    expect(r.dev.ioctl(r.proc, 0x3b6e, { value: 0n, buf: b })).toBe(0);
    expect(hex(pread(r, region(CFG, 0xa0n), 4))).toBe('11000480');
  });

  // bytes no capability owns pass straight through (QEMU keeps them as scratch)
  test('unassigned bytes are raw', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(CFG, 0x40n), le32(0x12345678));
    expect(u32(pread(r, region(CFG, 0x40n), 4), 0)).toBe(0x12345678);
    expect(r.hw.config.read(0x40, 4)).toBe(0x12345678);
  });

  // extended capabilities: AER v2 -> DSN (header from vconfig)
  test('extended capabilities', () => {
    const r = open('e1000e', '6.1');
    expect(hex(pread(r, region(CFG, 0x100n), 4))).toBe('01000214');
    expect(hex(pread(r, region(CFG, 0x140n), 4))).toBe('03000100');
  });

  // beyond cfg_size, or running past it: -EFAULT (no partial read)
  test('out of range', () => {
    const e = open('edu', '6.1');
    pread_err(e, region(CFG, 0x100n), 4, EFAULT);
    pread_err(e, region(CFG, 0xfcn), 8, EFAULT);
    expect(pread(e, region(CFG, 0xfcn), 4).length).toBe(4);
    const r = open('e1000e', '6.1');
    pread_err(r, region(CFG, 0xffcn), 8, EFAULT);
    pwrite_err(r, region(CFG, 0x1000n), le32(0), EFAULT);
  });

  // unaligned accesses are split (byte, word, dword) and still assemble the same bytes
  test('unaligned access', () => {
    const r = open('e1000e', '6.1');
    expect(hex(pread(r, region(CFG, 1n), 7))).toBe('80d31003011000');
  });
});

describe('BARs, ROM, MSI-X table (vfio_pci_rdwr.c)', () => {
  // e1000e BAR0 registers (trace: CTRL, CTRL_DUP, STATUS, 0x0c), 6.1 and 6.12 alike
  test('e1000e BAR0', () => {
    for (const e of ['6.1', '6.12']) expect(hex(pread(open('e1000e', e), region(0), 16))).toBe('41021400000000008302080000000000');
  });

  // edu BAR0: 4-byte accesses in 6.1; 8-byte ones in 6.12, which edu answers with ~0 below 0x80 (trace)
  test('edu BAR0 by era', () => {
    expect(hex(pread(open('edu', '6.1'), region(0), 16))).toBe('ed0000010000000000000000ffffffff');
    expect(hex(pread(open('edu', '6.12'), region(0), 16))).toBe('ff'.repeat(16));
    expect(hex(pread(open('edu', '6.12'), region(0), 4))).toBe('ed000001');
  });

  // edu liveness register through the fd
  test('edu write', () => {
    const r = open('edu', '6.1');
    pwrite(r, region(0, 4n), le32(0x12345678));
    expect(u32(pread(r, region(0, 4n), 4), 0)).toBe(0xedcba987);
  });

  // the MSI-X table reads all ones, and writes are dropped (trace); the PBA reads 0 (trace)
  test('MSI-X table and PBA', () => {
    const r = open('e1000e', '6.1');
    expect(hex(pread(r, region(3), 32))).toBe('ff'.repeat(32));
    pwrite(r, region(3), new Uint8Array(16));
    expect(r.hw.barRead(3, 12n, 4)).toBe(1n); // still masked
    expect(hex(pread(r, region(3, 0x2000n), 8))).toBe('0000000000000000');
    // Around the table: 0x50.. is ordinary BAR space.
    expect(hex(pread(r, region(3, 0x4cn), 8))).toBe('ffffffff00000000');
  });

  // past the end of a BAR: EINVAL; running past it: a short count
  test('BAR bounds', () => {
    const r = open('e1000e', '6.1');
    pread_err(r, region(0, 0x20000n), 4, EINVAL);
    expect(_pread(r, region(0, 0x1fff8n), 16).ret).toBe(8);
    pread_err(r, region(4), 4, EINVAL);
  });

  // the I/O BAR: IOADDR selects a register, IODATA reads it
  test('I/O BAR', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(2), le32(8));
    expect(u32(pread(r, region(2, 4n), 4), 0)).toBe(0x00080283);
  });

  // the ROM: the image, then 0xff past its true size (pci_get_rom_size walks the images);
  // read-only. The image is the installed QEMU's efi-e1000e.rom (ipxe-qemu: a legacy image of
  // 0x12600 bytes and an EFI image, 0x3d000 in all) where the host has it, else the synthetic
  // 64 KiB image (hw/pci/option-rom.ts); the test states which one it checks.
  test('ROM', () => {
    const r = open('e1000e', '6.1');
    const installed = installedQemuRom('efi-e1000e.rom');
    const end = installed ? 0x3d000n : 0x10000n;
    expect(hex(pread(r, region(6), 4))).toBe(installed ? '55aa93e9' : '55aa8000');
    expect(hex(pread(r, region(6, 0x1cn), 4))).toBe('50434952');
    expect(hex(pread(r, region(6, end - 4n), 4))).toBe(hex((installed ?? syntheticRom(0x8086, 0x10d3, 0x020000)).subarray(Number(end) - 4, Number(end))));
    expect(hex(pread(r, region(6, end), 4))).toBe('ffffffff');
    pread_err(r, region(6, 0x40000n), 4, EINVAL);
    pwrite_err(r, region(6), le32(0), EINVAL);
    // The ROM BAR is left disabled afterwards.
    expect(r.hw.config.read(0x30, 4) & 1).toBe(0);
  });

  // VGA without VGA support, and indexes beyond the regions: EINVAL; a zero-length read is 0
  test('other regions', () => {
    const r = open('e1000e', '6.1');
    pread_err(r, region(8), 4, EINVAL);
    pread_err(r, region(9), 4, EINVAL);
    pread_err(r, 1n << 63n, 4, EINVAL);
    expect(_pread(r, region(9), 0).ret).toBe(0);
  });
});

describe('mmap (vfio_pci_core_mmap)', () => {
  // memory BARs of a page or more; the whole MSI-X BAR since 4.16 (trace)
  test('BARs', () => {
    const r = open('e1000e', '6.1');
    mmap(r, region(0), 0x20000n);
    mmap(r, region(3), 0x4000n);
    const e = open('edu', '6.1');
    mmap(e, region(0), 0x100000n);
  });

  // not the I/O BAR, an empty BAR, the ROM, config or VGA
  test('non-mappable regions', () => {
    const r = open('e1000e', '6.1');
    for (const i of [2, 4, 6, 7, 8, 9]) mmap_err(r, region(i), 0x1000n, EINVAL);
  });

  // not past the BAR, and at a page-aligned offset
  test('bounds', () => {
    const r = open('e1000e', '6.1');
    mmap_err(r, region(0), 0x21000n, EINVAL);
    mmap_err(r, region(0, 0x1000n), 0x20000n, EINVAL);
    mmap_err(r, region(0, 0x10n), 0x1000n, EINVAL);
    mmap(r, region(0, 0x1f000n), 0x1000n);
  });

  // before 4.16 the MSI-X table's page is refused; the rest of the BAR maps
  test('4.10: around the MSI-X table', () => {
    const r = open('e1000e', '4.10');
    mmap_err(r, region(3), 0x4000n, EINVAL);
    mmap_err(r, region(3), 0x1000n, EINVAL);
    mmap(r, region(3, 0x1000n), 0x3000n);
  });
});
