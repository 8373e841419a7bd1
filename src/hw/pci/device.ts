// A PCI function as hardware: what a device model is, knowing nothing of VFIO or of any
// kernel. The kernel model reaches it only through configuration cycles (`config`), memory
// and I/O cycles at bus addresses (`busRead`/`busWrite`), and the interrupts it raises
// (`connectInterrupts`).
//
// `PciFunction` is the common machinery (QEMU's PCIDevice): it lays out the config space
// from the model's tables, decodes BARs from their registers and the command register,
// emulates the MSI and MSI-X capabilities and the INTx pin, and runs function-level and
// power-management resets. Models (edu.ts, e1000e.ts, x540.ts, ...) give tables and register
// behaviour.
//
// A function masters the bus through the port the platform connects (`connectBusMaster`):
// its DMA reads and writes leave the device at bus addresses, and the platform (the kernel
// model's IOMMU path) decides where they land. Its MSI writes leave through the interrupt
// sink with the address and data that were programmed into its MSI capability or MSI-X
// table; until someone programs them, the address is 0. Both are memory requests, so both
// need Bus Master Enable (PCI_COMMAND_MASTER): with it clear the function issues none (PCI
// Local Bus 3.0 §6.2.2; QEMU routes them through the bus-master address space, whose window
// is disabled while the bit is clear: pci_update_mappings/pci_default_write_config toggling
// bus_master_enable_region). SR-IOV virtual functions are PciDeviceModels whose
// `physfn` is set; a PF's SR-IOV capability creates them when VF Enable is set
// (ixgbe-common.ts, ixgbe-vf.ts).

import {
  buildConfigSpace,
  type BarKind,
  type CapDef,
  type ExtCapDef,
  type HeaderBar,
  type PciConfigSpace,
  type RegDef,
  type Type0HeaderSpec,
  type Width,
  type0Header,
} from './config-space.js';
import { mmioRead, mmioWrite, type AccessSize, type MmioOps } from './mmio.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_FLAGS,
  PCI_EXP_FLAGS_TYPE,
  PCI_INTERRUPT_LINE,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_32,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSI_MASK_32,
  PCI_MSI_MASK_64,
  PCI_MSI_PENDING_32,
  PCI_MSI_PENDING_64,
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_PM_CTRL,
  PCI_PM_CTRL_NO_SOFT_RESET,
  PCI_PM_CTRL_STATE_MASK,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
  PCI_STATUS,
  PCI_STATUS_INTERRUPT,
} from './regs.js';

export type { AccessSize, BarKind, MmioOps };

/** One implemented BAR: its geometry and the registers behind it. */
export interface PciBar {
  index: number;
  size: bigint;
  kind: BarKind;
  prefetchable: boolean;
  /**
   * The address the BAR was given at boot (by firmware, or by the booting kernel), which is
   * what the kernel's resource says; undefined when nobody could place it.
   */
  base?: bigint;
  /** The registers behind the BAR, addressed from the BAR's start. */
  ops: MmioOps;
}

export interface PciRom {
  /** ROM BAR size (a power of two). */
  size: bigint;
  /** The address assigned at boot (the kernel's resource); undefined: not assigned. */
  base?: bigint;
  /**
   * Whether that address was written to the ROM BAR register. x86 firmware (SeaBIOS)
   * programs it; Linux assigning resources itself (arm64 without firmware) leaves a disabled
   * ROM BAR at 0, and writes the address only when it enables the ROM (pci_enable_rom).
   */
  programmed: boolean;
  /** The ROM contents, zero-padded to `size` when read. */
  image: Uint8Array;
}

export interface MsiCapInfo {
  offset: number;
  /** Multiple Message Capable (1..32). */
  vectors: number;
  addr64: boolean;
  perVectorMask: boolean;
}

export interface MsixCapInfo {
  offset: number;
  tableSize: number;
  tableBar: number;
  tableOffset: number;
  pbaBar: number;
  pbaOffset: number;
}

export interface SriovCapInfo {
  offset: number;
  totalVfs: number;
  initialVfs: number;
  vfDeviceId: number;
  vfOffset: number;
  vfStride: number;
}

/** Resets a function can take by itself (bus resets belong to the bridge above it). */
export type ResetMethod = 'flr' | 'pm';

