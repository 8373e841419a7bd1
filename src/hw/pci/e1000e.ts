// QEMU 7.2's `e1000e` (hw/net/e1000e.c, e1000e_core.c): Intel 82574L, 8086:10d3, as the
// real-kernel traces show it through vfio-pci.
//
// Measured (trace preads of config space and BAR0):
//   00: 8680d310 <command> 1000 00 000002   status CAP_LIST, rev 0, class 020000 (Ethernet)
//   10: BAR0 mem32 128K (registers), BAR1 mem32 128K (flash), BAR2 I/O 32 (IOADDR/IODATA),
//       BAR3 mem32 16K (MSI-X table at 0, PBA at 0x2000); 2c: subsystem 8086:0000;
//   30: ROM 256K; 34: cap pointer 0xc8; 3c: <line> 01 (INTA#)
//   c8: PM (PMC 0x0022: version 1.1, DSI; PMCSR 0, NoSoftRst clear) -> d0
//   d0: MSI, 64-bit, 1 vector, no masking -> e0
//   e0: PCI Express v1, root-complex integrated endpoint (QEMU puts it on the root bus):
//       DEVCAP 0x00008000 (RBER; no FLR), LNKCAP 0x00000411 (2.5GT/s x1, L0s), LNKSTA 0x0011 -> a0
//   a0: MSI-X, 5 entries, table BAR3+0, PBA BAR3+0x2000 -> end
//   BAR0: CTRL 0x00140241, STATUS 0x00080283, 0x04 and 0x0c read 0.
// So the function resets only by PM (D3hot->D0 with NoSoftRst clear), which is why vfio-pci
// reports RESET for it; QEMU 7.2 implements no soft reset on that transition, so the
// registers survive it (modelled as QEMU does).
//
// Modelled, not measured (not visible in the traces): the extended capabilities QEMU 7.2
// adds (AER v2 at 0x100, device serial number at 0x140 derived from the MAC), DEVCTL's
// writable bits, the flash BAR (no region behind it: the bus answers).
//
// Measured later (test/fixtures/real-kernel-device): the AER registers, DEVCTL's error
// enables, and the option ROM: QEMU's efi-e1000e.rom, which the model reads from the installed
// ipxe-qemu package when the host has it (option-rom.ts) and otherwise replaces by a synthetic
// 64 KiB image with a valid header (55 aa, PCIR 8086:10d3, last image), so the kernel's ROM size
// probing behaves as with a real ROM. And the whole MAC register file (e1000e-regs.jsonl): BAR0
// is QEMU's table of read and write ops (e1000e-macreg.ts), the NVM behind EERD/EEWR
// (e1000e-eeprom.ts) and the PHY behind MDIC (e1000e-phy.ts); offsets outside the table read 0
// and drop writes.
//
// Interrupt causes (ICR, ICS, IMS, IMC, IAM, EIAC, IVAR, CTRL_EXT's IAME/EIAME) follow QEMU's
// e1000e_core.c: writing ICS raises causes; a cause enabled in IMS raises the MSI-X vector its
// IVAR field names, or MSI vector 0, or INTA# (counted in IAC). Not modelled: interrupt
// throttling (ITR, EITR) and the delay timers, descriptor processing (nothing is transmitted or
// received; an empty transmit ring raises TXQE as QEMU's does), PHY auto-negotiation.

import { aerExtCap, dsnExtCap, msiCap, msixCap, pcieCap, pmCap, PMCSR_WMASK_DEFAULT } from './config-space.js';
import { PciFunction, RegisterFile, type PciPlacement } from './device.js';
import { mmioContainer, type MmioOps } from './mmio.js';
import { installedQemuRom, syntheticRom } from './option-rom.js';
import { lazy } from '../../lib/lazy.js';
import { PCI_EXP_TYPE_RC_END, PCI_PM_CTRL_PME_STATUS } from './regs.js';
import { E1000E_EEPROM_WORDS, e1000eEeprom } from './e1000e-eeprom.js';
import { e1000eMacReg, e1000eMacReset, MAC, type MacReadOp, type MacWriteOp } from './e1000e-macreg.js';
import { E1000ePhy } from './e1000e-phy.js';

const KiB = 1024n;

