// SR-IOV in the PCI core (drivers/pci/iov.c, and pci-sysfs.c before 5.4):
// /sys/bus/pci/devices/PF/sriov_totalvfs and sriov_numvfs, VF creation and removal, and what
// the kernel logs on the way. The PF drivers' sriov_configure and their bus notifiers are
// theirs (kernel/drivers/net/ixgbe/sriov.ts, kernel/vfio-pci/sriov.ts): the core calls them
// through the PCI driver ops it is given, and never asks which driver it is.
//
// Rules, by kernel function:
//   sriov_init (boot)        TotalVFs 0 → not a PF; First VF Offset 0, or Stride 0 with more
//                            than one VF → not a PF (-EIO); System Page Size = the smallest
//                            supported size >= PAGE_SIZE; VF BARs sized from the hardware, and
//                            a VF BAR not a multiple of PAGE_SIZE → not a PF (-EIO). The PF's
//                            IOV resource n covers VF BAR n × TotalVFs from the address in the
//                            VF BAR register (0: never assigned).
//   sriov_totalvfs_show      pci_sriov_get_totalvfs(): driver_max_VFs. Before 4.18 it is 0
//                            unless a driver set it (then TotalVFs); since 4.18 it starts at
//                            TotalVFs and goes back there when the PF driver unbinds
//                            (pci_iov_remove). A driver may set it at probe (PciDriverSriovOps.maxVfsAtProbe).
//   sriov_numvfs_store       kstrtou16(buf, 0) (its -EINVAL/-ERANGE; -EINVAL for any failure
//                            since 5.14) → > totalvfs: -ERANGE → equal to num_VFs: nothing,
//                            count → no driver / no sriov_configure: -ENOENT and a message →
//                            0: sriov_configure(0) → some enabled: -EBUSY and a warning →
//                            sriov_configure(n); fewer enabled than asked: a warning.
//   sriov_enable             InitialVFs > TotalVFs, or != TotalVFs without VF Migration: -EIO;
//                            n > TotalVFs (> InitialVFs without VFM): -EINVAL; an IOV resource
//                            not assigned: "not enough MMIO resources for SR-IOV", -ENOMEM;
//                            then NumVFs, VF Enable | VF MSE, and pci_iov_add_virtfn() per VF.
//   pci_iov_add_virtfn       VF n at routing ID PF + offset + stride × n (pci_iov_virtfn_bus /
//                            _devfn); vendor from the PF, device from the PF's VF Device ID;
//                            pci_setup_device's "[vvvv:dddd] type 00 class 0x......" line;
//                            BARs = IOV resource + n × VF BAR size; same IOMMU and MSI domain
//                            as the PF.
//   iommu_bus_notifier       the IOMMU core groups the new VF (IommuCore.addDevice: a group of
//                            its own, pci_device_group) and lets it go on removal
//                            (IommuCore.removeDevice).
//   bus notifiers, probe     BUS_NOTIFY_ADD_DEVICE goes to the PF driver's notifier, which may
//                            capture the VF (vfio_pci_bus_notifier sets its driver_override);
//                            then bus_probe_device() binds the driver that matches (the one the
//                            override names, else the one whose id_table has it: ixgbevf).
//   sriov_disable            every VF removed (its driver's remove, "Removing ..." where the era
//                            logs it, the group freed when nothing holds it), then VF Enable
//                            off and NumVFs 0.
//   device_release_driver    a VF driver's remove may wait for a user (vfio-pci's, while the VF
//                            is open through VFIO); the write cannot return. The model does not
//                            start such a disable: it answers Blocked and changes nothing (see
//                            numvfsWrite).
//
// Not modelled: the VF drivers' own probe lines (see kernel/drivers), udev renames; ARI; the
// bus-number range check; VF BARs resized by System Page Size (the model's VF BARs are 16 KiB
// whatever SYS_PGSIZE says).

