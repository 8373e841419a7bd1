// A PCI function's configuration space, declared as data (QEMU device-model style).
//
// A device declares its type 0 header, its capability list and its extended capabilities as
// tables of registers: where each register sits, its value after reset, which bits software
// may write (wmask) or clear by writing 1 (w1c), and the behaviour that runs after a write
// (`onWrite`, beside the register it belongs to). `buildConfigSpace` lays the tables out,
// links the capability chains and produces a `PciConfigSpace` with the access semantics of
// real hardware: byte/word/dword accesses, little-endian, masked writes, W1C bits, reads of
// unimplemented registers as 0 and reads past the end of the space as all ones.
//
// The capability builders (`pmCap`, `msiCap`, `msixCap`, `pcieCap`, `aerExtCap`, `dsnExtCap`,
// `ariExtCap`, `sriovExtCap`) fill in the architected layout of each structure; a device
// passes its own values and hooks.

import { hex } from '../../lib/hex.js';
import { zeroedBytes } from '../../lib/slab.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_IO_MASK,
  PCI_BASE_ADDRESS_MEM_MASK,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_BIST,
  PCI_CACHE_LINE_SIZE,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_SIZE,
  PCI_CLASS_PROG,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_COMMAND_SERR,
  PCI_DEVICE_ID,
  PCI_ERR_CAP,
  PCI_ERR_CAP_ECRC_CHKE,
  PCI_ERR_CAP_ECRC_GENE,
  PCI_ERR_COR_MASK,
  PCI_ERR_COR_STATUS,
  PCI_ERR_SIZEOF,
  PCI_ERR_UNCOR_MASK,
  PCI_ERR_UNCOR_SEVER,
  PCI_ERR_UNCOR_STATUS,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP2,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL2,
  PCI_EXP_DEVSTA,
  PCI_EXP_FLAGS,
  PCI_EXP_LNKCAP,
  PCI_EXP_LNKCAP2,
  PCI_EXP_LNKCTL,
  PCI_EXP_LNKCTL2,
  PCI_EXP_LNKSTA,
  PCI_EXP_LNKSTA2,
  PCI_EXP_DEVSTA2,
  PCI_EXT_CAP_ID_ARI,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_MFD,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_LATENCY_TIMER,
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
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_PBA,
  PCI_MSIX_TABLE,
  PCI_PM_CTRL,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_PM_SIZEOF,
  PCI_REVISION_ID,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
  PCI_SRIOV_BAR,
  PCI_SRIOV_CAP,
  PCI_SRIOV_CTRL,
  PCI_SRIOV_FUNC_LINK,
  PCI_SRIOV_INITIAL_VF,
  PCI_SRIOV_NUM_VF,
  PCI_SRIOV_STATUS,
  PCI_SRIOV_SUP_PGSIZE,
  PCI_SRIOV_SYS_PGSIZE,
  PCI_SRIOV_TOTAL_VF,
  PCI_SRIOV_VF_DID,
  PCI_SRIOV_VF_OFFSET,
  PCI_SRIOV_VF_STRIDE,
  PCI_SRIOV_VFM,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
  PCI_EXT_CAP_SRIOV_SIZEOF,
  PCI_ARI_CAP,
  PCI_ARI_CTRL,
  PCI_EXT_CAP_ARI_SIZEOF,
  PCI_EXT_CAP_DSN_SIZEOF,
  extCapHeader,
} from './regs.js';

export type Width = 1 | 2 | 4;

/** One register: its place, its reset value, and what software may do to it. */
export interface RegDef {
  name: string;
  /** Offset from the start of the block the table describes (header: 0; a capability: its start). */
  off: number;
  width: Width;
  /** Value after reset. */
  reset: number;
  /** Read/write bits (default: none, the register is read-only). */
  wmask?: number;
  /** Write-1-to-clear bits. */
  w1c?: number;
  /** Runs after a write that touched the register, with its new and old value. */
  onWrite?: (value: number, old: number) => void;
}

/** A capability in the conventional list: the builder writes its ID and next pointer. */
export interface CapDef {
  id: number;
  name: string;
  off: number;
  /** Bytes the structure occupies (used for overlap checks and by software that sizes it). */
  length: number;
  /** Registers after the ID/next bytes, offsets relative to `off`. */
  regs: RegDef[];
}

