// Resets through vfio-pci (vfio_pci_core.c): VFIO_DEVICE_RESET (a function reset by the
// first method the PCI core found at enumeration: FLR, AF FLR, PM, bus), and the hot-reset
// pair VFIO_DEVICE_GET_PCI_HOT_RESET_INFO / VFIO_DEVICE_PCI_HOT_RESET, which need a slot or
// a bus reset: a function on a root bus has neither, so both answer -ENODEV after checking
// their argument.

import { encodeStruct, KStruct, offsetofend, readField } from '../../uapi/struct.js';
import { VFIO_PCI_DEPENDENT_DEVICE, VFIO_PCI_HOT_RESET, VFIO_PCI_HOT_RESET_INFO } from '../../uapi/structs.js';
import { EBADF, EFAULT, EINVAL, ENODEV, ENOSPC } from '../../uapi/errno.js';
import type { UserArg } from '../file.js';
import type { Process } from '../process.js';
import { parseBdf } from '../../hw/iommu/pci-rid.js';
import { PCI_D0 } from '../pci/pci.js';
import { PCI_COMMAND, PCI_COMMAND_INTX_DISABLE } from '../../hw/pci/regs.js';
import type { VfioPciCoreDevice } from './core-device.js';

/** VFIO_DEVICE_RESET (vfio_pci_ioctl_reset). */
export function deviceReset(vdev: VfioPciCoreDevice): number {
  if (!vdev.resetWorks) return -EINVAL;
  // The user's mmaps are zapped under the memory lock (not modelled: no VMAs here), the
  // function is brought to D0, then reset with its config saved and restored around it.
  vdev.setPowerState(PCI_D0);
  const ret = vdev.pdev.tryResetFunction();
  // pci_restore_state() ends with pci_restore_msi_state(): the messages go back in.
  if (ret === 0) vdev.ctx.irq.restoreMessages();
  return ret;
}

const DEPENDENT_SIZE = VFIO_PCI_DEPENDENT_DEVICE.size;
/** VFIO_DEVICE_PCI_HOT_RESET's tail: __s32 group_fds[count]. */
const GROUP_FD_SIZE = 4;

/** VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (vfio_pci_ioctl_get_pci_hot_reset_info). */
export function hotResetInfo(vdev: VfioPciCoreDevice, arg: UserArg): number {
  const minsz = offsetofend(VFIO_PCI_HOT_RESET_INFO, 'count');
  const hdr = KStruct.fromUser(VFIO_PCI_HOT_RESET_INFO, arg.buf, minsz);
  if (!hdr) return -EFAULT;
  if (hdr.num('argsz') < minsz) return -EINVAL;
  hdr.set('flags', 0);
  const pdev = vdev.pdev;
  // Can we do a slot or a bus reset, or neither?
  if (pdev.probeResetSlot() && pdev.probeResetBus()) return -ENODEV;
  const devices = pdev.topology!.busDevices();
  let ret = 0;
  if (hdr.num('argsz') < minsz + devices.length * DEPENDENT_SIZE) {
    // Not enough room: the count says how much is needed.
    ret = -ENOSPC;
  }
  hdr.set('count', devices.length);
  if (!hdr.toUser(arg.buf, minsz)) return -EFAULT;
  if (ret) return ret;
  if (!arg.buf || arg.buf.length < minsz + devices.length * DEPENDENT_SIZE) return -EFAULT;
  const user = arg.buf;
  devices.forEach((d, i) => {
    const b = parseBdf(d.bdf)!;
    const entry = new Map([
      ['group_id', BigInt(d.group)],
      ['segment', BigInt(b.domain)],
      ['bus', BigInt(b.bus)],
      ['devfn', BigInt((b.dev << 3) | b.fn)],
    ]);
    user.set(encodeStruct(VFIO_PCI_DEPENDENT_DEVICE, entry), minsz + i * DEPENDENT_SIZE);
  });
  return 0;
}

/** VFIO_DEVICE_PCI_HOT_RESET (vfio_pci_ioctl_pci_hot_reset): argsz, flags, count, group_fds[]. */
export function hotReset(vdev: VfioPciCoreDevice, proc: Process, arg: UserArg): number {
  const minsz = offsetofend(VFIO_PCI_HOT_RESET, 'count');
  const hdr = KStruct.fromUser(VFIO_PCI_HOT_RESET, arg.buf, minsz);
  if (!hdr || !arg.buf) return -EFAULT;
  const argsz = hdr.num('argsz');
  const flags = hdr.num('flags');
  const count = hdr.num('count');
  if (argsz < minsz || flags) return -EINVAL;
  // 6.6+: a zero-length group array is for cdev-opened devices only; these are group-opened.
  if (vdev.ex.hotResetCdev && count === 0) return -EINVAL;
  const pdev = vdev.pdev;
  if (pdev.probeResetSlot() && pdev.probeResetBus()) return -ENODEV;
  const topo = pdev.topology!;
  const devices = topo.busDevices();
  // Somewhere between 1 and the number of affected devices (one group per device at most).
  if (!count || count > devices.length) return -EINVAL;
  if (arg.buf.length < minsz + count * GROUP_FD_SIZE) return -EFAULT;
  const groups = new Set<number>();
  for (let i = 0; i < count; i++) {
    const fd = Number(readField(arg.buf, minsz + i * GROUP_FD_SIZE, 's32'));
    const f = proc.file(fd);
    if (!f) return -EBADF;
    const g = topo.groupOfFile?.(f.ops);
    if (g === undefined) return -EINVAL;
    groups.add(g);
  }
  // vfio_pci_dev_set_hot_reset(): every affected device's group must have been given.
  if (devices.some((d) => !groups.has(d.group))) return -EINVAL;
  // pci_reset_bus() → __pci_reset_bus(): each function saved and disabled
  // (pci_dev_save_and_disable: D0, pci_save_state, COMMAND = INTx disable), the bridge's
  // secondary bus reset, then each restored (pci_dev_restore → pci_restore_state, which ends
  // with pci_restore_msi_state), so an enabled MSI/MSI-X keeps its messages and the device's
  // writes still land. The model restores this device; the bus's other functions are the
  // topology's.
  vdev.setPowerState(PCI_D0);
  pdev.saveState();
  pdev.writeConfig(PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
  topo.busReset?.();
  pdev.restoreState();
  vdev.ctx.irq.restoreMessages();
  return 0;
}
