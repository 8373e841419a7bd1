// SR-IOV in the PCI core (drivers/pci/iov.c, and pci-sysfs.c before 5.4), with the PF
// drivers' sriov_configure that the modelled machines have (ixgbe_sriov.c, vfio_pci.c):
// /sys/bus/pci/devices/PF/sriov_totalvfs and sriov_numvfs, VF creation and removal, and what
// the kernel logs on the way.
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
//                            (pci_iov_remove). ixgbe sets 63 at probe (IXGBE_MAX_VFS_DRV_LIMIT).
//   sriov_numvfs_store       kstrtou16(buf, 0) (its -EINVAL/-ERANGE; -EINVAL for any failure
//                            since 5.14) → > totalvfs: -ERANGE → equal to num_VFs: nothing,
//                            count → no driver / no sriov_configure: -ENOENT and a message →
//                            0: sriov_configure(0) → some enabled: -EBUSY and a warning →
//                            sriov_configure(n); fewer enabled than asked: a warning.
//   ixgbe_pci_sriov_enable   "SR-IOV enabled with %d VFs" (netdev_info, printed before the PCI
//                            core is asked), then pci_enable_sriov; failure: "Failed to enable
//                            PCI sriov: %d" and that error.
//   vfio_pci_sriov_configure (5.7+) -ENOENT, silently, unless vfio_pci.enable_sriov=Y; VFs
//                            added under a vfio-pci PF get driver_override vfio-pci
//                            (vfio_pci_bus_notifier: "Captured SR-IOV VF %s driver_override").
//                            Before 5.7 vfio-pci has no sriov_configure.
//   sriov_enable             InitialVFs > TotalVFs, or != TotalVFs without VF Migration: -EIO;
//                            n > TotalVFs (> InitialVFs without VFM): -EINVAL; an IOV resource
//                            not assigned: "not enough MMIO resources for SR-IOV", -ENOMEM;
//                            then NumVFs, VF Enable | VF MSE, and pci_iov_add_virtfn() per VF.
//   pci_iov_add_virtfn       VF n at routing ID PF + offset + stride × n (pci_iov_virtfn_bus /
//                            _devfn); vendor from the PF, device from the PF's VF Device ID;
//                            pci_setup_device's "[vvvv:dddd] type 00 class 0x......" line;
//                            BARs = IOV resource + n × VF BAR size; same IOMMU and MSI domain
//                            as the PF.
//   pci_device_group         a VF is not multifunction; the modelled boards' root ports have
//                            ACS, so each VF gets a group of its own: a new one, numbered by
//                            iommu_group_alloc's ida (the lowest free number), logged as the
//                            era's iommu_group_add_device does.
//   driver autoprobe         ixgbevf binds each VF (it uses the DMA API, so the group has a
//                            kernel DMA owner until the VF is bound to vfio-pci).
//   sriov_disable            every VF removed (driver unbound, "Removing ..." where the era
//                            logs it, the group freed when nothing holds it), then VF Enable
//                            off and NumVFs 0. ixgbe refuses only while VFs are "assigned"
//                            (PCI_DEV_FLAGS_ASSIGNED, which vfio-pci never sets).
//   vfio_del_group_dev       removing a VF whose VFIO device a user holds open blocks until
//                            the user closes it (vfio_unregister_group_dev in later kernels);
//                            the write cannot return. The model does not start such a disable:
//                            it answers SriovBlocked and changes nothing (see numvfsWrite).
//
// Not modelled: the VF drivers' own probe lines (ixgbevf: "enabling device", random MAC
// address, "Intel(R) X540 Virtual Function"), ixgbe_sriov_reinit's queue/PHC lines (newer
// kernels, when the interface is up), udev renames; ARI; the bus-number range check; VF BARs
// resized by System Page Size (the model's VF BARs are 16 KiB whatever SYS_PGSIZE says);
// driver_override/VF-token rules of vfio-pci beyond the capture itself.