/** Where a function's interrupts go: the platform's interrupt path connects here. */
export interface PciInterruptSink {
  /** The INTx pin's level (after the command register's INTx disable). */
  intx(level: boolean): void;
  /**
   * The function wrote an MSI or MSI-X message for `vector`: a 4-byte memory write of `data`
   * at `addr`, as programmed in its capability or table.
   */
  msi(kind: 'msi' | 'msix', vector: number, addr: bigint, data: number): void;
}

/**
 * The function's upstream port as bus master: memory reads and writes at bus addresses (for
 * a device behind an IOMMU, IOVAs). The platform answers each; a transaction that fails (an
 * IOMMU fault, nothing behind the address) reads as undefined / writes as false, and the
 * device carries on as hardware does (QEMU's pci_dma_rw returns a MemTxResult edu ignores).
 */
export interface PciBusMaster {
  dmaRead(addr: bigint, len: number): Uint8Array | undefined;
  dmaWrite(addr: bigint, data: Uint8Array): boolean;
}

/**
 * What happened when the function signalled a message vector: it wrote the message (`sent`),
 * the vector was masked so its pending bit was set (`pending`), the vector is beyond those
 * enabled (`no-such-vector`), the message was due but Bus Master Enable is clear so no write
 * left the function (`no-bus-master`), or neither MSI nor MSI-X is enabled (`disabled`).
 */
export type MessageOutcome = 'sent' | 'pending' | 'no-such-vector' | 'no-bus-master';
export type MessageSignal = { kind: 'msi' | 'msix'; outcome: MessageOutcome } | { kind: 'none'; outcome: 'disabled' };

/**
 * The interrupt paths a device's own cause logic drives (ixgbe-intr.ts): MSI-X vectors, or
 * MSI / INTA# for a device with one interrupt condition.
 */
export interface InterruptPaths {
  msixEnabled(): boolean;
  /** Raises MSI-X vector `v` (a masked vector goes pending). */
  msixVector(v: number): void;
  /** Without MSI-X: MSI vector 0 on `edge`, else INTA# at `level` (PciFunction.legacyInterrupt). */
  legacy(level: boolean, edge: boolean): void;
}

/** What the platform knows about a PCI function: everything a kernel could find on the bus. */
export interface PciDeviceModel {
  /** The model name in the registry (`edu`, `e1000e`, ...). */
  readonly model: string;
  /** Domain:bus:device.function, e.g. `0000:00:02.0`. */
  readonly bdf: string;
  readonly vendorId: number;
  readonly deviceId: number;
  /** The configuration space; config cycles are `config.read`/`config.write`. */
  readonly config: PciConfigSpace;
  /** Implemented BARs, by index. */
  readonly bars: readonly PciBar[];
  readonly rom?: PciRom;
  readonly msi?: MsiCapInfo;
  readonly msix?: MsixCapInfo;
  /** Offset of the PCI Express capability (pci_is_pcie), if any. */
  readonly pcieCap?: number;
  /** Offset of the power-management capability, if any. */
  readonly pmCap?: number;
  readonly sriov?: SriovCapInfo;
  /** Function-level resets the hardware implements, derived from its capabilities. */
  readonly resetMethods: readonly ResetMethod[];
  /** The driver bound at boot, or undefined. */
  readonly hostDriver?: string;
  /** 0 = no INTx, 1 = INTA# ... 4 = INTD#. */
  readonly interruptPin: number;
  /** For a virtual function: its physical function (SR-IOV, built elsewhere). */
  readonly physfn?: PciDeviceModel;
  /**
   * For a physical function: VF `index` (0-based) as the hardware has it now, or undefined
   * (VF Enable clear, or no such VF): what answers config cycles at the VF's routing ID.
   */
  virtfn?(index: number): PciDeviceModel | undefined;
  /** The PCIe device/port type (PCI_EXP_FLAGS_TYPE), or undefined for a conventional function. */
  pcieType(): number | undefined;
  /**
   * A memory or I/O cycle at a bus address; undefined when no BAR of this function decodes it
   * (decode disabled in the command register, the BAR not programmed there, or the function
   * in a power state that does not decode).
   */
  busRead(space: 'mem' | 'io', addr: bigint, size: AccessSize): bigint | undefined;
  busWrite(space: 'mem' | 'io', addr: bigint, size: AccessSize, value: bigint): boolean;
  /** A read of the BAR's registers regardless of decode (for tests and displays). */
  barRead(index: number, off: bigint, size: AccessSize): bigint;
  /** The host bridge's answer to a memory read nobody claims (PciPlacement.unassignedMem). */
  readonly unassignedMem: 'zeros' | 'ones';
  barWrite(index: number, off: bigint, size: AccessSize, value: bigint): void;
  connectInterrupts(sink: PciInterruptSink): void;
  connectBusMaster(port: PciBusMaster): void;
  /**
   * The function's own logic signals message vector `vector` (msix_notify / msi_notify):
   * what a device raising "its vector N" does, for the scenario's `msi` action.
   */
  signalMessage(vector: number): MessageSignal;
  /** A conventional reset from the bus (the bridge's secondary bus reset). */
  busReset?(): void;
  /**
   * True while the function does work its model runs from a timer after the access that armed
   * it (edu's dma_timer, 100 ms after the command): what that work makes the kernel do (an
   * IOMMU fault interrupt) happens after the access returned to its caller.
   */
  readonly inTimer?: boolean;
}

