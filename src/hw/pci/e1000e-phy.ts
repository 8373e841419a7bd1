// The 82574L's PHY behind e1000e's MDIC register, as QEMU 7.2 has it (hw/net/e1000e_core.c:
// e1000e_phy_reg_init[] for the reset values, e1000e_phy_regcap[] for which registers of
// which page a read or write may touch, e1000e_phyreg_writeops[] for PHY_CTRL, PHY_PAGE and
// PHY_OEM_BITS). Pages 0-6 of 32 16-bit registers; PHY_PAGE (0x16) selects the page of the
// registers not marked "any page".
//
// Not modelled: auto-negotiation. A write of PHY_CTRL.RESTART_AUTO_NEG or PHY_OEM_BITS bit 10
// starts QEMU's 500 ms autoneg timer (e1000x_restart_autoneg), which takes the link down and
// brings it back later; the model keeps the link up and the registers as they were.

import { lazy } from '../../lib/lazy.js';

const PAGES = 7; // E1000E_PHY_PAGES
const PAGE_SIZE = 0x20; // E1000E_PHY_PAGE_SIZE
const R = 1; // PHY_R
const W = 2; // PHY_W
const RW = R | W;
const ANYPAGE = 4; // PHY_ANYPAGE

const PHY_CTRL = 0x00;
const PHY_PAGE = 0x16;
const PHY_OEM_BITS = 0x19;
/** PHY_PAGE_RW_MASK. */
const PAGE_RW_MASK = 0x7f;
/** PHY_CTRL: bits 0-5 reserved, MII_CR_RESET and MII_CR_RESTART_AUTO_NEG self-clearing. */
const CTRL_SELF_CLEARING = 0x3f | 0x8000 | 0x0200;
const OEM_RESTART_AUTONEG = 1 << 10;

// The tables are built on first use, not at load: a run without an e1000e never reads them.

/** e1000e_phy_regcap[page][reg]. */
const REGCAP = lazy((): ReadonlyArray<ReadonlyArray<readonly [reg: number, cap: number]>> => [
  [
    [0x00, ANYPAGE | RW], // PHY_CTRL
    [0x01, ANYPAGE | R],  // PHY_STATUS
    [0x02, ANYPAGE | R],  // PHY_ID1
    [0x03, ANYPAGE | R],  // PHY_ID2
    [0x04, ANYPAGE | RW], // PHY_AUTONEG_ADV
    [0x05, ANYPAGE | R],  // PHY_LP_ABILITY
    [0x06, ANYPAGE | R],  // PHY_AUTONEG_EXP
    [0x07, ANYPAGE | RW], // PHY_NEXT_PAGE_TX
    [0x08, ANYPAGE | R],  // PHY_LP_NEXT_PAGE
    [0x09, ANYPAGE | RW], // PHY_1000T_CTRL
    [0x0a, ANYPAGE | R],  // PHY_1000T_STATUS
    [0x0f, ANYPAGE | R],  // PHY_EXT_STATUS
    [0x16, ANYPAGE | RW], // PHY_PAGE
    [0x10, RW], // PHY_COPPER_CTRL1
    [0x11, R],  // PHY_COPPER_STAT1
    [0x14, RW], // PHY_COPPER_CTRL3
    [0x15, R],  // PHY_RX_ERR_CNTR
    [0x19, RW], // PHY_OEM_BITS
    [0x1d, RW], // PHY_BIAS_1
    [0x1e, RW], // PHY_BIAS_2
    [0x12, RW], // PHY_COPPER_INT_ENABLE
    [0x13, R],  // PHY_COPPER_STAT2
    [0x1a, RW], // PHY_COPPER_CTRL2
  ],
  [],
  [[0x10, RW], [0x12, RW], [0x13, R], [0x15, RW]], // MAC_CTRL1, MAC_INT_ENABLE, MAC_STAT, MAC_CTRL2
  [[0x10, RW], [0x11, RW], [0x12, RW], [0x13, RW]], // LED_03_FUNC_CTRL1, LED_03_POL_CTRL, LED_TIMER_CTRL, LED_45_CTRL
  [],
  [[0x14, R], [0x15, R]], // 1000T_SKEW, 1000T_SWAP
  [[0x11, R]], // CRC_COUNTERS
]);

