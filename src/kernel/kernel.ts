// The booted kernel: an era, a platform, and the subsystems the VFIO path crosses. The
// syscall methods at the bottom are what user space (a scenario, a replayed trace) calls;
// each answers `{ret, errno}` the way the real syscall does.

import { LEGACY_CONFIG, type KernelConfig } from './config.js';
import type { IommuFault, IommuHw } from '../hw/iommu/iommu.js';
import type { Era } from './era.js';
import { MemFd } from './memfd.js';
import { EACCES, EBADF, EBUSY, EFAULT, EINVAL, EIO, ENODEV, ENOENT, ENOTTY } from '../uapi/errno.js';
import type { AccessSignal } from './mm.js';
import type { OpenFile, Prot, UserArg } from './file.js';
import { IommuCore, type IommuGroup, type KDevice } from './iommu/core.js';
import { MsiDoorbellRegistry } from './irq/msi-doorbell.js';
import type { PciMsi } from './irq/pci-msi.js';
import { PciInterruptRouter } from './irq/pci-intr.js';
import { busMasterPort, InboundLog, type DmaMemory } from './iommu/dma-path.js';
import { KernelLog } from './log.js';
import { DEFERRED_BOOT_LOG, type DeferredBootLine } from './deferred-boot-log.js';
import { ModuleParams } from './params.js';
import { FIRST_PID, Process } from './process.js';
import { VfioContainer } from './vfio/container.js';
import { VfioDevice, VfioGroup, VfioGroupFile } from './vfio/group.js';
import { VfioDeviceFile, type VfioCore } from './vfio/device.js';
import { VFIO_CDEV_OPS, VFIO_DEV_MAJOR, vfioDevSysfsRead } from './vfio/device-cdev.js';
import type { VfioIommuDriver } from './vfio/iommu-driver.js';
import type { VfioDeviceOps } from './vfio/device-ops.js';
import { IrqBypass } from './vfio/irq-bypass.js';
import { VFIO_IOMMU_DRIVERS } from './vfio/drivers.js';
import { PciIov } from './pci/iov.js';
import { pciDmaConfigure, PciDriverRegistry, pciMatchDevice, type PciDriver } from './pci/pci-driver.js';
import type { Blocked } from './would-block.js';
import { vfioPciDriver } from './vfio-pci/driver.js';
import { hostDriverModuleFor, hostPciDriver } from './drivers/host.js';
import type { Platform, PlatformDevice } from '../hw/platform.js';
import type { MsiController } from '../hw/msi/msi-controller.js';
import type { PciDeviceModel } from '../hw/pci/device.js';
import { pciSysfsPath, sysfsUpFromDevice } from './pci/sysfs-path.js';
import { PCI_INTERRUPT_LINE } from '../hw/pci/regs.js';
import { iommufdApi, iommufdOpen, IommufdFile } from './iommufd/main.js';
import type { IommufdApi } from './iommufd/device-api.js';
import type { IommufdEnv } from './iommufd/objects.js';

export interface SysResult {
  ret: number | bigint;
  errno: number;
  /**
   * The call would not return (would-block.ts): nothing has changed, and `ret`/`errno` mean
   * nothing. The caller says what it waits for.
   */
  blocked?: Blocked;
  /**
   * A load or store (not a syscall) raised a signal instead of completing (mm.ts AccessSignal);
   * errno then says the same as an errno-like fact: EFAULT for SIGSEGV (no mapping, or one whose
   * protection refuses), EIO for SIGBUS (the device mapping could not be faulted in, as
   * vfio-pci's own read of the BAR answers -EIO for the same reason).
   */
  signal?: AccessSignal;
}

const ok = (ret: number | bigint): SysResult => ({ ret, errno: 0 });
const err = (e: number): SysResult => ({ ret: -1, errno: -e });
const blocked = (b: Blocked): SysResult => ({ ret: -1, errno: 0, blocked: b });
/** A kernel return value (non-negative, or -errno) as a syscall result. */
export const sys = (r: number): SysResult => (r < 0 ? err(r) : ok(r));
/** A handler's answer (a value, -errno, or a Blocked fact) as a syscall result. */
const sysOrBlocked = (r: number | Blocked): SysResult => (typeof r === 'number' ? sys(r) : blocked(r));

/** A load or store's outcome: done, or its signal with the errno-like fact (SysResult.signal). */
const accessResult = (sig: AccessSignal | undefined): SysResult =>
  sig === undefined ? ok(0) : { ret: -1, errno: sig === 'SIGBUS' ? EIO : EFAULT, signal: sig };