import { EBUSY, EINVAL, EIO, ENOENT, ENOMEM, ERANGE } from '../../uapi/errno.js';
import type { Era } from '../era.js';
import type { IommuCore, IommuGroup, KDevice } from '../iommu/core.js';
import { kstrtou16 } from '../lib/kstrtox.js';
import { hexPad } from '../../lib/hex.js';
import type { KernelLog, LogLine } from '../log.js';
import type { Blocked } from '../would-block.js';
import type { PciDeviceModel } from '../../hw/pci/device.js';
import { parseBdf, requesterId, ridToBdf, virtfnRid } from '../../hw/iommu/pci-rid.js';
import {
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_TYPE_RC_END,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_HEADER_TYPE,
  PCI_REVISION_ID,
  PCI_SRIOV_BAR,
  PCI_SRIOV_CAP,
  PCI_SRIOV_CTRL,
  PCI_SRIOV_CTRL_MSE,
  PCI_SRIOV_CTRL_VFE,
  PCI_SRIOV_INITIAL_VF,
  PCI_SRIOV_NUM_VF,
  PCI_SRIOV_SUP_PGSIZE,
  PCI_SRIOV_SYS_PGSIZE,
  PCI_SRIOV_TOTAL_VF,
  PCI_SRIOV_VF_DID,
  PCI_SRIOV_VF_OFFSET,
  PCI_SRIOV_VF_STRIDE,
} from '../../hw/pci/regs.js';

/** The era switches SR-IOV reads (documented in era.ts). */
export type IovEra = Pick<Era, 'sriovNumvfsLog' | 'sriovNumvfsParseEinval' | 'sriovTotalvfsReset' | 'pciEnumLog'>;

/** What the PCI core's SR-IOV needs from the kernel: its log, device and group tables, the drivers. */
export interface PciIovHost {
  era: IovEra;
  log: KernelLog;
  iommu: Pick<IommuCore, 'addDevice' | 'removeDevice'>;
  /**
   * iommu_group_put(): whether a reference other than its devices' keeps the group (a VFIO
   * group holds one while its file is open).
   */
  groupHeld(group: IommuGroup): boolean;
  devices: Map<string, KDevice>;
  /** The registered PCI drivers by name (struct pci_driver); a driver not here has no ops. */
  drivers: { get(name: string): PciDriverSriovOps | undefined };
  /**
   * device_add() of a new VF, after the bus notifiers: its uevent and bus_probe_device(), which
   * binds the first registered driver that matches it.
   */
  deviceAdded(dev: KDevice): void;
  /** PAGE_SIZE. */
  pageSize: bigint;
}

/** One IOV resource: VF BAR `index` of every VF. */
interface IovResource {
  index: number;
  /** One VF's BAR size. */
  size: bigint;
  /** The address boot assigned (0 when unassigned). */
  start: bigint;
  /** res->parent: the resource was assigned at boot. */
  assigned: boolean;
}

/** struct pci_sriov. */
export interface PciSriov {
  pf: KDevice;
  pos: number;
  cap: number;
  totalVfs: number;
  offset: number;
  stride: number;
  pgsz: number;
  resources: IovResource[];
  driverMaxVfs: number;
  numVfs: number;
  ctrl: number;
  /** The VFs added, in VF order. */
  vfs: KDevice[];
  /** The driver whose probe/remove effects are applied (tracks KDevice.driver). */
  driver?: string;
}

/** What a PF driver calls in the PCI core: pci_enable_sriov, pci_disable_sriov, dev_warn. */
export interface SriovPfApi {
  /** pci_enable_sriov(): 0 or -errno. */
  enable(s: PciSriov, n: number): number;
  /** pci_disable_sriov(), or Blocked when removing a VF would wait for its driver's user. */
  disable(s: PciSriov): 0 | Blocked;
  /** dev_warn() on the PF. */
  devWarn(s: PciSriov, text: string): void;
  /** The kernel log (for the driver's own netdev_info lines). */
  readonly log: KernelLog;
}

/**
 * The ops of a PCI driver (struct pci_driver, and its bus notifier) that SR-IOV reaches; the
 * whole driver is pci-driver.ts's PciDriver.
 */