/** Where the traces' firmware put e1000e. */
export const E1000E_FIRMWARE: Record<'x86' | 'arm64', PciPlacement> = {
  // q35 + SeaBIOS (measured): BARs as below, ROM programmed at 0xfeb00000, command 0x0103, line 11.
  x86: {
    bars: { 0: 0xfeb40000n, 1: 0xfeb60000n, 2: 0xc040n, 3: 0xfeb80000n },
    rom: 0xfeb00000n,
    romProgrammed: true,
    command: 0x0103,
    interruptLine: 0x0b,
  },
  // virt without firmware, Linux assigning (measured: BARs, command 0, ROM BAR register 0).
  // The ROM's address is inferred (the 256K hole below BAR0); Linux leaves a disabled ROM BAR
  // unwritten. Line: 0x15 on 6.1/GICv2; the 6.12/GICv3 trace reads 0x00 (pass interruptLine).
  arm64: {
    bars: { 0: 0x10140000n, 1: 0x10160000n, 2: 0x1000n, 3: 0x10180000n },
    rom: 0x10100000n,
    romProgrammed: false,
    command: 0x0000,
    interruptLine: 0x15,
    unassignedMem: 'ones',
  },
};

export interface E1000eParams {
  bdf: string;
  placement: PciPlacement;
  hostDriver?: string;
  /** MAC address (QEMU's default for the first NIC: 52:54:00:12:34:56). */
  mac?: Uint8Array;
}

const DEVICE_ID = 0x10d3;

// hw/net/e1000_regs.h
const CTRL_FD = 0x00000001;
const CTRL_GIO_MASTER_DISABLE = 0x00000004;
const CTRL_SPD_SEL = 0x00000300;
const CTRL_SPD_10 = 0x00000000;
const CTRL_SPD_100 = 0x00000100;
const CTRL_FRCSPD = 0x00000800;
const CTRL_FRCDPX = 0x00001000;
const CTRL_RST = 0x04000000;
const CTRL_PHY_RST = 0x80000000;
const STATUS_FD = 0x00000001;
const STATUS_SPEED_10 = 0x00000000;
const STATUS_SPEED_100 = 0x00000040;
const STATUS_SPEED_1000 = 0x00000080;
const STATUS_PHYRA = 0x00000400;
const STATUS_GIO_MASTER_ENABLE = 0x00080000;
const CTRL_EXT_ASDCHK = 0x00001000;
const CTRL_EXT_EE_RST = 0x00002000;
const CTRL_EXT_SPD_BYPS = 0x00008000;
const CTRL_EXT_EIAME = 0x01000000;
const CTRL_EXT_IAME = 0x08000000;
const CTRL_EXT_PBA_CLR = 0x80000000;
/** EECD bits e1000e_set_eecd() keeps: PRES, AUTO_RD, SIZE_EX. */
const EECD_RO_BITS = 0x00000100 | 0x00000200 | 0x00007800;
/** E1000_GCR_RO_BITS. */
const GCR_RO_BITS = (1 << 23) | (1 << 25) | (1 << 26);
/** E1000_XDBAL_MASK, E1000_XDLEN_MASK: 16-byte ring bases, lengths in 128-byte units below 1 MiB. */
const XDBAL_MASK = 0xfffffff0;
const XDLEN_MASK = 0x000fff80;
/** e1000e_get_tarc(): bits 0-10 and 27-30. */
const TARC_READ_MASK = 0x000007ff | (0xf << 27);
/** E1000_PBACLR_VALID_MASK. */
const PBACLR_VALID_MASK = 0x1f;
/** E1000_RCTL_DTYP_MASK, E1000_PSRCTL_BSIZE0_MASK, E1000_PSRCTL_BSIZE1_MASK. */
const RCTL_DTYP_MASK = 0x00000c00;
const PSRCTL_BSIZE0_MASK = 0x0000007f;
const PSRCTL_BSIZE1_MASK = 0x00003f00;
/** EERD/EEWR fields (E1000_EERW_*). */
const EERW_START = 1;
const EERW_DONE = 2;
const EERW_ADDR_SHIFT = 2;
const EERW_ADDR_MASK = 0x3fff;
const EERW_DATA_SHIFT = 16;
/** MDIC fields (E1000_MDIC_*). */
const MDIC_DATA_MASK = 0x0000ffff;
const MDIC_REG_SHIFT = 16;
const MDIC_REG_MASK = 0x001f0000;
const MDIC_PHY_SHIFT = 21;
const MDIC_PHY_MASK = 0x03e00000;
const MDIC_OP_WRITE = 0x04000000;
const MDIC_OP_READ = 0x08000000;
const MDIC_READY = 0x10000000;
const MDIC_INT_EN = 0x20000000;
const MDIC_ERROR = 0x40000000;
const RAH_AV = 0x80000000;
const ETH_P_VLAN = 0x8100;
const TCTL_EN = 0x00000002;
/** E1000_TARC_ENABLE: the queue transmits when TCTL or TDT is written. */
const TARC_ENABLE = 1 << 10;
/** E1000_RING_DESC_LEN: a legacy transmit descriptor. */
const TX_DESC_LEN = 16;
interface TxQueue {
  tdlen: number;
  tdh: number;
  tdt: number;
  tarc: number;
}
/** e1000e_tx_ring_init()'s rings. */
const TX_QUEUES: readonly TxQueue[] = [
  { tdlen: 0x3808, tdh: 0x3810, tdt: 0x3818, tarc: 0x3840 },
  { tdlen: 0x3908, tdh: 0x3910, tdt: 0x3918, tarc: 0x3940 },
];
/** E1000E_MIN_XITR: the smallest interval ITR/EITR store. */
const MIN_XITR = 500;