/** An extended capability (PCIe, at 0x100 and above): the builder writes its header dword. */
export interface ExtCapDef {
  id: number;
  version: number;
  name: string;
  off: number;
  length: number;
  /** Registers after the header dword, offsets relative to `off`. */
  regs: RegDef[];
}

export interface ConfigSpaceSpec {
  /** 256 for conventional PCI, 4096 for PCI Express. */
  size: 256 | 4096;
  header: RegDef[];
  /** In chain order (the order software walks them). */
  caps?: CapDef[];
  extCaps?: ExtCapDef[];
  /**
   * Bytes past the header that no register or capability claims are read/write scratch
   * (QEMU's pci_init_wmask makes them so; real hardware usually reads them as 0).
   */
  unclaimedWritable?: boolean;
}

export interface PlacedCap {
  id: number;
  name: string;
  off: number;
  length: number;
}

interface Hook {
  off: number;
  width: Width;
  fn: (value: number, old: number) => void;
}

const mask = (w: Width): number => (w === 4 ? 0xffffffff : (1 << (w * 8)) - 1);

/** The configuration space of one function. */
export class PciConfigSpace {
  readonly bytes: Uint8Array;
  readonly wmask: Uint8Array;
  readonly w1cmask: Uint8Array;
  private readonly resetImage: Uint8Array;
  private readonly hooks: Hook[];
  readonly caps: readonly PlacedCap[];
  readonly extCaps: readonly PlacedCap[];

  /**
   * `bytes` is the function's own (live) plane; the reset image and the masks are what
   * buildConfigSpace laid out, and only read from here on, so functions of one layout may
   * share them (see layoutScope).
   */
  constructor(
    readonly size: number,
    bytes: Uint8Array,
    resetImage: Uint8Array,
    wmask: Uint8Array,
    w1cmask: Uint8Array,
    hooks: Hook[],
    caps: readonly PlacedCap[],
    extCaps: readonly PlacedCap[],
  ) {
    this.bytes = bytes;
    this.resetImage = resetImage;
    this.wmask = wmask;
    this.w1cmask = w1cmask;
    this.hooks = hooks;
    this.caps = caps;
    this.extCaps = extCaps;
  }

  /** A configuration read of 1, 2 or 4 bytes. Past the end of the space: all ones. */
  read(off: number, width: Width): number {
    if (off < 0 || off + width > this.size) return mask(width);
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + this.bytes[off + i]!;
    return v;
  }

  /**
   * A configuration write: each byte keeps its read-only bits, takes the written value in its
   * writable bits, and clears the W1C bits written as 1. Then the behaviour of every register
   * the write touched runs, in address order. Writes past the end of the space are dropped.
   */
  write(off: number, width: Width, value: number): void {
    if (off < 0 || off + width > this.size) return;
    let touched: Hook[] | undefined;
    let olds: number[] | undefined;
    for (const h of this.hooks) {
      if (h.off < off + width && off < h.off + h.width) {
        (touched ??= []).push(h);
        (olds ??= []).push(this.read(h.off, h.width));
      }
    }
    let v = value >>> 0;
    for (let i = 0; i < width; i++, v = Math.floor(v / 256)) {
      const b = v & 0xff;
      const a = off + i;
      const wm = this.wmask[a]!;
      this.bytes[a] = ((this.bytes[a]! & ~wm) | (b & wm)) & ~(b & this.w1cmask[a]!) & 0xff;
    }
    if (touched) for (let i = 0; i < touched.length; i++) touched[i]!.fn(this.read(touched[i]!.off, touched[i]!.width), olds![i]!);
  }

  /** Device-internal update of a register (status bits, pending bits): no masks, no hooks. */
  set(off: number, width: Width, value: number): void {
    let v = value >>> 0;
    for (let i = 0; i < width; i++, v = Math.floor(v / 256)) this.bytes[off + i] = v & 0xff;
  }

  /** Sets or clears bits of a register, device-internally. */
  setBits(off: number, width: Width, bits: number, on: boolean): void {
    const cur = this.read(off, width);
    this.set(off, width, on ? (cur | bits) >>> 0 : (cur & ~bits) >>> 0);
  }

  /** Back to the values after power-on (a function-level or soft reset). */
  reset(): void {
    this.bytes.set(this.resetImage);
  }

  /** The offset of the first capability with `id` in the conventional list. */
  findCap(id: number): number | undefined {
    return this.caps.find((c) => c.id === id)?.off;
  }

