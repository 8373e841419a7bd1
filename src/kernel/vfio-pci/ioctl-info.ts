// The information ioctls of vfio-pci (vfio_pci_core.c): DEVICE_GET_INFO,
// DEVICE_GET_REGION_INFO, DEVICE_GET_IRQ_INFO, and the argument checking of DEVICE_SET_IRQS
// (vfio_set_irqs_validate_and_prepare in vfio_main.c). Each reads the user's struct the way
// the kernel does (copy_from_user of minsz), answers, and copies back exactly what the
// kernel copies back: bytes it does not copy keep the user's values.

import { CapChain } from '../../uapi/caps.js';
import { encodeStruct, flagBit, KStruct, offsetofend, type FlagTable } from '../../uapi/struct.js';
import {
  CAP_MSIX_MAPPABLE,
  CAP_SPARSE_MMAP,
  DEVICE_FLAGS,
  IRQ_INFO_FLAGS,
  REGION_FLAGS,
  SPARSE_MMAP_AREA,
  VFIO_DEVICE_INFO,
  VFIO_IRQ_INFO,
  VFIO_IRQ_SET,
  VFIO_REGION_INFO,
} from '../../uapi/structs.js';
import { EFAULT, EINVAL } from '../../uapi/errno.js';
import { pageAlign, pageAlignDown } from '../mm.js';
import type { UserArg } from '../file.js';
import type { Process } from '../process.js';
import { PCI_COMMAND, PCI_COMMAND_MEMORY } from '../../hw/pci/regs.js';
import {
  VFIO_PCI_ERR_IRQ_INDEX,
  VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_NUM_IRQS,
  type VfioPciCoreDevice,
} from './core-device.js';
import {
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_IRQ_SET_DATA_TYPE_MASK,
  vfioPciGetIrqCount,
  vfioPciSetIrqsIoctl,
} from './intrs.js';

export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_BAR5_REGION_INDEX = 5;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;
export const VFIO_PCI_NUM_REGIONS = 9;
export const VFIO_PCI_OFFSET_SHIFT = 40n;
export const VFIO_PCI_OFFSET_MASK = (1n << VFIO_PCI_OFFSET_SHIFT) - 1n;
export const indexToOffset = (index: number): bigint => BigInt(index) << VFIO_PCI_OFFSET_SHIFT;

// The info flags, from the uapi tables.
const bit = (table: FlagTable, name: string): number => Number(flagBit(table, name));
const VFIO_DEVICE_FLAGS_RESET = bit(DEVICE_FLAGS, 'RESET');
const VFIO_DEVICE_FLAGS_PCI = bit(DEVICE_FLAGS, 'PCI');
const REGION_READ = bit(REGION_FLAGS, 'READ');
const REGION_WRITE = bit(REGION_FLAGS, 'WRITE');
const REGION_MMAP = bit(REGION_FLAGS, 'MMAP');
const REGION_CAPS = bit(REGION_FLAGS, 'CAPS');
const IRQ_EVENTFD = bit(IRQ_INFO_FLAGS, 'EVENTFD');
const IRQ_MASKABLE = bit(IRQ_INFO_FLAGS, 'MASKABLE');
const IRQ_AUTOMASKED = bit(IRQ_INFO_FLAGS, 'AUTOMASKED');
const IRQ_NORESIZE = bit(IRQ_INFO_FLAGS, 'NORESIZE');
const VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
const VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;

/** VFIO_DEVICE_GET_INFO (vfio_pci_ioctl_get_info). */
export function getInfo(vdev: VfioPciCoreDevice, arg: UserArg): number {
  let minsz = offsetofend(VFIO_DEVICE_INFO, 'num_irqs');
  const info = KStruct.fromUser(VFIO_DEVICE_INFO, arg.buf, minsz);
  if (!info) return -EFAULT;
  const argsz = info.num('argsz');
  if (argsz < minsz) return -EINVAL;
  if (vdev.ex.deviceInfoPad) {
    // 6.6+: a zeroed struct, copied back as min(argsz, sizeof).
    minsz = Math.min(argsz, VFIO_DEVICE_INFO.size);
  } else if (vdev.ex.deviceInfoCapOffset) {
    // The capability chain needs cap_offset; "for backward compatibility, cannot require
    // this": it is written only when argsz reaches offsetofend(vfio_iommu_type1_info,
    // cap_offset) — the kernel measures the wrong struct, which happens to give 20 too.
    const capsz = 20;
    if (argsz >= capsz) {
      minsz = capsz;
      info.set('cap_offset', 0);
    }
  }
  let flags = VFIO_DEVICE_FLAGS_PCI;
  if (vdev.resetWorks) flags |= VFIO_DEVICE_FLAGS_RESET;
  info.set('flags', flags);
  info.set('num_regions', VFIO_PCI_NUM_REGIONS + vdev.numRegions);
  info.set('num_irqs', VFIO_PCI_NUM_IRQS);
  // Device capabilities exist only for zPCI (s390): none here.
  return info.toUser(arg.buf, minsz) ? 0 : -EFAULT;
}

