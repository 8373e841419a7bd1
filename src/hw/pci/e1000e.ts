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
// writable bits, register-file behaviour beyond the registers e1000e-regs.ts names (writes are
// stored, STATUS is read-only, CTRL.RST self-clears and reloads the MAC address, RAL0/RAH0
// hold the MAC 52:54:00:12:34:56), the flash BAR (no region behind it: the bus answers).
//
// Measured later (test/fixtures/real-kernel-device): the MAC registers of e1000e-regs.ts, the
// AER registers, DEVCTL's error enables, and the option ROM: QEMU's efi-e1000e.rom, which the
// model reads from the installed ipxe-qemu package when the host has it (option-rom.ts) and
// otherwise replaces by a synthetic 64 KiB image with a valid header (55 aa, PCIR 8086:10d3,
// last image), so the kernel's ROM size probing behaves as with a real ROM.
//
// Interrupt causes (ICR, ICS, IMS, IMC, IAM, EIAC, IVAR, CTRL_EXT's IAME/EIAME) follow QEMU's
// e1000e_core.c: writing ICS raises causes; a cause enabled in IMS raises the MSI-X vector its
// IVAR field names, or MSI vector 0, or INTA#. Not modelled: interrupt throttling (ITR, EITR).

import { aerExtCap, dsnExtCap, msiCap, msixCap, pcieCap, pmCap, PMCSR_WMASK_DEFAULT } from './config-space.js';
import { PciFunction, RegisterFile, type PciPlacement } from './device.js';
import { mmioContainer, type MmioOps } from './mmio.js';
import { installedQemuRom, syntheticRom } from './option-rom.js';
import { PCI_EXP_TYPE_RC_END, PCI_PM_CTRL_PME_STATUS } from './regs.js';
import { CTRL, CTRL_DUP, E1000E_RESET_VALUES, E1000E_WRITE_RULES, e1000eReadMask, e1000eRegister, RAH0, RAL0, STATUS } from './e1000e-regs.js';

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

const CTRL_RST = 1 << 26;
const RAH_AV = 0x80000000;

// Interrupt causes (82574L datasheet §10.2.4; QEMU e1000e_core.c).
const CTRL_EXT = 0x0018;
const ICR = 0x00c0;
const ICS = 0x00c8;
const IMS = 0x00d0;
const IMC = 0x00d8;
const EIAC = 0x00dc;
const IAM = 0x00e0;
const IVAR = 0x00e4;
const CTRL_EXT_EIAME = 1 << 24;
const CTRL_EXT_IAME = 1 << 27;
const ICR_ASSERTED = 0x80000000;
const ICR_OTHER = 0x01000000;
/** Causes that MSI-X reports through the "other" vector (E1000_ICR_OTHER_CAUSES). */
const ICR_OTHER_CAUSES = 0x00000004 | 0x00000040 | 0x00000200 | 0x00010000 | 0x00020000 | 0x00040000;
/** MSI-X causes with an IVAR field each, in IVAR's nibble order: RxQ0, RxQ1, TxQ0, TxQ1, Other. */
const IVAR_CAUSES = [0x00100000, 0x00200000, 0x00400000, 0x00800000, ICR_OTHER];
const IVAR_ENTRY_VALID = 0x8;
const E1000E_MSIX_VEC_NUM = 5;

/** Reset values of the registers the traces read (and the receive address, from the MAC). */
const CTRL_RESET = 0x00140241;
const STATUS_RESET = 0x00080283;

/** e1000e_gen_dsn(): MAC bytes around 0xffff, most significant first. */
function dsnFromMac(mac: Uint8Array): bigint {
  const b = (i: number): bigint => BigInt(mac[i]!);
  return b(5) | (b(4) << 8n) | (b(3) << 16n) | (0xffn << 24n) | (0xffn << 32n) | (b(2) << 40n) | (b(1) << 48n) | (b(0) << 56n);
}