  findExtCap(id: number): number | undefined {
    return this.extCaps.find((c) => c.id === id)?.off;
  }
}

/** What buildConfigSpace lays out from a spec, without the behaviour: only read once made. */
interface Layout {
  size: number;
  /** Three planes of `size` bytes: the reset image, the write mask, the W1C mask. */
  planes: Uint8Array;
  caps: readonly PlacedCap[];
  extCaps: readonly PlacedCap[];
}

/**
 * Layouts made under a scope (layoutScope), by its key and the order of the build within it.
 * A key stands for one way of building a function (a shipped preset's device row: the model,
 * its BDF and its parameters), which lays out the same config space every time.
 */
const layouts = new WeakMap<object, Layout[]>();
let scope: { key: object; n: number } | undefined;

/**
 * Runs `build` (the constructor of a function) so that the config spaces it lays out are laid
 * out once per `key` and shared afterwards: their reset images and masks, never their live
 * bytes, which each function copies from the reset image. Only for builds that lay out the
 * same tables whenever they run with the same key (test/hw/layout-cache.test.ts checks the
 * shipped presets' devices); the register hooks are the new function's own every time.
 */
export function layoutScope<T>(key: object, build: () => T): T {
  const outer = scope;
  scope = { key, n: 0 };
  try {
    return build();
  } finally {
    scope = outer;
  }
}

/** The onWrite hooks of a spec's tables, in the order buildConfigSpace places them. */
function hooksOf(spec: ConfigSpaceSpec): Hook[] {
  const hooks: Hook[] = [];
  const add = (base: number, regs: RegDef[]): void => {
    for (const r of regs) if (r.onWrite) hooks.push({ off: base + r.off, width: r.width, fn: r.onWrite });
  };
  add(0, spec.header);
  for (const c of spec.caps ?? []) add(c.off, c.regs);
  for (const c of spec.extCaps ?? []) add(c.off, c.regs);
  return hooks;
}

/** Lays the tables out into a config space (the device's state right after reset). */
export function buildConfigSpace(spec: ConfigSpaceSpec): PciConfigSpace {
  let layout: Layout | undefined;
  if (scope) {
    const made = layouts.get(scope.key) ?? [];
    layouts.set(scope.key, made);
    layout = made[scope.n] ??= layOut(spec);
    scope.n++;
  } else {
    layout = layOut(spec);
  }
  const size = layout.size;
  const bytes = zeroedBytes(size);
  const resetImage = layout.planes.subarray(0, size);
  bytes.set(resetImage);
  return new PciConfigSpace(size, bytes, resetImage, layout.planes.subarray(size, 2 * size), layout.planes.subarray(2 * size, 3 * size), hooksOf(spec), layout.caps, layout.extCaps);
}

/** buildConfigSpace's scratch (who owns each byte), reused: it never outlives a call. */
const OWNER = new Uint16Array(4096);

