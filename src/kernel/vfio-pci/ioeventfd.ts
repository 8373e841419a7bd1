// VFIO_DEVICE_IOEVENTFD (vfio_pci_ioctl_ioeventfd, vfio_pci_ioeventfd; 4.17+): ask the
// kernel to write `data` (1, 2, 4 or 8 bytes) at a BAR offset each time an eventfd fires, so
// a VMM can short-cut trapped doorbell writes. fd -1 removes a matching ioeventfd.

import { EEXIST, EFAULT, EINVAL, ENODEV, ENOSPC, ENOTTY } from '../../uapi/errno.js';
import type { UserArg } from '../file.js';
import type { Process } from '../process.js';
import { KStruct, offsetofend } from '../../uapi/struct.js';
import { VFIO_DEVICE_IOEVENTFD } from '../../uapi/structs.js';
import type { VfioPciCoreDevice } from './core-device.js';
import { VFIO_PCI_BAR5_REGION_INDEX, VFIO_PCI_OFFSET_MASK, VFIO_PCI_OFFSET_SHIFT } from './ioctl-info.js';

/** VFIO_DEVICE_IOEVENTFD_SIZE_MASK: the 8/16/32/64-bit flags. */
const SIZE_MASK = 0xfn;
/** VFIO_PCI_IOEVENTFD_MAX. */
const IOEVENTFD_MAX = 1000;

const popcount = (v: bigint): number => v.toString(2).split('1').length - 1;

/** vfio_pci_ioctl_ioeventfd() then vfio_pci_ioeventfd(). */
export function ioeventfd(vdev: VfioPciCoreDevice, proc: Process, arg: UserArg): number {
  if (!vdev.ctx.era.deviceIoeventfd) return -ENOTTY;
  const minsz = offsetofend(VFIO_DEVICE_IOEVENTFD, 'fd');
  const k = KStruct.fromUser(VFIO_DEVICE_IOEVENTFD, arg.buf, minsz);
  if (!k) return -EFAULT;
  if (k.get('argsz') < BigInt(minsz)) return -EINVAL;
  const flags = k.get('flags');
  if (flags & ~SIZE_MASK) return -EINVAL;
  const count = Number(flags & SIZE_MASK);
  const fd = Number(k.get('fd'));
  if (popcount(BigInt(count)) !== 1 || fd < -1) return -EINVAL;

  const offset = k.get('offset');
  const bar = Number(offset >> VFIO_PCI_OFFSET_SHIFT);
  const pos = offset & VFIO_PCI_OFFSET_MASK;
  const data = k.get('data');
  // Only BARs, inside the BAR, and never over the MSI-X table.
  if (bar > VFIO_PCI_BAR5_REGION_INDEX) return -EINVAL;
  if (pos + BigInt(count) > vdev.pdev.resources[bar]!.len) return -EINVAL;
  if (
    bar === vdev.msixBar &&
    !(pos + BigInt(count) <= BigInt(vdev.msixOffset) || pos >= BigInt(vdev.msixOffset + vdev.msixSize))
  ) {
    return -EINVAL;
  }
  // vfio_pci_core_setup_barmap(): the BAR is requested and mapped before the list is searched.
  vdev.barmap[bar] = true;

  const list = vdev.ioeventfds;
  const same = list.findIndex((e) => e.pos === pos && e.bar === bar && e.data === data && e.count === count);
  if (same >= 0) {
    if (fd !== -1) return -EEXIST;
    list.splice(same, 1);
    return 0;
  }
  if (fd < 0) return -ENODEV;
  if (list.length >= IOEVENTFD_MAX) return -ENOSPC;
  // vfio_virqfd_enable(): the fd must be an eventfd.
  const trigger = proc.eventfdGet(fd);
  if (typeof trigger === 'number') return trigger;
  list.push({ bar, pos, data, count, trigger });
  return 0;
}
