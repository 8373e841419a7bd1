// QEMU 7.2's e1000e MAC register file through vfio-pci, class by class: what the recording
// test/fixtures/real-kernel-device/x86-6.1-intremap-on/e1000e-regs.jsonl read, and the rule
// of hw/net/e1000e_core.c behind it (src/hw/pci/e1000e-macreg.ts has the table).

import { describe, expect, test } from 'vitest';
import { E1000E_MACREGS } from '../../src/hw/pci/e1000e-macreg.js';
import { open, pread, pwrite, region, u32, type Rig } from './helpers.js';

const le32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
const reg = (r: Rig, off: number): number => u32(pread(r, region(0, BigInt(off)), 4), 0);
const put = (r: Rig, off: number, v: number): void => pwrite(r, region(0, BigInt(off)), le32(v));
/** The value written, then what reads back. */
const wr = (r: Rig, off: number, v: number): number => {
  put(r, off, v);
  return reg(r, off);
};
const PATTERNS = [0xaaaaaaaa, 0x55555555, 0xffffffff];
const patterns = (r: Rig, off: number): number[] => PATTERNS.map((p) => wr(r, off, p));
const fresh = (): Rig => open('e1000e', '6.1', { firmware: 'x86' });
/** Every non-zero dword of BAR0, as [offset, value]. */
function nonZero(r: Rig): [number, number][] {
  const out: [number, number][] = [];
  for (let off = 0; off < 0x20000; off += 4096) {
    const b = pread(r, region(0, BigInt(off)), 4096);
    for (let i = 0; i < 4096; i += 4) if (u32(b, i)) out.push([off + i, u32(b, i)]);
  }
  return out;
}

describe('reset values (e1000e_mac_reg_init, e1000x_reset_mac_addr, init-vet)', () => {
  // the recording's first read of the whole BAR: these dwords and nothing else
  test('a fresh BAR0', () => {
    expect(nonZero(fresh())).toEqual([
      [0x0000, 0x00140241], [0x0008, 0x00080283], [0x0010, 0x00000300], [0x0014, 0x00000002],
      [0x0038, 0x00008100], [0x0040, 0x12005452], [0x0044, 0x80005634], [0x0410, 0x00602008],
      [0x0e00, 0x00068302], [0x0f00, 0x00000008], [0x0f10, 0x0000030d], [0x1000, 0x00140014],
      [0x1008, 0x00000028], [0x1010, 0x80000000], [0x1028, 0x00000002], [0x102c, 0x00000002],
      [0x1030, 0xc0000000], [0x1050, 0x00000001], [0x2170, 0x00040402], [0x2828, 0x00010000],
      [0x2928, 0x00010000], [0x3410, 0x00000600], [0x3418, 0x00000600], [0x3420, 0x00000600],
      [0x3428, 0x00000600], [0x3840, 0x00000403], [0x3940, 0x00000403], [0x5000, 0x00000300],
      [0x5400, 0x12005452], [0x5404, 0x80005634], [0x5820, 0x10000000], [0x5b00, 0x06800200],
      [0x5b30, 0x20000004], [0x5b50, 0x00000001], [0x8010, 0x00000600], [0x8018, 0x00000600],
      [0xb634, 0x000088f7], [0xb638, 0x00000319],
    ]);
  });

  // ITR and EITR store 500 but read the guest's value, 0 until written
  test('ITR/EITR read the written value, not the stored minimum', () => {
    const r = fresh();
    expect([reg(r, 0xc4), reg(r, 0xe8), wr(r, 0xc4, 0x12345678), wr(r, 0xf8, 3)]).toEqual([0, 0, 0x5678, 3]);
  });
});

