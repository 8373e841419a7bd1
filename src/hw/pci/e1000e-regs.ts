// QEMU 7.2's e1000e MAC register file (hw/net/e1000e_core.c: e1000e_mac_reg_init[] for the
// reset values, e1000e_macreg_readops[]/writeops[] for what a read or write does, and
// mac_reg_access[] for the 82542-era alias offsets; offsets from hw/net/e1000_regs.h).
//
// Modelled here: the registers the device-fd recordings read or wrote with a value other than
// "store the dword, read it back" (test/fixtures/real-kernel-device, DEVICE-DIFFERENCES.md §2),
// each with the QEMU rule behind it. Every other offset keeps the plain store-and-read-back
// behaviour the model had; QEMU's "no readop: reads 0, no writeop: write dropped" for offsets
// outside its tables is not modelled (the full table is ~200 registers).

// Offsets (e1000_regs.h).
export const CTRL = 0x0000;
export const CTRL_DUP = 0x0004;
export const STATUS = 0x0008;
const EECD = 0x0010;
const EERD = 0x0014;
const VET = 0x0038;
const FCTTV = 0x0170;
const LEDCTL = 0x0e00;
const EXTCNF_CTRL = 0x0f00;
const PBA = 0x1000;
const PBS = 0x1008;
const RDBAL0 = 0x2800;
const RDLEN0 = 0x2808;
const RDBAL1 = 0x2900;
const RDLEN1 = 0x2908;
const TDBAL = 0x3800;
const TDLEN = 0x3808;
const TDBAL1 = 0x3900;
const TDLEN1 = 0x3908;
const RXCSUM = 0x5000;
const GCR = 0x5b00;
const FFLT = 0x5f00;
/** FFLT is 11 dwords (readops [FFLT ... FFLT + 10]). */
const FFLT_COUNT = 11;
export const RAL0 = 0x5400;
export const RAH0 = 0x5404;

/** e1000e_mac_reg_init values of the registers above (the rest reset to 0). */
export const E1000E_RESET_VALUES: ReadonlyArray<readonly [number, number]> = [
  [EECD, 0x0000_0300], // E1000_EECD_AUTO_RD | E1000_EECD_PRES
  [EERD, 0x0000_0002], // E1000_EERW_DONE
  [VET, 0x0000_8100], // ETH_P_VLAN
  [LEDCTL, 0x0006_8302], // BIT(1) | BIT(8) | BIT(9) | BIT(15) | BIT(17) | BIT(18)
  [EXTCNF_CTRL, 0x0000_0008], // BIT(3)
  [PBA, 0x0014_0014],
  [PBS, 0x0000_0028],
  [RXCSUM, 0x0000_0300], // E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD
  [GCR, 0x0680_0200], // E1000_L0S_ADJUST | E1000_L1_ENTRY_LATENCY_MSB | _LSB
];

/** EECD bits e1000e_set_eecd() keeps: PRES, AUTO_RD, SIZE_EX (bits 11-14). */
const EECD_RO_BITS = 0x0000_0100 | 0x0000_0200 | 0x0000_7800;
/** E1000_XDBAL_MASK: descriptor ring bases are 16-byte aligned (e1000e_set_dbal). */
const XDBAL_MASK = 0xffff_fff0;
/** E1000_XDLEN_MASK: ring lengths in 128-byte units below 1 MiB (e1000e_set_dlen). */
const XDLEN_MASK = 0x000f_ff80;
/** EERD/EEWR fields (E1000_EERW_*): START bit 0, DONE bit 1, word address 2-15, data 16-31. */
const EERW_START = 1;
const EERW_DONE = 2;
const EERW_ADDR_SHIFT = 2;
const EERW_ADDR_MASK = 0x3fff;
const EERW_DATA_SHIFT = 16;
/** E1000E_EEPROM_SIZE: 64 words. */
const EEPROM_WORDS = 64;

/** What a write stores, given the value and the register's old contents. */
type WriteRule = (value: number, old: number, eeprom: (word: number) => number) => number;

const low = (bits: number) => (v: number): number => (v & ((1 << bits) - 1)) >>> 0;

