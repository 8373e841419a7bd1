// struct vfio_pci_core_device (include/linux/vfio_pci_core.h) and the power-state helpers
// of vfio_pci_core.c that every part of vfio-pci uses. As in the kernel, the device state is
// one struct declared below the files that act on it: config.ts (vfio_pci_config.c),
// intrs.ts (vfio_pci_intrs.c), rdwr.ts (vfio_pci_rdwr.c), the ioctls, and vfio-pci.ts on top,
// which wires them into the vfio_device_ops the VFIO core calls. The shared types here are
// the kernel's vfio_pci_priv.h: the irq context, the ioeventfd, the config-space state and
// its permission bits.

import type { PciDeviceModel } from '../../hw/pci/device.js';
import { PCI_INTERRUPT_LINE, PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET, PCI_STD_NUM_BARS } from '../../hw/pci/regs.js';
import { flagBit } from '../../uapi/struct.js';
import { PCI_IRQ_INDEX } from '../../uapi/structs.js';
import type { Era } from '../era.js';
import type { EventFd } from '../eventfd.js';
import type { VfioDriverContext } from '../vfio/device-ops.js';
import { PCI_D0, PCI_D3HOT, PciDev, type PciTopology, type SavedState } from '../pci/pci.js';

// ---- interrupt indexes (include/uapi/linux/vfio.h) and vfio_pci_priv.h's is_*() ------------

const irqIndex = (name: string): number => Number(flagBit(PCI_IRQ_INDEX, name));
export const VFIO_PCI_INTX_IRQ_INDEX = irqIndex('INTX');
export const VFIO_PCI_MSI_IRQ_INDEX = irqIndex('MSI');
export const VFIO_PCI_MSIX_IRQ_INDEX = irqIndex('MSIX');
export const VFIO_PCI_ERR_IRQ_INDEX = irqIndex('ERR');
export const VFIO_PCI_REQ_IRQ_INDEX = irqIndex('REQ');
/** The enum's end: the number of indexes, and irq_type when no mode is enabled. */
export const VFIO_PCI_NUM_IRQS = PCI_IRQ_INDEX.bits.length;

export const isIntx = (vdev: VfioPciCoreDevice): boolean => vdev.irqType === VFIO_PCI_INTX_IRQ_INDEX;
export const isMsi = (vdev: VfioPciCoreDevice): boolean => vdev.irqType === VFIO_PCI_MSI_IRQ_INDEX;
export const isMsix = (vdev: VfioPciCoreDevice): boolean => vdev.irqType === VFIO_PCI_MSIX_IRQ_INDEX;
export const isIrqNone = (vdev: VfioPciCoreDevice): boolean => vdev.irqType === VFIO_PCI_NUM_IRQS;

/** struct vfio_pci_irq_ctx. */
export interface VfioPciIrqCtx {
  trigger: EventFd | null;
  masked: boolean;
  /** The unmask eventfd (virqfd) of INTx. */
  unmask: EventFd | null;
  /** The irqbypass token this vector registered (ctx->producer.token), if registration succeeded. */
  producer?: EventFd;
  /** The virqfd's wakeup registered on `unmask`. */
  unmaskWaiter?: () => void;
}

/** struct vfio_pci_ioeventfd: one entry of vdev->ioeventfds_list. */
export interface VfioPciIoeventfd {
  bar: number;
  pos: bigint;
  data: bigint;
  count: number;
  trigger: EventFd;
}

// ---- config-space state (vdev->vconfig, pci_config_map, msi_perm, rbar) --------------------

export type PermReadFn = (vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number) => number;
export type PermWriteFn = (vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number, val: number) => number;

/** struct perm_bits: one bit per config bit, plus the functions that use them. */
export interface PermBits {
  virt?: Uint8Array;
  write?: Uint8Array;
  readfn?: PermReadFn;
  writefn?: PermWriteFn;
}

/** Per-device state of the virtual config space (kept on the vfio device while it is open). */
export interface VfioConfigState {
  vconfig: Uint8Array;
  /** Capability ID owning each byte (pci_config_map). */
  map: Uint8Array;
  /** The MSI capability's table, sized for this device (vdev->msi_perm). */
  msiPerm?: PermBits;
  /** BARs and ROM as found at open, for vfio_bar_restore(). */
  rbar: number[];
  bardirty: boolean;
  extendedCaps: boolean;
}

// ---- the device ------------------------------------------------------------------------------

/** Options of the probe beyond the driver context. */
export interface VfioPciOptions {
  /**
   * Where the function sits, for bus resets and the hot-reset ioctls. Absent: on a root bus,
   * where neither a slot nor a bus reset exists (the QEMU machines of the traces).
   */
  topology?: PciTopology;
  /** vfio-pci's disable_idle_d3 module parameter (default N: idle functions go to D3hot). */
  disableIdleD3?: boolean;
  /**
   * pci_assign_irq() at probe: on platforms whose host bridge maps INTx itself (arm64 device
   * tree: `map_irq`), the PCI core writes the Linux IRQ number of INTx into
   * PCI_INTERRUPT_LINE every time a driver probes. x86 (ACPI) has no map_irq and leaves the
   * firmware's value. The traces' arm64 lines (edu 0x14, e1000e 0x15 on 6.1/GICv2 and 0x00 on
   * 6.12/GICv3) are such numbers (truncated to a byte).
   */
  intxIrq?: number;
}