/** The module each VFIO IOMMU backend is built as. */
const VFIO_IOMMU_MODULES = new Map([
  ['type1', 'vfio_iommu_type1'],
  ['spapr', 'vfio_iommu_spapr_tce'],
]);

/**
 * A device found on the bus at boot. Its function is read through: the platform builds one
 * on first use. A class and not an object literal with a `get hw()`, whose getter closure
 * would give each boot's devices a hidden class of their own in the old generation, keeping
 * the machine alive through young-generation collections (hw/presets.ts LazyFunction).
 */
class BootDevice implements KDevice {
  readonly bdf: string;
  readonly sriovCapable?: boolean;
  readonly iommu: IommuHw;
  readonly msi: MsiController;
  driver?: string;
  driverUsesDma: boolean;
  driverOverride?: string;

  /** Handed out once: the PCI core has enumerated it (PciIov.enumerate). */
  private enumerated = false;

  constructor(
    private readonly on: PlatformDevice,
    readonly group: IommuGroup,
    private readonly iov: () => PciIov,
  ) {
    this.bdf = on.bdf;
    this.sriovCapable = on.sriovCapable;
    this.iommu = on.iommu;
    this.msi = on.msi;
    this.driver = on.hostDriver;
    this.driverUsesDma = on.hostDriver !== undefined;
  }

  /** The function; the first time, after the PCI core's enumeration of it (sriov_init()). */
  get hw(): PciDeviceModel {
    const hw = this.on.hw;
    if (!this.enumerated) {
      this.enumerated = true;
      this.iov().enumerate(this.bdf);
    }
    return hw;
  }
}

export class Kernel {
  readonly log: KernelLog;
  readonly params: ModuleParams;
  readonly iommu: IommuCore;
  readonly doorbells?: MsiDoorbellRegistry;
  readonly devices = new Map<string, KDevice>();
  readonly vfioGroups = new Map<number, VfioGroup>();
  readonly msi = new Map<string, PciMsi>();
  /** DMA and MSI writes devices issued, and where they ended. */
  readonly inbound = new InboundLog((f, bdf) => this.logFault(f, this.devices.get(bdf)?.hw.inTimer === true));
  private readonly interrupts = new PciInterruptRouter(this.msi, this.inbound);
  /** Processes started on this kernel, oldest first: whose memory device DMA reaches. */
  private readonly processes: Process[] = [];
  readonly containers: VfioContainer[] = [];
  readonly sriov: PciIov;
  /** The VFIO IOMMU backends registered, in the order the container polls them. */
  readonly vfioDrivers: VfioIommuDriver[] = [];
  private containerIds = 0;
  /** iommufd's API for VFIO (CONFIG_IOMMUFD), and what its contexts are given. */
  readonly iommufd?: IommufdApi;
  private readonly iommufdEnv?: IommufdEnv;
  private compatAnnounced = false;
  /** What the VFIO core sees of this kernel: era, build, iommufd, and the cdev if built. */
  readonly vfioCore: VfioCore;
  /** Lines deferred boot work prints once, at no particular system call (deferred-boot-log.ts). */
  readonly deferredBootLog: readonly DeferredBootLine[];

