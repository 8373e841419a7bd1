// Region access through the device fd (vfio_pci_core.c vfio_pci_rw, vfio_pci_rdwr.c) and the
// mmap rules (vfio_pci_core_mmap).
//
// pread/pwrite at `index << 40 | offset`: config space goes through the virtualisation
// (config.ts); BARs and the ROM are accessed in the largest naturally aligned pieces the
// era allows (1, 2, 4 bytes; 8 since the 6.12 trace era), each one memory or I/O cycle to the
// hardware at the resource address. An excluded range reads 0xff and drops writes: the MSI-X
// table (the user programs vectors through SET_IRQS only) and ROM space past the image.

import { EINVAL, EIO, ENOMEM } from '../../uapi/errno.js';
import { pageAlign } from '../mm.js';
import type { Prot } from '../file.js';
import type { AccessSize } from '../../hw/pci/mmio.js';
import { memoryEnabled, vfioPciConfigRw } from './config.js';
import {
  VFIO_PCI_BAR0_REGION_INDEX,
  VFIO_PCI_BAR5_REGION_INDEX,
  VFIO_PCI_CONFIG_REGION_INDEX,
  VFIO_PCI_NUM_REGIONS,
  VFIO_PCI_OFFSET_MASK,
  VFIO_PCI_OFFSET_SHIFT,
  VFIO_PCI_ROM_REGION_INDEX,
  VFIO_PCI_VGA_REGION_INDEX,
} from './ioctl-info.js';
import type { VfioPciCoreDevice } from './core-device.js';

const LOFF_MAX = (1n << 63n) - 1n;

function getLe(buf: Uint8Array, at: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[at + i]!);
  return v;
}

