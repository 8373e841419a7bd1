// The part of the Linux PCI core (drivers/pci/pci.c, setup-res.c, rom.c, msi/) that vfio-pci
// calls, as a kernel-side `struct pci_dev` over a hardware model. Everything reaches the
// hardware through configuration cycles and memory/I/O cycles at the resource addresses,
// as the real kernel does, so a reset that the hardware performs, or a BAR the hardware
// stops decoding, shows up the way it would.
//
// vfio-pci is its only user in this model, but it knows nothing of VFIO (kernel/pci sits below
// kernel/vfio). SR-IOV, the PCI core's iov.c, is iov.ts beside it.

import type { AccessSize, PciDeviceModel } from '../../hw/pci/device.js';
import {
  PCI_AF_CAP,
  PCI_AF_CAP_FLR,
  PCI_AF_CAP_TP,
  PCI_BASE_ADDRESS_0,
  PCI_CAP_ID_AF,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_ERR_CAP,
  PCI_ERR_COR_MASK,
  PCI_ERR_UNCOR_MASK,
  PCI_ERR_UNCOR_SEVER,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCAP_PAYLOAD,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL2,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL_READRQ,
  PCI_EXP_FLAGS,
  PCI_EXP_FLAGS_VERS,
  PCI_EXP_LNKCTL,
  PCI_EXP_LNKCTL2,
  PCI_EXT_CAP_ID_ERR,
  PCI_INTERRUPT_PIN,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_PM_CTRL,
  PCI_PM_CTRL_NO_SOFT_RESET,
  PCI_PM_CTRL_STATE_MASK,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
  PCI_STATUS_INTERRUPT,
} from '../../hw/pci/regs.js';
import { EINVAL, ENOTTY } from '../../uapi/errno.js';
import type { FileOps } from '../file.js';
import type { KernelLog } from '../log.js';

export const PCI_D0 = 0;
export const PCI_D3HOT = 3;

/** struct resource, reduced to what vfio-pci looks at. */
export interface PciResource {
  start: bigint;
  /** pci_resource_len(): the size, also for an unassigned BAR. */
  len: bigint;
  io: boolean;
  mem: boolean;
  mem64: boolean;
  prefetch: boolean;
  /** IORESOURCE_UNSET: sized but not given an address. */
  unset: boolean;
  /** Has a parent (claimed in the resource tree). */
  claimed: boolean;
  /** IORESOURCE_ROM_ENABLE (firmware left the ROM enabled, e.g. a shadowed VGA ROM). */
  romEnable: boolean;
}

const EMPTY: PciResource = { start: 0n, len: 0n, io: false, mem: false, mem64: false, prefetch: false, unset: false, claimed: false, romEnable: false };

/** Where the function sits, for bus/slot resets. Absent: on a root bus (no bridge to reset). */
export interface PciTopology {
  /** The function's bus has an upstream bridge able to do a secondary bus reset. */
  busResettable: boolean;
  /** Every function a bus reset would hit (including this one), with its IOMMU group. */
  busDevices(): { bdf: string; group: number }[];
  /** The IOMMU group a file is the VFIO group fd of, if it is one (for PCI_HOT_RESET). */
  groupOfFile?(ops: FileOps): number | undefined;
  /** Performs the secondary bus reset (the bridge's job: every function on the bus). */
  busReset?(): void;
}

/** pci_save_state()'s copy. */
export interface SavedState {
  config: number[];
  pcie?: { devctl: number; lnkctl: number; devctl2: number; lnkctl2: number };
  aer?: { uncorMask: number; uncorSever: number; corMask: number; cap: number };
}

export type PciResetMethod = 'flr' | 'af_flr' | 'pm' | 'bus';

/** "%pR" of an unassigned resource ("[mem size 0x00100000 64bit pref]"). */
function fmtResource(r: PciResource): string {
  const width = r.io ? 6 : 10;
  const num = (v: bigint): string => '0x' + v.toString(16).padStart(width - 2, '0');
  const range = r.unset ? `size ${num(r.len)}` : `${num(r.start)}-${num(r.start + r.len - 1n)}`;
  return `[${r.io ? 'io  ' : 'mem '}${range}${r.mem64 ? ' 64bit' : ''}${r.prefetch ? ' pref' : ''}]`;
}