export interface PciDriverSriovOps {
  /** pci_driver.sriov_configure(pdev, n): n enabled, 0 (disabled), -errno, or Blocked. */
  sriovConfigure?(pci: SriovPfApi, s: PciSriov, n: number): number | Blocked;
  /** pci_sriov_set_totalvfs() at probe. */
  maxVfsAtProbe?: number;
  /** The driver's remove disables SR-IOV. */
  disablesVfsOnRemove?: boolean;
  /**
   * The driver's BUS_NOTIFY_ADD_DEVICE notifier, for a new VF of a PF it drives: it may capture
   * the VF by setting its driver_override (the bus's probe then binds it).
   */
  vfAdded?(pf: KDevice, vf: KDevice): void;
  /**
   * The same notifier's BUS_NOTIFY_BOUND_DRIVER, for a VF of a PF it drives that a driver
   * (vf.driver) has just bound.
   */
  vfBound?(pf: KDevice, vf: KDevice): void;
  /** What the driver's remove of `dev` would wait for (a user of the device), or undefined. */
  removeWaits?(dev: KDevice): Blocked | undefined;
  /** pci_driver.remove(dev) as the device goes away. */
  remove?(dev: KDevice): void;
}

const PCI_SRIOV_CAP_VFM = 0x1;
const ULLONG_MAX = (1n << 64n) - 1n;

/** pci_type_str() for a PCIe function (6.8). */
const PCIE_TYPE_STR = [
  'PCIe Endpoint',
  'PCIe Legacy Endpoint',
  'PCIe unknown',
  'PCIe unknown',
  'PCIe Root Port',
  'PCIe Upstream Switch Port',
  'PCIe Downstream Switch Port',
  'PCIe to PCI/PCI-X bridge',
  'PCI/PCI-X to PCIe bridge',
  'PCIe Root Complex Integrated Endpoint',
  'PCIe Root Complex Event Collector',
];

export class PciIov {
  /** struct pci_sriov of every PF, by BDF. */
  private readonly pfs = new Map<string, PciSriov>();
  /** Functions found at boot that sriov_init() has not looked at yet, with the driver bound at boot (see enumerate). */
  private readonly unenumerated = new Map<string, string | undefined>();

  /** The PCI core as PF drivers call it. */
  private readonly pfApi: SriovPfApi;

  constructor(private readonly host: PciIovHost) {
    this.pfApi = {
      enable: (s, n) => this.sriovEnable(s, n),
      disable: (s) => {
        const b = this.blocker(s);
        if (b) return b;
        this.sriovDisable(s);
        return 0;
      },
      devWarn: (s, text) => this.devLog('warn', s.pf, text),
      log: host.log,
    };
    // sriov_init() runs at enumeration, and the boot-time drivers have probed. A function
    // known to have no SR-IOV capability is left out: sriov_init() would find none.
    for (const d of host.devices.values()) if (d.sriovCapable !== false) this.unenumerated.set(d.bdf, d.driver);
  }

  /**
   * sriov_init() and the boot driver's probe of `bdf`, if not done yet. The kernel enumerates
   * every function at boot; the model does it when the function is first used (the kernel's
   * device calls this as it hands its function out, and every SR-IOV entry point here does),
   * so that a boot does not build the functions nobody touches. What sriov_init() reads and
   * writes is the function's own, as booted, and the driver it records is the one bound at
   * boot (any later change of driver comes through driverChange, which enumerates first), so
   * nothing seen differs from enumerating at boot.
   */
  enumerate(bdf: string): void {
    if (!this.unenumerated.has(bdf)) return;
    const bootDriver = this.unenumerated.get(bdf);
    this.unenumerated.delete(bdf);
    const d = this.host.devices.get(bdf);
    const s = d && this.sriovInit(d);
    if (!s) return;
    this.pfs.set(bdf, s);
    this.driverProbe(s, bootDriver);
  }

  /** The struct pci_sriov of `bdf` (enumerated now if it was not), or undefined: not a PF. */
  private pf(bdf: string): PciSriov | undefined {
    this.enumerate(bdf);
    return this.pfs.get(bdf);
  }

  // ---- sysfs --------------------------------------------------------------------------------

  /** /sys/bus/pci/devices/BDF/sriov_totalvfs: "%u\n", or -ENOENT (no such file: not a PF). */
  totalvfsRead(bdf: string): string | number {
    const s = this.pf(bdf);
    return s ? `${this.getTotalVfs(s)}\n` : -ENOENT;
  }

