// struct vfio_device_ops: what a VFIO bus driver (vfio-pci) implements. The VFIO core
// (group.ts) owns device fds and calls these; it never asks which driver it is talking to.

import type { Era } from '../era.js';
import type { EventFd } from '../eventfd.js';
import type { Prot, UserArg } from '../file.js';
import type { KernelLog } from '../log.js';
import type { Process } from '../process.js';

export interface VfioDeviceOps {
  /** The name GROUP_GET_DEVICE_FD matches (dev_name(): the PCI BDF). */
  readonly name: string;
  /** First open of the device (open_device: vfio_pci_core_enable). 0 or -errno. */
  openDevice(): number;
  /** Last close (close_device: vfio_pci_core_disable). */
  closeDevice(): void;
  /** Device-fd ioctls. Non-negative or -errno. */
  ioctl(proc: Process, cmd: number, arg: UserArg): number;
  /** pread on the device fd: offset = region index << 40 | offset in region. Bytes or -errno. */
  read(proc: Process, out: Uint8Array, offset: bigint): number;
  write(proc: Process, data: Uint8Array, offset: bigint): number;
  /** mmap of a region: 0 or -errno. */
  mmap(proc: Process, offset: bigint, len: bigint, prot: Prot): number;
}

export type IrqKind = 'intx' | 'msi' | 'msix';

/**
 * What vfio-pci asks of the interrupt core for one device: pci_alloc_irq_vectors() and
 * friends. The interrupt path (message composition, doorbell mapping, delivery) lives
 * behind this interface, so vfio-pci does not know which MSI controller it talks to.
 */
export interface PciIrqOps {
  /** pci_msix_can_alloc_dyn(): the device's MSI domain can add MSI-X vectors while enabled. */
  canAllocDynamicMsix(): boolean;
  /** Enables `kind` with `nvec` vectors (INTx: 1). 0 or -errno. */
  enable(kind: IrqKind, nvec: number): number;
  /** Adds one MSI-X vector while MSI-X is enabled (dynamic MSI-X). 0 or -errno. */
  addVector(kind: IrqKind, vector: number): number;
  disable(kind: IrqKind): void;
  /** Routes vector `vector` of `kind` to `trigger` (null: no eventfd). */
  setTrigger(kind: IrqKind, vector: number, trigger: EventFd | null): void;
}

/** What the VFIO core hands a bus driver when it creates a device. */
export interface VfioDriverContext {
  era: Era;
  log: KernelLog;
  irq: PciIrqOps;
  /** PAGE_SIZE: mmap granularity and the MSI-X table's page alignment (4 KiB, 64 KiB on ppc64le). */
  pageSize: bigint;
}
