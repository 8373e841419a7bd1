// vfio-pci: the VFIO bus driver for PCI functions (drivers/vfio/pci/vfio_pci.c and
// vfio_pci_core.c), over a hardware model (src/hw/pci). createVfioPciDevice() is the probe
// (binding the function); the VFIO core calls the returned VfioDeviceOps.
//
// Split by concern, as the kernel is:
//   vfio-pci.ts    probe, open (vfio_pci_core_enable), close (vfio_pci_core_disable), dispatch
//   ioctl-info.ts  DEVICE_GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, SET_IRQS argument checks
//   intrs.ts       the INTx/MSI/MSI-X state machine (vfio_pci_intrs.c)
//   config.ts      config-space virtualisation (vfio_pci_config.c)
//   rdwr.ts        BAR/ROM pread/pwrite and mmap (vfio_pci_rdwr.c)
//   reset.ts       DEVICE_RESET and the hot-reset ioctls
//   pci-core.ts    the PCI core functions it calls (enable, save/restore, resets, ROM)

import type { PciDeviceModel } from '../../hw/pci/device.js';
import {
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_INTERRUPT_LINE,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_MSIX_TABLE,
  PCI_MSIX_TABLE_BIR,
  PCI_MSIX_TABLE_OFFSET,
  PCI_PM_CTRL,
  PCI_PM_CTRL_NO_SOFT_RESET,
  PCI_STD_NUM_BARS,
} from '../../hw/pci/regs.js';
import { vfioIO } from '../../uapi/requests.js';
import type { Era } from '../era.js';
import { ENOTTY } from '../../uapi/errno.js';
import type { Prot, UserArg } from '../file.js';
import type { Process } from '../process.js';
import type { VfioDeviceOps, VfioDriverContext } from '../vfio/device-ops.js';
import { vfioConfigFree, vfioConfigInit, type VfioConfigState } from './config.js';
import { VfioPciIntrs } from './intrs.js';
import { getInfo, getIrqInfo, getRegionInfo, setIrqs } from './ioctl-info.js';
import { PCI_D0, PCI_D3HOT, PciDev, type PciTopology, type SavedState } from './pci-core.js';
import { vfioPciMmap, vfioPciRw } from './rdwr.js';
import { ioeventfd, type IoEventFd } from './ioeventfd.js';
import { deviceReset, hotReset, hotResetInfo } from './reset.js';

const VFIO_DEVICE_GET_INFO = vfioIO(7);
const VFIO_DEVICE_GET_REGION_INFO = vfioIO(8);
const VFIO_DEVICE_GET_IRQ_INFO = vfioIO(9);
const VFIO_DEVICE_SET_IRQS = vfioIO(10);
const VFIO_DEVICE_RESET = vfioIO(11);
const VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = vfioIO(12);
const VFIO_DEVICE_PCI_HOT_RESET = vfioIO(13);
const VFIO_DEVICE_IOEVENTFD = vfioIO(16);


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

/** vfio_pci_nointx(): Intel NICs whose INTx masking is broken (i40e family, X550). */
function nointxQuirk(hw: PciDeviceModel): boolean {
  if (hw.vendorId !== 0x8086) return false;
  const d = hw.deviceId;
  return (
    d === 0x1572 ||
    d === 0x1574 ||
    (d >= 0x1580 && d <= 0x1581) ||
    (d >= 0x1583 && d <= 0x158b) ||
    (d >= 0x37d0 && d <= 0x37d2) ||
    d === 0x1563
  );
}

/** struct vfio_pci_core_device, with the vfio_device_ops vfio-pci gives the VFIO core. */
export class VfioPciDevice implements VfioDeviceOps {
  readonly name: string;
  readonly pdev: PciDev;
  /** The era's switches (kept as `ex` for brevity at the many call sites). */
  readonly ex: Era;
  readonly intrs: VfioPciIntrs;
  /** INTx masking as config.ts drives it (the user's INTx-disable bit). */
  readonly intx: { mask: () => void; unmask: () => void };