// Interrupt causes (E1000_ICR_*).
const ICR_TXQE = 0x00000002;
const ICR_LSC = 0x00000004;
const ICR_RXO = 0x00000040;
const ICR_MDAC = 0x00000200;
const ICR_SRPD = 0x00010000;
const ICR_ACK = 0x00020000;
const ICR_MNG = 0x00040000;
const ICR_RXQ0 = 0x00100000;
const ICR_RXQ1 = 0x00200000;
const ICR_TXQ0 = 0x00400000;
const ICR_TXQ1 = 0x00800000;
const ICR_OTHER = 0x01000000;
const ICR_ASSERTED = 0x80000000;
/** E1000_ICR_OTHER_CAUSES: what MSI-X reports through the "other" cause. */
const ICR_OTHER_CAUSES = ICR_LSC | ICR_RXO | ICR_MDAC | ICR_SRPD | ICR_ACK | ICR_MNG;
/** e1000e_set_ims(): the causes IMS takes (ims_valid_mask) and those with an IVAR entry (ims_ext_mask). */
const IMS_VALID_MASK = 0x00000001 | 0x00000002 | ICR_LSC | 0x00000010 | ICR_RXO | 0x00000080 | ICR_MDAC | 0x00008000 | ICR_SRPD | ICR_ACK | ICR_MNG | ICR_RXQ0 | ICR_RXQ1 | ICR_TXQ0 | ICR_TXQ1 | ICR_OTHER;
const IMS_EXT_MASK = ICR_RXQ0 | ICR_RXQ1 | ICR_TXQ0 | ICR_TXQ1 | ICR_OTHER;
/** MSI-X causes with an IVAR field each: [cause, shift] (E1000_IVAR_*_SHIFT). */
const IVAR_CAUSES: ReadonlyArray<readonly [number, number]> = [
  [ICR_RXQ0, 0],
  [ICR_RXQ1, 4],
  [ICR_TXQ0, 8],
  [ICR_TXQ1, 12],
  [ICR_OTHER, 16],
];
const IVAR_ENTRY_VALID = 0x8;
const IVAR_ENTRY_VEC = 0x7;
const E1000E_MSIX_VEC_NUM = 5;

/**
 * The ROM image, made once per process: the function only ever reads it (a ROM BAR decodes
 * reads; writes go to the ROM BAR register, not the image), so every e1000e shares it.
 */
const e1000eRom = lazy((): Uint8Array => installedQemuRom('efi-e1000e.rom') ?? syntheticRom(0x8086, DEVICE_ID, 0x020000));

/** e1000e_gen_dsn(): MAC bytes around 0xffff, most significant first. */
function dsnFromMac(mac: Uint8Array): bigint {
  const b = (i: number): bigint => BigInt(mac[i]!);
  return b(5) | (b(4) << 8n) | (b(3) << 16n) | (0xffn << 24n) | (0xffn << 32n) | (b(2) << 40n) | (b(1) << 48n) | (b(0) << 56n);
}