  constructor(
    readonly era: Era,
    readonly platform: Platform,
    readonly config: KernelConfig = LEGACY_CONFIG,
    /** iommufd's contract side, where the build has CONFIG_IOMMUFD. */
    iommufd?: IommufdApi,
  ) {
    this.log = new KernelLog(platform.hardwareName);
    this.deferredBootLog = DEFERRED_BOOT_LOG[platform.arch];
    this.iommu = new IommuCore(era, this.log);
    // The modules loaded: the VFIO core and vfio-pci, and the platform's IOMMU backends, which
    // Kconfig builds only inside `if VFIO_CONTAINER` (drivers/vfio/Kconfig): with iommufd
    // serving /dev/vfio/vfio there is no vfio_iommu_type1 and no parameter of it.
    const backends = config.vfioContainer === 'legacy' ? platform.vfioIommuDrivers.map((d) => VFIO_IOMMU_MODULES.get(d) ?? d) : [];
    const modules = ['vfio', 'vfio_pci', ...backends, ...(config.iommufd ? ['iommufd'] : [])];
    this.params = new ModuleParams(modules, era);
    if (config.iommufd) {
      this.iommufd = iommufdApi();
      // The model's user is root (CAP_SYS_RESOURCE), as the harness's probes run.
      this.iommufdEnv = { era, log: this.log, params: this.params, iommu: this.iommu, pageSize: platform.pageSize, capSysResource: true };
    }
    this.vfioCore = {
      era,
      config,
      iommufd: config.iommufd ? (iommufd ?? this.iommufd) : undefined,
      cdev: config.deviceCdev && era.vfioDeviceCdev ? VFIO_CDEV_OPS : undefined,
      cdevMajor: VFIO_DEV_MAJOR,
    };
    if (era.msiDoorbellRegistry) {
      // MSI controllers register their doorbells at probe (the series' msi-doorbell layer).
      this.doorbells = new MsiDoorbellRegistry(platform.possibleCpus);
      for (const c of platform.msiControllers) if (c.registersDoorbells) this.doorbells.register(c);
    }
    const iov = (): PciIov => this.sriov;
    for (const d of platform.devices) {
      const group = this.iommu.group(era.iommuProbeAtScan && d.groupAtScan !== undefined ? d.groupAtScan : d.group, d.iommu);
      const kd = new BootDevice(d, group, iov);
      group.devices.push(kd);
      this.devices.set(d.bdf, kd);
    }
    // The PCI drivers registered at boot (vfio-pci, the platform's kernel drivers).
    const pciDrivers = (this.pciDrivers = this.registerPciDrivers());
    this.sriov = new PciIov({
      era,
      log: this.log,
      iommu: this.iommu,
      // A VFIO group holds a reference to its IOMMU group.
      groupHeld: (group) => this.vfioGroups.has(group.id),
      devices: this.devices,
      drivers: pciDrivers,
      deviceAdded: (dev) => this.deviceAdded(dev),
      pageSize: platform.pageSize,
    });
    for (const name of platform.vfioIommuDrivers) {
      const make = VFIO_IOMMU_DRIVERS[name];
      if (!make) {
        // Only the shipped presets reach here (findPreset), and each names a modelled backend.
        const known = Object.keys(VFIO_IOMMU_DRIVERS).join(', ');
        throw new Error(`platform ${platform.preset}: unknown VFIO IOMMU backend "${name}": expected one of ${known}`);
      }
      this.vfioDrivers.push(
        make({
          era,
          log: this.log,
          params: this.params,
          iommu: this.iommu,
          controllers: platform.msiControllers,
          doorbells: this.doorbells,
          pageSize: platform.pageSize,
        }),
      );
    }
  }

  newProcess(): Process {
    const p = new Process(
      {
        pageSize: this.platform.pageSize,
        taskSize: this.platform.taskSize,
        mmapBase: this.platform.mmapBase,
        minAddr: 0x1_0000n,
      },
      FIRST_PID + this.processes.length,
    );
    this.processes.push(p);
    return p;
  }

  /**
   * The memory a device's DMA reaches: the address space of the process holding the device's
   * VFIO group open, whose pages its container pinned (each model process numbers its own
   * physical memory). None: the DMA has no memory behind it.
   */
  private dmaMemory(dev: KDevice): DmaMemory | undefined {
    const path = `/dev/vfio/${dev.group.id}`;
    // Through iommufd: the process whose iommufd has the device's group bound (its pages).
    const holds = (f: OpenFile) => f.path === path || (f.ops instanceof IommufdFile && f.ops.holdsGroup(dev.group));
    return this.processes.find((p) => p.openFds().some(([, f]) => holds(f)))?.mm;
  }

  // ---- drivers and binding -----------------------------------------------------------------

  /** The PCI drivers registered on the bus (struct pci_driver ops, by name). */
  private readonly pciDrivers: PciDriverRegistry;

  /**
   * The PCI drivers at boot: vfio-pci (the module the model loads), and each kernel driver the
   * platform bound a function to at enumeration, matching the functions it took.
   */
  private registerPciDrivers(): PciDriverRegistry {
    const reg = new PciDriverRegistry();
    reg.register(
      vfioPciDriver({
        era: this.era,
        log: this.log,
        params: this.params,
        vfioCore: this.vfioCore,
        vfioGroups: this.vfioGroups,
        msi: this.msi,
        pageSize: this.platform.pageSize,
        irqBypass: this.irqBypass,
        connect: (dev) => {
          dev.hw.connectInterrupts(this.interrupts.sinkFor(dev));
          dev.hw.connectBusMaster(busMasterPort(dev, () => this.dmaMemory(dev), (r) => this.inbound.add({ what: 'dma', ...r })));
        },
        routeIntx: (bdf) => this.routeIntx(bdf),
        vfioDeviceIndex: () => this.vfioDeviceIndex(),
      }),
    );
    const boot = new Map<string, Set<string>>();
    for (const d of this.platform.devices) {
      if (d.hostDriver === undefined) continue;
      const took = boot.get(d.hostDriver) ?? new Set<string>();
      took.add(d.bdf);
      boot.set(d.hostDriver, took);
    }
    // A name already registered keeps its first driver (driver_register's -EBUSY).
    for (const [name, took] of boot) reg.register(hostPciDriver(name, took));
    return reg;
  }