export class E1000e extends PciFunction {
  private readonly regs = new RegisterFile();
  private ioaddr = 0;
  /** Causes already sent by message and not cleared since (msi_causes_pending). */
  private msiCausesPending = 0;
  private mac = new Uint8Array([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

  constructor(p: E1000eParams) {
    super();
    if (p.mac) this.mac = p.mac.slice(0, 6);
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
        deviceId: 0x10d3,
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
      rom: { size: 256n * KiB, image: installedQemuRom('efi-e1000e.rom') ?? syntheticRom(0x8086, 0x10d3, 0x020000) },
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
        dsnExtCap(0x140, dsnFromMac(this.mac)),
      ],
      placement: p.placement,
      hostDriver: p.hostDriver,
      pmSoftReset: false,
      d3StopsDecode: false,
      unclaimedWritable: true,
    });
  }

  protected resetRegisters(): void {
    this.regs.clear();
    for (const [off, v] of E1000E_RESET_VALUES) this.regs.set(off, v);
    this.regs.set(CTRL, CTRL_RESET);
    this.regs.set(STATUS, STATUS_RESET);
    this.loadMac();
    this.ioaddr = 0;
    this.msiCausesPending = 0;
  }

  private loadMac(): void {
    const m = this.mac;
    this.regs.set(RAL0, (m[0]! | (m[1]! << 8) | (m[2]! << 16) | (m[3]! << 24)) >>> 0);
    this.regs.set(RAH0, (m[4]! | (m[5]! << 8) | RAH_AV) >>> 0);
  }

  private regRead(at: number): number {
    const off = e1000eRegister(at);
    if (off === ICR) return this.icrRead();
    return (this.regs.get(off) & e1000eReadMask(off)) >>> 0;
  }

  // ---- interrupt causes (e1000e_core.c) -------------------------------------------------------

  /**
   * e1000e_mac_icr_read(): the causes, cleared by the read when no cause is enabled or the
   * function is not in MSI-X mode; with IAME an asserted read also clears IMS by IAM.
   */
  private icrRead(): number {
    const ret = this.regs.get(ICR);
    if (this.regs.get(IMS) === 0 || !this.msixEnabled()) this.regs.set(ICR, 0);
    if (this.regs.get(ICR) & ICR_ASSERTED && this.regs.get(CTRL_EXT) & CTRL_EXT_IAME) {
      this.regs.set(ICR, 0);
      this.regs.set(IMS, this.regs.get(IMS) & ~this.regs.get(IAM));
    }
    this.updateInterruptState();
    return ret;
  }

  /** e1000e_update_interrupt_state(): ICR's summary bits, then MSI-X, MSI or INTA#. */
  private updateInterruptState(): void {
    const msix = this.msixEnabled();
    let icr = this.regs.get(ICR);
    if (msix && icr & ICR_OTHER_CAUSES) icr |= ICR_OTHER;
    icr = icr & ~ICR_ASSERTED ? icr | ICR_ASSERTED : icr & ~ICR_ASSERTED;
    this.regs.set(ICR, icr);
    const pending = (this.regs.get(IMS) & icr) >>> 0;
    if (!msix && !this.msiEnabled()) {
      this.legacyInterrupt(pending !== 0, false);
      return;
    }
    // e1000e_send_msi(): only causes that became pending since the last message are sent.
    const causes = pending & ~ICR_ASSERTED;
    this.msiCausesPending &= causes;
    const fresh = causes & ~this.msiCausesPending;
    if (!fresh) return;
    this.msiCausesPending |= fresh;
    if (msix) this.msixCauses(fresh);
    else this.signalMessage(0);
  }

  /** e1000e_msix_notify(): each queue cause and Other to the vector its IVAR field names. */
  private msixCauses(causes: number): void {
    const ivar = this.regs.get(IVAR);
    IVAR_CAUSES.forEach((cause, i) => {
      if (!(causes & cause)) return;
      const cfg = (ivar >>> (4 * i)) & 0xf;
      if (cfg & IVAR_ENTRY_VALID && (cfg & 7) < E1000E_MSIX_VEC_NUM) this.signalMessage(cfg & 7);
      // EIAME: the causes EIAC names clear themselves (and leave IMS unless IAME).
      if (this.regs.get(CTRL_EXT) & CTRL_EXT_EIAME) {
        const eiac = this.regs.get(EIAC) & cause;
        this.regs.set(ICR, this.regs.get(ICR) & ~eiac);
        if (!(this.regs.get(CTRL_EXT) & CTRL_EXT_IAME)) this.regs.set(IMS, this.regs.get(IMS) & ~eiac);
      }
    });
  }

  /** EEPROM words for EERD: the MAC address in words 0-2; the rest of QEMU's template is not modelled (0). */
  private eepromWord(word: number): number {
    const m = this.mac;
    return word < 3 ? m[word * 2]! | (m[word * 2 + 1]! << 8) : 0;
  }

  private regWrite(at: number, value: number): void {
    const off = e1000eRegister(at);
    const rule = E1000E_WRITE_RULES.get(off);
    if (rule) {
      this.regs.set(off, rule(value, this.regs.get(off), (w) => this.eepromWord(w)));
      return;
    }
    switch (off) {
      case STATUS:
        return; // read-only
      case CTRL:
        // RST is self-clearing; CTRL_DUP mirrors CTRL (e1000e_set_ctrl).
        this.regs.set(CTRL, value & ~CTRL_RST);
        this.regs.set(CTRL_DUP, value & ~CTRL_RST);
        if (value & CTRL_RST) this.loadMac();
        return;
      case ICR:
        // e1000e_set_icr(): write 1 to clear (with IAME, an asserted write clears IMS by IAM).
        if (this.regs.get(ICR) & ICR_ASSERTED && this.regs.get(CTRL_EXT) & CTRL_EXT_IAME) this.regs.set(IMS, this.regs.get(IMS) & ~this.regs.get(IAM));
        this.regs.set(ICR, this.regs.get(ICR) & ~value);
        this.updateInterruptState();
        return;
      case ICS:
        // e1000e_set_ics(): software raises causes.
        this.regs.set(ICR, this.regs.get(ICR) | value);
        this.updateInterruptState();
        return;
      case IMS:
        this.regs.set(IMS, this.regs.get(IMS) | value);
        this.updateInterruptState();
        return;
      case IMC:
        this.regs.set(IMS, this.regs.get(IMS) & ~value);
        this.updateInterruptState();
        return;
      default:
        this.regs.set(off, value);
    }
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