export class E1000e extends PciFunction {
  /** core->mac: the register file, by byte offset. */
  private readonly mac = new RegisterFile();
  private ioaddr = 0;
  /** Causes already sent by message and not cleared since (msi_causes_pending). */
  private msiCausesPending = 0;
  private macAddr = new Uint8Array([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
  /** core->eeprom: built at realize, kept by reset, written by EEWR. */
  private readonly eeprom: Uint16Array;
  private readonly phy = new E1000ePhy();
  /** itr_guest_value / eitr_guest_value: what ITR/EITR read back (0 until written; reset keeps them). */
  private itrGuest = 0;
  private readonly eitrGuest = new Array<number>(E1000E_MSIX_VEC_NUM).fill(0);

  constructor(p: E1000eParams) {
    super();
    if (p.mac) this.macAddr = p.mac.slice(0, 6);
    this.eeprom = e1000eEeprom(this.macAddr, DEVICE_ID);
    this.resetRegisters();
    const msix = mmioContainer([
      { off: 0n, size: 5n * 16n, ops: this.msixTableOps() },
      { off: 0x2000n, size: 8n, ops: this.msixPbaOps() },
    ]);
    this.setup({
      model: 'e1000e',
      bdf: p.bdf,
      header: {
        vendorId: 0x8086,
        deviceId: DEVICE_ID,
        revision: 0,
        classCode: 0x020000,
        subsystemVendorId: 0x8086,
        subsystemId: 0x0000,
        interruptPin: 1,
      },
      bars: [
        { index: 0, size: 128n * KiB, kind: 'mem32', prefetchable: false, ops: this.mmioOps() },
        // The flash BAR: memory_region_init() with no ops in QEMU 7.2, so nothing lies behind it
        // and the host bridge answers (all-ones on virt, 0 on q35).
        { index: 1, size: 128n * KiB, kind: 'mem32', prefetchable: false, ops: { read: () => undefined, write: () => {}, impl: { min: 4, max: 4 } } },
        { index: 2, size: 32n, kind: 'io', prefetchable: false, ops: this.ioOps() },
        { index: 3, size: 16n * KiB, kind: 'mem32', prefetchable: false, ops: msix },
      ],
      rom: { size: 256n * KiB, image: e1000eRom() },
      configSize: 4096,
      caps: [
        pmCap({ off: 0xc8, pmc: 0x0022, pmcsr: 0, pmcsrWmask: PMCSR_WMASK_DEFAULT, pmcsrW1c: PCI_PM_CTRL_PME_STATUS, onPmcsrWrite: (v, o) => this.onPmcsrWrite(v, o) }),
        msiCap({ off: 0xd0, vectors: 1, addr64: true, perVectorMask: false }),
        pcieCap({
          off: 0xe0,
          version: 1,
          type: PCI_EXP_TYPE_RC_END,
          devcap: 0x00008000,
          // QEMU 7.2's e1000e does not call pcie_cap_deverr_init(), so the error-reporting
          // enables (CERE/NFERE/FERE/URRE) are not writable: written 0x000f, they read 0.
          devctlWmask: 0x0000,
          lnkcap: 0x00000411,
          lnksta: 0x0011,
          onDevctlWrite: (v) => this.onDevctlWrite(v),
        }),
        msixCap({ off: 0xa0, tableSize: 5, tableBar: 3, tableOffset: 0, pbaBar: 3, pbaOffset: 0x2000 }),
      ],
      extCaps: [
        // pcie_aer_init() of QEMU 7.2 (hw/pci/pcie_aer.c), as recorded: severity
        // PCI_ERR_UNC_SEVERITY_DEFAULT (with INTN), COR_MASK ADV_NONFATAL | INTERNAL |
        // HL_OVERFLOW, ECRC generation and check capable, PCI_ERR_UNC_SUPPORTED (no bit 0)
        // writable, UNCOR_MASK read-only (QEMU < 8.0).
        aerExtCap({
          off: 0x100,
          version: 2,
          uncorSeverity: 0x00462030,
          corMask: 0x0000e000,
          cap: 0x000000a0,
          uncorSupported: 0x03fff030,
          uncorMaskWritable: false,
        }),
        dsnExtCap(0x140, dsnFromMac(this.macAddr)),
      ],
      placement: p.placement,
      hostDriver: p.hostDriver,
      pmSoftReset: false,
      d3StopsDecode: false,
      unclaimedWritable: true,
    });
  }

  /**
   * e1000e_qdev_reset(): e1000e_core_reset() (the PHY and MAC register files from their init
   * tables, RA from the MAC), then VET = ETH_P_VLAN (the "init-vet" property, on by default).
   */
  protected resetRegisters(): void {
    this.mac.clear();
    for (const [off, v] of e1000eMacReset()) this.mac.set(off, v);
    this.phy.reset();
    this.resetMacAddr();
    this.mac.set(MAC.VET, ETH_P_VLAN);
  }

  /** e1000x_reset_mac_addr(): RA (RAL0/RAH0) from the permanent address, AV set. */
  private resetMacAddr(): void {
    const m = this.macAddr;
    this.mac.set(MAC.RA, (m[0]! | (m[1]! << 8) | (m[2]! << 16) | (m[3]! << 24)) >>> 0);
    this.mac.set(MAC.RA + 4, (m[4]! | (m[5]! << 8) | RAH_AV) >>> 0);
  }

  // ---- e1000e_core_read / e1000e_core_write ---------------------------------------------------

  private regRead(addr: number): number {
    const r = e1000eMacReg(addr);
    return r.read ? this.readops[r.read](r.off) >>> 0 : 0;
  }

  private regWrite(addr: number, value: number): void {
    const r = e1000eMacReg(addr);
    if (r.write) this.writeops[r.write](r.off, value >>> 0);
  }

  private m(off: number): number {
    return this.mac.get(off);
  }

  private lowBits(n: number): (off: number) => number {
    return (off) => this.m(off) & ((1 << n) - 1);
  }

  /** e1000e_macreg_readops[]'s functions. */
  private readonly readops: Record<Exclude<MacReadOp, ''>, (off: number) => number> = {
    readreg: (off) => this.m(off),
    low4: this.lowBits(4),
    low6: this.lowBits(6),
    low11: this.lowBits(11),
    low13: this.lowBits(13),
    low16: this.lowBits(16),
    read_clr4: (off) => {
      const v = this.m(off);
      this.mac.set(off, 0);
      return v;
    },
    read_clr8: (off) => {
      const v = this.m(off);
      this.mac.set(off, 0);
      this.mac.set(off - 4, 0);
      return v;
    },
    icr_read: () => this.icrRead(),
    ics_read: (off) => this.m(off),
    ims_read: (off) => this.m(off),
    get_ctrl: (off) => this.m(off),
    get_status: () => this.status(),
    get_tarc: (off) => this.m(off) & TARC_READ_MASK,
    swsm_read: (off) => {
      const v = this.m(off);
      this.mac.set(off, v | 1);
      return v;
    },
    itr_read: () => this.itrGuest,
    eitr_read: (off) => this.eitrGuest[(off - MAC.EITR) >>> 2]!,
  };

  private store(mask: number): (off: number, v: number) => void {
    return (off, v) => this.mac.set(off, v & mask);
  }

  /** e1000e_macreg_writeops[]'s functions (transmit, receive and delay timers not modelled). */
  private readonly writeops: Record<Exclude<MacWriteOp, ''>, (off: number, v: number) => void> = {
    writereg: this.store(0xffffffff),
    setmacaddr: this.store(0xffffffff),
    set_16bit: this.store(0xffff),
    set_12bit: this.store(0xfff),
    set_vet: this.store(0xffff),
    set_rdt: this.store(0xffff),
    set_tdt: (off, v) => {
      this.mac.set(off, v & 0xffff);
      const q = TX_QUEUES.find((t) => t.tdt === off)!;
      if (this.m(q.tarc) & TARC_ENABLE) this.startXmit(q);
    },
    set_rdtr: this.store(0xffff),
    set_tidv: this.store(0xffff),
    set_dbal: this.store(XDBAL_MASK),
    set_dlen: this.store(XDLEN_MASK),
    set_fcrth: this.store(0xfff8),
    set_fcrtl: this.store(0x8000fff8),
    set_rx_control: this.store(0xffffffff),
    set_tctl: (off, v) => {
      this.mac.set(off, v);
      for (const q of TX_QUEUES) if (this.m(q.tarc) & TARC_ENABLE) this.startXmit(q);
    },
    set_rxcsum: this.store(0xffffffff),
    set_rfctl: this.store(0xffffffff),
    set_ctrl: (_off, v) => {
      // CTRL and CTRL_DUP are one register; RST self-clears and reloads the address.
      this.mac.set(MAC.CTRL, v & ~CTRL_RST);
      this.mac.set(MAC.CTRL_DUP, v & ~CTRL_RST);
      if (v & CTRL_RST) this.resetMacAddr();
      if (v & CTRL_PHY_RST) this.mac.set(MAC.STATUS, this.m(MAC.STATUS) | STATUS_PHYRA);
    },
    set_status: (_off, v) => {
      if (!(v & STATUS_PHYRA)) this.mac.set(MAC.STATUS, this.m(MAC.STATUS) & ~STATUS_PHYRA);
    },
    set_eecd: (off, v) => this.mac.set(off, (this.m(off) & EECD_RO_BITS) | (v & ~EECD_RO_BITS)),
    set_gcr: (off, v) => this.mac.set(off, (v & ~GCR_RO_BITS) | (this.m(off) & GCR_RO_BITS)),
    set_eerd: (_off, v) => {
      const addr = (v >>> EERW_ADDR_SHIFT) & EERW_ADDR_MASK;
      const ok = addr < E1000E_EEPROM_WORDS && (v & EERW_START) !== 0;
      this.eerdResult(ok, addr, ok ? this.eeprom[addr]! : 0);
    },
    set_eewr: (_off, v) => {
      // The NVM write's outcome lands in EERD (EEWR itself keeps its reset value).
      const addr = (v >>> EERW_ADDR_SHIFT) & EERW_ADDR_MASK;
      const data = v >>> EERW_DATA_SHIFT;
      const ok = addr < E1000E_EEPROM_WORDS && (v & EERW_START) !== 0;
      if (ok) this.eeprom[addr] = data;
      this.eerdResult(ok, addr, data);
    },
    set_ctrlext: (off, v) => this.mac.set(off, v & ~(CTRL_EXT_ASDCHK | CTRL_EXT_EE_RST)),
    set_pbaclr: (off, v) => {
      this.mac.set(off, v & PBACLR_VALID_MASK);
      if (!this.msixEnabled()) return;
      for (let i = 0; i < E1000E_MSIX_VEC_NUM; i++) if (v & (1 << i)) this.msixClearPending(i);
    },
    set_mdic: (_off, v) => this.setMdic(v),
    set_icr: (_off, v) => {
      if (this.m(MAC.ICR) & ICR_ASSERTED && this.m(MAC.CTRL_EXT) & CTRL_EXT_IAME) this.clearImsBits(this.m(MAC.IAM));
      let icr = this.m(MAC.ICR) & ~v;
      // "Other" written clears the causes it stands for (the Windows driver expects it).
      if (v & ICR_OTHER) icr &= ~ICR_OTHER_CAUSES;
      this.mac.set(MAC.ICR, icr);
      this.updateInterruptState();
    },
    set_ics: (_off, v) => this.setInterruptCause(v),
    set_ims: (_off, v) => {
      const valid = v & IMS_VALID_MASK;
      this.mac.set(MAC.IMS, this.m(MAC.IMS) | valid);
      if (valid & IMS_EXT_MASK && this.m(MAC.CTRL_EXT) & CTRL_EXT_PBA_CLR && this.msixEnabled()) this.msixClear(valid);
      // (valid == all with INT_TIMERS_CLEAR_ENA fires the delay timers: none is modelled as running)
      this.updateInterruptState();
    },
    set_imc: (_off, v) => {
      this.clearImsBits(v);
      this.updateInterruptState();
    },
    set_itr: (off, v) => {
      this.itrGuest = v & 0xffff;
      this.mac.set(off, Math.max(this.itrGuest, MIN_XITR));
    },
    set_eitr: (off, v) => {
      const i = (off - MAC.EITR) >>> 2;
      this.eitrGuest[i] = v & 0xffff;
      this.mac.set(off, Math.max(this.eitrGuest[i]!, MIN_XITR));
    },
    set_rxdctl: (_off, v) => {
      this.mac.set(MAC.RXDCTL, v);
      this.mac.set(MAC.RXDCTL1, v);
    },
    set_psrctl: (off, v) => {
      // Packet-split buffer sizes 0 and 1 may not be 0 while RCTL selects packet split.
      if (this.m(MAC.RCTL) & RCTL_DTYP_MASK && (!(v & PSRCTL_BSIZE0_MASK) || !(v & PSRCTL_BSIZE1_MASK))) return;
      this.mac.set(off, v);
    },
  };

  /**
   * e1000e_start_xmit(): with TCTL.EN, the descriptors from TDH to TDT, then the causes,
   * TXQE at least. The descriptors are guest memory the model does not read: a ring with
   * descriptors in it is left as it is, and only an empty ring's TXQE is raised.
   */
  private startXmit(q: TxQueue): void {
    if (!(this.m(MAC.TCTL) & TCTL_EN)) return;
    const empty = this.m(q.tdh) === this.m(q.tdt) || this.m(q.tdt) >= this.m(q.tdlen) / TX_DESC_LEN;
    if (empty) this.setInterruptCause(ICR_TXQE);
  }

  private eerdResult(ok: boolean, addr: number, data: number): void {
    this.mac.set(MAC.EERD, (ok ? EERW_DONE : 0) | (addr << EERW_ADDR_SHIFT) | (data << EERW_DATA_SHIFT));
  }

  /** e1000e_get_status(): GIO master, duplex and speed follow CTRL (and CTRL_EXT.SPD_BYPS). */
  private status(): number {
    const ctrl = this.m(MAC.CTRL);
    let res = this.m(MAC.STATUS);
    if (!(ctrl & CTRL_GIO_MASTER_DISABLE)) res |= STATUS_GIO_MASTER_ENABLE;
    if (ctrl & CTRL_FRCDPX) res |= ctrl & CTRL_FD ? STATUS_FD : 0;
    else res |= STATUS_FD;
    if (ctrl & CTRL_FRCSPD || this.m(MAC.CTRL_EXT) & CTRL_EXT_SPD_BYPS) {
      const spd = ctrl & CTRL_SPD_SEL;
      res |= spd === CTRL_SPD_10 ? STATUS_SPEED_10 : spd === CTRL_SPD_100 ? STATUS_SPEED_100 : STATUS_SPEED_1000;
    } else {
      res |= STATUS_SPEED_1000;
    }
    return res;
  }

  /** e1000e_set_mdic(): a PHY register access; only PHY address 1 answers. */
  private setMdic(v: number): void {
    const data = v & MDIC_DATA_MASK;
    const reg = (v & MDIC_REG_MASK) >>> MDIC_REG_SHIFT;
    if ((v & MDIC_PHY_MASK) >>> MDIC_PHY_SHIFT !== 1) {
      v = this.m(MAC.MDIC) | MDIC_ERROR;
    } else if (v & MDIC_OP_READ) {
      const r = this.phy.read(reg);
      v = r === undefined ? v | MDIC_ERROR : (v ^ data) | r;
    } else if (v & MDIC_OP_WRITE) {
      if (!this.phy.write(reg, data)) v |= MDIC_ERROR;
    }
    this.mac.set(MAC.MDIC, v | MDIC_READY);
    if (v & MDIC_INT_EN) this.setInterruptCause(ICR_MDAC);
  }

  // ---- interrupt causes (e1000e_core.c) -------------------------------------------------------
  // Interrupt throttling (ITR/EITR timers) and the receive/transmit delay timers are not
  // modelled: every interrupt is sent at once, as QEMU does when no timer is running.

  private clearImsBits(bits: number): void {
    this.mac.set(MAC.IMS, this.m(MAC.IMS) & ~bits);
  }

  /** e1000e_set_interrupt_cause(). */
  private setInterruptCause(causes: number): void {
    this.mac.set(MAC.ICR, this.m(MAC.ICR) | causes);
    this.updateInterruptState();
  }

  /**
   * e1000e_mac_icr_read(): the causes, cleared by the read when no cause is enabled or the
   * function is not in MSI-X mode; with IAME an asserted read also clears IMS by IAM.
   */
  private icrRead(): number {
    const ret = this.m(MAC.ICR);
    if (this.m(MAC.IMS) === 0) this.mac.set(MAC.ICR, 0);
    if (!this.msixEnabled()) this.mac.set(MAC.ICR, 0);
    if (this.m(MAC.ICR) & ICR_ASSERTED && this.m(MAC.CTRL_EXT) & CTRL_EXT_IAME) {
      this.mac.set(MAC.ICR, 0);
      this.clearImsBits(this.m(MAC.IAM));
    }
    this.updateInterruptState();
    return ret;
  }

  /** e1000e_update_interrupt_state(): ICR's summary bits, ICS = ICR, then MSI-X, MSI or INTA#. */
  private updateInterruptState(): void {
    const msix = this.msixEnabled();
    let icr = this.m(MAC.ICR);
    if (msix && icr & ICR_OTHER_CAUSES) icr |= ICR_OTHER;
    icr &= ~ICR_ASSERTED;
    if (icr) icr |= ICR_ASSERTED;
    this.mac.set(MAC.ICR, icr);
    this.mac.set(MAC.ICS, icr);
    const pending = (this.m(MAC.IMS) & icr) !== 0;
    if (!pending) this.msiCausesPending = 0;
    if (msix || this.msiEnabled()) {
      if (pending) this.sendMsi(msix);
      return;
    }
    // e1000e_raise_legacy_irq() counts each assertion in IAC (saturating).
    if (pending && this.m(MAC.IAC) !== 0xffffffff) this.mac.set(MAC.IAC, this.m(MAC.IAC) + 1);
    this.legacyInterrupt(pending, false);
  }

  /** e1000e_send_msi(): only causes that became pending since the last message are sent. */
  private sendMsi(msix: boolean): void {
    let causes = this.m(MAC.ICR) & this.m(MAC.IMS) & ~ICR_ASSERTED;
    this.msiCausesPending &= causes;
    causes ^= this.msiCausesPending;
    if (!causes) return;
    this.msiCausesPending |= causes;
    if (msix) this.msixNotifyCauses(causes);
    else this.signalMessage(0);
  }

  /** e1000e_msix_notify(): each queue cause and Other to the vector its IVAR field names. */
  private msixNotifyCauses(causes: number): void {
    for (const [cause, shift] of IVAR_CAUSES) {
      if (!(causes & cause)) continue;
      const cfg = this.m(MAC.IVAR) >>> shift;
      if (cfg & IVAR_ENTRY_VALID && (cfg & IVAR_ENTRY_VEC) < E1000E_MSIX_VEC_NUM) this.signalMessage(cfg & IVAR_ENTRY_VEC);
      // e1000e_msix_notify_one(): EIAME clears the cause from IAM; EIAC's causes clear
      // themselves from ICR (and from IMS unless IAME).
      if (this.m(MAC.CTRL_EXT) & CTRL_EXT_EIAME) this.mac.set(MAC.IAM, this.m(MAC.IAM) & ~cause);
      const eiac = this.m(MAC.EIAC) & cause;
      this.mac.set(MAC.ICR, this.m(MAC.ICR) & ~eiac);
      this.msiCausesPending &= ~eiac;
      if (!(this.m(MAC.CTRL_EXT) & CTRL_EXT_IAME)) this.clearImsBits(eiac);
    }
  }

  /** e1000e_msix_clear(): the pending bit of each cause's vector cleared. */
  private msixClear(causes: number): void {
    for (const [cause, shift] of IVAR_CAUSES) {
      const cfg = this.m(MAC.IVAR) >>> shift;
      if (causes & cause && cfg & IVAR_ENTRY_VALID && (cfg & IVAR_ENTRY_VEC) < E1000E_MSIX_VEC_NUM) this.msixClearPending(cfg & IVAR_ENTRY_VEC);
    }
  }

  /** msix_clr_pending(). */
  private msixClearPending(v: number): void {
    this.msixPba[v >> 3] = this.msixPba[v >> 3]! & ~(1 << (v & 7));
  }

  /** BAR0: 32-bit registers (QEMU: impl 4..4, any valid size). */
  private mmioOps(): MmioOps {
    return {
      read: (off) => BigInt(this.regRead(Number(off))),
      write: (off, _size, value) => this.regWrite(Number(off), Number(value & 0xffff_ffffn)),
      impl: { min: 4, max: 4 },
    };
  }

  /** BAR2: IOADDR (0) selects a register, IODATA (4) accesses it (e1000e_io_read/write). */
  private ioOps(): MmioOps {
    return {
      read: (off) => {
        if (off === 0n) return BigInt(this.ioaddr);
        if (off === 4n && this.ioaddr < 0x1ffff) return BigInt(this.regRead(this.ioaddr));
        return 0n;
      },
      write: (off, _size, value) => {
        const v = Number(value & 0xffff_ffffn);
        if (off === 0n) this.ioaddr = v;
        else if (off === 4n && this.ioaddr < 0x1ffff) this.regWrite(this.ioaddr, v);
      },
      impl: { min: 4, max: 4 },
    };
  }
}