  /**
   * Binds a device to a driver that registers it with VFIO (driver_override, the old driver's
   * unbind, drivers_probe): the group number (/dev/vfio/GROUP), -EINVAL for a driver that is
   * not such a registered driver, or blocked when the old driver's remove would wait for a
   * user (a PF's VFs open through VFIO).
   */
  bind(bdf: string, driver: string): SysResult {
    const dev = this.devices.get(bdf);
    if (!dev) return err(-ENODEV);
    const drv = this.pciDrivers.get(driver);
    if (!drv?.registersVfioDevice) return err(-EINVAL);
    dev.driverOverride = driver;
    if (dev.driver === driver) return ok(dev.group.id);
    // The old driver's unbind waits while its remove would (a device open through VFIO).
    const waits = dev.driver === undefined ? undefined : this.pciDrivers.get(dev.driver)?.removeWaits?.(dev);
    if (waits) return blocked(waits);
    if (dev.driver && this.platform.linuxAssignsIntxLine && this.era.unbindClearsIntxLine) {
      dev.hw.config.write(PCI_INTERRUPT_LINE, 1, 0);
    }
    const r = this.reallyProbe(dev, drv);
    if (typeof r !== 'number') return blocked(r);
    return r === 0 ? ok(dev.group.id) : err(-Math.abs(r));
  }

  /** The registered drivers that register their devices with VFIO (what `bind` takes). */
  vfioBusDriverNames(): string[] {
    return this.pciDrivers.names().filter((n) => this.pciDrivers.get(n)?.registersVfioDevice);
  }

  /**
   * really_probe() of `drv` for `dev` (drivers/base/dd.c): pci_dma_configure() first, whose
   * -EBUSY fails the bind before the driver is called; then the device leaves its old driver
   * (SR-IOV's remove side, the driver's remove) and the new one probes (SR-IOV's probe side,
   * pci_device_probe → drv->probe). 0 bound; -errno from the bus; a positive errno from the
   * driver's probe (really_probe returns those positive, for device_attach to try the next
   * driver; no modelled probe fails); or
   * Blocked when removing the old driver's VFs would wait for a user (nothing has changed).
   */
  private reallyProbe(dev: KDevice, drv: PciDriver): number | Blocked {
    const dma = pciDmaConfigure(this.era, drv, dev);
    if (dma) return dma;
    const old = dev.driver === undefined ? undefined : this.pciDrivers.get(dev.driver);
    const change = this.sriov.driverChange(dev.bdf, drv.name);
    if (change !== 0) return change;
    old?.remove?.(dev);
    dev.driver = drv.name;
    dev.driverUsesDma = !drv.driverManagedDma;
    const ret = drv.probe(dev);
    if (ret === 0) {
      // driver_bound(): BUS_NOTIFY_BOUND_DRIVER.
      this.sriov.bound(dev);
      return 0;
    }
    dev.driver = undefined;
    dev.driverUsesDma = false;
    return -ret;
  }

  /**
   * device_attach() of an unbound device: bus_for_each_drv(__device_attach_driver), the first
   * registered driver that pci_match_device() accepts and whose probe succeeds binds it. A
   * bus error (pci_dma_configure's -EBUSY) stops the walk and is returned; a driver's probe
   * error lets the next driver try.
   */
  private attach(dev: KDevice): number | Blocked {
    for (const drv of this.pciDrivers.all()) {
      if (!pciMatchDevice(drv, dev)) continue;
      const r = this.reallyProbe(dev, drv);
      if (typeof r !== 'number' || r <= 0) return r;
    }
    return 0;
  }

  /**
   * device_add() of a new function (an SR-IOV VF): bus_probe_device() (which ignores
   * device_attach()'s result), then what its KOBJ_ADD uevent makes udev do: systemd's
   * rules.d/80-drivers.rules runs "kmod load $env{MODALIAS}" for every added device, whichever
   * driver took it, so the module whose id table has it is loaded (and stays: the kernel never
   * unloads one by itself); its driver_register() → driver_attach() offers it each unbound
   * device it matches.
   */
  private deviceAdded(dev: KDevice): void {
    this.attach(dev);
    const module = hostDriverModuleFor(dev);
    if (module === undefined || this.pciDrivers.get(module)) return;
    const drv = hostPciDriver(module);
    this.pciDrivers.register(drv);
    // __driver_attach() ignores each probe's result.
    for (const d of this.devices.values()) if (!d.driver && pciMatchDevice(drv, d)) this.reallyProbe(d, drv);
  }