  // vfio_pci_core_device state
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
  readonly ioeventfds: IoEventFd[] = [];
  msixBar = 0xff;
  msixOffset = 0;
  msixSize = 0;
  /** The virtual MSI Multiple Message Capable field (log2 vectors), set at MSI enable. */
  msiQmax = 0;
  cfg?: VfioConfigState;
  private pciSavedState: SavedState | null = null;
  private pmSave: SavedState | null = null;
  private opened = false;

  constructor(
    readonly ctx: VfioDriverContext,
    readonly hw: PciDeviceModel,
    private readonly opts: VfioPciOptions = {},
  ) {
    this.name = hw.bdf;
    this.ex = ctx.era;
    if (opts.intxIrq !== undefined) hw.config.write(PCI_INTERRUPT_LINE, 1, hw.interruptPin ? opts.intxIrq & 0xff : 0);
    this.pdev = new PciDev(hw, ctx.log, opts.topology);
    this.intrs = new VfioPciIntrs(this);
    this.intx = { mask: () => void this.intrs.intxMask(), unmask: () => this.intrs.intxUnmask() };
    // vfio_pci_probe_power_state(): functions without No_Soft_Reset lose their state in D3hot.
    if (this.pdev.pmCap) this.needsPmRestore = !(this.pdev.readConfig(this.pdev.pmCap + PCI_PM_CTRL, 2) & PCI_PM_CTRL_NO_SOFT_RESET);
    // vfio_pci_core_register_device(): to D0, then let runtime PM idle the function.
    this.setPowerState(PCI_D0);
    this.runtimeSuspend();
  }

  get isOpen(): boolean {
    return this.opened;
  }

  // ---- power -----------------------------------------------------------------------------

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
  private runtimeSuspend(): void {
    if (this.opts.disableIdleD3) return;
    // vfio_pci_core_runtime_suspend(): back to D0 first (restores a PM-saved state).
    this.setPowerState(PCI_D0);
    this.pdev.saveState();
    this.pdev.setPowerState(PCI_D3HOT);
  }

  /** pci_pm_runtime_resume(): power up and restore the config saved at suspend. */
  private runtimeResume(): void {
    if (this.opts.disableIdleD3) return;
    this.pdev.setPowerState(PCI_D0);
    this.pdev.restoreState();
  }

  // ---- open / close ----------------------------------------------------------------------