/** msix_sparse_mmap_cap() (before 4.16): the BAR minus the page(s) holding the MSI-X table. */
function msixSparseMmapCap(vdev: VfioPciCoreDevice, caps: CapChain): void {
  const end = Number(vdev.pdev.resources[vdev.msixBar]!.len);
  const off = vdev.msixOffset;
  const page = vdev.ctx.pageSize;
  const tableEnd = Number(pageAlign(BigInt(off + vdev.msixSize), page));
  // msix_offset & PAGE_MASK: the offset rounded down to the page.
  const head = Number(pageAlignDown(BigInt(off), page));
  // A table at the start or the end of the BAR leaves one area.
  const nr = head === 0 || tableEnd >= end ? 1 : 2;
  const areas: [offset: number, size: number][] = [];
  if (head) areas.push([0, head]);
  if (tableEnd < end) areas.push([tableEnd, end - tableEnd]);
  // nr_areas as the kernel counts it: a table covering the whole BAR still counts one (zero) area.
  const body = new Uint8Array(CAP_SPARSE_MMAP.size + nr * SPARSE_MMAP_AREA.size);
  body.set(encodeStruct(CAP_SPARSE_MMAP, new Map([['nr_areas', BigInt(nr)]])));
  areas.forEach(([o, size], i) => {
    const area = encodeStruct(SPARSE_MMAP_AREA, new Map([['offset', BigInt(o)], ['size', BigInt(size)]]));
    body.set(area, CAP_SPARSE_MMAP.size + i * SPARSE_MMAP_AREA.size);
  });
  caps.addCapability(body, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1);
}

/** VFIO_DEVICE_GET_REGION_INFO (vfio_pci_ioctl_get_region_info). */
export function getRegionInfo(vdev: VfioPciCoreDevice, arg: UserArg): number {
  const minsz = offsetofend(VFIO_REGION_INFO, 'offset');
  const info = KStruct.fromUser(VFIO_REGION_INFO, arg.buf, minsz);
  if (!info) return -EFAULT;
  if (info.num('argsz') < minsz) return -EINVAL;
  const pdev = vdev.pdev;
  const caps = new CapChain(vdev.ctx.era.capAlign8);
  const index = info.num('index');

  if (index === VFIO_PCI_CONFIG_REGION_INDEX) {
    info.set('offset', indexToOffset(index));
    info.set('size', pdev.cfgSize);
    info.set('flags', REGION_READ | REGION_WRITE);
  } else if (index >= VFIO_PCI_BAR0_REGION_INDEX && index <= VFIO_PCI_BAR5_REGION_INDEX) {
    info.set('offset', indexToOffset(index));
    const size = pdev.resources[index]!.len;
    info.set('size', size);
    if (!size) {
      info.set('flags', 0);
    } else {
      let flags = REGION_READ | REGION_WRITE;
      if (vdev.barMmapSupported[index]) {
        flags |= REGION_MMAP;
        if (index === vdev.msixBar) {
          if (vdev.ex.msixMappable) caps.addCapability(new Uint8Array(CAP_MSIX_MAPPABLE.size), VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1);
          else msixSparseMmapCap(vdev, caps);
        }
      }
      info.set('flags', flags);
    }
  } else if (index === VFIO_PCI_ROM_REGION_INDEX) {
    info.set('offset', indexToOffset(index));
    info.set('flags', 0);
    // The BAR's size, not the ROM's.
    const size = pdev.resources[index]!.len;
    info.set('size', size);
    if (size) {
      // Is it really there? Memory decode on for the implicit access in pci_map_rom().
      const cmd = memoryLockAndEnable(vdev);
      if (pdev.mapRom() !== undefined) {
        info.set('flags', REGION_READ);
        pdev.unmapRom();
      } else {
        info.set('size', 0);
      }
      memoryUnlockAndRestore(vdev, cmd);
    }
  } else if (index === VFIO_PCI_VGA_REGION_INDEX) {
    if (!vdev.hasVga) return -EINVAL;
    info.set('offset', indexToOffset(index));
    info.set('size', 0xc0000);
    info.set('flags', REGION_READ | REGION_WRITE);
  } else {
    // Device-specific regions (IGD, NVLink2...) are not modelled: num_regions is 0.
    if (index >= VFIO_PCI_NUM_REGIONS + vdev.numRegions) return -EINVAL;
  }

  if (caps.size) {
    info.set('flags', info.num('flags') | REGION_CAPS);
    if (info.num('argsz') < VFIO_REGION_INFO.size + caps.size) {
      // Too small: say how big, and point at no capability.
      info.set('argsz', VFIO_REGION_INFO.size + caps.size);
      info.set('cap_offset', 0);
    } else {
      caps.shift(VFIO_REGION_INFO.size);
      if (!arg.buf || arg.buf.length < VFIO_REGION_INFO.size + caps.size) return -EFAULT;
      arg.buf.set(caps.buf, VFIO_REGION_INFO.size);
      info.set('cap_offset', VFIO_REGION_INFO.size);
    }
  }
  // With no capabilities the kernel never touches cap_offset: the user's value goes back.
  return info.toUser(arg.buf, minsz) ? 0 : -EFAULT;
}