export interface PciDevOptions {
  /**
   * pci_dev_save_and_disable()/pci_dev_restore() warn "resetting"/"reset done" for a bound
   * driver without reset_prepare/reset_done handlers (Era.pciResetWarn, 6.13).
   */
  resetWarn?: boolean;
  /**
   * pcibios_enable_irq(): the platform's INTx routing, which pcibios_enable_device() runs once
   * the resources are enabled and MSI is off (x86: the ACPI link, announced on its first enable).
   */
  irqEnable?: () => void;
}

export class PciDev {
  readonly name: string;
  readonly cfgSize: number;
  readonly msiCap: number;
  readonly msixCap: number;
  readonly pmCap: number;
  readonly pcieCap: number;
  readonly isVirtfn: boolean;
  readonly resources: PciResource[];
  readonly resetMethods: PciResetMethod[];
  readonly onRootBus: boolean;
  currentState = PCI_D0;
  isBusmaster = false;
  /** dev->msi_enabled / msix_enabled: what the MSI core enabled. */
  msiEnabled = false;
  msixEnabled = false;
  /** log2 of the MSI vectors enabled (the Multiple Message Enable field). */
  msiMme = 0;
  private enableCnt = 0;
  private saved: SavedState | null = null;
  /** The driver bound, for dev_printk's prefix. */
  driver = 'vfio-pci';