/** Placement the platform chooses: where firmware (or the booting kernel) put things. */
export interface PciPlacement {
  /** BAR base addresses by index; a BAR left out stays unassigned (register 0). */
  bars?: Partial<Record<number, bigint>>;
  /** ROM base address (the kernel's resource); see PciRom.programmed. */
  rom?: bigint;
  romProgrammed?: boolean;
  /** PCI_COMMAND as firmware left it (SeaBIOS sets I/O, memory and SERR#; no firmware: 0). */
  command?: number;
  /** PCI_INTERRUPT_LINE as firmware or the booting kernel wrote it. */
  interruptLine?: number;
  /**
   * What the host bridge answers for a memory read that no region claims inside its window
   * (a BAR's space with nothing behind it, a ROM not decoding): 'zeros' on QEMU's q35 (the
   * unassigned-memory read), 'ones' on virt, whose GPEX host bridge maps a background region
   * under its MMIO windows that reads all-ones (hw/pci-host/gpex.c). Default 'zeros'.
   */
  unassignedMem?: 'zeros' | 'ones';
}

export interface BarSpec {
  index: number;
  size: bigint;
  kind: BarKind;
  prefetchable: boolean;
  ops: MmioOps;
}

export interface PciFunctionSpec {
  model: string;
  bdf: string;
  header: Omit<Type0HeaderSpec, 'bars' | 'romSize' | 'onCommandWrite' | 'onRomWrite'>;
  bars: BarSpec[];
  rom?: { size: bigint; image: Uint8Array };
  /** 256 (conventional) or 4096 (PCI Express). */
  configSize: 256 | 4096;
  caps: CapDef[];
  extCaps?: ExtCapDef[];
  placement: PciPlacement;
  hostDriver?: string;
  /**
   * The function resets itself on a D3hot->D0 transition when PMCSR.NoSoftRst is clear, as
   * the PM spec requires. QEMU 7.2 devices do not (their PM capability is plain registers).
   */
  pmSoftReset: boolean;
  /** BARs stop decoding in D3hot (PCI PM 1.2). QEMU 7.2 devices keep decoding. */
  d3StopsDecode: boolean;
  /** Extra header registers (device-specific) appended to the type 0 header table. */
  extraHeaderRegs?: RegDef[];
  /** Config bytes nothing claims are read/write scratch (QEMU devices), else read-only 0. */
  unclaimedWritable: boolean;
}

const PM_D3HOT = 3;

/**
 * The common part of every PCI function model. A model calls `super()`, then `setup()` with
 * its tables (which may close over `this`), and overrides `resetRegisters()`.
 */
export abstract class PciFunction implements PciDeviceModel {
  model!: string;
  bdf!: string;
  vendorId!: number;
  deviceId!: number;
  config!: PciConfigSpace;
  bars!: readonly PciBar[];
  rom?: PciRom;
  unassignedMem: 'zeros' | 'ones' = 'zeros';
  msi?: MsiCapInfo;
  msix?: MsixCapInfo;
  pcieCap?: number;
  pmCap?: number;
  sriov?: SriovCapInfo;
  hostDriver?: string;
  interruptPin!: number;
  physfn?: PciDeviceModel;
  private pmSoftReset = false;
  private d3StopsDecode = false;
  private sink?: PciInterruptSink;
  /** The upstream port for DMA; unconnected, the function's DMA goes nowhere. */
  private busMaster?: PciBusMaster;
  private intxLevel = false;
  /** MSI-X table and PBA contents (QEMU msix.c keeps them outside config space too). */
  protected msixTable = new Uint8Array(0);
  protected msixPba = new Uint8Array(0);
  /** Resets performed, by kind: tests and displays read this. */
  readonly resets: { flr: number; pm: number } = { flr: 0, pm: 0 };
  private timers = 0;