  /**
   * Unbinds a device from its driver (unbind_store → device_release_driver): the driver's
   * remove runs. vfio-pci's waits while the device is open through VFIO (vfio_del_group_dev,
   * vfio_unregister_group_dev in later kernels): Blocked. A kernel driver's remove ends its
   * use of the DMA API, so the group may become viable. -ENOENT without a driver: the
   * device's `driver/unbind` does not exist.
   */
  unbind(bdf: string): number | Blocked {
    const dev = this.devices.get(bdf);
    if (!dev?.driver) return -ENOENT;
    const drv = this.pciDrivers.get(dev.driver);
    const waits = drv?.removeWaits?.(dev);
    if (waits) return waits;
    const change = this.sriov.driverChange(bdf, undefined);
    if (change !== 0) return change;
    drv?.remove?.(dev);
    if (this.platform.linuxAssignsIntxLine && this.era.unbindClearsIntxLine) dev.hw.config.write(PCI_INTERRUPT_LINE, 1, 0);
    dev.driver = undefined;
    dev.driverUsesDma = false;
    return 0;
  }

  /**
   * drivers_probe_store → bus_rescan_devices_helper: an unbound device gets the driver its
   * driver_override names, or without one the driver whose id table has it (a kernel driver
   * takes the functions it took at boot). A bound device stays as it is.
   */
  probe(bdf: string): number | Blocked {
    const dev = this.devices.get(bdf);
    if (!dev) return -ENODEV;
    if (dev.driver) return 0;
    // bus_rescan_devices_helper() passes device_attach()'s error up (ret < 0 ? ret : 0).
    return this.attach(dev);
  }

  /** The VFIO device registered for a PCI device, if it is bound to vfio-pci. */
  vfioDeviceOf(bdf: string): VfioDevice | undefined {
    return this.vfioDevices().find((d) => d.kdev.bdf === bdf);
  }

  /** Registered VFIO devices, in no particular order. */
  private vfioDevices(): VfioDevice[] {
    return [...this.vfioGroups.values()].flatMap((g) => g.devices);
  }

  /** ida_alloc_max(&vfio.device_ida): the lowest index no registered device holds. */
  private vfioDeviceIndex(): number {
    const used = new Set(this.vfioDevices().map((d) => d.index));
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }

  private readonly routedLinks = new Set<string>();
  /** virt/lib/irqbypass.c's producer list, one per boot. */
  private readonly irqBypass = new IrqBypass();

  /**
   * pci_enable_device() also routes the device's INTx (pcibios_enable_irq): on x86 through an
   * ACPI interrupt link, which the kernel enables (and announces) the first time any device
   * needs it in a boot, before anything the driver does after enabling (6.13's reset warning).
   */
  private routeIntx(bdf: string): void {
    const link = this.platform.devices.find((d) => d.bdf === bdf)?.acpiIrqLink;
    if (!link || this.routedLinks.has(link.link)) return;
    this.routedLinks.add(link.link);
    this.log.log('info', `ACPI: \\_SB_.${link.link}: Enabled at IRQ ${link.irq}`, true);
  }

  // ---- syscalls ---------------------------------------------------------------------------
  // Each entry first makes its caller `current` (what a WARN report names).

  open(proc: Process, path: string): SysResult {
    this.log.current = proc;
    if (path === '/dev/iommu') return this.iommufdEnv ? sys(proc.install(iommufdOpen(this.iommufdEnv, proc, false), path)) : err(-ENOENT);
    if (path === '/dev/vfio/vfio' && this.config.vfioContainer === 'iommufd') {
      if (!this.iommufdEnv) return err(-ENOENT);
      // iommufd_fops_open(): VFIO's rlimit accounting, announced once per boot (pr_info_once).
      if (!this.compatAnnounced) this.log.log('info', 'iommufd: IOMMUFD is providing /dev/vfio/vfio, not VFIO.', true);
      this.compatAnnounced = true;
      return sys(proc.install(iommufdOpen(this.iommufdEnv, proc, true), path));
    }
    if (path === '/dev/vfio/vfio') {
      const c = new VfioContainer(this.vfioDrivers, this.iommu, this.era, this.containerIds++);
      this.containers.push(c);
      return sys(proc.install(c, path));
    }
    const cdev = /^\/dev\/vfio\/devices\/vfio(\d+)$/.exec(path);
    if (cdev && this.vfioCore.cdev) {
      // vfio_device_fops_cdev_open(): the node exists while the device is registered.
      const d = this.vfioDevices().find((v) => `vfio${v.index}` === `vfio${cdev[1]}`);
      if (!d) return err(-ENOENT);
      return sys(proc.install(new VfioDeviceFile(d, this.vfioCore), path));
    }
    const m = /^\/dev\/vfio\/(\d+)$/.exec(path);
    if (m) {
      const g = this.vfioGroups.get(Number(m[1]));
      if (!g) return err(-ENOENT);
      // vfio_group_fops_open(): a device bound through its cdev, or the group already open.
      if (g.cdevDeviceOpenCnt || g.file) return err(-EBUSY);
      const f = new VfioGroupFile(g);
      const fd = proc.install(f, path);
      if (fd >= 0) g.file = f;
      return sys(fd);
    }
    return err(-ENOENT);
  }