/** The layout of a spec's tables: reset image, masks, capability lists. */
function layOut(spec: ConfigSpaceSpec): Layout {
  const size = spec.size;
  const planes = zeroedBytes(3 * size);
  const image = planes.subarray(0, size);
  const wmask = planes.subarray(size, 2 * size);
  const w1cmask = planes.subarray(2 * size, 3 * size);
  // Who owns each byte, as an index into `blocks` and `names` (0: nobody): numbers, so that
  // laying out a 4 KiB space costs a pass over typed arrays; the names are only spelt out for
  // an error. Two lists of strings rather than one of pairs: no array per register at boot.
  const owner = size <= OWNER.length ? OWNER.fill(0, 0, size) : new Uint16Array(size);
  const blocks = [''];
  const names = [''];
  const who = (i: number): string => `${blocks[i]!}.${names[i]!}`;

  const claim = (at: number, len: number, block: string, name: string): void => {
    blocks.push(block);
    const me = names.push(name) - 1;
    if (at < 0 || at + len > size) throw new Error(`config space: ${who(me)} at ${hex(at)} runs past ${size} bytes`);
    for (let i = at; i < at + len; i++) {
      const o = owner[i]!;
      if (o && who(o) !== who(me)) throw new Error(`config space: ${who(me)} overlaps ${who(o)} at ${hex(i)}`);
      owner[i] = me;
    }
  };
  const put = (arr: Uint8Array, at: number, width: Width, value: number): void => {
    let v = value >>> 0;
    for (let i = 0; i < width; i++, v = Math.floor(v / 256)) arr[at + i] = v & 0xff;
  };
  const place = (base: number, regs: RegDef[], block: string): void => {
    for (const r of regs) {
      const at = base + r.off;
      claim(at, r.width, block, r.name);
      put(image, at, r.width, r.reset);
      put(wmask, at, r.width, r.wmask ?? 0);
      put(w1cmask, at, r.width, r.w1c ?? 0);
    }
  };

  if (spec.unclaimedWritable) {
    // Bytes past the header start writable; a capability owns its whole length, so the bytes
    // of one that no register names are read-only zero; every register then writes its own
    // mask over these.
    wmask.fill(0xff, 0x40, size);
    for (const c of spec.caps ?? []) wmask.fill(0, c.off, c.off + c.length);
    for (const c of spec.extCaps ?? []) wmask.fill(0, c.off, c.off + c.length);
  }
  place(0, spec.header, 'header');

  const caps = spec.caps ?? [];
  const placed: PlacedCap[] = [];
  for (let i = 0; i < caps.length; i++) {
    const c = caps[i]!;
    if (c.off < 0x40 || c.off > 0xfc || c.off & 3) throw new Error(`config space: ${c.name} at bad offset ${hex(c.off)}`);
    claim(c.off, 2, c.name, 'header');
    image[c.off] = c.id;
    image[c.off + 1] = caps[i + 1]?.off ?? 0;
    place(c.off, c.regs, c.name);
    placed.push({ id: c.id, name: c.name, off: c.off, length: c.length });
  }
  if (caps.length) {
    image[PCI_CAPABILITY_LIST] = caps[0]!.off;
    image[PCI_STATUS] = image[PCI_STATUS]! | PCI_STATUS_CAP_LIST;
  }

  const ext = spec.extCaps ?? [];
  const placedExt: PlacedCap[] = [];
  if (ext.length && size < 0x1000) throw new Error('config space: extended capabilities need a 4 KiB space');
  for (let i = 0; i < ext.length; i++) {
    const c = ext[i]!;
    if (c.off < PCI_CFG_SPACE_SIZE || c.off & 3) throw new Error(`config space: ${c.name} at bad offset ${hex(c.off)}`);
    if (i === 0 && c.off !== PCI_CFG_SPACE_SIZE) throw new Error('config space: the extended list must start at 0x100');
    claim(c.off, 4, c.name, 'header');
    put(image, c.off, 4, extCapHeader(c.id, c.version, ext[i + 1]?.off ?? 0));
    place(c.off, c.regs, c.name);
    placedExt.push({ id: c.id, name: c.name, off: c.off, length: c.length });
  }

  return { size, planes, caps: placed, extCaps: placedExt };
}

// ---- the type 0 header ----------------------------------------------------------------------

export type BarKind = 'mem32' | 'mem64' | 'io';

export interface HeaderBar {
  index: number;
  size: bigint;
  kind: BarKind;
  prefetchable: boolean;
}

export interface Type0HeaderSpec {
  vendorId: number;
  deviceId: number;
  revision: number;
  /** Base class, sub-class and programming interface, as 0xBBSSPP. */
  classCode: number;
  subsystemVendorId: number;
  subsystemId: number;
  /** 1 = INTA# ... 4 = INTD#, 0 = none. */
  interruptPin: number;
  bars: readonly HeaderBar[];
  /** ROM BAR size in bytes (a power of two >= 2 KiB), or 0 for none. */
  romSize: bigint;
  /** Status bits set after reset besides CAP_LIST (which the builder sets). */
  status?: number;
  /** A function of a multi-function device (header type bit 7, PCI_HEADER_TYPE_MFD). */
  multiFunction?: boolean;
  /** Command-register bits software may set (default, as QEMU's pci_init_wmask: I/O, memory, bus master, SERR#, INTx disable). */
  commandWmask?: number;
  onCommandWrite?: (value: number, old: number) => void;
  onRomWrite?: (value: number, old: number) => void;
}

/**
 * The type 0 header registers. BARs are sized by their write masks (software writes all ones
 * and reads back the size mask), as hardware does; a 64-bit BAR takes the next slot for its
 * upper half.
 */