const bit = (...n: number[]): number => n.reduce((a, b) => a | (1 << b), 0);

/** e1000e_phy_reg_init[page][reg]. */
const RESET = lazy((): ReadonlyArray<readonly [page: number, reg: number, value: number]> => [
  [0, 0x00, 0x0040 | 0x0100 | 0x1000], // SPEED_SELECT_MSB | FULL_DUPLEX | AUTO_NEG_EN
  [0, 0x01, 0x0001 | 0x0004 | 0x0008 | 0x0040 | 0x0100 | 0x0800 | 0x1000 | 0x2000 | 0x4000], // MII_SR_*: caps, link
  [0, 0x02, 0x141], // PHY_ID1
  [0, 0x03, 0xcb1], // PHY_ID2: E1000_PHY_ID2_82574x
  [0, 0x04, 0xde1], // PHY_AUTONEG_ADV
  [0, 0x05, 0x7e0], // PHY_LP_ABILITY
  [0, 0x06, bit(2)], // PHY_AUTONEG_EXP
  [0, 0x07, bit(0, 13)], // PHY_NEXT_PAGE_TX
  [0, 0x09, bit(8, 9, 10, 11)], // PHY_1000T_CTRL
  [0, 0x0a, 0x3c00], // PHY_1000T_STATUS
  [0, 0x0f, bit(12, 13)], // PHY_EXT_STATUS
  [0, 0x10, bit(5, 6, 8, 9, 12, 13)], // PHY_COPPER_CTRL1
  [0, 0x11, bit(3, 10, 11, 13, 15)], // PHY_COPPER_STAT1
  [2, 0x10, bit(3, 7)], // PHY_MAC_CTRL1
  [2, 0x15, bit(1, 2, 6, 12)], // PHY_MAC_CTRL2
  [3, 0x12, bit(0, 2, 14)], // PHY_LED_TIMER_CTRL
]);

const CAPS = lazy((): readonly Uint8Array[] =>
  REGCAP().map((regs) => {
    const c = new Uint8Array(PAGE_SIZE);
    for (const [reg, cap] of regs) c[reg] = cap;
    return c;
  }),
);

export class E1000ePhy {
  private readonly regs: Uint16Array[] = Array.from({ length: PAGES }, () => new Uint16Array(PAGE_SIZE));

  constructor() {
    this.reset();
  }

  /** e1000e_core_reset(): every page from e1000e_phy_reg_init. */
  reset(): void {
    for (const p of this.regs) p.fill(0);
    for (const [page, reg, v] of RESET()) this.regs[page]![reg] = v;
  }

  /** e1000e_phy_reg_check_cap(): the page an access of `reg` reaches, or undefined if it may not. */
  private page(reg: number, cap: number): number | undefined {
    const caps = CAPS();
    const page = caps[0]![reg]! & ANYPAGE ? 0 : this.regs[0]![PHY_PAGE]!;
    return page < PAGES && caps[page]![reg]! & cap ? page : undefined;
  }

  /** A read through MDIC: the register, or undefined (MDIC.ERROR). */
  read(reg: number): number | undefined {
    const page = this.page(reg, R);
    return page === undefined ? undefined : this.regs[page]![reg]!;
  }

  /** A write through MDIC (e1000e_phy_reg_write); false: MDIC.ERROR. */
  write(reg: number, value: number): boolean {
    const page = this.page(reg, W);
    if (page === undefined) return false;
    const p = this.regs[page]!;
    if (page === 0 && reg === PHY_CTRL) p[reg] = value & ~CTRL_SELF_CLEARING;
    else if (page === 0 && reg === PHY_PAGE) p[reg] = value & PAGE_RW_MASK;
    else if (page === 0 && reg === PHY_OEM_BITS) p[reg] = value & ~OEM_RESTART_AUTONEG;
    else p[reg] = value;
    return true;
  }
}