  /** /sys/bus/pci/devices/BDF/sriov_numvfs: "%u\n", or -ENOENT. */
  numvfsRead(bdf: string): string | number {
    const s = this.pf(bdf);
    return s ? `${s.numVfs}\n` : -ENOENT;
  }

  /**
   * A write of /sys/bus/pci/devices/BDF/sriov_numvfs (sriov_numvfs_store): the bytes written,
   * -errno, or Blocked when the real write would not return (a VF's driver waits for a user
   * to remove it); then nothing has changed.
   */
  numvfsWrite(bdf: string, text: string): number | Blocked {
    const s = this.pf(bdf);
    if (!s) return -ENOENT;
    // sysfs_kf_write(): an empty write never reaches the attribute.
    if (text.length === 0) return 0;
    const count = Buffer.byteLength(text);
    const era = this.host.era;
    const n = kstrtou16(text);
    if (n < 0) return era.sriovNumvfsParseEinval ? -EINVAL : n;
    if (n > this.getTotalVfs(s)) return -ERANGE;
    if (n === s.numVfs) return count;

    const pf = s.pf;
    const driver = pf.driver;
    if (!driver) {
      this.pciInfo(pf, era.sriovNumvfsLog === 'split' ? 'no driver bound to device; cannot configure SR-IOV' : this.noSupportText());
      return -ENOENT;
    }
    const ops = this.pfDriver(driver);
    if (!ops?.sriovConfigure) {
      this.pciInfo(pf, this.noSupportText());
      return -ENOENT;
    }
    let ret: number | Blocked;
    if (n === 0) {
      ret = ops.sriovConfigure(this.pfApi, s, 0);
    } else if (s.numVfs) {
      this.devLog('warn', pf, `${s.numVfs} VFs already enabled. Disable before enabling ${n} VFs`);
      return -EBUSY;
    } else {
      ret = ops.sriovConfigure(this.pfApi, s, n);
      if (typeof ret === 'number' && ret >= 0 && ret !== n) this.devLog('warn', pf, `${n} VFs requested; only ${ret} enabled`);
    }
    if (typeof ret !== 'number') return ret;
    return ret < 0 ? ret : count;
  }

  /** The VFs of a PF now, in VF order (virtfn0, virtfn1, ...). */
  virtfns(bdf: string): string[] {
    return this.pf(bdf)?.vfs.map((v) => v.bdf) ?? [];
  }

  /** The PF of a VF (the physfn link), or undefined. */
  physfn(bdf: string): string | undefined {
    // Only an enumerated PF has VFs: it made them.
    for (const s of this.pfs.values()) if (s.vfs.some((v) => v.bdf === bdf)) return s.pf.bdf;
    return undefined;
  }

  // ---- driver binding -----------------------------------------------------------------------

  /**
   * A device's driver is about to change from its current one to `to` (unbind, then bind; the
   * kernel's bind path calls this before changing KDevice.driver). For a PF: the old driver's
   * remove (PciDriverSriovOps.disablesVfsOnRemove; pci_iov_remove resets driver_max_VFs since 4.18),
   * then the new driver's probe (PciDriverSriovOps.maxVfsAtProbe).
   * 0, or Blocked when removing the VFs would block (nothing has changed then).
   */
  driverChange(bdf: string, to: string | undefined): 0 | Blocked {
    const s = this.pf(bdf);
    if (!s || s.driver === to) return 0;
    if (s.numVfs && this.pfDriver(s.driver)?.disablesVfsOnRemove) {
      const b = this.pfApi.disable(s);
      if (b) return b;
    }
    if (this.host.era.sriovTotalvfsReset) {
      // pci_iov_remove(), still under the old driver's name (dev->driver is cleared after).
      s.driverMaxVfs = s.totalVfs;
      if (s.numVfs) this.devLog('warn', s.pf, 'driver left SR-IOV enabled after remove', s.driver ?? 'pci');
    }
    this.driverProbe(s, to);
    return 0;
  }