export function type0Header(h: Type0HeaderSpec): RegDef[] {
  const regs: RegDef[] = [
    { name: 'vendor', off: PCI_VENDOR_ID, width: 2, reset: h.vendorId },
    { name: 'device', off: PCI_DEVICE_ID, width: 2, reset: h.deviceId },
    {
      name: 'command',
      off: PCI_COMMAND,
      width: 2,
      reset: 0,
      wmask:
        h.commandWmask ?? PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
      onWrite: h.onCommandWrite,
    },
    { name: 'status', off: PCI_STATUS, width: 2, reset: h.status ?? 0, w1c: 0xf900 },
    { name: 'revision', off: PCI_REVISION_ID, width: 1, reset: h.revision },
    { name: 'class', off: PCI_CLASS_PROG, width: 1, reset: h.classCode & 0xff },
    { name: 'class_device', off: PCI_CLASS_PROG + 1, width: 2, reset: (h.classCode >>> 8) & 0xffff },
    { name: 'cache_line', off: PCI_CACHE_LINE_SIZE, width: 1, reset: 0, wmask: 0xff },
    { name: 'latency', off: PCI_LATENCY_TIMER, width: 1, reset: 0 },
    { name: 'header_type', off: PCI_HEADER_TYPE, width: 1, reset: h.multiFunction ? PCI_HEADER_TYPE_MFD : 0 },
    { name: 'bist', off: PCI_BIST, width: 1, reset: 0 },
    { name: 'subsys_vendor', off: PCI_SUBSYSTEM_VENDOR_ID, width: 2, reset: h.subsystemVendorId },
    { name: 'subsys', off: PCI_SUBSYSTEM_ID, width: 2, reset: h.subsystemId },
    { name: 'cap_ptr', off: PCI_CAPABILITY_LIST, width: 1, reset: 0 },
    { name: 'int_line', off: PCI_INTERRUPT_LINE, width: 1, reset: 0, wmask: 0xff },
    { name: 'int_pin', off: PCI_INTERRUPT_PIN, width: 1, reset: h.interruptPin },
  ];
  for (const b of h.bars) {
    const off = PCI_BASE_ADDRESS_0 + 4 * b.index;
    if (b.kind === 'io') {
      regs.push({ name: `bar${b.index}`, off, width: 4, reset: PCI_BASE_ADDRESS_SPACE_IO, wmask: Number(~(b.size - 1n) & BigInt(PCI_BASE_ADDRESS_IO_MASK)) });
      continue;
    }
    const flags = (b.kind === 'mem64' ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (b.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
    const m = ~(b.size - 1n) & 0xffff_ffff_ffff_ffffn;
    regs.push({ name: `bar${b.index}`, off, width: 4, reset: flags, wmask: Number(m & BigInt(PCI_BASE_ADDRESS_MEM_MASK)) });
    if (b.kind === 'mem64') regs.push({ name: `bar${b.index}_hi`, off: off + 4, width: 4, reset: 0, wmask: Number(m >> 32n) });
  }
  if (h.romSize > 0n) {
    regs.push({
      name: 'rom',
      off: PCI_ROM_ADDRESS,
      width: 4,
      reset: 0,
      wmask: (Number(~(h.romSize - 1n) & 0xffff_ffffn) & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE,
      onWrite: h.onRomWrite,
    });
  }
  // Unimplemented BAR slots, the CardBus pointer and MIN_GNT/MAX_LAT read as zero.
  return regs;
}

// ---- capabilities ---------------------------------------------------------------------------

export interface PmCapSpec {
  off: number;
  /** The PMC register (version, D1/D2 support, PME support). */
  pmc: number;
  /** PMCSR bits after reset (NoSoftRst is bit 3). */
  pmcsr: number;
  pmcsrWmask: number;
  pmcsrW1c?: number;
  onPmcsrWrite?: (value: number, old: number) => void;
}

export function pmCap(s: PmCapSpec): CapDef {
  return {
    id: PCI_CAP_ID_PM,
    name: 'pm',
    off: s.off,
    length: PCI_PM_SIZEOF,
    regs: [
      { name: 'pmc', off: PCI_PM_PMC, width: 2, reset: s.pmc },
      { name: 'pmcsr', off: PCI_PM_CTRL, width: 2, reset: s.pmcsr, wmask: s.pmcsrWmask, w1c: s.pmcsrW1c, onWrite: s.onPmcsrWrite },
      { name: 'bse', off: 6, width: 1, reset: 0 },
      { name: 'data', off: 7, width: 1, reset: 0 },
    ],
  };
}

export interface MsiCapSpec {
  off: number;
  /** Multiple Message Capable: 1, 2, 4, 8, 16 or 32. */
  vectors: number;
  addr64: boolean;
  perVectorMask: boolean;
  onFlagsWrite?: (value: number, old: number) => void;
}

/** Bytes of an MSI capability with these features (10, 14, 20 or 24). */
export function msiCapLength(addr64: boolean, perVectorMask: boolean): number {
  return 10 + (addr64 ? 4 : 0) + (perVectorMask ? 10 : 0);
}

export function msiCap(s: MsiCapSpec): CapDef {
  const mmc = Math.log2(s.vectors);
  if (!Number.isInteger(mmc) || mmc < 0 || mmc > 5) throw new Error(`MSI: ${s.vectors} vectors is not a power of two up to 32`);
  const flags = (mmc << 1) | (s.addr64 ? PCI_MSI_FLAGS_64BIT : 0) | (s.perVectorMask ? PCI_MSI_FLAGS_MASKBIT : 0);
  const regs: RegDef[] = [
    { name: 'flags', off: PCI_MSI_FLAGS, width: 2, reset: flags, wmask: PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, onWrite: s.onFlagsWrite },
    { name: 'address_lo', off: PCI_MSI_ADDRESS_LO, width: 4, reset: 0, wmask: 0xfffffffc },
  ];
  const vecMask = s.vectors === 32 ? 0xffffffff : (1 << s.vectors) - 1;
  if (s.addr64) {
    regs.push({ name: 'address_hi', off: PCI_MSI_ADDRESS_HI, width: 4, reset: 0, wmask: 0xffffffff });
    regs.push({ name: 'data', off: PCI_MSI_DATA_64, width: 2, reset: 0, wmask: 0xffff });
    if (s.perVectorMask) {
      regs.push({ name: 'mask', off: PCI_MSI_MASK_64, width: 4, reset: 0, wmask: vecMask });
      regs.push({ name: 'pending', off: PCI_MSI_PENDING_64, width: 4, reset: 0 });
    }
  } else {
    regs.push({ name: 'data', off: PCI_MSI_DATA_32, width: 2, reset: 0, wmask: 0xffff });
    if (s.perVectorMask) {
      regs.push({ name: 'mask', off: PCI_MSI_MASK_32, width: 4, reset: 0, wmask: vecMask });
      regs.push({ name: 'pending', off: PCI_MSI_PENDING_32, width: 4, reset: 0 });
    }
  }
  return { id: PCI_CAP_ID_MSI, name: 'msi', off: s.off, length: msiCapLength(s.addr64, s.perVectorMask), regs };
}

export interface MsixCapSpec {
  off: number;
  tableSize: number;
  tableBar: number;
  tableOffset: number;
  pbaBar: number;
  pbaOffset: number;
  onControlWrite?: (value: number, old: number) => void;
}

export function msixCap(s: MsixCapSpec): CapDef {
  return {
    id: PCI_CAP_ID_MSIX,
    name: 'msix',
    off: s.off,
    length: 12,
    regs: [
      {
        name: 'control',
        off: PCI_MSIX_FLAGS,
        width: 2,
        reset: s.tableSize - 1,
        wmask: PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
        onWrite: s.onControlWrite,
      },
      { name: 'table', off: PCI_MSIX_TABLE, width: 4, reset: (s.tableOffset | s.tableBar) >>> 0 },
      { name: 'pba', off: PCI_MSIX_PBA, width: 4, reset: (s.pbaOffset | s.pbaBar) >>> 0 },
    ],
  };
}

export interface PcieCapSpec {
  off: number;
  /** Capability version: 1 (20-byte endpoint structure) or 2 (the full structure). */
  version: 1 | 2;
  /** Device/port type (PCI_EXP_TYPE_*). */
  type: number;
  devcap: number;
  devctl?: number;
  devctlWmask: number;
  lnkcap: number;
  lnkctl?: number;
  lnkctlWmask?: number;
  lnksta: number;
  devcap2?: number;
  devctl2Wmask?: number;
  lnkcap2?: number;
  lnksta2?: number;
  onDevctlWrite?: (value: number, old: number) => void;
}

export function pcieCap(s: PcieCapSpec): CapDef {
  const regs: RegDef[] = [
    { name: 'flags', off: PCI_EXP_FLAGS, width: 2, reset: ((s.type & 0xf) << 4) | s.version },
    { name: 'devcap', off: PCI_EXP_DEVCAP, width: 4, reset: s.devcap },
    { name: 'devctl', off: PCI_EXP_DEVCTL, width: 2, reset: s.devctl ?? 0, wmask: s.devctlWmask, onWrite: s.onDevctlWrite },
    { name: 'devsta', off: PCI_EXP_DEVSTA, width: 2, reset: 0, w1c: 0x000f },
    { name: 'lnkcap', off: PCI_EXP_LNKCAP, width: 4, reset: s.lnkcap },
    { name: 'lnkctl', off: PCI_EXP_LNKCTL, width: 2, reset: s.lnkctl ?? 0, wmask: s.lnkctlWmask ?? 0 },
    { name: 'lnksta', off: PCI_EXP_LNKSTA, width: 2, reset: s.lnksta },
  ];
  if (s.version === 2) {
    regs.push(
      { name: 'devcap2', off: PCI_EXP_DEVCAP2, width: 4, reset: s.devcap2 ?? 0 },
      { name: 'devctl2', off: PCI_EXP_DEVCTL2, width: 2, reset: 0, wmask: s.devctl2Wmask ?? 0 },
      { name: 'devsta2', off: PCI_EXP_DEVSTA2, width: 2, reset: 0 },
      { name: 'lnkcap2', off: PCI_EXP_LNKCAP2, width: 4, reset: s.lnkcap2 ?? 0 },
      { name: 'lnkctl2', off: PCI_EXP_LNKCTL2, width: 2, reset: 0, wmask: 0 },
      { name: 'lnksta2', off: PCI_EXP_LNKSTA2, width: 2, reset: s.lnksta2 ?? 0 },
    );
  }
  return { id: PCI_CAP_ID_EXP, name: 'pcie', off: s.off, length: s.version === 1 ? 20 : 60, regs };
}

// ---- extended capabilities ------------------------------------------------------------------

export interface AerExtCapSpec {
  off: number;
  version: 1 | 2;
  uncorSeverity: number;
  corMask: number;
  cap: number;
  /** The uncorrectable error bits the function implements (status W1C, severity RW); default 0x03fff031. */
  uncorSupported?: number;
  /**
   * Whether UNCOR_MASK is writable (default yes). QEMU before 8.0 left it read-only 0
   * (pcie_aer_init(); 8.0's "hw/pci/aer: Implement PCI_ERR_UNCOR_MASK register", then kept
   * read-only for machine types < 8.0).
   */
  uncorMaskWritable?: boolean;
}

export function aerExtCap(s: AerExtCapSpec): ExtCapDef {
  const unc = s.uncorSupported ?? 0x03fff031;
  return {
    id: PCI_EXT_CAP_ID_ERR,
    version: s.version,
    name: 'aer',
    off: s.off,
    length: PCI_ERR_SIZEOF,
    regs: [
      { name: 'uncor_status', off: PCI_ERR_UNCOR_STATUS, width: 4, reset: 0, w1c: unc },
      { name: 'uncor_mask', off: PCI_ERR_UNCOR_MASK, width: 4, reset: 0, wmask: s.uncorMaskWritable === false ? 0 : unc },
      { name: 'uncor_sever', off: PCI_ERR_UNCOR_SEVER, width: 4, reset: s.uncorSeverity, wmask: unc },
      { name: 'cor_status', off: PCI_ERR_COR_STATUS, width: 4, reset: 0, w1c: 0x0000f1c1 },
      { name: 'cor_mask', off: PCI_ERR_COR_MASK, width: 4, reset: s.corMask, wmask: 0x0000f1c1 },
      { name: 'cap', off: PCI_ERR_CAP, width: 4, reset: s.cap, wmask: PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE },
    ],
  };
}

/** Device serial number: 64 bits after the header. */
export function dsnExtCap(off: number, serial: bigint): ExtCapDef {
  return {
    id: PCI_EXT_CAP_ID_DSN,
    version: 1,
    name: 'dsn',
    off,
    length: PCI_EXT_CAP_DSN_SIZEOF,
    regs: [
      { name: 'serial_lo', off: 4, width: 4, reset: Number(serial & 0xffff_ffffn) },
      { name: 'serial_hi', off: 8, width: 4, reset: Number((serial >> 32n) & 0xffff_ffffn) },
    ],
  };
}

/** Alternative Routing-ID Interpretation: the next function number in this device. */
export function ariExtCap(off: number, nextFunction: number): ExtCapDef {
  return {
    id: PCI_EXT_CAP_ID_ARI,
    version: 1,
    name: 'ari',
    off,
    length: PCI_EXT_CAP_ARI_SIZEOF,
    regs: [
      { name: 'cap', off: PCI_ARI_CAP, width: 2, reset: (nextFunction & 0xff) << 8 },
      { name: 'ctrl', off: PCI_ARI_CTRL, width: 2, reset: 0 },
    ],
  };
}

export interface SriovVfBar {
  /** VF BAR slot 0..5. */
  index: number;
  size: bigint;
  kind: 'mem32' | 'mem64';
  prefetchable: boolean;
}

export interface SriovExtCapSpec {
  off: number;
  initialVfs: number;
  totalVfs: number;
  vfOffset: number;
  vfStride: number;
  vfDeviceId: number;
  /** Supported page sizes (bit n = 4 KiB << n). */
  supportedPageSizes: number;
  vfBars: readonly SriovVfBar[];
  onControlWrite?: (value: number, old: number) => void;
}

/**
 * The SR-IOV capability (PCIe Base 4.0 §9.3.3). Only the registers: enabling VFs (creating
 * the functions) belongs to whoever handles `onControlWrite`.
 */
export function sriovExtCap(s: SriovExtCapSpec): ExtCapDef {
  const regs: RegDef[] = [
    { name: 'cap', off: PCI_SRIOV_CAP, width: 4, reset: 0 },
    { name: 'ctrl', off: PCI_SRIOV_CTRL, width: 2, reset: 0, wmask: 0x001f, onWrite: s.onControlWrite },
    { name: 'status', off: PCI_SRIOV_STATUS, width: 2, reset: 0 },
    { name: 'initial_vf', off: PCI_SRIOV_INITIAL_VF, width: 2, reset: s.initialVfs },
    { name: 'total_vf', off: PCI_SRIOV_TOTAL_VF, width: 2, reset: s.totalVfs },
    { name: 'num_vf', off: PCI_SRIOV_NUM_VF, width: 2, reset: 0, wmask: 0xffff },
    { name: 'func_link', off: PCI_SRIOV_FUNC_LINK, width: 1, reset: 0 },
    { name: 'vf_offset', off: PCI_SRIOV_VF_OFFSET, width: 2, reset: s.vfOffset },
    { name: 'vf_stride', off: PCI_SRIOV_VF_STRIDE, width: 2, reset: s.vfStride },
    { name: 'vf_did', off: PCI_SRIOV_VF_DID, width: 2, reset: s.vfDeviceId },
    { name: 'sup_pgsize', off: PCI_SRIOV_SUP_PGSIZE, width: 4, reset: s.supportedPageSizes },
    { name: 'sys_pgsize', off: PCI_SRIOV_SYS_PGSIZE, width: 4, reset: 1, wmask: s.supportedPageSizes },
    { name: 'vfm', off: PCI_SRIOV_VFM, width: 4, reset: 0 },
  ];
  for (const b of s.vfBars) {
    const off = PCI_SRIOV_BAR + 4 * b.index;
    const m = ~(b.size - 1n) & 0xffff_ffff_ffff_ffffn;
    const flags = (b.kind === 'mem64' ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (b.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
    regs.push({ name: `vf_bar${b.index}`, off, width: 4, reset: flags, wmask: Number(m & BigInt(PCI_BASE_ADDRESS_MEM_MASK)) });
    if (b.kind === 'mem64') regs.push({ name: `vf_bar${b.index}_hi`, off: off + 4, width: 4, reset: 0, wmask: Number(m >> 32n) });
  }
  return { id: PCI_EXT_CAP_ID_SRIOV, version: 1, name: 'sriov', off: s.off, length: PCI_EXT_CAP_SRIOV_SIZEOF, regs };
}

/** PM control bits a typical function lets software write (state, PME enable, data select). */
export const PMCSR_WMASK_DEFAULT = PCI_PM_CTRL_STATE_MASK | 0x0100 | 0x1e00;