  /** vfio_pci_open_device(): vfio_pci_core_enable() + vfio_pci_core_finish_enable(). */
  openDevice(): number {
    const pdev = this.pdev;
    this.runtimeResume();
    this.setPowerState(PCI_D0);
    // Don't let the saved state include bus mastering.
    pdev.clearMaster();
    const ret = pdev.enableDevice(this.ex.enableUnsetText);
    if (ret) {
      this.runtimeSuspend();
      return ret;
    }
    this.resetWorks = pdev.tryResetFunction() === 0;
    pdev.saveState();
    this.pciSavedState = pdev.storeSavedState();

    if (nointxQuirk(this.hw)) {
      pdev.info('Masking broken INTx support');
      this.nointx = true;
      pdev.intx(false);
    } else {
      this.pci23 = pdev.intxMaskSupported();
    }
    const cmd = pdev.readConfig(PCI_COMMAND, 2);
    if (this.pci23 && cmd & PCI_COMMAND_INTX_DISABLE) pdev.writeConfig(PCI_COMMAND, 2, cmd & ~PCI_COMMAND_INTX_DISABLE);

    vfioConfigInit(this);

    if (pdev.msixCap) {
      const flags = pdev.readConfig(pdev.msixCap + PCI_MSIX_FLAGS, 2);
      const table = pdev.readConfig(pdev.msixCap + PCI_MSIX_TABLE, 4);
      this.msixBar = table & PCI_MSIX_TABLE_BIR;
      this.msixOffset = (table & PCI_MSIX_TABLE_OFFSET) >>> 0;
      this.msixSize = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) * 16;
      this.hasDynMsix = this.ex.msixDynamic && this.ctx.irq.canAllocDynamicMsix();
    } else {
      this.msixBar = 0xff;
      this.hasDynMsix = false;
    }
    // VGA-class functions (legacy VGA ranges) are not modelled.
    this.hasVga = false;
    this.probeMmaps();
    this.opened = true;
    return 0;
  }

  /** vfio_pci_probe_mmaps(): memory BARs of a page or more, or alone in their page. */
  private probeMmaps(): void {
    for (let bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
      const r = this.pdev.resources[bar]!;
      let ok = false;
      if (r.mem && r.len) {
        if (r.len >= this.ctx.pageSize) ok = true;
        // A sub-page BAR at a page boundary: the rest of the page is reserved so no other
        // BAR lands there ("vfio sub-page reserved").
        else if (!(r.start & (this.ctx.pageSize - 1n))) ok = true;
      }
      this.barMmapSupported[bar] = ok;
    }
  }

  /** vfio_pci_core_close_device(): vfio_pci_core_disable(), then ERR/REQ eventfds dropped. */
  closeDevice(): void {
    if (!this.opened) return;
    const pdev = this.pdev;
    this.setPowerState(PCI_D0);
    // Stop the device from further DMA.
    pdev.clearMaster();
    this.intrs.shutdown();
    // vfio_pci_core_disable() frees every ioeventfd.
    this.ioeventfds.length = 0;
    this.virqDisabled = false;
    vfioConfigFree(this);
    this.barmap.fill(false);
    this.needsReset = true;

    // Restore the state saved at open; reset in between if the function can.
    pdev.loadSavedState(this.pciSavedState);
    this.pciSavedState = null;
    // Disable INTx and MSI during the reset (as pci_reset_function does).
    pdev.writeConfig(PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    if (this.resetWorks && !pdev.resetFunctionLocked()) this.needsReset = false;
    pdev.restoreState();
    pdev.disableDevice();
    // A bus reset of the device set would come here (vfio_pci_dev_set_try_reset); on a root
    // bus there is none.
    this.runtimeSuspend();

    this.intrs.errTrigger = null;
    this.intrs.reqTrigger = null;
    this.opened = false;
  }

  // ---- the device fd ---------------------------------------------------------------------

  ioctl(proc: Process, cmd: number, arg: UserArg): number {
    switch (cmd) {
      case VFIO_DEVICE_GET_INFO:
        return getInfo(this, arg);
      case VFIO_DEVICE_GET_REGION_INFO:
        return getRegionInfo(this, arg);
      case VFIO_DEVICE_GET_IRQ_INFO:
        return getIrqInfo(this, arg);
      case VFIO_DEVICE_SET_IRQS:
        return setIrqs(this, proc, arg);
      case VFIO_DEVICE_RESET:
        return deviceReset(this);
      case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
        return hotResetInfo(this, arg);
      case VFIO_DEVICE_PCI_HOT_RESET:
        return hotReset(this, proc, arg);
      case VFIO_DEVICE_IOEVENTFD:
        return ioeventfd(this, proc, arg);
      default:
        // Numbers the kernel does not know here, such as VIO(18) (VFIO_DEVICE_BIND_IOMMUFD,
        // cdev only; not built in).
        return -ENOTTY;
    }
  }

  read(_proc: Process, out: Uint8Array, offset: bigint): number {
    return vfioPciRw(this, out, offset, false);
  }

  write(_proc: Process, data: Uint8Array, offset: bigint): number {
    // pwrite hands the kernel a copy; the user's buffer is never written.
    return vfioPciRw(this, data.slice(), offset, true);
  }

  mmap(_proc: Process, offset: bigint, len: bigint, prot: Prot): number {
    return vfioPciMmap(this, offset, len, prot);
  }
}

/** vfio_pci_probe(): binds `dev` to vfio-pci; the VFIO core gets the returned ops. */
export function createVfioPciDevice(ctx: VfioDriverContext, dev: PciDeviceModel, opts: VfioPciOptions = {}): VfioDeviceOps {
  return new VfioPciDevice(ctx, dev, opts);
}