describe('offsets outside the tables: read 0, writes dropped', () => {
  test('gaps', () => {
    const r = fresh();
    expect([0x000c, 0x00fc, 0x0104, 0x3000, 0x4104, 0x8020, 0xc000, 0x1fffc].map((o) => wr(r, o, 0xffffffff))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  // registers with a write op and no read op read 0: CTRL_DUP, IMC, TIDV
  test('write-only registers', () => {
    const r = fresh();
    expect([wr(r, 0x0004, 0x55555555), wr(r, 0x00d8, 0x55555555), wr(r, 0x3820, 0x55555555)]).toEqual([0, 0, 0]);
    // CTRL_DUP's write reached CTRL (e1000e_set_ctrl for both), RST cleared
    expect(reg(r, 0)).toBe(0x51555555);
  });

  // registers with a read op and no write op keep their value: statistics, EEMNGDATA, FLMNG*
  test('read-only registers', () => {
    const r = fresh();
    expect([0x4000, 0x4010, 0x4088, 0x1014, 0x1018, 0x1020].map((o) => wr(r, o, 0xaaaaaaaa))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('plain storage (e1000e_mac_writereg / readreg)', () => {
  test('single registers', () => {
    const r = fresh();
    expect([patterns(r, 0x0028), patterns(r, 0x00e4), patterns(r, 0x0e00)]).toEqual([PATTERNS, PATTERNS, PATTERNS]);
  });

  test('arrays: MTA, VFTA, RETA, PBM', () => {
    const r = fresh();
    expect([wr(r, 0x5200, 1), wr(r, 0x53fc, 2), wr(r, 0x57fc, 3), wr(r, 0x5c7c, 4), wr(r, 0x19ffc, 5)]).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('write masks (e1000e_set_*)', () => {
  // as recorded for the three patterns
  test('masked stores', () => {
    const r = fresh();
    expect(patterns(r, 0x002c)).toEqual([0x0000aaaa, 0x00005555, 0x0000ffff]); // FCAH set_16bit
    expect(patterns(r, 0x2c00)).toEqual([0x00000aaa, 0x00000555, 0x00000fff]); // RSRPD set_12bit
    expect(patterns(r, 0x2800)).toEqual([0xaaaaaaa0, 0x55555550, 0xfffffff0]); // RDBAL set_dbal
    expect(patterns(r, 0x3808)).toEqual([0x000aaa80, 0x00055500, 0x000fff80]); // TDLEN set_dlen
    expect(patterns(r, 0x2168)).toEqual([0x0000aaa8, 0x00005550, 0x0000fff8]); // FCRTH
    expect(patterns(r, 0x2160)).toEqual([0x8000aaa8, 0x00005550, 0x8000fff8]); // FCRTL
    expect(patterns(r, 0x0018)).toEqual([0xaaaa8aaa, 0x55554555, 0xffffcfff]); // CTRL_EXT: ASDCHK, EE_RST self-clear
  });

  // EECD keeps PRES/AUTO_RD/SIZE_EX, GCR bits 23, 25, 26
  test('read-only bits', () => {
    const r = fresh();
    expect(patterns(r, 0x0010)).toEqual([0xaaaa83aa, 0x55550755, 0xffff87ff]);
    expect(patterns(r, 0x5b00)).toEqual([0xaeaaaaaa, 0x57d55555, 0xffffffff]);
  });

  // RXDCTL's write reaches RXDCTL1 too
  test('RXDCTL mirrors into RXDCTL1', () => {
    const r = fresh();
    put(r, 0x2828, 0x1234);
    expect([reg(r, 0x2828), reg(r, 0x2928)]).toEqual([0x1234, 0x1234]);
  });
});

describe('reads of part of a register (E1000E_LOW_BITS_READ, e1000e_get_tarc)', () => {
  test('low bits', () => {
    const r = fresh();
    expect(patterns(r, 0x1008)).toEqual([0x2a, 0x15, 0x3f]); // PBS low6
    expect(patterns(r, 0x5f00)).toEqual([0x2aa, 0x555, 0x7ff]); // FFLT low11
    expect(patterns(r, 0x9000)).toEqual([0xa, 0x5, 0xf]); // FFMT low4
    expect(patterns(r, 0x2410)).toEqual([0x0aaa, 0x1555, 0x1fff]); // RDFH low13
    expect(patterns(r, 0x0458)).toEqual([0xaaaa, 0x5555, 0xffff]); // AIT low16
    expect(patterns(r, 0x3840)).toEqual([0x280002aa, 0x50000555, 0x780007ff]); // TARC0
  });
});

describe('reads with side effects', () => {
  // without MSI-X an ICR read returns the causes and clears them; ICS reads ICR's copy
  test('ICR read-to-clear, ICS mirror', () => {
    const r = fresh();
    put(r, 0x00c8, 0x00000004);
    expect([reg(r, 0x00c8), reg(r, 0x00c0), reg(r, 0x00c0), reg(r, 0x00c8)]).toEqual([0x80000004, 0x80000004, 0, 0]);
  });

  // a legacy assertion is counted in IAC, which clears on read
  test('IAC counts INTx assertions (read_clr4)', () => {
    const r = fresh();
    put(r, 0x00d0, 0x00000004);
    put(r, 0x00c8, 0x00000004);
    expect([reg(r, 0x4100), reg(r, 0x4100)]).toEqual([1, 0]);
  });

  // SWSM's semaphore: the read returns the value, then sets SMBI
  test('SWSM', () => {
    const r = fresh();
    put(r, 0x5b50, 0);
    expect([reg(r, 0x5b50), reg(r, 0x5b50)]).toEqual([0, 1]);
  });

  // counters clear on read: IAC through read_clr4; GORCH/GOTCH/TORH/TOTH clear both halves
  test('statistics counters are read_clr4/read_clr8 in the table', () => {
    const byName = new Map(E1000E_MACREGS.map(([n, , , rd]) => [n, rd]));
    expect(['GORCL', 'GORCH', 'TORH', 'IAC', 'GPRC', 'MPC'].map((n) => byName.get(n))).toEqual(['readreg', 'read_clr8', 'read_clr8', 'read_clr4', 'read_clr4', 'readreg']);
  });
});

describe('registers computed or written through (e1000e_get_status, e1000e_set_ctrl, IMS)', () => {
  // STATUS: PHY_RST sets PHYRA, a 0 in PHYRA clears it; FRCSPD with SPD_100 reads 100 Mb/s
  test('STATUS', () => {
    const r = fresh();
    put(r, 0x0000, 0x80140241);
    expect(reg(r, 0x0008)).toBe(0x00080683);
    expect(wr(r, 0x0008, 0)).toBe(0x00080283);
    put(r, 0x0000, 0x00140941); // FRCSPD | SPD_100 | SLU | FD
    expect(reg(r, 0x0008)).toBe(0x00080243);
  });

  // IMS takes only the valid causes and is cleared through IMC
  test('IMS/IMC', () => {
    const r = fresh();
    expect(wr(r, 0x00d0, 0xffffffff)).toBe(0x01f782d7);
    put(r, 0x00d8, 0x01f00000);
    expect(reg(r, 0x00d0)).toBe(0x000782d7);
  });

  // CTRL.RST self-clears and reloads the receive address
  test('CTRL.RST', () => {
    const r = fresh();
    put(r, 0x5400, 0);
    expect(wr(r, 0x0000, 0x04140241)).toBe(0x00140241);
    expect(reg(r, 0x5400)).toBe(0x12005452);
  });

  // TCTL.EN with TARC's enable and an empty ring: TXQE, once per queue
  test('an empty transmit ring raises TXQE', () => {
    const r = fresh();
    put(r, 0x0400, 0x00000002);
    expect(reg(r, 0x00c0)).toBe(0x80000002);
  });
});

describe('aliases (mac_reg_access)', () => {
  // 82542-era offsets reach the 82574 registers; 0x8000 wraps down to the FIFO registers
  test('alias offsets', () => {
    const r = fresh();
    put(r, 0x0110, 0x12345678); // RDBAL0_A
    put(r, 0x8000, 0xffffffff); // RDFH_A
    put(r, 0x0604, 0x00000abc); // VFTA_A + 1
    expect([reg(r, 0x2800), reg(r, 0x2410), reg(r, 0x5604)]).toEqual([0x12345670, 0x1fff, 0xabc]);
    expect([reg(r, 0x0040), reg(r, 0x0044)]).toEqual([0x12005452, 0x80005634]);
  });
});

describe('the NVM (e1000e_eeprom_template, e1000x_core_prepare_eeprom)', () => {
  const word = (r: Rig, w: number): number => wr(r, 0x0014, (w << 2) | 1) >>> 16;

  // the recording read these 64 words through EERD
  test('every word', () => {
    const r = fresh();
    expect(Array.from({ length: 64 }, (_, w) => word(r, w))).toEqual([
      0x5452, 0x1200, 0x5634, 0x0420, 0xf746, 0x2010, 0xffff, 0xffff, 0x0000, 0x0000, 0x026b, 0x10d3, 0x8086, 0x10d3, 0x0000, 0x8058,
      0x0000, 0x2001, 0x7e7c, 0xffff, 0x1000, 0x00c8, 0x0000, 0x2704, 0x6cc9, 0x3150, 0x070e, 0x460b, 0x2d84, 0x0100, 0xf000, 0x0706,
      0x6000, 0x0080, 0x0f04, 0x7fff, 0x4f01, 0xc600, 0x0000, 0x20ff, 0x0028, 0x0003, 0x0000, 0x0000, 0x0000, 0x0003, 0x0000, 0xffff,
      0x0100, 0xc000, 0x121c, 0xc007, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0x0000, 0x0120, 0xffff, 0x1ce3,
    ]);
  });

  // the checksum word makes the 64 words sum to 0xBABA, with another MAC too
  test('checksum', () => {
    const r = open('e1000e', '6.1', { firmware: 'x86', params: { mac: '02:00:00:00:00:01' } });
    expect(Array.from({ length: 64 }, (_, w) => word(r, w)).reduce((a, b) => a + b, 0) & 0xffff).toBe(0xbaba);
  });

  // EERD: past the NVM or without START, no DONE and no data
  test('EERD misses', () => {
    const r = fresh();
    expect([wr(r, 0x0014, (64 << 2) | 1), wr(r, 0x0014, (0x3fff << 2) | 1), wr(r, 0x0014, 3 << 2)]).toEqual([0x100, 0xfffc, 0xc]);
  });

  // EEWR writes a word; its outcome shows in EERD, EEWR keeps reading DONE
  test('EEWR', () => {
    const r = fresh();
    put(r, 0x102c, (0xbeef << 16) | (5 << 2) | 1);
    expect([reg(r, 0x0014), reg(r, 0x102c), word(r, 5)]).toEqual([0xbeef0016, 2, 0xbeef]);
  });
});

describe('the PHY through MDIC (e1000e_set_mdic)', () => {
  const mdic = (r: Rig, v: number): number => wr(r, 0x0020, v);
  const read = (reg: number): number => (1 << 21) | 0x08000000 | (reg << 16);

  // PHY address other than 1: ERROR | READY over what MDIC held
  test('wrong PHY address', () => {
    const r = fresh();
    expect([mdic(r, 0xaaaaaaaa), mdic(r, 0)]).toEqual([0x50000000, 0x50000000]);
  });

  // PHY_ID1/2, PHY_CTRL, PHY_AUTONEG_ADV; a register page 0 does not have (0x0b): ERROR
  test('reads', () => {
    const r = fresh();
    expect([mdic(r, read(2)), mdic(r, read(3)), mdic(r, read(0)), mdic(r, read(4)), mdic(r, read(0x0b))]).toEqual([0x18220141, 0x18230cb1, 0x18201140, 0x18240de1, 0x582b0000]);
  });

  // a read-only register written: ERROR; PHY_PAGE selects page 2's MAC_CTRL2
  test('writes and pages', () => {
    const r = fresh();
    const write = (reg: number, v: number): number => (1 << 21) | 0x04000000 | (reg << 16) | v;
    expect(mdic(r, write(1, 0xffff))).toBe(0x5421ffff);
    mdic(r, write(0x16, 2));
    expect(mdic(r, read(0x15))).toBe(0x18351046);
  });
});