/** writeops with a rule other than "store" (e1000e_set_*). */
export const E1000E_WRITE_RULES: ReadonlyMap<number, WriteRule> = new Map<number, WriteRule>([
  [EECD, (v, old) => ((old & EECD_RO_BITS) | (v & ~EECD_RO_BITS)) >>> 0],
  [
    EERD,
    // e1000e_set_eerd(): a read of word addr starts with START; DONE and the data appear at
    // once; an address past the EEPROM or no START leaves DONE clear and data 0.
    (v, _old, eeprom) => {
      const addr = (v >>> EERW_ADDR_SHIFT) & EERW_ADDR_MASK;
      const ok = addr < EEPROM_WORDS && (v & EERW_START) !== 0;
      return ((ok ? EERW_DONE : 0) | (addr << EERW_ADDR_SHIFT) | ((ok ? eeprom(addr) : 0) << EERW_DATA_SHIFT)) >>> 0;
    },
  ],
  [VET, low(16)], // e1000e_set_vet
  [FCTTV, low(16)], // e1000e_set_16bit
  [RDBAL0, (v) => (v & XDBAL_MASK) >>> 0],
  [RDBAL1, (v) => (v & XDBAL_MASK) >>> 0],
  [TDBAL, (v) => (v & XDBAL_MASK) >>> 0],
  [TDBAL1, (v) => (v & XDBAL_MASK) >>> 0],
  [RDLEN0, (v) => (v & XDLEN_MASK) >>> 0],
  [RDLEN1, (v) => (v & XDLEN_MASK) >>> 0],
  [TDLEN, (v) => (v & XDLEN_MASK) >>> 0],
  [TDLEN1, (v) => (v & XDLEN_MASK) >>> 0],
]);

/** readops that return only the low bits (E1000E_LOW_BITS_READ(n)). */
export function e1000eReadMask(off: number): number {
  if (off === PBS) return 0x3f;
  if (off >= FFLT && off < FFLT + FFLT_COUNT * 4) return 0x7ff;
  return 0xffff_ffff;
}

/**
 * mac_reg_access[]'s alias offsets: the 82542-compatible locations of the receive address
 * table, the VLAN filter table and the first queue's ring registers reach the same registers
 * as their 82574 offsets (e1000e_get_reg_index_with_offset(), index arithmetic in u16).
 */
const ALIASES: ReadonlyArray<{ from: number; len: number; to: number }> = [
  { from: 0x0040, len: 0x80, to: RAL0 }, // RA_A .. RA_A + 31
  { from: 0x0600, len: 0x200, to: 0x5600 }, // VFTA_A .. VFTA_A + 127
  { from: 0x0108, len: 4, to: 0x2820 }, // RDTR_A
  { from: 0x0110, len: 12, to: RDBAL0 }, // RDBAL0_A .. RDLEN0_A
  { from: 0x0120, len: 4, to: 0x2810 }, // RDH0_A
  { from: 0x0128, len: 4, to: 0x2818 }, // RDT0_A
  { from: 0x0160, len: 4, to: 0x2168 }, // FCRTH_A
  { from: 0x0168, len: 4, to: 0x2160 }, // FCRTL_A
  { from: 0x0420, len: 12, to: TDBAL }, // TDBAL_A .. TDLEN_A
  { from: 0x0430, len: 4, to: 0x3810 }, // TDH_A
  { from: 0x0438, len: 4, to: 0x3818 }, // TDT_A
  { from: 0x0440, len: 4, to: 0x3820 }, // TIDV_A
  { from: 0x8000, len: 4, to: 0x2410 }, // RDFH_A
  { from: 0x8008, len: 4, to: 0x2418 }, // RDFT_A
  { from: 0x8010, len: 4, to: 0x3410 }, // TDFH_A
  { from: 0x8018, len: 4, to: 0x3418 }, // TDFT_A
];

/** The register offset an access at `off` reaches (its dword). */
export function e1000eRegister(off: number): number {
  const d = off & ~3;
  for (const a of ALIASES) if (d >= a.from && d < a.from + a.len) return a.to + (d - a.from);
  return d;
}