function setLe(buf: Uint8Array, at: number, size: number, v: bigint): void {
  for (let i = 0; i < size; i++) buf[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

/**
 * vfio_pci_core_do_io_rw(): the access in aligned pieces; [xStart, xEnd) is excluded (reads
 * 0xff, writes dropped). A piece to memory space while the user has memory decode off is
 * -EIO, even after earlier pieces succeeded.
 */
function doIoRw(
  vdev: VfioPciCoreDevice,
  testMem: boolean,
  bar: number,
  buf: Uint8Array,
  off: bigint,
  xStart: bigint,
  xEnd: bigint,
  iswrite: boolean,
): number {
  let count = BigInt(buf.length);
  let done = 0;
  while (count) {
    let fillable: bigint;
    if (off < xStart) fillable = count < xStart - off ? count : xStart - off;
    else if (off >= xEnd) fillable = count;
    else fillable = 0n;

    let size: AccessSize | 0;
    if (vdev.ex.io64 && fillable >= 8n && !(off % 8n)) size = 8;
    else if (fillable >= 4n && !(off % 4n)) size = 4;
    else if (fillable >= 2n && !(off % 2n)) size = 2;
    else if (fillable) size = 1;
    else size = 0;

    let filled: number;
    if (size) {
      // vfio_pci_core_ioread/iowrite with test_mem.
      if (testMem && !memoryEnabled(vdev)) return -EIO;
      if (iswrite) vdev.pdev.iowrite(bar, off, size, getLe(buf, done, size));
      else setLe(buf, done, size, vdev.pdev.ioread(bar, off, size));
      filled = size;
    } else {
      // Fill reads with -1, drop writes.
      const rest = xEnd - off;
      filled = Number(count < rest ? count : rest);
      if (!iswrite) buf.fill(0xff, done, done + filled);
    }
    count -= BigInt(filled);
    done += filled;
    off += BigInt(filled);
  }
  return done;
}

/** vfio_pci_bar_rw(): BARs 0-5 and the ROM. Bytes done, or -errno. */
function barRw(vdev: VfioPciCoreDevice, buf: Uint8Array, offset: bigint, iswrite: boolean): number {
  const pdev = vdev.pdev;
  const pos = offset & VFIO_PCI_OFFSET_MASK;
  const bar = Number(offset >> VFIO_PCI_OFFSET_SHIFT);
  const res = pdev.resources[bar]!;
  // Only a BAR the host mapped (a shadow ROM is not modelled).
  if (!res.start) return -EINVAL;
  const end = res.len;
  if (pos >= end) return -EINVAL;
  const count = BigInt(buf.length) < end - pos ? buf.length : Number(end - pos);
  const piece = buf.subarray(0, count);

  let xStart = 0n;
  let xEnd = 0n;
  if (bar === VFIO_PCI_ROM_REGION_INDEX) {
    // The ROM may be smaller than its BAR: the excluded range starts at the image's end.
    const size = pdev.mapRom();
    if (size === undefined) return -ENOMEM;
    xStart = BigInt(size);
    xEnd = end;
  } else {
    // vfio_pci_core_setup_barmap(): pci_request_selected_regions + pci_iomap.
    vdev.barmap[bar] = true;
  }
  if (bar === vdev.msixBar) {
    xStart = BigInt(vdev.msixOffset);
    xEnd = BigInt(vdev.msixOffset + vdev.msixSize);
  }
  const done = doIoRw(vdev, res.mem, bar, piece, pos, xStart, xEnd, iswrite);
  if (bar === VFIO_PCI_ROM_REGION_INDEX) pdev.unmapRom();
  return done;
}

/** vfio_pci_core_read/write() -> vfio_pci_rw(). Bytes done, or -errno. */
export function vfioPciRw(vdev: VfioPciCoreDevice, buf: Uint8Array, offset: bigint, iswrite: boolean): number {
  // The VFS refuses negative positions (loff_t).
  if (offset < 0n || offset > LOFF_MAX) return -EINVAL;
  if (buf.length === 0) return 0;
  const index = Number(offset >> VFIO_PCI_OFFSET_SHIFT);
  if (index >= VFIO_PCI_NUM_REGIONS + vdev.numRegions) return -EINVAL;
  // Only an open device has a device fd (the VFIO core guarantees it).
  if (!vdev.cfg) return -EINVAL;
  switch (index) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
      return vfioPciConfigRw(vdev, buf, Number(offset & VFIO_PCI_OFFSET_MASK), iswrite);
    case VFIO_PCI_ROM_REGION_INDEX:
      if (iswrite) return -EINVAL;
      return barRw(vdev, buf, offset, false);
    case VFIO_PCI_VGA_REGION_INDEX:
      // vfio_pci_vga_rw(): only for VGA-class functions, which are not modelled.
      if (!vdev.hasVga) return -EINVAL;
      return -EINVAL;
    default:
      if (index >= VFIO_PCI_BAR0_REGION_INDEX && index <= VFIO_PCI_BAR5_REGION_INDEX) return barRw(vdev, buf, offset, iswrite);
      return -EINVAL;
  }
}

/**
 * vfio_pci_core_mmap(): only BARs 0-5 that support mmap, inside the (page-rounded) BAR; before
 * 4.16 not over the MSI-X table. `len` is the mapping's length (page-rounded by mmap).
 */
export function vfioPciMmap(vdev: VfioPciCoreDevice, offset: bigint, len: bigint, _prot: Prot): number {
  // mmap(2) itself: a page-aligned offset and a non-empty length.
  const page = vdev.ctx.pageSize;
  if (offset & (page - 1n) || len <= 0n) return -EINVAL;
  const index = Number(offset >> VFIO_PCI_OFFSET_SHIFT);
  if (index >= VFIO_PCI_NUM_REGIONS + vdev.numRegions) return -EINVAL;
  if (index >= VFIO_PCI_ROM_REGION_INDEX) return -EINVAL;
  if (!vdev.barMmapSupported[index]) return -EINVAL;
  const physLen = pageAlign(vdev.pdev.resources[index]!.len, page);
  const reqLen = pageAlign(len, page);
  const reqStart = offset & VFIO_PCI_OFFSET_MASK;
  if (reqStart + reqLen > physLen) return -EINVAL;
  if (!vdev.ex.msixMappable && index === vdev.msixBar) {
    // Users don't get to touch the MSI-X table directly: mmap around it.
    const tStart = BigInt(vdev.msixOffset);
    const tEnd = tStart + BigInt(vdev.msixSize);
    if (!(reqStart >= tEnd || reqStart + reqLen <= tStart)) return -EINVAL;
  }
  // The region is requested like a BAR access does (vdev->barmap).
  vdev.barmap[index] = true;
  return 0;
}

/**
 * The page vfio_pci_mmap_huge_fault() inserts for a BAR mapping at offset: the BAR's physical
 * address (vma_to_pfn(): vfio_pci_core_mmap() points vm_pgoff at pci_resource_start()) plus
 * the offset, or undefined where vfio_pci_vmf_insert_pfn() answers VM_FAULT_SIGBUS (memory
 * decode off).
 */
export function vfioPciMappedPhys(vdev: VfioPciCoreDevice, offset: bigint): bigint | undefined {
  const bar = Number(offset >> VFIO_PCI_OFFSET_SHIFT);
  if (!memoryEnabled(vdev)) return undefined;
  return vdev.pdev.resources[bar]!.start + (offset & VFIO_PCI_OFFSET_MASK);
}

/**
 * A CPU load or store through an mmap of a BAR. The mapping reaches the BAR directly: none of
 * vfio_pci_rw's checks (no MSI-X exclusion, no access splitting) apply; the access is one
 * memory cycle of its width. While the user has memory decode off, vfio-pci has zapped the
 * mapping (vfio_pci_zap_and_down_write_memory_lock) and vfio_pci_mmap_fault answers
 * VM_FAULT_SIGBUS: -EIO here. 0 when done.
 */
export function vfioPciMappedAccess(vdev: VfioPciCoreDevice, offset: bigint, buf: Uint8Array, iswrite: boolean): number {
  const bar = Number(offset >> VFIO_PCI_OFFSET_SHIFT);
  const pos = offset & VFIO_PCI_OFFSET_MASK;
  if (!memoryEnabled(vdev)) return -EIO;
  const size = buf.length as AccessSize;
  if (iswrite) vdev.pdev.iowrite(bar, pos, size, getLe(buf, 0, size));
  else setLe(buf, 0, size, vdev.pdev.ioread(bar, pos, size));
  return 0;
}
