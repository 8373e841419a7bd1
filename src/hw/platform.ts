// A machine as the kernel model boots it: IOMMUs, MSI controllers and PCI devices, already
// instantiated from a preset (presets.ts) and its options. The kernel model takes this and
// nothing else; it never sees a preset's name.

import type { IommuHw } from './iommu/iommu.js';
import type { MsiController } from './msi/msi-controller.js';
import type { PciDeviceModel } from './pci/device.js';

export type Arch = 'x86_64' | 'aarch64' | 'ppc64le';

export interface PlatformDevice {
  bdf: string;
  /** The function; a shipped preset's is built on first use (presets.ts). */
  readonly hw: PciDeviceModel;
  /**
   * False when the function has no SR-IOV capability, known from its model without building
   * it; undefined: look at its config space.
   */
  sriovCapable?: boolean;
  iommu: IommuHw;
  msi: MsiController;
  /** The IOMMU group number the kernel gives the device. */
  group: number;
  /**
   * Where the firmware is a device tree (QEMU virt), kernels before 6.15 probed a function's
   * IOMMU only when a driver bound it, so `group` is the order the recordings bound them in;
   * from 6.15 every function is probed as the bus is scanned, host bridge first (Era.
   * iommuProbeAtScan), and this is its group then.
   */
  groupAtScan?: number;
  /** The host driver bound at boot (before any `bind`), if any. */
  hostDriver?: string;
  /**
   * The ACPI PCI interrupt link routing the device's INTx (x86 firmware), enabled on the first
   * pci_enable_device of the boot: "ACPI: \_SB_.GSIF: Enabled at IRQ 21".
   */
  acpiIrqLink?: { link: string; irq: number };
}

/**
 * A PCI-to-PCI bridge (a root port) above a secondary bus: the bridge itself is not modelled
 * as a function, only where it sits, for the sysfs paths of the functions below it.
 */
export interface PciBridge {
  bdf: string;
  /** The bus number its secondary side carries, in the bridge's domain. */
  secondaryBus: number;
}

export interface Platform {
  preset: string;
  options: Record<string, string>;
  description: string;
  arch: Arch;
  /** uname -m, as a trace header records it. */
  machine: string;
  pageSize: bigint;
  possibleCpus: number;
  /** User address space: TASK_SIZE and where mmap starts placing mappings. */
  taskSize: bigint;
  mmapBase: bigint;
  iommus: IommuHw[];
  msiControllers: MsiController[];
  devices: PlatformDevice[];
  /** The VFIO IOMMU backends this machine's kernel registers, by VFIO_IOMMU_DRIVERS key ("type1", "spapr"). */
  vfioIommuDrivers: string[];
  /** No firmware assigns PCI INTx lines: Linux writes its own IRQ numbers (arm64 DT). */
  linuxAssignsIntxLine: boolean;
  /**
   * The firmware's description of the machine (dmi_format_ids(): DMI vendor and product, BIOS
   * version and date), which oops and WARN reports print as "Hardware name: ..."; unknown: absent.
   */
  hardwareName?: string;
  /** The bridges above the secondary buses the devices sit on (none: every bus is a root bus). */
  pciBridges: PciBridge[];
}