/** struct vfio_pci_core_device: what vfio_pci_core_register_device() sets up at probe. */
export class VfioPciCoreDevice {
  readonly name: string;
  readonly pdev: PciDev;
  /** The era's switches (kept as `ex` for brevity at the many call sites). */
  readonly ex: Era;

  resetWorks = false;
  pci23 = false;
  nointx = false;
  virqDisabled = false;
  hasVga = false;
  hasDynMsix = false;
  needsReset = true;
  needsPmRestore = false;
  /** Device-specific regions (IGD, NVLink2...): none are modelled. */
  readonly numRegions = 0;
  barMmapSupported: boolean[] = new Array<boolean>(PCI_STD_NUM_BARS).fill(false);
  /** Regions requested for access or mmap (vdev->barmap). */
  barmap: boolean[] = new Array<boolean>(PCI_STD_NUM_BARS + 1).fill(false);
  /** Registered ioeventfds (vdev->ioeventfds_list). */
  readonly ioeventfds: VfioPciIoeventfd[] = [];
  msixBar = 0xff;
  msixOffset = 0;
  msixSize = 0;
  /** The virtual MSI Multiple Message Capable field (log2 vectors), set at MSI enable. */
  msiQmax = 0;
  cfg?: VfioConfigState;

  // Interrupts (vfio_pci_intrs.c's state).
  /** VFIO_PCI_NUM_IRQS when no mode is enabled. */
  irqType = VFIO_PCI_NUM_IRQS;
  /** vdev->ctx: the contexts by vector. */
  readonly irqCtx = new Map<number, VfioPciIrqCtx>();
  /** num_ctx (eras before 6.5): the size of the context array fixed at enable. */
  numCtx = 0;
  /** Vectors the interrupt core has allocated (pci_irq_vector() succeeds for these). */
  readonly irqAllocated = new Set<number>();
  errTrigger: EventFd | null = null;
  /** Low power entered through VFIO_DEVICE_FEATURE (vdev->pm_runtime_engaged, 6.0). */
  pmRuntimeEngaged = false;
  /** LOW_POWER_ENTRY_WITH_WAKEUP's eventfd (vdev->pm_wake_eventfd_ctx). */
  pmWakeEventfd: EventFd | null = null;
  /** The VF token UUID a PF's user set (vdev->vf_token->uuid); null until set. */
  vfToken: Uint8Array | null = null;
  reqTrigger: EventFd | null = null;

  /** The config saved at open (vdev->pci_saved_state), restored at close. */
  protected pciSavedState: SavedState | null = null;
  /** The config saved on the way to D3hot (vdev->pm_save). */
  private pmSave: SavedState | null = null;

  constructor(
    readonly ctx: VfioDriverContext,
    readonly hw: PciDeviceModel,
    protected readonly opts: VfioPciOptions = {},
  ) {
    this.name = hw.bdf;
    this.ex = ctx.era;
    if (opts.intxIrq !== undefined) hw.config.write(PCI_INTERRUPT_LINE, 1, hw.interruptPin ? opts.intxIrq & 0xff : 0);
    this.pdev = new PciDev(hw, ctx.log, opts.topology, { resetWarn: ctx.era.pciResetWarn, irqEnable: ctx.irqEnable });
    // vfio_pci_probe_power_state(): functions without No_Soft_Reset lose their state in D3hot.
    if (this.pdev.pmCap) this.needsPmRestore = !(this.pdev.readConfig(this.pdev.pmCap + PCI_PM_CTRL, 2) & PCI_PM_CTRL_NO_SOFT_RESET);
    // vfio_pci_core_register_device(): to D0, then let runtime PM idle the function.
    this.setPowerState(PCI_D0);
    this.runtimeSuspend();
  }

  /**
   * vfio_pci_set_power_state(): functions that soft-reset on D3hot->D0 get their config saved
   * on the way down and restored on the way up.
   */
  setPowerState(state: number): number {
    const pdev = this.pdev;
    let needsSave = false;
    let needsRestore = false;
    if (this.needsPmRestore) {
      if (pdev.currentState < PCI_D3HOT && state >= PCI_D3HOT) {
        pdev.saveState();
        needsSave = true;
      }
      if (pdev.currentState >= PCI_D3HOT && state <= PCI_D0) needsRestore = true;
    }
    const ret = pdev.setPowerState(state);
    if (!ret) {
      if (needsSave && pdev.currentState >= PCI_D3HOT) {
        this.pmSave = pdev.storeSavedState();
      } else if (needsRestore) {
        pdev.loadSavedState(this.pmSave);
        this.pmSave = null;
        pdev.restoreState();
      }
    }
    return ret;
  }

  /** pci_pm_runtime_suspend(): idle function to D3hot, its config saved first. */
  protected runtimeSuspend(): void {
    if (this.opts.disableIdleD3) return;
    // vfio_pci_core_runtime_suspend(): back to D0 first (restores a PM-saved state).
    this.setPowerState(PCI_D0);
    this.pdev.saveState();
    this.pdev.setPowerState(PCI_D3HOT);
  }

  /** pci_pm_runtime_resume(): power up and restore the config saved at suspend. */
  protected runtimeResume(): void {
    if (this.opts.disableIdleD3) return;
    this.pdev.setPowerState(PCI_D0);
    this.pdev.restoreState();
  }
}