/** vfio_pci_memory_lock_and_enable(): memory decode on in the hardware, for a kernel access. */
export function memoryLockAndEnable(vdev: VfioPciCoreDevice): number {
  const cmd = vdev.pdev.readConfig(PCI_COMMAND, 2);
  if (!(cmd & PCI_COMMAND_MEMORY)) vdev.pdev.writeConfig(PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY);
  return cmd;
}

export function memoryUnlockAndRestore(vdev: VfioPciCoreDevice, cmd: number): void {
  vdev.pdev.writeConfig(PCI_COMMAND, 2, cmd);
}

/** VFIO_DEVICE_GET_IRQ_INFO (vfio_pci_ioctl_get_irq_info). */
export function getIrqInfo(vdev: VfioPciCoreDevice, arg: UserArg): number {
  const minsz = offsetofend(VFIO_IRQ_INFO, 'count');
  const info = KStruct.fromUser(VFIO_IRQ_INFO, arg.buf, minsz);
  if (!info) return -EFAULT;
  const index = info.num('index');
  if (info.num('argsz') < minsz || index >= VFIO_PCI_NUM_IRQS) return -EINVAL;
  // ERR exists only for PCI Express functions.
  if (index === VFIO_PCI_ERR_IRQ_INDEX && !vdev.pdev.isPcie) return -EINVAL;
  let flags = IRQ_EVENTFD;
  info.set('count', vfioPciGetIrqCount(vdev, index));
  if (index === VFIO_PCI_INTX_IRQ_INDEX) flags |= IRQ_MASKABLE | IRQ_AUTOMASKED;
  else if (index !== VFIO_PCI_MSIX_IRQ_INDEX || !vdev.hasDynMsix) flags |= IRQ_NORESIZE;
  info.set('flags', flags);
  return info.toUser(arg.buf, minsz) ? 0 : -EFAULT;
}

/** VFIO_DEVICE_SET_IRQS (vfio_pci_ioctl_set_irqs + vfio_set_irqs_validate_and_prepare). */
export function setIrqs(vdev: VfioPciCoreDevice, proc: Process, arg: UserArg): number {
  const minsz = offsetofend(VFIO_IRQ_SET, 'count');
  const hdr = KStruct.fromUser(VFIO_IRQ_SET, arg.buf, minsz);
  if (!hdr) return -EFAULT;
  const argsz = hdr.num('argsz');
  const flags = hdr.num('flags');
  const index = hdr.num('index');
  const start = hdr.num('start');
  const count = hdr.num('count');
  const max = vfioPciGetIrqCount(vdev, index);

  // vfio_set_irqs_validate_and_prepare()
  if (
    argsz < minsz ||
    index >= VFIO_PCI_NUM_IRQS ||
    count >= 0xffffffff - start ||
    flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)
  )
    return -EINVAL;
  if (start >= max || start + count > max) return -EINVAL;
  let size: number;
  switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
    case VFIO_IRQ_SET_DATA_NONE:
      size = 0;
      break;
    case VFIO_IRQ_SET_DATA_BOOL:
      size = 1;
      break;
    case VFIO_IRQ_SET_DATA_EVENTFD:
      size = 4;
      break;
    default:
      return -EINVAL; // none, or more than one data type
  }
  let data: { bytes: Uint8Array } | null = null;
  if (size) {
    if (argsz - minsz < count * size) return -EINVAL;
    const dataSize = count * size;
    // memdup_user(&arg->data, data_size)
    if (!arg.buf || arg.buf.length < minsz + dataSize) return -EFAULT;
    data = { bytes: arg.buf.slice(minsz, minsz + dataSize) };
  }
  return vfioPciSetIrqsIoctl(vdev, flags, index, start, count, data, proc);
}