  close(proc: Process, fd: number): SysResult {
    this.log.current = proc;
    return sys(proc.close(fd));
  }

  ioctl(proc: Process, fd: number, cmd: number, arg: UserArg): SysResult {
    this.log.current = proc;
    const f = proc.file(fd);
    if (!f) return err(-EBADF);
    if (!f.ops.ioctl) return err(-ENOTTY);
    return sysOrBlocked(f.ops.ioctl(proc, cmd, arg));
  }

  pread(proc: Process, fd: number, out: Uint8Array, offset: bigint): SysResult {
    this.log.current = proc;
    const f = proc.file(fd);
    if (!f) return err(-EBADF);
    if (!f.ops.read) return err(-EINVAL);
    return sys(f.ops.read(proc, out, offset));
  }

  pwrite(proc: Process, fd: number, data: Uint8Array, offset: bigint): SysResult {
    this.log.current = proc;
    const f = proc.file(fd);
    if (!f) return err(-EBADF);
    if (!f.ops.write) return err(-EINVAL);
    return sys(f.ops.write(proc, data, offset));
  }

  /** read(2): at the file position (the file's own read where pread is not that, file.ts readPos). */
  read(proc: Process, fd: number, out: Uint8Array): SysResult {
    return this.atPosition(proc, fd, out, 'read');
  }

  /** write(2): at the file position, as read. */
  write(proc: Process, fd: number, data: Uint8Array): SysResult {
    return this.atPosition(proc, fd, data, 'write');
  }

  private atPosition(proc: Process, fd: number, buf: Uint8Array, dir: 'read' | 'write'): SysResult {
    this.log.current = proc;
    const f = proc.file(fd);
    if (!f) return err(-EBADF);
    const ops = f.ops;
    const own = dir === 'read' ? ops.readPos : ops.writePos;
    if (own) return sys(own.call(ops, proc, buf));
    const at = dir === 'read' ? ops.read : ops.write;
    if (!at) return err(-EINVAL);
    const n = at.call(ops, proc, buf, f.pos);
    if (n > 0) f.pos += BigInt(n);
    return sys(n);
  }

  /** mmap(2): anonymous memory, or a device region when `fd` is given. */
  mmap(proc: Process, len: bigint, prot: Prot, opts: { fd?: number; offset?: bigint; hint?: bigint } = {}): SysResult {
    this.log.current = proc;
    if (opts.fd !== undefined) {
      const f = proc.file(opts.fd);
      if (!f) return err(-EBADF);
      if (!f.ops.mmap) return err(-ENODEV);
      if (len === 0n) return err(-EINVAL);
      const r = f.ops.mmap(proc, opts.offset ?? 0n, proc.mm.pageAlignUp(len), prot);
      if (r < 0) return err(r);
      // A memfd's MAP_SHARED mapping is its pages, memory like any other (GUP pins it).
      if (f.ops instanceof MemFd) {
        const at = proc.mm.mmap(len, prot, opts.hint, undefined, f.ops.physAt(opts.offset ?? 0n));
        return at < 0n ? err(Number(at)) : ok(at);
      }
      // The VMA remembers its file and offset: loads and stores in it reach the region.
      const addr = proc.mm.mmap(len, prot, opts.hint, { file: f.ops, offset: opts.offset ?? 0n });
      return addr < 0n ? err(Number(addr)) : ok(addr);
    }
    const addr = proc.mm.mmap(len, prot, opts.hint);
    return addr < 0n ? err(Number(addr)) : ok(addr);
  }

  /**
   * A CPU load of out.length bytes (1, 2, 4 or 8) at addr in the process: fills `out`, ret 0.
   * Not a syscall: what the MMU and the fault handler do (mm.ts access). In a device mapping
   * it is a memory read of the BAR, bypassing vfio-pci's read checks.
   */
  load(proc: Process, addr: bigint, out: Uint8Array): SysResult {
    this.log.current = proc;
    return accessResult(proc.mm.access(addr, out, false));
  }