  /**
   * driver_bound()'s BUS_NOTIFY_BOUND_DRIVER for a device a driver has just bound: for a VF, the
   * notifier of its PF's driver hears of it.
   */
  bound(dev: KDevice): void {
    for (const s of this.pfs.values()) if (s.vfs.includes(dev)) this.pfDriver(s.pf.driver)?.vfBound?.(s.pf, dev);
  }

  // ---- the PCI core ---------------------------------------------------------------------------

  /** sriov_init(): the PF's struct pci_sriov, or undefined when it is not a PF. */
  private sriovInit(d: KDevice): PciSriov | undefined {
    const hw = d.hw;
    const pos = hw.config.findExtCap(PCI_EXT_CAP_ID_SRIOV);
    // pci_iov_init() / sriov_init(): only a PCIe endpoint or RC integrated endpoint is a PF.
    const type = hw.pcieType();
    if (pos === undefined || (type !== PCI_EXP_TYPE_ENDPOINT && type !== PCI_EXP_TYPE_RC_END)) return undefined;
    const cfg = hw.config;
    if (cfg.read(pos + PCI_SRIOV_CTRL, 2) & PCI_SRIOV_CTRL_VFE) cfg.write(pos + PCI_SRIOV_CTRL, 2, 0);
    const total = cfg.read(pos + PCI_SRIOV_TOTAL_VF, 2);
    if (!total) return undefined;
    // ARI Capable Hierarchy stays clear: the modelled root ports do not forward ARI.
    const ctrl = 0;
    cfg.write(pos + PCI_SRIOV_CTRL, 2, ctrl);
    cfg.write(pos + PCI_SRIOV_NUM_VF, 2, 0);
    const offset = cfg.read(pos + PCI_SRIOV_VF_OFFSET, 2);
    const stride = cfg.read(pos + PCI_SRIOV_VF_STRIDE, 2);
    if (!offset || (total > 1 && !stride)) return undefined;

    const pageShift = Math.log2(Number(this.host.pageSize));
    let pgsz = cfg.read(pos + PCI_SRIOV_SUP_PGSIZE, 4);
    const skip = pageShift > 12 ? pageShift - 12 : 0;
    pgsz = (pgsz & ~((1 << skip) - 1)) >>> 0;
    if (!pgsz) return undefined;
    pgsz = (pgsz & -pgsz) >>> 0;
    cfg.write(pos + PCI_SRIOV_SYS_PGSIZE, 4, pgsz);

    const resources: IovResource[] = [];
    for (let i = 0; i < 6; i++) {
      const r = this.readVfBar(hw, pos + PCI_SRIOV_BAR + 4 * i);
      if (!r) continue;
      if (r.mem64) i++;
      if (r.size & (this.host.pageSize - 1n)) return undefined;
      resources.push({ index: r.mem64 ? i - 1 : i, size: r.size, start: r.start, assigned: r.start !== 0n });
    }
    return {
      pf: d,
      pos,
      cap: cfg.read(pos + PCI_SRIOV_CAP, 4),
      totalVfs: total,
      offset,
      stride,
      pgsz,
      resources,
      driverMaxVfs: this.host.era.sriovTotalvfsReset ? total : 0,
      numVfs: 0,
      ctrl,
      vfs: [],
      driver: undefined,
    };
  }

  /** __pci_read_base() on a VF BAR register: its size (one VF's) and boot address, or undefined. */
  private readVfBar(hw: PciDeviceModel, off: number): { size: bigint; start: bigint; mem64: boolean } | undefined {
    const cfg = hw.config;
    const lo = cfg.read(off, 4);
    cfg.write(off, 4, 0xffffffff);
    const szLo = cfg.read(off, 4);
    cfg.write(off, 4, lo);
    if (szLo === 0 || szLo === 0xffffffff) return undefined;
    const mem64 = (lo & 0x6) === PCI_BASE_ADDRESS_MEM_TYPE_64;
    let hi = 0;
    let szHi = 0xffffffff;
    if (mem64) {
      hi = cfg.read(off + 4, 4);
      cfg.write(off + 4, 4, 0xffffffff);
      szHi = cfg.read(off + 4, 4);
      cfg.write(off + 4, 4, hi);
    }
    const mask = ((BigInt(szHi) << 32n) | BigInt((szLo & ~0xf) >>> 0)) & ULLONG_MAX;
    const size = ((~mask & ULLONG_MAX) + 1n) & (mem64 ? ULLONG_MAX : 0xffff_ffffn);
    const start = ((BigInt(hi) << 32n) | BigInt((lo & ~0xf) >>> 0)) & ULLONG_MAX;
    return { size, start, mem64 };
  }