  constructor(
    readonly hw: PciDeviceModel,
    private readonly log: KernelLog,
    readonly topology?: PciTopology,
    private readonly opts: PciDevOptions = {},
  ) {
    this.name = hw.bdf;
    this.isVirtfn = hw.physfn !== undefined;
    this.msiCap = hw.msi?.offset ?? 0;
    this.msixCap = hw.msix?.offset ?? 0;
    this.pmCap = hw.pmCap ?? 0;
    this.pcieCap = hw.pcieCap ?? 0;
    // pci_cfg_space_size(): extended space only for PCIe functions where it is reachable.
    this.cfgSize =
      this.pcieCap && this.readConfig(PCI_CFG_SPACE_SIZE, 4) !== 0xffffffff ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
    this.onRootBus = topology === undefined;

    // The resources as enumeration left them (pci_read_bases + the boot-time assignment).
    this.resources = Array.from({ length: 7 }, () => ({ ...EMPTY }));
    for (const b of hw.bars) {
      this.resources[b.index] = {
        start: b.base ?? 0n,
        len: b.size,
        io: b.kind === 'io',
        mem: b.kind !== 'io',
        mem64: b.kind === 'mem64',
        prefetch: b.prefetchable,
        unset: b.base === undefined,
        claimed: b.base !== undefined,
        romEnable: false,
      };
    }
    if (hw.rom) {
      this.resources[6] = {
        start: hw.rom.base ?? 0n,
        len: hw.rom.size,
        io: false,
        mem: true,
        mem64: false,
        prefetch: false,
        unset: hw.rom.base === undefined,
        claimed: hw.rom.base !== undefined,
        romEnable: false,
      };
    }
    this.currentState = this.pmCap ? this.readConfig(this.pmCap + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK : PCI_D0;
    this.resetMethods = this.probeResetMethods();
  }

  get isPcie(): boolean {
    return this.pcieCap !== 0;
  }

  // ---- config access (pci_read_config_*, pci_user_*_config_*) ----------------------------

  readConfig(off: number, width: 1 | 2 | 4): number {
    return this.hw.config.read(off, width);
  }

  writeConfig(off: number, width: 1 | 2 | 4, value: number): void {
    this.hw.config.write(off, width, value);
  }

  /** dev_info(): "<driver> <bdf>: text". */
  info(text: string, oncePerBoot = false): void {
    this.log.log('info', `${this.driver} ${this.name}: ${text}`, oncePerBoot);
  }

  warn(text: string): void {
    this.log.log('warn', `${this.driver} ${this.name}: ${text}`);
  }

  err(text: string): void {
    this.log.log('err', `${this.driver} ${this.name}: ${text}`);
  }

  // ---- MMIO / port I/O at the resource addresses (ioread*, iowrite*) ----------------------

  ioread(index: number, off: bigint, size: AccessSize): bigint {
    const r = this.resources[index]!;
    const v = this.hw.busRead(r.io ? 'io' : 'mem', r.start + off, size);
    // Nobody decodes: all ones for I/O ports; for memory, what the host bridge answers
    // (QEMU's q35: 0; virt's GPEX: all ones).
    return v ?? (r.io || this.hw.unassignedMem === 'ones' ? (1n << BigInt(size * 8)) - 1n : 0n);
  }

  iowrite(index: number, off: bigint, size: AccessSize, value: bigint): void {
    const r = this.resources[index]!;
    this.hw.busWrite(r.io ? 'io' : 'mem', r.start + off, size, value);
  }

  // ---- enable / disable (pci_enable_device, pci_disable_device) ----------------------------

  /** pci_enable_device(): power up, pci_enable_resources(), INTx un-disable. 0 or -errno. */
  enableDevice(unsetText: boolean): number {
    if (++this.enableCnt > 1) return 0;
    this.setPowerState(PCI_D0);
    const ret = this.enableResources(unsetText);
    if (ret < 0) {
      this.enableCnt--;
      return ret;
    }
    if (this.msiEnabled || this.msixEnabled) return 0;
    this.opts.irqEnable?.();
    if (this.readConfig(PCI_INTERRUPT_PIN, 1)) {
      const cmd = this.readConfig(PCI_COMMAND, 2);
      if (cmd & PCI_COMMAND_INTX_DISABLE) this.writeConfig(PCI_COMMAND, 2, cmd & ~PCI_COMMAND_INTX_DISABLE);
    }
    return 0;
  }

  /** pci_enable_resources(): decode on for every BAR with a resource; logs a change. */
  private enableResources(unsetText: boolean): number {
    let cmd = this.readConfig(PCI_COMMAND, 2);
    const old = cmd;
    for (let i = 0; i < this.resources.length; i++) {
      const r = this.resources[i]!;
      if (!r.io && !r.mem) continue;
      if (i === 6 && !r.romEnable) continue;
      if (r.unset && unsetText) {
        this.err(`can't enable device: BAR ${i} ${fmtResource(r)} not assigned`);
        return -EINVAL;
      }
      if (!r.claimed) {
        this.err(unsetText ? `can't enable device: BAR ${i} ${fmtResource(r)} not claimed` : `device not available (can't reserve ${fmtResource(r)})`);
        return -EINVAL;
      }
      if (r.io) cmd |= PCI_COMMAND_IO;
      if (r.mem) cmd |= PCI_COMMAND_MEMORY;
    }
    if (cmd !== old) {
      // Printed on the first enable in a boot only: later enables find decode already on.
      this.info(`enabling device (${old.toString(16).padStart(4, '0')} -> ${cmd.toString(16).padStart(4, '0')})`, true);
      this.writeConfig(PCI_COMMAND, 2, cmd);
    }
    return 0;
  }

  /** pci_disable_device(): on the last disable, bus mastering off. */
  disableDevice(): void {
    if (this.enableCnt <= 0 || --this.enableCnt !== 0) return;
    const cmd = this.readConfig(PCI_COMMAND, 2);
    if (cmd & PCI_COMMAND_MASTER) this.writeConfig(PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
    this.isBusmaster = false;
  }

  get enabled(): boolean {
    return this.enableCnt > 0;
  }

  /** pci_clear_master(). */
  clearMaster(): void {
    const old = this.readConfig(PCI_COMMAND, 2);
    const cmd = old & ~PCI_COMMAND_MASTER;
    if (cmd !== old) this.writeConfig(PCI_COMMAND, 2, cmd);
    this.isBusmaster = false;
  }

  /** pci_intx(): INTx disable bit follows `enable`. */
  intx(enable: boolean): void {
    const cmd = this.readConfig(PCI_COMMAND, 2);
    const next = enable ? cmd & ~PCI_COMMAND_INTX_DISABLE : cmd | PCI_COMMAND_INTX_DISABLE;
    if (next !== cmd) this.writeConfig(PCI_COMMAND, 2, next);
  }

  /** pci_intx_mask_supported(): the INTx disable bit is writable and nothing else moved. */
  intxMaskSupported(): boolean {
    const orig = this.readConfig(PCI_COMMAND, 2);
    this.writeConfig(PCI_COMMAND, 2, orig ^ PCI_COMMAND_INTX_DISABLE);
    const now = this.readConfig(PCI_COMMAND, 2);
    if ((now ^ orig) & ~PCI_COMMAND_INTX_DISABLE) {
      this.err(`Command register changed from 0x${orig.toString(16)} to 0x${now.toString(16)}: driver or hardware bug?`);
      return false;
    }
    if ((now ^ orig) & PCI_COMMAND_INTX_DISABLE) {
      this.writeConfig(PCI_COMMAND, 2, orig);
      return true;
    }
    return false;
  }

  /** pci_check_and_unmask_intx(): unmask unless an interrupt is already pending. */
  checkAndUnmaskIntx(): boolean {
    const dword = this.readConfig(PCI_COMMAND, 4);
    if ((dword >>> 16) & PCI_STATUS_INTERRUPT) return false;
    const cmd = dword & 0xffff;
    const next = cmd & ~PCI_COMMAND_INTX_DISABLE;
    if (next !== cmd) this.writeConfig(PCI_COMMAND, 2, next);
    return true;
  }

  // ---- power management (pci_set_power_state) ---------------------------------------------

  /** pci_set_power_state() between D0 and D3hot (D1/D2 as written). */
  setPowerState(state: number): number {
    if (!this.pmCap) {
      this.currentState = PCI_D0;
      return 0;
    }
    if (state === this.currentState) return 0;
    if (state === PCI_D0) {
      // pci_power_up(): the whole word to 0 (PME_En off, PowerState D0; PME_Status untouched).
      this.writeConfig(this.pmCap + PCI_PM_CTRL, 2, 0);
    } else {
      let csr = this.readConfig(this.pmCap + PCI_PM_CTRL, 2);
      csr = (csr & ~PCI_PM_CTRL_STATE_MASK & ~0x8000) | state;
      this.writeConfig(this.pmCap + PCI_PM_CTRL, 2, csr);
    }
    this.currentState = this.readConfig(this.pmCap + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK;
    return 0;
  }

  // ---- saved state (pci_save_state, pci_restore_state, pci_store_saved_state) --------------

  private pcieV2(): boolean {
    return this.isPcie && (this.readConfig(this.pcieCap + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_VERS) > 1;
  }

  saveState(): void {
    const config: number[] = [];
    for (let i = 0; i < 16; i++) config.push(this.readConfig(i * 4, 4));
    const s: SavedState = { config };
    if (this.isPcie) {
      const c = this.pcieCap;
      const v2 = this.pcieV2();
      s.pcie = {
        devctl: this.readConfig(c + PCI_EXP_DEVCTL, 2),
        lnkctl: this.readConfig(c + PCI_EXP_LNKCTL, 2),
        devctl2: v2 ? this.readConfig(c + PCI_EXP_DEVCTL2, 2) : 0,
        lnkctl2: v2 ? this.readConfig(c + PCI_EXP_LNKCTL2, 2) : 0,
      };
    }
    const aer = this.hw.config.findExtCap(PCI_EXT_CAP_ID_ERR);
    if (aer !== undefined && this.cfgSize > PCI_CFG_SPACE_SIZE) {
      s.aer = {
        uncorMask: this.readConfig(aer + PCI_ERR_UNCOR_MASK, 4),
        uncorSever: this.readConfig(aer + PCI_ERR_UNCOR_SEVER, 4),
        corMask: this.readConfig(aer + PCI_ERR_COR_MASK, 4),
        cap: this.readConfig(aer + PCI_ERR_CAP, 4),
      };
    }
    this.saved = s;
  }

  /** pci_store_saved_state(): a copy the caller keeps. */
  storeSavedState(): SavedState | null {
    return this.saved ? structuredClone(this.saved) : null;
  }

  /** pci_load_and_free_saved_state(): a null state just forgets the saved one (and is not an error). */
  loadSavedState(s: SavedState | null): number {
    this.saved = s ? structuredClone(s) : null;
    return 0;
  }

  /** pci_restore_state(): PCIe and AER state, the header (BARs before command), MSI state. */
  restoreState(): void {
    const s = this.saved;
    if (!s) return;
    if (s.pcie) {
      const c = this.pcieCap;
      this.writeConfig(c + PCI_EXP_DEVCTL, 2, s.pcie.devctl);
      this.writeConfig(c + PCI_EXP_LNKCTL, 2, s.pcie.lnkctl);
      if (this.pcieV2()) {
        this.writeConfig(c + PCI_EXP_DEVCTL2, 2, s.pcie.devctl2);
        this.writeConfig(c + PCI_EXP_LNKCTL2, 2, s.pcie.lnkctl2);
      }
    }
    const aer = this.hw.config.findExtCap(PCI_EXT_CAP_ID_ERR);
    if (s.aer && aer !== undefined) {
      this.writeConfig(aer + PCI_ERR_UNCOR_MASK, 4, s.aer.uncorMask);
      this.writeConfig(aer + PCI_ERR_UNCOR_SEVER, 4, s.aer.uncorSever);
      this.writeConfig(aer + PCI_ERR_COR_MASK, 4, s.aer.corMask);
      this.writeConfig(aer + PCI_ERR_CAP, 4, s.aer.cap);
    }
    // pci_restore_config_space(): dwords 15..10, then the BARs 9..4, then 3..0; only those
    // that differ are written.
    const restore = (from: number, to: number): void => {
      for (let i = to; i >= from; i--) if (this.readConfig(i * 4, 4) !== s.config[i]) this.writeConfig(i * 4, 4, s.config[i]!);
    };
    restore(10, 15);
    restore(4, 9);
    restore(0, 3);
    this.restoreMsiState();
    this.saved = null;
  }

  /** pci_restore_msi_state(): enable bits back as the MSI core left them. */
  private restoreMsiState(): void {
    if (this.msiEnabled && this.msiCap) {
      this.intx(false);
      const f = this.readConfig(this.msiCap + PCI_MSI_FLAGS, 2);
      this.writeConfig(this.msiCap + PCI_MSI_FLAGS, 2, (f & ~PCI_MSI_FLAGS_QSIZE) | (this.msiMme << 4) | PCI_MSI_FLAGS_ENABLE);
    }
    if (this.msixEnabled && this.msixCap) {
      this.intx(false);
      const f = this.readConfig(this.msixCap + PCI_MSIX_FLAGS, 2);
      this.writeConfig(this.msixCap + PCI_MSIX_FLAGS, 2, f | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
      this.writeConfig(this.msixCap + PCI_MSIX_FLAGS, 2, (f | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
    }
  }

  // ---- MSI capability enable bits (the register side of pci_alloc_irq_vectors) --------------

  /**
   * What msi_capability_init()/pci_msi_shutdown() do to the capability: the enable bit, the
   * Multiple Message Enable field, and INTx disable (pci_intx_for_msi). The messages themselves
   * are the interrupt core's.
   */
  setMsiHw(enable: boolean, nvec: number): void {
    if (!this.msiCap) return;
    const f = this.readConfig(this.msiCap + PCI_MSI_FLAGS, 2);
    if (enable) {
      this.msiMme = Math.ceil(Math.log2(Math.max(nvec, 1)));
      this.writeConfig(this.msiCap + PCI_MSI_FLAGS, 2, f & ~PCI_MSI_FLAGS_ENABLE);
      this.intx(false);
      this.writeConfig(this.msiCap + PCI_MSI_FLAGS, 2, (f & ~PCI_MSI_FLAGS_QSIZE) | (this.msiMme << 4) | PCI_MSI_FLAGS_ENABLE);
    } else {
      this.writeConfig(this.msiCap + PCI_MSI_FLAGS, 2, f & ~PCI_MSI_FLAGS_ENABLE);
      this.intx(true);
      this.msiMme = 0;
    }
    this.msiEnabled = enable;
  }

  /** msix_capability_init()/pci_msix_shutdown(): enable with all masked, then unmask all. */
  setMsixHw(enable: boolean): void {
    if (!this.msixCap) return;
    const f = this.readConfig(this.msixCap + PCI_MSIX_FLAGS, 2);
    if (enable) {
      this.writeConfig(this.msixCap + PCI_MSIX_FLAGS, 2, f | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
      this.intx(false);
      this.writeConfig(this.msixCap + PCI_MSIX_FLAGS, 2, (f | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
    } else {
      this.writeConfig(this.msixCap + PCI_MSIX_FLAGS, 2, f & ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
      this.intx(true);
    }
    this.msixEnabled = enable;
  }

  // ---- resets (pci_reset_function and friends) ---------------------------------------------

  /** pci_init_reset_methods(): the methods that probe successfully, in the kernel's order. */
  private probeResetMethods(): PciResetMethod[] {
    const m: PciResetMethod[] = [];
    if (this.probeFlr()) m.push('flr');
    if (this.probeAfFlr()) m.push('af_flr');
    if (this.probePm()) m.push('pm');
    if (this.probeBusFunction()) m.push('bus');
    return m;
  }

  /** pcie_reset_flr(probe): DEVCAP advertises Function Level Reset. */
  private probeFlr(): boolean {
    return this.isPcie && !!(this.readConfig(this.pcieCap + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR);
  }

  private afCap(): number | undefined {
    return this.hw.config.findCap(PCI_CAP_ID_AF);
  }

  /** pci_af_flr(probe): the AF capability has Transactions Pending and FLR. */
  private probeAfFlr(): boolean {
    const af = this.afCap();
    if (af === undefined) return false;
    const cap = this.readConfig(af + PCI_AF_CAP, 1);
    return !!(cap & PCI_AF_CAP_TP) && !!(cap & PCI_AF_CAP_FLR);
  }

  /** pci_pm_reset(probe): a PM capability without No_Soft_Reset. */
  private probePm(): boolean {
    return !!this.pmCap && !(this.readConfig(this.pmCap + PCI_PM_CTRL, 2) & PCI_PM_CTRL_NO_SOFT_RESET);
  }

  /**
   * pci_reset_bus_function(probe): a secondary bus reset for this function alone — not on a
   * root bus, and only if nothing else sits on the bus.
   */
  private probeBusFunction(): boolean {
    if (!this.topology || !this.topology.busResettable) return false;
    return this.topology.busDevices().length === 1;
  }

  /** pci_reset_supported(). */
  get resetSupported(): boolean {
    return this.resetMethods.length > 0;
  }

  private doReset(m: PciResetMethod): number {
    switch (m) {
      case 'flr': {
        // pcie_flr(): Initiate FLR, then wait for the function to come back.
        const c = this.readConfig(this.pcieCap + PCI_EXP_DEVCTL, 2);
        this.writeConfig(this.pcieCap + PCI_EXP_DEVCTL, 2, c | PCI_EXP_DEVCTL_BCR_FLR);
        return 0;
      }
      case 'af_flr': {
        const af = this.afCap()!;
        this.writeConfig(af + 4, 1, 1);
        return 0;
      }
      case 'pm': {
        // pci_pm_reset(): D0 -> D3hot -> D0; refused unless the function is in D0.
        if (this.readConfig(this.pmCap + PCI_PM_CTRL, 2) & PCI_PM_CTRL_NO_SOFT_RESET) return -ENOTTY;
        if (this.currentState !== PCI_D0) return -EINVAL;
        let csr = this.readConfig(this.pmCap + PCI_PM_CTRL, 2);
        csr = (csr & ~PCI_PM_CTRL_STATE_MASK) | PCI_D3HOT;
        this.writeConfig(this.pmCap + PCI_PM_CTRL, 2, csr);
        csr = (csr & ~PCI_PM_CTRL_STATE_MASK) | PCI_D0;
        this.writeConfig(this.pmCap + PCI_PM_CTRL, 2, csr);
        return 0;
      }
      case 'bus':
        // A secondary bus reset is the bridge's; the function sees a conventional reset.
        this.hw.busReset?.();
        return 0;
    }
  }

  /** __pci_reset_function_locked(): the first method that does not answer -ENOTTY. */
  resetFunctionLocked(): number {
    for (const m of this.resetMethods) {
      const rc = this.doReset(m);
      if (rc !== -ENOTTY) return rc;
    }
    return -ENOTTY;
  }

  /** pci_try_reset_function(): save, disable, reset, restore. */
  tryResetFunction(): number {
    if (!this.resetSupported) return -ENOTTY;
    // pci_dev_save_and_disable(): the bound driver (vfio-pci) has no reset_prepare.
    if (this.opts.resetWarn) this.warn('resetting');
    this.setPowerState(PCI_D0);
    this.saveState();
    this.writeConfig(PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    const rc = this.resetFunctionLocked();
    // pci_dev_restore(): nor reset_done.
    this.restoreState();
    if (this.opts.resetWarn) this.warn('reset done');
    return rc;
  }

  /** pci_probe_reset_slot(): no hotplug slots are modelled, so never. */
  probeResetSlot(): number {
    return -ENOTTY;
  }

  /** pci_probe_reset_bus(): needs a bridge above the bus. */
  probeResetBus(): number {
    return this.topology?.busResettable ? 0 : -ENOTTY;
  }

  // ---- ROM (drivers/pci/rom.c) -----------------------------------------------------------

  /**
   * pci_map_rom(): enable ROM decode at the resource address and find the image's true
   * size (pci_get_rom_size). Returns that size, or undefined (no resource, or no valid image).
   */
  mapRom(): number | undefined {
    const r = this.resources[6]!;
    if (!r.claimed) return undefined; // pci_assign_resource() on demand is not modelled
    if (r.len === 0n) return undefined;
    // pci_enable_rom(): the address and the enable bit into the ROM BAR.
    const reg = this.readConfig(PCI_ROM_ADDRESS, 4);
    this.writeConfig(PCI_ROM_ADDRESS, 4, ((reg & ~PCI_ROM_ADDRESS_MASK) | Number(r.start & 0xffff_f800n) | PCI_ROM_ADDRESS_ENABLE) >>> 0);
    const size = this.romSize(Number(r.len));
    if (!size) {
      this.unmapRom();
      return undefined;
    }
    return size;
  }

  /** pci_unmap_rom() -> pci_disable_rom(): the enable bit off again. */
  unmapRom(): void {
    const reg = this.readConfig(PCI_ROM_ADDRESS, 4);
    this.writeConfig(PCI_ROM_ADDRESS, 4, (reg & ~PCI_ROM_ADDRESS_ENABLE) >>> 0);
  }

  /** A read of the mapped ROM. */
  romRead(off: bigint, size: AccessSize): bigint {
    return this.ioread(6, off, size);
  }

  /** pci_get_rom_size(): walks the images (55 aa, "PCIR", last-image flag). */
  private romSize(window: number): number {
    let image = 0;
    for (;;) {
      const sig = Number(this.romRead(BigInt(image), 2));
      if (sig !== 0xaa55) {
        this.info(`Invalid PCI ROM header signature: expecting 0xaa55, got 0x${sig.toString(16).padStart(4, '0')}`);
        break;
      }
      const pds = image + Number(this.romRead(BigInt(image + 24), 2));
      const pcir = Number(this.romRead(BigInt(pds), 4));
      if (pcir !== 0x52494350) {
        this.info(`Invalid PCI ROM data signature: expecting 0x52494350, got 0x${pcir.toString(16).padStart(8, '0')}`);
        break;
      }
      const last = Number(this.romRead(BigInt(pds + 21), 1)) & 0x80;
      const length = Number(this.romRead(BigInt(pds + 16), 2));
      image += length * 512;
      if (image >= window) break;
      if (!length || last) break;
    }
    return Math.min(image, window);
  }

  /** pcie_get_mps(): the Max_Payload_Size in DEVCTL, in bytes. */
  pcieGetMps(): number {
    return 128 << ((this.readConfig(this.pcieCap + PCI_EXP_DEVCTL, 2) & 0x00e0) >> 5);
  }

  /** pcie_set_readrq(): Max_Read_Request_Size (bytes, a power of two 128..4096). */
  pcieSetReadrq(rq: number): void {
    const v = (Math.log2(rq) - 7) << 12;
    const c = this.readConfig(this.pcieCap + PCI_EXP_DEVCTL, 2);
    this.writeConfig(this.pcieCap + PCI_EXP_DEVCTL, 2, (c & ~PCI_EXP_DEVCTL_READRQ) | v);
  }

  /** The PCIe DEVCAP Max_Payload_Size supported, in bytes. */
  pcieMpsSupported(): number {
    return 128 << (this.readConfig(this.pcieCap + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_PAYLOAD);
  }

  /** The BAR register of a standard BAR as the hardware holds it now. */
  barRegister(i: number): number {
    return this.readConfig(PCI_BASE_ADDRESS_0 + 4 * i, 4);
  }
}

