// vfio-pci: the VFIO bus driver for PCI functions (drivers/vfio/pci/vfio_pci.c and
// vfio_pci_core.c), over a hardware model (src/hw/pci). createVfioPciDevice() makes the
// device the probe registers (driver.ts); the VFIO core calls the returned VfioDeviceOps.
//
// Split by concern, as the kernel is:
//   driver.ts      the struct pci_driver: name, override-only matching, vfio_pci_probe
//   core-device.ts the device state (struct vfio_pci_core_device), power state, probe
//   vfio-pci.ts    open (vfio_pci_core_enable), close (vfio_pci_core_disable), dispatch
//   ioctl-info.ts  DEVICE_GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, SET_IRQS argument checks
//   intrs.ts       the INTx/MSI/MSI-X state machine (vfio_pci_intrs.c)
//   config.ts      config-space virtualisation (vfio_pci_config.c)
//   rdwr.ts        BAR/ROM pread/pwrite and mmap (vfio_pci_rdwr.c)
//   reset.ts       DEVICE_RESET and the hot-reset ioctls
//   sriov.ts       sriov_configure, the VF-capturing bus notifier, removing a VF it drives
//
// The PCI core functions it calls (enable, save/restore, resets, ROM) are kernel/pci/pci.ts.

import type { PciDeviceModel } from '../../hw/pci/device.js';
import {
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_MSIX_TABLE,
  PCI_MSIX_TABLE_BIR,
  PCI_MSIX_TABLE_OFFSET,
  PCI_STD_NUM_BARS,
} from '../../hw/pci/regs.js';
import { requestNr } from '../../uapi/requests.js';
import { EINVAL, ENOTTY } from '../../uapi/errno.js';
import type { Prot, UserArg } from '../file.js';
import type { Process } from '../process.js';
import type { VfioDeviceOps, VfioDriverContext } from '../vfio/device-ops.js';
import { vfioConfigFree, vfioConfigInit } from './config.js';
import { VfioPciCoreDevice, type VfioPciOptions } from './core-device.js';
import { vfioPciIrqsShutdown } from './intrs.js';
import { getInfo, getIrqInfo, getRegionInfo, setIrqs } from './ioctl-info.js';
import { PCI_D0 } from '../pci/pci.js';
import { matchTokenUuid, vfioPciCoreMatch, vfTokenProbe, vfTokenUserAdd, vfTokenUserDel, type VfTokenDevice } from './vf-token.js';
import { vfioPciMappedAccess, vfioPciMappedPhys, vfioPciMmap, vfioPciRw } from './rdwr.js';
import { ioeventfd } from './ioeventfd.js';
import { deviceReset, hotReset, hotResetInfo } from './reset.js';
import { vfioPciIoctlFeature, vfioPciRuntimePmExit } from './feature.js';

// The device-fd requests vfio-pci answers, numbered by the request table.
const VFIO_DEVICE_GET_INFO = requestNr('VFIO_DEVICE_GET_INFO');
const VFIO_DEVICE_GET_REGION_INFO = requestNr('VFIO_DEVICE_GET_REGION_INFO');
const VFIO_DEVICE_GET_IRQ_INFO = requestNr('VFIO_DEVICE_GET_IRQ_INFO');
const VFIO_DEVICE_SET_IRQS = requestNr('VFIO_DEVICE_SET_IRQS');
const VFIO_DEVICE_RESET = requestNr('VFIO_DEVICE_RESET');
const VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = requestNr('VFIO_DEVICE_GET_PCI_HOT_RESET_INFO');
const VFIO_DEVICE_PCI_HOT_RESET = requestNr('VFIO_DEVICE_PCI_HOT_RESET');
const VFIO_DEVICE_IOEVENTFD = requestNr('VFIO_DEVICE_IOEVENTFD');

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

/** vfio-pci's vfio_device_ops over the core device (vfio_pci.c's vfio_pci_ops). */
export class VfioPciDevice extends VfioPciCoreDevice implements VfioDeviceOps {
  private opened = false;

  get isOpen(): boolean {
    return this.opened;
  }

  /** A PF's vf_token->users (vf-token.ts). */
  vfTokenUsers = 0;
  /** A VF's sriov_pf_core_dev: its PF's vfio-pci device, if vfio-pci drives the PF. */
  sriovPfCoreDev?: VfTokenDevice;

  constructor(ctx: VfioDriverContext, dev: PciDeviceModel, opts: VfioPciOptions = {}) {
    super(ctx, dev, opts);
    vfTokenProbe(this);
  }

  /** vfio_pci_core_match_token_uuid() (6.17, for VFIO_DEVICE_BIND_IOMMUFD): vf-token.ts. */
  matchTokenUuid(uuid: Uint8Array | null): number {
    return matchTokenUuid(this, uuid);
  }

  /** vfio_pci_core_match() (GROUP_GET_DEVICE_FD's name, with its vf_token= option): vf-token.ts. */
  match(buf: string): number {
    return vfioPciCoreMatch(this, this.name, buf);
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
    vfTokenUserAdd(this);
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
    vfTokenUserDel(this);
    const pdev = this.pdev;
    // vfio_pci_core_disable() leaves low power first (vfio_pci_runtime_pm_exit).
    vfioPciRuntimePmExit(this);
    this.setPowerState(PCI_D0);
    // Stop the device from further DMA.
    pdev.clearMaster();
    vfioPciIrqsShutdown(this);
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

    this.errTrigger = null;
    this.reqTrigger = null;
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

  /** vfio_device_ops.device_feature (vfio_pci_core_ioctl_feature). */
  deviceFeature(proc: Process, flags: number, data: Uint8Array, argsz: number): number {
    return vfioPciIoctlFeature(this, proc, flags, data, argsz);
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

  mappedAccess(offset: bigint, buf: Uint8Array, iswrite: boolean): number {
    return vfioPciMappedAccess(this, offset, buf, iswrite);
  }

  mappedPhys(offset: bigint): bigint | undefined {
    return vfioPciMappedPhys(this, offset);
  }
}

/** vfio_pci_probe(): binds `dev` to vfio-pci; the VFIO core gets the returned ops. */
export function createVfioPciDevice(ctx: VfioDriverContext, dev: PciDeviceModel, opts: VfioPciOptions = {}): VfioDeviceOps {
  return new VfioPciDevice(ctx, dev, opts);
}