  /** pci_sriov_get_totalvfs(). */
  private getTotalVfs(s: PciSriov): number {
    if (this.host.era.sriovTotalvfsReset) return s.driverMaxVfs;
    return s.driverMaxVfs || s.totalVfs;
  }

  /** pci_sriov_set_totalvfs(). */
  private setTotalVfs(s: PciSriov, numvfs: number): number {
    if (numvfs > s.totalVfs) return -EINVAL;
    if (s.ctrl & PCI_SRIOV_CTRL_VFE) return -EBUSY;
    s.driverMaxVfs = numvfs;
    return 0;
  }

  /** sriov_enable(): 0 or -errno. */
  private sriovEnable(s: PciSriov, nr: number): number {
    if (!nr) return 0;
    if (s.numVfs) return -EINVAL;
    const cfg = s.pf.hw.config;
    const vfm = !!(s.cap & PCI_SRIOV_CAP_VFM);
    const initial = cfg.read(s.pos + PCI_SRIOV_INITIAL_VF, 2);
    if (initial > s.totalVfs || (!vfm && initial !== s.totalVfs)) return -EIO;
    if (nr > s.totalVfs || (!vfm && nr > initial)) return -EINVAL;
    const offset = cfg.read(s.pos + PCI_SRIOV_VF_OFFSET, 2);
    const stride = cfg.read(s.pos + PCI_SRIOV_VF_STRIDE, 2);
    if (!offset || (nr > 1 && !stride)) return -EIO;
    if (s.resources.some((r) => !r.assigned)) {
      this.devLog('err', s.pf, 'not enough MMIO resources for SR-IOV');
      return -ENOMEM;
    }
    s.offset = offset;
    s.stride = stride;
    cfg.write(s.pos + PCI_SRIOV_NUM_VF, 2, nr);
    s.ctrl |= PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE;
    cfg.write(s.pos + PCI_SRIOV_CTRL, 2, s.ctrl);
    for (let i = 0; i < nr; i++) {
      const rc = this.addVirtfn(s, i);
      if (rc < 0) {
        for (const vf of [...s.vfs]) this.removeVirtfn(s, vf);
        s.ctrl &= ~(PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
        cfg.write(s.pos + PCI_SRIOV_CTRL, 2, s.ctrl);
        cfg.write(s.pos + PCI_SRIOV_NUM_VF, 2, 0);
        return rc;
      }
    }
    s.numVfs = nr;
    return 0;
  }

  /** sriov_disable(): every VF removed, then VF Enable off and NumVFs 0. */
  private sriovDisable(s: PciSriov): void {
    if (!s.numVfs) return;
    for (const vf of [...s.vfs]) this.removeVirtfn(s, vf);
    const cfg = s.pf.hw.config;
    s.ctrl &= ~(PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
    cfg.write(s.pos + PCI_SRIOV_CTRL, 2, s.ctrl);
    s.numVfs = 0;
    cfg.write(s.pos + PCI_SRIOV_NUM_VF, 2, 0);
  }

  /** pci_iov_add_virtfn() and what the bus notifiers and driver probe do for the new VF. */
  private addVirtfn(s: PciSriov, id: number): number {
    const pf = s.pf;
    const bdf = ridToBdf(parseBdf(pf.bdf)!.domain, virtfnRid(requesterId(pf.bdf), s.offset, s.stride, id));
    const hw = pf.hw.virtfn?.(id);
    // Nothing answers config cycles at that routing ID: pci_setup_device() reads a header type
    // of 0x7f and refuses the device.
    if (!hw || hw.bdf !== bdf) return -EIO;

    // pci_setup_device(): vendor from the PF, device from the PF's VF Device ID register.
    const vendor = pf.hw.vendorId;
    const device = pf.hw.config.read(s.pos + PCI_SRIOV_VF_DID, 2);
    const hdrType = hw.config.read(PCI_HEADER_TYPE, 1) & 0x7f;
    const cls = hw.config.read(PCI_REVISION_ID, 4) >>> 8;
    let enumText = `[${hexPad(vendor, 4)}:${hexPad(device, 4)}] type ${hexPad(hdrType, 2)} class 0x${hexPad(cls, 6)}`;
    const ex = this.host.era;
    if (ex.pciEnumLog === 'info-type') enumText += ` ${this.pciTypeStr(hw)}`;
    this.host.log.log(ex.pciEnumLog === 'debug' ? 'debug' : 'info', `pci ${bdf}: ${enumText}`);

    // pci_device_add() → iommu_bus_notifier: the IOMMU core puts it in a group.
    const kd = this.host.iommu.addDevice({ bdf, hw, iommu: pf.iommu, msi: pf.msi, driver: undefined, driverUsesDma: false });
    this.host.devices.set(bdf, kd);
    s.vfs.push(kd);

    // The PF driver's bus notifier (BUS_NOTIFY_ADD_DEVICE), which may capture the VF with
    // driver_override, then the bus's probe of the new device.
    this.pfDriver(pf.driver)?.vfAdded?.(pf, kd);
    this.host.deviceAdded(kd);
    return 0;
  }

  /** pci_iov_remove_virtfn(): driver unbound, device removed from its group and the bus. */
  private removeVirtfn(s: PciSriov, vf: KDevice): void {
    const h = this.host;
    // The VF driver's remove (device_release_driver).
    this.driverOf(vf)?.remove?.(vf);
    vf.driver = undefined;
    vf.driverUsesDma = false;
    // BUS_NOTIFY_REMOVED_DEVICE: the IOMMU core lets the device (and maybe its group) go.
    h.iommu.removeDevice(vf, h.groupHeld(vf.group));
    h.devices.delete(vf.bdf);
    s.vfs = s.vfs.filter((v) => v !== vf);
  }

  /** A VF whose driver's remove would wait for a user: removing the VFs would block. */
  private blocker(s: PciSriov): Blocked | undefined {
    for (const vf of s.vfs) {
      const b = this.driverOf(vf)?.removeWaits?.(vf);
      if (b) return b;
    }
    return undefined;
  }

  /** pci_type_str(). */
  private pciTypeStr(hw: PciDeviceModel): string {
    const type = hw.pcieType();
    if (type === undefined) return 'conventional PCI endpoint';
    return PCIE_TYPE_STR[type] ?? 'PCIe unknown';
  }

  // ---- PF drivers -----------------------------------------------------------------------------

  /** A PF driver's ops, or undefined (no sriov_configure, nothing at probe/remove). */
  private pfDriver(driver: string | undefined): PciDriverSriovOps | undefined {
    return driver === undefined ? undefined : this.host.drivers.get(driver);
  }

  /** The ops of the driver bound to a device. */
  private driverOf(d: KDevice): PciDriverSriovOps | undefined {
    return this.pfDriver(d.driver);
  }

  /** The new driver's probe, as far as SR-IOV goes. */
  private driverProbe(s: PciSriov, driver: string | undefined): void {
    s.driver = driver;
    const max = this.pfDriver(driver)?.maxVfsAtProbe;
    if (max !== undefined) this.setTotalVfs(s, max);
  }

  // ---- printk -------------------------------------------------------------------------------

  private noSupportText(): string {
    const l = this.host.era.sriovNumvfsLog;
    if (l === 'doesnt') return "Driver doesn't support SRIOV configuration via sysfs";
    if (l === 'does-not') return 'Driver does not support SRIOV configuration via sysfs';
    return 'driver does not support SR-IOV configuration via sysfs';
  }

  /** dev_printk(): "<driver or bus> <bdf>: text". */
  private devLog(level: LogLine['level'], d: KDevice, text: string, prefix = d.driver ?? 'pci'): void {
    this.host.log.log(level, `${prefix} ${d.bdf}: ${text}`);
  }

  private pciInfo(d: KDevice, text: string): void {
    this.devLog('info', d, text);
  }
}