  get inTimer(): boolean {
    return this.timers > 0;
  }

  /**
   * Work the device runs from a timer the access arms (QEMU's timer_mod): the model has no
   * clock, so it runs now, as if the timer had fired the moment the access returned, and
   * `inTimer` tells the platform that what it causes comes after the access (PciDeviceModel).
   */
  protected fromTimer(work: () => void): void {
    this.timers++;
    try {
      work();
    } finally {
      this.timers--;
    }
  }

  protected setup(spec: PciFunctionSpec): void {
    this.model = spec.model;
    this.bdf = spec.bdf;
    this.vendorId = spec.header.vendorId;
    this.deviceId = spec.header.deviceId;
    this.hostDriver = spec.hostDriver;
    this.interruptPin = spec.header.interruptPin;
    this.pmSoftReset = spec.pmSoftReset;
    this.d3StopsDecode = spec.d3StopsDecode;

    const headerBars: HeaderBar[] = spec.bars.map((b) => ({ index: b.index, size: b.size, kind: b.kind, prefetchable: b.prefetchable }));
    // The model's header fields spread last, not first: V8 (Node 20) builds an object literal
    // that starts with a spread and has more after it, `{ ...a, b }`, in a way that young-
    // generation collections cannot free (measured with --trace-gc-nvp: a loop making such
    // literals promotes ~16% of what it allocates; `{ b, ...a }`, `{ ...a }` and
    // Object.assign({}, a, { b }) promote nothing). A check over many files promoted dead
    // machines through these, so code that runs for every machine avoids them.
    const header = type0Header({
      bars: headerBars,
      romSize: spec.rom?.size ?? 0n,
      onCommandWrite: () => this.updateIntx(),
      ...spec.header,
    });
    this.config = buildConfigSpace({
      size: spec.configSize,
      header: [...header, ...(spec.extraHeaderRegs ?? [])],
      caps: spec.caps.map((c) => (c.id === PCI_CAP_ID_MSIX ? this.withMsixControlHook(c) : c)),
      extCaps: spec.extCaps,
      unclaimedWritable: spec.unclaimedWritable,
    });

    const msiOff = this.config.findCap(PCI_CAP_ID_MSI);
    if (msiOff !== undefined) {
      const flags = this.config.read(msiOff + PCI_MSI_FLAGS, 2);
      this.msi = {
        offset: msiOff,
        vectors: 1 << ((flags >> 1) & 7),
        addr64: !!(flags & PCI_MSI_FLAGS_64BIT),
        perVectorMask: !!(flags & PCI_MSI_FLAGS_MASKBIT),
      };
    }
    const msixOff = this.config.findCap(PCI_CAP_ID_MSIX);
    if (msixOff !== undefined) {
      const table = this.config.read(msixOff + 4, 4);
      const pba = this.config.read(msixOff + 8, 4);
      this.msix = {
        offset: msixOff,
        tableSize: (this.config.read(msixOff + PCI_MSIX_FLAGS, 2) & 0x7ff) + 1,
        tableBar: table & 7,
        tableOffset: (table & ~7) >>> 0,
        pbaBar: pba & 7,
        pbaOffset: (pba & ~7) >>> 0,
      };
    }
    this.msixTable = new Uint8Array((this.msix?.tableSize ?? 0) * PCI_MSIX_ENTRY_SIZE);
    this.msixPba = new Uint8Array(Math.ceil((this.msix?.tableSize ?? 0) / 64) * 8);
    this.resetMsixTable();
    this.pcieCap = this.config.findCap(PCI_CAP_ID_EXP);
    this.pmCap = this.config.findCap(PCI_CAP_ID_PM);

    const p = spec.placement;
    this.unassignedMem = p.unassignedMem ?? 'zeros';
    this.bars = spec.bars.map((b) => ({ index: b.index, size: b.size, kind: b.kind, prefetchable: b.prefetchable, base: p.bars?.[b.index], ops: b.ops }));
    if (spec.rom) {
      this.rom = { size: spec.rom.size, image: spec.rom.image, base: p.rom, programmed: p.rom !== undefined && (p.romProgrammed ?? true) };
    }
    this.program(p);
  }