  /** A CPU store of data (1, 2, 4 or 8 bytes) at addr: ret 0, or the signal it raised. */
  store(proc: Process, addr: bigint, data: Uint8Array): SysResult {
    this.log.current = proc;
    return accessResult(proc.mm.access(addr, data.slice(), true));
  }

  munmap(proc: Process, addr: bigint, len: bigint): SysResult {
    this.log.current = proc;
    return sys(proc.mm.munmap(addr, len));
  }

  mprotect(proc: Process, addr: bigint, len: bigint, prot: Prot): SysResult {
    this.log.current = proc;
    return sys(proc.mm.mprotect(addr, len, prot));
  }

  /** memfd_create(2) then ftruncate(2) to `len` (kernel/memfd.ts). */
  memfd(proc: Process, len: bigint, name = 'vfio-emu'): SysResult {
    this.log.current = proc;
    return sys(proc.install(new MemFd(proc.mm, len), `/memfd:${name} (deleted)`));
  }

  eventfd(proc: Process): SysResult {
    this.log.current = proc;
    return sys(proc.eventfd());
  }

  // ---- sysfs ------------------------------------------------------------------------------

  /** The directory of a PCI function below /sys/devices (pci0000:00/…/BDF). */
  pciSysfsPath(bdf: string): string {
    return pciSysfsPath(bdf, this.platform.pciBridges);
  }

  /** A read of a sysfs file: its content, or -errno. */
  sysfsRead(path: string): string | number {
    let m = /^\/sys\/kernel\/iommu_groups\/(\d+)\/(type|reserved_regions|devices)$/.exec(path);
    if (m) {
      const g = this.iommu.groups.get(Number(m[1]));
      if (!g) return -ENOENT;
      if (m[2] === 'type') return this.era.sysfsGroupType ? `${g.iommu.defaultDomainType}\n` : -ENOENT;
      if (m[2] === 'reserved_regions') return this.era.sysfsResvRegions ? this.iommu.resvRegionsText(g) : -ENOENT;
      return g.devices.map((d) => `${d.bdf}\n`).join('');
    }
    m = /^\/sys\/module\/([a-z0-9_]+)\/parameters\/([a-z0-9_]+)$/.exec(path);
    if (m) return this.params.text(`${m[1]}.${m[2]}`) ?? -ENOENT;
    m = /^\/sys\/bus\/pci\/devices\/([0-9a-f:.]+)\/(iommu_group|driver|driver_override|sriov_numvfs|sriov_totalvfs)$/.exec(path);
    if (m) {
      const d = this.devices.get(m[1]);
      if (!d) return -ENOENT;
      if (m[2] === 'sriov_numvfs') return this.sriov.numvfsRead(m[1]);
      if (m[2] === 'sriov_totalvfs') return this.sriov.totalvfsRead(m[1]);
      // driver_override_show(): "%s\n" of the override, "(null)" when none is set.
      if (m[2] === 'driver_override') return `${d.driverOverride ?? '(null)'}\n`;
      // The links sit in the device's own directory (kernel/pci/sysfs-path.ts), so they climb
      // one level more per bridge above it.
      const up = sysfsUpFromDevice(d.bdf, this.platform.pciBridges);
      if (m[2] === 'iommu_group') return `${up}kernel/iommu_groups/${d.group.id}\n`;
      return d.driver ? `${up}bus/pci/drivers/${d.driver}\n` : -ENOENT;
    }
    m = /^\/sys\/bus\/pci\/devices\/([0-9a-f:.]+)\/vfio-dev\/(vfio\d+)\/([a-z]+)$/.exec(path);
    if (m && this.era.vfioDeviceSysfs) {
      const v = this.vfioDevices().find((d) => d.kdev.bdf === m![1] && d.name === m![2]);
      const text = v && vfioDevSysfsRead(this.vfioCore, v, m[3]);
      return text ?? -ENOENT;
    }
    return -ENOENT;
  }

  /** A write of a sysfs file: bytes written, -errno, or Blocked when the write would not return. */
  sysfsWrite(path: string, text: string): number | Blocked {
    const m = /^\/sys\/module\/([a-z0-9_]+)\/parameters\/([a-z0-9_]+)$/.exec(path);
    if (m) {
      const key = `${m[1]}.${m[2]}`;
      if (!this.params.has(key)) return -ENOENT;
      const r = this.params.set(key, text);
      return r < 0 ? r : text.length;
    }
    const dw = this.driverWrite(path, text);
    if (dw !== undefined) return dw;
    const vf = /^\/sys\/bus\/pci\/devices\/([0-9a-f:.]+)\/sriov_numvfs$/.exec(path);
    if (vf) {
      if (!this.devices.has(vf[1])) return -ENOENT;
      return this.sriov.numvfsWrite(vf[1], text);
    }
    // kernfs_fop_open(): an attribute that exists but has no store is -EACCES (even for
    // root); a path that names no attribute is -ENOENT.
    return typeof this.sysfsRead(path) === 'string' ? -EACCES : -ENOENT;
  }