import { EBUSY, EINVAL, EIO, ENOENT, ENOMEM, ERANGE } from '../../uapi/errno.js';
import type { Era } from '../era.js';
import type { IommuGroup, KDevice } from '../iommu/core.js';
import type { KernelLog, LogLine } from '../log.js';
import type { VfioGroup } from '../vfio/group.js';
import type { PciDeviceModel } from '../../hw/pci/device.js';
import { parseBdf, requesterId, ridToBdf, virtfnRid } from '../../hw/iommu/pci-rid.js';
import {
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_TYPE_RC_END,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_MFD,
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
export type SriovEra = Pick<
  Era,
  'iommuGroupLog' | 'sriovNumvfsLog' | 'sriovNumvfsParseEinval' | 'sriovTotalvfsReset' | 'vfioPciSriovConfigure' | 'pciEnumLog'
>;

/** What SR-IOV needs from the kernel: its log, parameters, device and group tables. */
export interface SriovHost {
  era: SriovEra;
  log: KernelLog;
  /** Module parameters (vfio_pci.enable_sriov). */
  params: { has(key: string): boolean; bool(key: string): boolean };
  iommu: {
    readonly groups: Map<number, IommuGroup>;
    group(id: number, iommu: KDevice['iommu']): IommuGroup;
    freeGroupId(): number;
  };
  devices: Map<string, KDevice>;
  /** VFIO groups by number: a VF bound to vfio-pci is unregistered from its group on removal. */
  vfioGroups: Map<number, VfioGroup>;
  /** Per-device MSI state the kernel keeps for vfio-pci devices; a removed VF's entry goes. */
  msi: { delete(bdf: string): boolean };
  /** PAGE_SIZE. */
  pageSize: bigint;
  /** Binds a device to a driver (a VF its PF's driver captures): Kernel.bind. */
  bind(bdf: string, driver: string): { errno: number };
  /**
   * The PF's network interface name, for ixgbe's netdev_info lines. Default: systemd's
   * path-based name (enp1s0f0), which is what the modelled boards' distributions use (modelled).
   */
  netdevName?(bdf: string): string;
}

/** A write that cannot complete: a VF to remove is open through VFIO (vfio_del_group_dev waits). */
export interface SriovBlocked {
  /** The VF whose VFIO device is held open. */
  blocked: string;
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
interface PciSriov {
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

/** The VF drivers the modelled kernels autoprobe, by vendor:device. */
const VF_DRIVERS: Record<string, string> = {
  '8086:1515': 'ixgbevf',
  '8086:10ed': 'ixgbevf',
};

const VFIO_PCI_ENABLE_SRIOV = 'vfio_pci.enable_sriov';

/** What a PF driver calls in the kernel: pci_enable_sriov, pci_disable_sriov, printk, its module parameters. */
interface SriovPfApi {
  /** pci_enable_sriov(): 0 or -errno. */
  enable(s: PciSriov, n: number): number;
  /** pci_disable_sriov(), or SriovBlocked when removing a VF would wait for a VFIO user. */
  disable(s: PciSriov): 0 | SriovBlocked;
  /** netdev_info() on the PF's interface. */
  netdevInfo(s: PciSriov, text: string): void;
  /** dev_warn() on the PF. */
  devWarn(s: PciSriov, text: string): void;
  /** A module parameter of the driver (module_param bool). */
  param(key: string): boolean;
}

/** A PF driver's SR-IOV side: its pci_driver.sriov_configure and what its probe/remove do. */
interface PfDriver {
  /** pci_driver.sriov_configure(pdev, n): n enabled, 0 (disabled), -errno, or SriovBlocked. */
  sriovConfigure(pci: SriovPfApi, s: PciSriov, n: number): number | SriovBlocked;
  /** The era switch that brings this driver's SR-IOV side in (absent: every era). */
  eraSwitch?: 'vfioPciSriovConfigure';
  /** pci_sriov_set_totalvfs() at probe. */
  maxVfsAtProbe?: number;
  /** The driver's remove disables SR-IOV. */
  disablesVfsOnRemove: boolean;
  /** Its BUS_NOTIFY_ADD_DEVICE notifier captures the PF's new VFs for itself (driver_override). */
  capturesVfs?: boolean;
}

/** ixgbe_pci_sriov_configure() (ixgbe_sriov.c). */
function ixgbeSriovConfigure(pci: SriovPfApi, s: PciSriov, n: number): number | SriovBlocked {
  // ixgbe_pci_sriov_disable() → ixgbe_disable_sriov(): refuses only while VFs are assigned
  // (PCI_DEV_FLAGS_ASSIGNED, which vfio-pci never sets).
  if (n === 0) return pci.disable(s);
  // ixgbe_pci_sriov_enable(): pre-existing VFs (unreachable from sysfs, which answers -EBUSY
  // first) are torn down.
  if (s.numVfs === n) return n;
  if (s.numVfs) {
    const r = pci.disable(s);
    if (r !== 0) return r;
  }
  // The TC/pool limit (63 with one TC and no macvlan offload) is never the binding one: the
  // PCI core's -ERANGE against driver_max_VFs (63) comes first.
  pci.netdevInfo(s, `SR-IOV enabled with ${n} VFs`);
  const err = pci.enable(s, n);
  if (err) {
    pci.devWarn(s, `Failed to enable PCI sriov: ${err}`);
    return err;
  }
  return n;
}

/** vfio_pci_sriov_configure() → vfio_pci_core_sriov_configure() (vfio_pci.c, 5.7+). */
function vfioPciSriovConfigure(pci: SriovPfApi, s: PciSriov, n: number): number | SriovBlocked {
  if (!pci.param(VFIO_PCI_ENABLE_SRIOV)) return -ENOENT;
  if (n === 0) return pci.disable(s);
  const ret = pci.enable(s, n);
  return ret < 0 ? ret : n;
}

/**
 * The PF drivers the modelled machines bind, by driver name. A driver not here has no
 * sriov_configure and leaves SR-IOV alone at probe and remove.
 */
const PF_DRIVERS: Record<string, PfDriver> = {
  // ixgbe_probe: pci_sriov_set_totalvfs(pdev, IXGBE_MAX_VFS_DRV_LIMIT); ixgbe_remove:
  // ixgbe_disable_sriov().
  ixgbe: { sriovConfigure: ixgbeSriovConfigure, maxVfsAtProbe: 63, disablesVfsOnRemove: true },
  // 5.7+: vfio_pci_remove → pci_disable_sriov; vfio_pci_bus_notifier sets driver_override on
  // the PF's VFs. Before 5.7 vfio-pci has no SR-IOV side at all.
  'vfio-pci': { sriovConfigure: vfioPciSriovConfigure, eraSwitch: 'vfioPciSriovConfigure', disablesVfsOnRemove: true, capturesVfs: true },
};

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

/**
 * kstrtou16(s, 0, &res) (lib/kstrtox.c): an optional '+', then the radix from the prefix
 * ("0x" followed by a hex digit: 16; "0": 8; else 10), digits, one optional '\n', and nothing
 * else (the buffer ends at its first NUL). The value, or -EINVAL / -ERANGE.
 */
export function kstrtou16(text: string): number {
  const nul = text.indexOf('\0');
  const s = nul < 0 ? text : text.slice(0, nul);
  let i = s[0] === '+' ? 1 : 0;
  let base = 10;
  if (s[i] === '0') {
    if ((s[i + 1] === 'x' || s[i + 1] === 'X') && /^[0-9a-fA-F]$/.test(s[i + 2] ?? '')) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  let res = 0n;
  let digits = 0;
  let overflow = false;
  for (; i < s.length; i++, digits++) {
    const c = s[i]!.toLowerCase();
    const v = c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : c >= 'a' && c <= 'f' ? c.charCodeAt(0) - 87 : 99;
    if (v >= base) break;
    res = res * BigInt(base) + BigInt(v);
    if (res > ULLONG_MAX) overflow = true;
  }
  if (overflow) return -ERANGE;
  if (digits === 0) return -EINVAL;
  if (s[i] === '\n') i++;
  if (i < s.length) return -EINVAL;
  // kstrtouint, then kstrtou16: the value must fit.
  if (res > 0xffffn) return -ERANGE;
  return Number(res);
}

const hex = (v: number, w: number): string => v.toString(16).padStart(w, '0');

/**
 * systemd's path-based interface name for a PCI network function: en[P<domain>]p<bus>s<slot>,
 * with f<fn> for a function of a multi-function device.
 */
export function predictableNetdevName(bdf: string, multifunction: boolean): string {
  const p = parseBdf(bdf)!;
  return `en${p.domain ? `P${p.domain}` : ''}p${p.bus}s${p.dev}${multifunction || p.fn > 0 ? `f${p.fn}` : ''}`;
}

export class SriovCore {
  /** struct pci_sriov of every PF, by BDF. */
  private readonly pfs = new Map<string, PciSriov>();

  constructor(private readonly host: SriovHost) {
    // sriov_init() runs at enumeration, and the boot-time drivers have probed.
    for (const d of host.devices.values()) {
      const s = this.sriovInit(d);
      if (!s) continue;
      this.pfs.set(d.bdf, s);
      this.driverProbe(s, d.driver);
    }
  }

  // ---- sysfs --------------------------------------------------------------------------------

  /** /sys/bus/pci/devices/BDF/sriov_totalvfs: "%u\n", or -ENOENT (no such file: not a PF). */
  totalvfsRead(bdf: string): string | number {
    const s = this.pfs.get(bdf);
    return s ? `${this.getTotalVfs(s)}\n` : -ENOENT;
  }

  /** /sys/bus/pci/devices/BDF/sriov_numvfs: "%u\n", or -ENOENT. */
  numvfsRead(bdf: string): string | number {
    const s = this.pfs.get(bdf);
    return s ? `${s.numVfs}\n` : -ENOENT;
  }

  /**
   * A write of /sys/bus/pci/devices/BDF/sriov_numvfs (sriov_numvfs_store): the bytes written,
   * -errno, or SriovBlocked when the real write would not return (a VF to remove is open
   * through VFIO); then nothing has changed.
   */
  numvfsWrite(bdf: string, text: string): number | SriovBlocked {
    const s = this.pfs.get(bdf);
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
    if (!ops) {
      this.pciInfo(pf, this.noSupportText());
      return -ENOENT;
    }
    let ret: number | SriovBlocked;
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
    return this.pfs.get(bdf)?.vfs.map((v) => v.bdf) ?? [];
  }

  /** The PF of a VF (the physfn link), or undefined. */
  physfn(bdf: string): string | undefined {
    for (const s of this.pfs.values()) if (s.vfs.some((v) => v.bdf === bdf)) return s.pf.bdf;
    return undefined;
  }

  // ---- driver binding -----------------------------------------------------------------------

  /**
   * A device's driver is about to change from its current one to `to` (unbind, then bind; the
   * kernel's bind path calls this before changing KDevice.driver). For a PF: the old driver's
   * remove (ixgbe_remove and vfio_pci_remove disable SR-IOV; pci_iov_remove resets
   * driver_max_VFs since 4.18), then the new driver's probe (ixgbe: driver_max_VFs 63).
   * 0, or SriovBlocked when removing the VFs would block (nothing has changed then).
   */
  driverChange(bdf: string, to: string | undefined): 0 | SriovBlocked {
    const s = this.pfs.get(bdf);
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
    let enumText = `[${hex(vendor, 4)}:${hex(device, 4)}] type ${hex(hdrType, 2)} class 0x${hex(cls, 6)}`;
    const ex = this.host.era;
    if (ex.pciEnumLog === 'info-type') enumText += ` ${this.pciTypeStr(hw)}`;
    this.host.log.log(ex.pciEnumLog === 'debug' ? 'debug' : 'info', `pci ${bdf}: ${enumText}`);

    // pci_device_add() → iommu_bus_notifier → pci_device_group(): a new group (ACS above).
    const group = this.host.iommu.group(this.host.iommu.freeGroupId(), pf.iommu);
    const kd: KDevice = { bdf, hw, iommu: pf.iommu, msi: pf.msi, group, driver: undefined, driverUsesDma: false };
    group.devices.push(kd);
    this.host.devices.set(bdf, kd);
    s.vfs.push(kd);
    if (ex.iommuGroupLog === 'pr-info') this.host.log.info(`iommu: Adding device ${bdf} to group ${group.id}`);
    else this.host.log.info(`pci ${bdf}: Adding to iommu group ${group.id}`);

    // The PF driver's bus notifier (BUS_NOTIFY_ADD_DEVICE: vfio_pci_bus_notifier), then the
    // driver probe.
    if (pf.driver && this.pfDriver(pf.driver)?.capturesVfs) {
      this.host.log.info(`${pf.driver} ${pf.bdf}: Captured SR-IOV VF ${bdf} driver_override`);
      this.host.bind(bdf, pf.driver);
      return 0;
    }
    const drv = VF_DRIVERS[`${hex(hw.vendorId, 4)}:${hex(hw.deviceId, 4)}`];
    if (drv) {
      kd.driver = drv;
      kd.driverUsesDma = true;
    }
    return 0;
  }

  /** pci_iov_remove_virtfn(): driver unbound, device removed from its group and the bus. */
  private removeVirtfn(s: PciSriov, vf: KDevice): void {
    const h = this.host;
    const group = vf.group;
    // The VF driver's remove: vfio_pci_remove() unregisters it from VFIO (nothing to do for a
    // VF VFIO never had).
    this.vfioUnregister(vf);
    vf.driver = undefined;
    vf.driverUsesDma = false;
    // BUS_NOTIFY_REMOVED_DEVICE → iommu_group_remove_device / iommu_release_device.
    if (h.era.iommuGroupLog === 'pr-info') h.log.info(`iommu: Removing device ${vf.bdf} from group ${group.id}`);
    else if (h.era.iommuGroupLog === 'dev-info') h.log.info(`pci ${vf.bdf}: Removing from iommu group ${group.id}`);
    const at = group.devices.indexOf(vf);
    if (at >= 0) group.devices.splice(at, 1);
    // iommu_group_release(): the number goes back to the ida once nothing holds the group.
    if (group.devices.length === 0 && !h.vfioGroups.has(group.id) && h.iommu.groups.get(group.id) === group) h.iommu.groups.delete(group.id);
    h.devices.delete(vf.bdf);
    s.vfs = s.vfs.filter((v) => v !== vf);
  }

  /**
   * vfio_pci_remove() → vfio_del_group_dev() for a device nobody holds open: it leaves its
   * VFIO group; the group goes when it has no device and its file is closed.
   */
  private vfioUnregister(vf: KDevice): void {
    const h = this.host;
    const vg = h.vfioGroups.get(vf.group.id);
    h.msi.delete(vf.bdf);
    if (!vg) return;
    const at = vg.devices.findIndex((d) => d.ops.name === vf.bdf);
    if (at >= 0) vg.devices.splice(at, 1);
    if (vg.devices.length === 0 && !vg.file) h.vfioGroups.delete(vf.group.id);
  }

  /** A VF whose VFIO device is open: removing it would block. */
  private blocker(s: PciSriov): SriovBlocked | undefined {
    for (const vf of s.vfs) {
      const vd = this.host.vfioGroups.get(vf.group.id)?.devices.find((d) => d.ops.name === vf.bdf);
      if (vd && vd.openCount > 0) return { blocked: vf.bdf };
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

  /** The driver's SR-IOV side in this era, or undefined (no sriov_configure, nothing at probe/remove). */
  private pfDriver(driver: string | undefined): PfDriver | undefined {
    const d = driver !== undefined && Object.hasOwn(PF_DRIVERS, driver) ? PF_DRIVERS[driver] : undefined;
    return d && (!d.eraSwitch || this.host.era[d.eraSwitch]) ? d : undefined;
  }

  /** The new driver's probe, as far as SR-IOV goes. */
  private driverProbe(s: PciSriov, driver: string | undefined): void {
    s.driver = driver;
    const max = this.pfDriver(driver)?.maxVfsAtProbe;
    if (max !== undefined) this.setTotalVfs(s, max);
  }

  /** The PCI core as PF drivers call it. */
  private readonly pfApi: SriovPfApi = {
    enable: (s, n) => this.sriovEnable(s, n),
    disable: (s) => {
      const b = this.blocker(s);
      if (b) return b;
      this.sriovDisable(s);
      return 0;
    },
    netdevInfo: (s, text) => this.netdevInfo(s.pf, text),
    devWarn: (s, text) => this.devLog('warn', s.pf, text),
    param: (key) => this.host.params.has(key) && this.host.params.bool(key),
  };

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

  /** netdev_info(): "<driver> <bdf> <ifname>: text". */
  private netdevInfo(d: KDevice, text: string): void {
    const name = this.host.netdevName?.(d.bdf) ?? predictableNetdevName(d.bdf, this.multifunction(d.bdf));
    this.host.log.info(`${d.driver} ${d.bdf} ${name}: ${text}`);
  }

  /** systemd's is_pci_multifunction(): header type bit 7 in the device's config space. */
  private multifunction(bdf: string): boolean {
    const d = this.host.devices.get(bdf);
    return d !== undefined && (d.hw.config.read(PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MFD) !== 0;
  }
}
