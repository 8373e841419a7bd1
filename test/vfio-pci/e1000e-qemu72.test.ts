// QEMU 7.2's e1000e as the kernel reads it through vfio-pci (test/fixtures/real-kernel-device;
// hw/net/e1000e_core.c; hw/pci/pcie_aer.c): MAC register reset values and write rules, AER,
// DEVCTL, and what the bus answers where the BAR has nothing behind it. One stanza per rule.

import { describe, expect, test } from 'vitest';
import { ENOMEM } from '../../src/uapi/errno.js';
import { hex, open, pread, pread_err, pwrite, region, u32, type Rig } from './helpers.js';

const le32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
const reg = (r: Rig, off: number): number => u32(pread(r, region(0, BigInt(off)), 4), 0);
const cfg = (r: Rig, off: number): number => u32(pread(r, region(7, BigInt(off)), 4), 0);
/** Ones written, then the read-back. */
const ones = (r: Rig, index: number, off: number): number => {
  pwrite(r, region(index, BigInt(off)), le32(0xffffffff));
  return u32(pread(r, region(index, BigInt(off)), 4), 0);
};

describe('e1000e MAC registers (e1000e_mac_reg_init, e1000e_macreg_readops/writeops)', () => {
  // reset values the recordings read
  test('reset values', () => {
    const r = open('e1000e', '6.1');
    const want: [number, number][] = [
      [0x0010, 0x00000300], [0x0014, 0x00000002], [0x0038, 0x00008100], [0x0e00, 0x00068302],
      [0x0f00, 0x00000008], [0x1000, 0x00140014], [0x1008, 0x00000028], [0x5000, 0x00000300], [0x5b00, 0x06800200],
    ];
    expect(want.map(([o]) => [o, reg(r, o)])).toEqual(want);
  });

  // the 82542 alias of the receive address: 0x40/0x44 read RAL0/RAH0 (MAC 52:54:00:12:34:56, AV)
  test('RA alias', () => {
    const r = open('e1000e', '6.1');
    expect([reg(r, 0x40), reg(r, 0x44)]).toEqual([0x12005452, 0x80005634]);
  });

  // write rules: EECD keeps PRES/AUTO_RD/SIZE_EX, EERD without START clears DONE, ring bases
  // and lengths masked, 16-bit FCTTV, FFLT reads its low 11 bits
  test('write rules', () => {
    const r = open('e1000e', '6.1');
    expect([ones(r, 0, 0x10), ones(r, 0, 0x14), ones(r, 0, 0x2800), ones(r, 0, 0x3800)]).toEqual([0xffff87ff, 0x0000fffc, 0xfffffff0, 0xfffffff0]);
    expect([ones(r, 0, 0x2808), ones(r, 0, 0x3808), ones(r, 0, 0x0170), ones(r, 0, 0x5f00)]).toEqual([0x000fff80, 0x000fff80, 0x0000ffff, 0x000007ff]);
  });

  // EERD with START at word 0: DONE, the address, the MAC's first word
  test('EERD read', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(0, 0x14n), le32(0x00000001));
    expect(reg(r, 0x14)).toBe(0x54520002);
  });
});

describe('e1000e config space (pcie_aer_init, no pcie_cap_deverr_init)', () => {
  // AER reset values; UNCOR_MASK read-only (QEMU < 8.0); severity writable but bit 0
  test('AER', () => {
    const r = open('e1000e', '6.1');
    expect([cfg(r, 0x10c), cfg(r, 0x114), cfg(r, 0x118)]).toEqual([0x00462030, 0x0000e000, 0x000000a0]);
    expect([ones(r, 7, 0x108), ones(r, 7, 0x10c), ones(r, 7, 0x118)]).toEqual([0x00000000, 0x03fff030, 0x000001e0]);
  });

  // DEVCTL's error-reporting enables are not writable
  test('DEVCTL', () => {
    const r = open('e1000e', '6.1');
    pwrite(r, region(7, 0xe8n), Uint8Array.from([0x0f, 0x00]));
    expect(hex(pread(r, region(7, 0xe8n), 2))).toBe('0000');
  });
});

describe('unassigned memory behind a BAR: the host bridge answers', () => {
  // the flash BAR and the MSI-X BAR outside table and PBA: 0 on q35, all-ones on virt's GPEX
  test('q35 zeros, virt ones', () => {
    const x86 = open('e1000e', '6.1', { firmware: 'x86' });
    const arm = open('e1000e', '6.1', { firmware: 'arm64' });
    expect([reg(x86, 0), u32(pread(x86, region(1), 4), 0), u32(pread(x86, region(3, 0x1000n), 4), 0)]).toEqual([0x00140241, 0, 0]);
    pwrite(arm, region(7, 4n), Uint8Array.from([0x07, 0x01]));
    expect([u32(pread(arm, region(1), 4), 0), u32(pread(arm, region(3, 0x1000n), 4), 0)]).toEqual([0xffffffff, 0xffffffff]);
  });

  // the ROM with memory decoding off: ENOMEM, and the header reads as the bus answers
  test('ROM header with decoding off', () => {
    const arm = open('e1000e', '6.1', { firmware: 'arm64' });
    pwrite(arm, region(7, 4n), Uint8Array.from([0x00, 0x00]));
    const seen = arm.log.lines.length;
    pread_err(arm, region(6), 4, ENOMEM);
    expect(arm.log.lines.slice(seen).map((l) => l.text)).toEqual([
      'vfio-pci 0000:00:02.0: Invalid PCI ROM header signature: expecting 0xaa55, got 0xffff',
    ]);
  });
});