  /** What firmware (or the booting kernel) did to the function before anyone else looked. */
  private program(p: PciPlacement): void {
    for (const b of this.bars) {
      if (b.base === undefined) continue;
      const off = PCI_BASE_ADDRESS_0 + 4 * b.index;
      this.config.write(off, 4, Number(b.base & 0xffff_ffffn));
      if (b.kind === 'mem64') this.config.write(off + 4, 4, Number(b.base >> 32n));
    }
    if (this.rom?.programmed && this.rom.base !== undefined) this.config.write(PCI_ROM_ADDRESS, 4, Number(this.rom.base & 0xffff_ffffn));
    if (p.interruptLine !== undefined) this.config.write(PCI_INTERRUPT_LINE, 1, p.interruptLine);
    if (p.command !== undefined) this.config.write(PCI_COMMAND, 2, p.command);
  }

  // ---- decode ---------------------------------------------------------------------------

  /** The address a BAR decodes now, from its register(s). */
  barAddress(b: PciBar): bigint {
    const off = PCI_BASE_ADDRESS_0 + 4 * b.index;
    const lo = BigInt(this.config.read(off, 4));
    if (b.kind === 'io') return lo & 0xffff_fffcn;
    const hi = b.kind === 'mem64' ? BigInt(this.config.read(off + 4, 4)) : 0n;
    return ((hi << 32n) | lo) & ~0xfn;
  }

