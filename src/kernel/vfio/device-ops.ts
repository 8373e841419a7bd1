// struct vfio_device_ops: what a VFIO bus driver (vfio-pci) implements. The VFIO core
// (group.ts) owns device fds and calls these; it never asks which driver it is talking to.

import type { Era } from '../era.js';
import type { Prot, UserArg } from '../file.js';
import type { KernelLog } from '../log.js';
import type { Process } from '../process.js';
import type { PciIrqOps } from '../irq/pci-irq.js';
import type { IrqBypass } from './irq-bypass.js';

export interface VfioDeviceOps {
  /** The name GROUP_GET_DEVICE_FD matches (dev_name(): the PCI BDF). */
  readonly name: string;
  /** First open of the device (open_device: vfio_pci_core_enable). 0 or -errno. */
  openDevice(): number;
  /** Last close (close_device: vfio_pci_core_disable). */
  closeDevice(): void;
  /** Device-fd ioctls. Non-negative or -errno. */
  ioctl(proc: Process, cmd: number, arg: UserArg): number;
  /** The features the VFIO core passes on (VFIO_DEVICE_FEATURE). Non-negative or -errno. */
  deviceFeature?(proc: Process, flags: number, data: Uint8Array, argsz: number): number;
  /** pread on the device fd: offset = region index << 40 | offset in region. Bytes or -errno. */
  read(proc: Process, out: Uint8Array, offset: bigint): number;
  write(proc: Process, data: Uint8Array, offset: bigint): number;
  /** mmap of a region: 0 or -errno. */
  mmap(proc: Process, offset: bigint, len: bigint, prot: Prot): number;
  /** A CPU load or store through an mmap of a region (vm_ops fault + access): 0 or -errno (SIGBUS). */
  mappedAccess?(offset: bigint, buf: Uint8Array, iswrite: boolean): number;
  /** The physical address the region's mmap fault handler inserts at offset; undefined: SIGBUS. */
  mappedPhys?(offset: bigint): bigint | undefined;
  /**
   * match_token_uuid (6.17): 0 when the VF token (null: none given) lets this device be
   * bound through its cdev, else -errno. Absent: the driver takes no token.
   */
  matchTokenUuid?(uuid: Uint8Array | null): number;
  /**
   * match (vfio_device_ops.match): whether GROUP_GET_DEVICE_FD's string names this device, 1
   * or 0, or -errno to fail the call. Absent: the string must be the name.
   */
  match?(buf: string): number;
}

/** What the VFIO core hands a bus driver when it creates a device. */
export interface VfioDriverContext {
  era: Era;
  log: KernelLog;
  irq: PciIrqOps;
  /** The boot's irqbypass producer list; absent, producers always register (no log line). */
  irqBypass?: IrqBypass;
  /** PAGE_SIZE: mmap granularity and the MSI-X table's page alignment (4 KiB, 64 KiB on ppc64le). */
  pageSize: bigint;
  /** The platform's INTx routing at pci_enable_device() (PciDevOptions.irqEnable). */
  irqEnable?: () => void;
}