  /**
   * The driver-binding files: a device's driver_override, its driver's unbind (through the
   * device's `driver` link or /sys/bus/pci/drivers/DRIVER/unbind) and drivers_probe. Bytes
   * written, -errno, Blocked, or undefined for any other path.
   */
  private driverWrite(path: string, text: string): number | Blocked | undefined {
    const name = text.replace(/\n$/, '');
    let m = /^\/sys\/bus\/pci\/devices\/([0-9a-f:.]+)\/driver_override$/.exec(path);
    if (m) {
      const dev = this.devices.get(m[1]);
      if (!dev) return -ENOENT;
      // driver_override_store(): up to the first newline; an empty name clears it.
      const value = text.split('\n')[0];
      dev.driverOverride = value === '' ? undefined : value;
      return text.length;
    }
    m = /^\/sys\/bus\/pci\/(?:devices\/([0-9a-f:.]+)\/driver|drivers\/([a-z0-9_-]+))\/(unbind|bind)$/.exec(path);
    if (m) {
      const via = m[1] !== undefined ? this.devices.get(m[1])?.driver : m[2];
      if (via === undefined || !this.pciDriverNames().includes(via)) return -ENOENT;
      const dev = this.devices.get(name);
      if (m[3] === 'bind') return this.bindStore(via, name, text.length);
      // unbind_store(): the named device, bound to this driver, or -ENODEV.
      if (!dev || dev.driver !== via) return -ENODEV;
      const r = this.unbind(name);
      return typeof r === 'number' && r === 0 ? text.length : r;
    }
    if (path === '/sys/bus/pci/drivers_probe') {
      // drivers_probe_store(): bus_find_device_by_name(), -ENODEV for no such device; any
      // error of bus_rescan_devices_helper() (device_attach's, e.g. pci_dma_configure's
      // -EBUSY) is -EINVAL, the store's initial err.
      if (!this.devices.has(name)) return -ENODEV;
      const r = this.probe(name);
      if (typeof r !== 'number') return r;
      return r === 0 ? text.length : -EINVAL;
    }
    return undefined;
  }

  /**
   * The PCI drivers registered, each a directory under /sys/bus/pci/drivers: vfio-pci, the
   * platform's kernel drivers (loaded at boot for their devices), and any module loaded since.
   */
  pciDriverNames(): string[] {
    return this.pciDrivers.names();
  }

  /**
   * bind_store() (drivers/base/bus.c): bus_find_device_by_name() and driver_match_device(), else
   * -ENODEV (pci_match_device: only the driver driver_override names when one is set, else the
   * id table). A device that already has a driver: -EBUSY from device_driver_attach() where the
   * era has it, else bind_store's -ENODEV. Then the probe. Bytes written, or -errno.
   */
  private bindStore(driver: string, bdf: string, count: number): number | Blocked {
    const dev = this.devices.get(bdf);
    if (!dev) return -ENODEV;
    const drv = this.pciDrivers.get(driver);
    if (!drv || !pciMatchDevice(drv, dev)) return -ENODEV;
    if (dev.driver) return this.era.bindStoreBusy ? -EBUSY : -ENODEV;
    const r = this.reallyProbe(dev, drv);
    if (typeof r !== 'number') return r;
    // device_driver_attach() returns a probe error as a negative errno.
    return r === 0 ? count : -Math.abs(r);
  }

  /** Groups in number order. */
  /**
   * An IOMMU fault record reaches the driver's interrupt handler, which prints it
   * (dmar_fault, arm_smmu_evtq_thread, amd_iommu_report_page_fault, pamu_av_isr, EEH).
   * `afterCall`: the transaction came from work a device runs from a timer, so the interrupt
   * arrived after the call that armed it returned (LogLine.afterCall).
   */
  logFault(f: IommuFault, afterCall = false): void {
    for (const l of f.log ?? [f.text]) {
      if (afterCall) this.log.afterCall('err', l);
      else this.log.log('err', l);
    }
  }

  groupList(): IommuGroup[] {
    return [...this.iommu.groups.values()].sort((a, b) => a.id - b.id);
  }
}