  /** The PM state from PMCSR (0 = D0 ... 3 = D3hot); D0 without a PM capability. */
  powerState(): number {
    return this.pmCap === undefined ? 0 : this.config.read(this.pmCap + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK;
  }

  private decodes(space: 'mem' | 'io'): boolean {
    const cmd = this.config.read(PCI_COMMAND, 2);
    if (!(cmd & (space === 'mem' ? PCI_COMMAND_MEMORY : PCI_COMMAND_IO))) return false;
    return !(this.d3StopsDecode && this.powerState() === PM_D3HOT);
  }

  private findBar(space: 'mem' | 'io', addr: bigint): { bar: PciBar; off: bigint } | undefined {
    if (!this.decodes(space)) return undefined;
    for (const b of this.bars) {
      if ((b.kind === 'io') !== (space === 'io')) continue;
      const base = this.barAddress(b);
      if (base === 0n) continue;
      if (addr >= base && addr < base + b.size) return { bar: b, off: addr - base };
    }
    return undefined;
  }

  /** The ROM decodes at its register's address when enabled and memory decode is on. */
  private findRom(addr: bigint): bigint | undefined {
    if (!this.rom || !this.decodes('mem')) return undefined;
    const reg = this.config.read(PCI_ROM_ADDRESS, 4);
    if (!(reg & PCI_ROM_ADDRESS_ENABLE)) return undefined;
    const base = BigInt((reg & PCI_ROM_ADDRESS_MASK) >>> 0);
    return addr >= base && addr < base + this.rom.size ? addr - base : undefined;
  }

  busRead(space: 'mem' | 'io', addr: bigint, size: AccessSize): bigint | undefined {
    const hit = this.findBar(space, addr);
    if (hit) return mmioRead(hit.bar.ops, hit.off, size) ?? this.unassignedRead(size);
    if (space === 'mem') {
      const r = this.findRom(addr);
      if (r !== undefined) return this.romRead(r, size);
    }
    return undefined;
  }

  busWrite(space: 'mem' | 'io', addr: bigint, size: AccessSize, value: bigint): boolean {
    const hit = this.findBar(space, addr);
    if (hit) {
      mmioWrite(hit.bar.ops, hit.off, size, value);
      return true;
    }
    // ROM writes are accepted and ignored (read-only memory).
    return space === 'mem' && this.findRom(addr) !== undefined;
  }

  barRead(index: number, off: bigint, size: AccessSize): bigint {
    const b = this.bars.find((x) => x.index === index);
    return b ? (mmioRead(b.ops, off, size) ?? this.unassignedRead(size)) : 0n;
  }

  /** A memory read nobody claims, as the host bridge answers it. */
  private unassignedRead(size: AccessSize): bigint {
    return this.unassignedMem === 'ones' ? (1n << BigInt(size * 8)) - 1n : 0n;
  }

  barWrite(index: number, off: bigint, size: AccessSize, value: bigint): void {
    const b = this.bars.find((x) => x.index === index);
    if (b) mmioWrite(b.ops, off, size, value);
  }

  private romRead(off: bigint, size: AccessSize): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) {
      const a = Number(off) + i;
      v = (v << 8n) | BigInt(a < this.rom!.image.length ? this.rom!.image[a]! : 0);
    }
    return v;
  }

  // ---- interrupts -------------------------------------------------------------------------

  connectInterrupts(sink: PciInterruptSink): void {
    this.sink = sink;
  }

  connectBusMaster(port: PciBusMaster): void {
    this.busMaster = port;
  }

  /** Bus Master Enable: the function may issue memory requests (DMA and MSI writes). */
  busMasterEnabled(): boolean {
    return !!(this.config.read(PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
  }

  /**
   * The function's DMA read (pci_dma_read). With Bus Master Enable clear no request leaves
   * the function; QEMU's read of its disabled bus-master window is an unassigned access,
   * which answers 0 (softmmu/memory.c unassigned_mem_read), so the device gets zeros.
   */
  protected dmaRead(addr: bigint, len: number): Uint8Array | undefined {
    if (!this.busMasterEnabled()) return new Uint8Array(len);
    return this.busMaster?.dmaRead(addr, len);
  }

  /** The function's DMA write (pci_dma_write): dropped while Bus Master Enable is clear. */
  protected dmaWrite(addr: bigint, data: Uint8Array): boolean {
    if (!this.busMasterEnabled()) return false;
    return this.busMaster?.dmaWrite(addr, data) ?? false;
  }

  /**
   * msi_send_message(): the message as a 4-byte memory write through the bus-master address
   * space, so with Bus Master Enable clear it is lost (QEMU's address_space_stl_le into the
   * disabled window), and nothing is left pending.
   */
  private sendMessage(kind: 'msi' | 'msix', v: number, addr: bigint, data: number): 'sent' | 'no-bus-master' {
    if (!this.busMasterEnabled()) return 'no-bus-master';
    this.sink?.msi(kind, v, addr, data);
    return 'sent';
  }

  /** Raises vector `v` the way the function is set up: MSI-X, else MSI, else INTx (msix_notify/msi_notify/pci_set_irq). */
  protected notify(v: number): void {
    if (this.signalMessage(v).kind === 'none') this.setIntx(true);
  }

  signalMessage(v: number): MessageSignal {
    if (this.msixEnabled()) return { kind: 'msix', outcome: this.msixNotify(v) };
    if (this.msiEnabled()) return { kind: 'msi', outcome: this.msiNotify(v) };
    return { kind: 'none', outcome: 'disabled' };
  }

  /** This function's interrupt paths, for cause logic kept outside the class. */
  protected interruptPaths(): InterruptPaths {
    return {
      msixEnabled: () => this.msixEnabled(),
      msixVector: (v) => void this.signalMessage(v),
      legacy: (level, edge) => this.legacyInterrupt(level, edge),
    };
  }

  /**
   * A device with one interrupt condition and no MSI-X: an MSI on `edge` when MSI is enabled
   * (msi_notify), else INTA# follows `level` (pci_set_irq).
   */
  protected legacyInterrupt(level: boolean, edge: boolean): void {
    if (this.msiEnabled()) {
      if (edge) this.signalMessage(0);
    } else {
      this.setIntx(level);
    }
  }

  protected setIntx(level: boolean): void {
    this.config.setBits(PCI_STATUS, 2, PCI_STATUS_INTERRUPT, level);
    this.updateIntx();
  }

  private updateIntx(): void {
    const asserted = !!(this.config.read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT) && !(this.config.read(PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE) && this.interruptPin !== 0;
    if (asserted !== this.intxLevel) {
      this.intxLevel = asserted;
      this.sink?.intx(asserted);
    }
  }

  msiEnabled(): boolean {
    return this.msi !== undefined && !!(this.config.read(this.msi.offset + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE);
  }

  msixEnabled(): boolean {
    return this.msix !== undefined && !!(this.config.read(this.msix.offset + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE);
  }

  private msiNotify(v: number): MessageOutcome {
    const m = this.msi!;
    const flags = this.config.read(m.offset + PCI_MSI_FLAGS, 2);
    const enabled = 1 << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4);
    if (v >= enabled) return 'no-such-vector';
    const maskOff = m.offset + (m.addr64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
    const pendOff = m.offset + (m.addr64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
    if (m.perVectorMask && this.config.read(maskOff, 4) & (1 << v)) {
      this.config.setBits(pendOff, 4, 1 << v, true);
      return 'pending';
    }
    const lo = BigInt(this.config.read(m.offset + PCI_MSI_ADDRESS_LO, 4));
    const hi = m.addr64 ? BigInt(this.config.read(m.offset + PCI_MSI_ADDRESS_HI, 4)) : 0n;
    const data = this.config.read(m.offset + (m.addr64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2);
    // Multiple messages: the function modifies the low bits of the data by the vector number.
    return this.sendMessage('msi', v, (hi << 32n) | lo, (data & ~(enabled - 1)) | v);
  }

  private msixEntry(v: number): { addr: bigint; data: number; masked: boolean } {
    const dv = new DataView(this.msixTable.buffer, v * PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_SIZE);
    return {
      addr: (BigInt(dv.getUint32(4, true)) << 32n) | BigInt(dv.getUint32(0, true)),
      data: dv.getUint32(8, true),
      masked: !!(dv.getUint32(PCI_MSIX_ENTRY_VECTOR_CTRL, true) & PCI_MSIX_ENTRY_CTRL_MASKBIT),
    };
  }

  private msixNotify(v: number): MessageOutcome {
    if (v >= this.msix!.tableSize) return 'no-such-vector';
    const maskAll = !!(this.config.read(this.msix!.offset + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_MASKALL);
    const e = this.msixEntry(v);
    if (maskAll || e.masked) {
      this.msixPba[v >> 3] = this.msixPba[v >> 3]! | (1 << (v & 7));
      return 'pending';
    }
    return this.sendMessage('msix', v, e.addr, e.data);
  }

  /** The MSI-X control register also runs the function-mask logic (msix_write_config). */
  private withMsixControlHook(c: CapDef): CapDef {
    // Object.assign, not `{ ...c, regs }` (see setup).
    return Object.assign({}, c, {
      regs: c.regs.map((r) =>
        r.off !== PCI_MSIX_FLAGS
          ? r
          : Object.assign({}, r, {
              onWrite: (value: number, old: number) => {
                r.onWrite?.(value, old);
                this.msixControlWritten(value, old);
              },
            }),
      ),
    });
  }

  /**
   * msix_handle_mask_update() for every vector when the function mask comes off (or MSI-X
   * is enabled unmasked): a vector with its pending bit set and its entry unmasked is sent.
   */
  private msixControlWritten(value: number, old: number): void {
    const masked = (v: number) => !(v & PCI_MSIX_FLAGS_ENABLE) || !!(v & PCI_MSIX_FLAGS_MASKALL);
    if (!masked(old) || masked(value)) return;
    for (let v = 0; v < (this.msix?.tableSize ?? 0); v++) {
      if (this.msixEntry(v).masked || !(this.msixPba[v >> 3]! & (1 << (v & 7)))) continue;
      this.msixPba[v >> 3] = this.msixPba[v >> 3]! & ~(1 << (v & 7));
      this.msixNotify(v);
    }
  }

  /** After reset every MSI-X entry is masked (vector control bit 0 = 1) and nothing is pending. */
  private resetMsixTable(): void {
    this.msixTable.fill(0);
    this.msixPba.fill(0);
    for (let v = 0; v < (this.msix?.tableSize ?? 0); v++) this.msixTable[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
  }

  /** The MSI-X table window (QEMU msix_table_mmio_ops: 4- and 8-byte accesses, 4-byte callbacks). */
  protected msixTableOps(): MmioOps {
    return {
      read: (off) => BigInt(new DataView(this.msixTable.buffer).getUint32(Number(off) & ~3, true)),
      write: (off, _size, value) => {
        const at = Number(off) & ~3;
        const v = at >> 4;
        const wasMasked = this.msixEntry(v).masked;
        new DataView(this.msixTable.buffer).setUint32(at, Number(value & 0xffff_ffffn), true);
        // Unmasking a vector with its pending bit set delivers it (msix_handle_mask_update).
        if (wasMasked && !this.msixEntry(v).masked && this.msixPba[v >> 3]! & (1 << (v & 7))) {
          this.msixPba[v >> 3] = this.msixPba[v >> 3]! & ~(1 << (v & 7));
          this.msixNotify(v);
        }
      },
      valid: { min: 4, max: 8 },
      impl: { max: 4 },
    };
  }

  /** The PBA window (QEMU msix_pba_mmio_ops): read-only. */
  protected msixPbaOps(): MmioOps {
    return {
      read: (off) => {
        const at = Number(off) & ~3;
        let v = 0;
        for (let i = 3; i >= 0; i--) v = v * 256 + (this.msixPba[at + i] ?? 0);
        return BigInt(v);
      },
      write: () => {},
      valid: { min: 4, max: 8 },
      impl: { max: 4 },
    };
  }

  /** The MSI-X table in bytes, as the function holds it (for tests and the interrupt core). */
  msixTableBytes(): Uint8Array {
    return this.msixTable;
  }

  // ---- resets ---------------------------------------------------------------------------

  get resetMethods(): ResetMethod[] {
    const m: ResetMethod[] = [];
    if (this.pcieCap !== undefined && this.config.read(this.pcieCap + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR) m.push('flr');
    if (this.pmCap !== undefined && !(this.config.read(this.pmCap + PCI_PM_CTRL, 2) & PCI_PM_CTRL_NO_SOFT_RESET)) m.push('pm');
    return m;
  }

  /** Behaviour of DEVCTL: Initiate FLR resets the function (and reads back as 0). */
  protected onDevctlWrite(value: number): void {
    if (!(value & PCI_EXP_DEVCTL_BCR_FLR)) return;
    if (!(this.config.read(this.pcieCap! + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR)) {
      this.config.setBits(this.pcieCap! + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR, false);
      return;
    }
    this.resets.flr++;
    this.functionReset();
  }

  /** Behaviour of PMCSR: a D3hot->D0 transition soft-resets functions that say so. */
  protected onPmcsrWrite(value: number, old: number): void {
    const from = old & PCI_PM_CTRL_STATE_MASK;
    const to = value & PCI_PM_CTRL_STATE_MASK;
    if (from === PM_D3HOT && to === 0 && !(value & PCI_PM_CTRL_NO_SOFT_RESET)) {
      this.resets.pm++;
      if (this.pmSoftReset) this.functionReset();
    }
  }

  busReset(): void {
    this.functionReset();
  }

  /** Everything back to power-on values: config space, MSI-X table, device registers. */
  protected functionReset(): void {
    this.config.reset();
    this.resetMsixTable();
    this.resetRegisters();
    this.intxLevel = false;
    this.sink?.intx(false);
  }

  /** Device-specific registers back to their reset values. */
  protected abstract resetRegisters(): void;

  /** The PCIe device/port type, or undefined for a conventional function. */
  pcieType(): number | undefined {
    return this.pcieCap === undefined ? undefined : (this.config.read(this.pcieCap + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_TYPE) >> 4;
  }
}


/** Little-endian register storage for simple register files (reads of unwritten words are 0). */
export class RegisterFile {
  private readonly words = new Map<number, number>();

  get(off: number): number {
    return this.words.get(off & ~3) ?? 0;
  }

  set(off: number, value: number): void {
    this.words.set(off & ~3, value >>> 0);
  }

  clear(): void {
    this.words.clear();
  }

  /**
   * A BAR of 32-bit registers over this file: reads return the stored word, writes go to
   * `write` (the model's side effects). Accesses of 4 or 8 bytes, split into dwords as QEMU's
   * impl.max = 4 does.
   */
  dwordOps(write: (off: number, value: number) => void): MmioOps {
    return {
      read: (off) => BigInt(this.get(Number(off))),
      write: (off, _size, value) => write(Number(off), Number(value & 0xffff_ffffn)),
      valid: { min: 4, max: 8 },
      impl: { min: 4, max: 4 },
    };
  }
}

export type { Width };
