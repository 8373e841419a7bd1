// vfio-pci's VFIO_DEVICE_FEATURE handler: vfio_pci_core_ioctl_feature() (vfio_pci_core.c),
// called by the VFIO core (kernel/vfio/device-feature.ts) for the feature numbers it does not
// decode itself.
//
//   LOW_POWER_ENTRY              vfio_pci_core_pm_entry()               SET only, no data (6.0)
//   LOW_POWER_ENTRY_WITH_WAKEUP  vfio_pci_core_pm_entry_with_wakeup()   SET only, {s32 fd, u32}
//   LOW_POWER_EXIT               vfio_pci_core_pm_exit()                SET only, no data
//   PCI_VF_TOKEN                 vfio_pci_core_feature_token()          SET only, a UUID; ENOTTY but on a PF
//   DMA_BUF                      vfio_pci_core_feature_dma_buf()        GET only (6.19, Era.dmaBufFeature)
//   anything else                ENOTTY
//
// Entering low power sets vdev->pm_runtime_engaged and drops the runtime-PM usage count with
// pm_runtime_put_noidle(); nothing idles the function then, so it stays in D0 (recorded: PMCSR
// reads 0 and BAR reads go through in low power on 6.1 and 6.12). The model keeps the flag and
// the wakeup eventfd, which is what the ioctls can observe.

import { EFAULT, EINVAL, ENODEV, ENOTTY, EOPNOTSUPP } from '../../uapi/errno.js';
import { KStruct } from '../../uapi/struct.js';
import { VFIO_DEVICE_LOW_POWER_ENTRY_WITH_WAKEUP } from '../../uapi/structs.js';
import type { EventFd } from '../eventfd.js';
import type { Process } from '../process.js';
import {
  VFIO_DEVICE_FEATURE_DMA_BUF,
  VFIO_DEVICE_FEATURE_GET,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
  VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
  VFIO_DEVICE_FEATURE_MASK,
  VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
  VFIO_DEVICE_FEATURE_SET,
  vfioCheckFeature,
} from '../vfio/device-feature.js';
import type { VfioPciCoreDevice } from './core-device.js';

/** sizeof(struct vfio_device_low_power_entry_with_wakeup). */
const WAKEUP_ENTRY_SIZE = VFIO_DEVICE_LOW_POWER_ENTRY_WITH_WAKEUP.size;

/** vfio_pci_runtime_pm_entry(): a second entry while engaged is EINVAL. */
function runtimePmEntry(vdev: VfioPciCoreDevice, wake: EventFd | null): number {
  if (vdev.pmRuntimeEngaged) return -EINVAL;
  vdev.pmRuntimeEngaged = true;
  vdev.pmWakeEventfd = wake;
  return 0;
}

/** __vfio_pci_runtime_pm_exit(): leaves low power if engaged; the wakeup eventfd is put. */
export function vfioPciRuntimePmExit(vdev: VfioPciCoreDevice): void {
  if (!vdev.pmRuntimeEngaged) return;
  vdev.pmRuntimeEngaged = false;
  vdev.pmWakeEventfd = null;
}

function pmEntry(vdev: VfioPciCoreDevice, flags: number, argsz: number): number {
  const ret = vfioCheckFeature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
  if (ret !== 1) return ret;
  return runtimePmEntry(vdev, null);
}

function pmEntryWithWakeup(vdev: VfioPciCoreDevice, proc: Process, flags: number, data: Uint8Array, argsz: number): number {
  const ret = vfioCheckFeature(flags, argsz, VFIO_DEVICE_FEATURE_SET, WAKEUP_ENTRY_SIZE);
  if (ret !== 1) return ret;
  const entry = KStruct.fromUser(VFIO_DEVICE_LOW_POWER_ENTRY_WITH_WAKEUP, data, WAKEUP_ENTRY_SIZE);
  if (!entry) return -EFAULT;
  const fd = Number(entry.get('wakeup_eventfd'));
  if (fd < 0) return -EINVAL;
  const efd = proc.eventfdGet(fd);
  if (typeof efd === 'number') return efd;
  return runtimePmEntry(vdev, efd);
}

function pmExit(vdev: VfioPciCoreDevice, flags: number, argsz: number): number {
  const ret = vfioCheckFeature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
  if (ret !== 1) return ret;
  vfioPciRuntimePmExit(vdev);
  return 0;
}

/** sizeof(uuid_t). */
const UUID_SIZE = 16;

/**
 * vfio_pci_core_feature_token(): a PF (vfio_pci_vf_init() gives every SR-IOV-capable function a
 * vf_token) takes a SET of the 16-byte UUID its VFs' users must present; ENOTTY elsewhere.
 */
function featureToken(vdev: VfioPciCoreDevice, flags: number, data: Uint8Array, argsz: number): number {
  if (!vdev.hw.sriov) return -ENOTTY;
  const ret = vfioCheckFeature(flags, argsz, VFIO_DEVICE_FEATURE_SET, UUID_SIZE);
  if (ret !== 1) return ret;
  if (data.length < UUID_SIZE) return -EFAULT;
  vdev.vfToken = data.slice(0, UUID_SIZE);
  return 0;
}

/** sizeof(struct vfio_device_feature_dma_buf): region_index, open_flags, flags, nr_ranges. */
const DMA_BUF_SIZE = 16;
/** VFIO_PCI_ROM_REGION_INDEX: dma-bufs are cut from BARs 0-5 only. */
const ROM_REGION_INDEX = 6;

/**
 * vfio_pci_core_feature_dma_buf() (vfio_pci_dmabuf.c, 6.19), as far as its checks go:
 * vfio_check_feature(GET, sizeof), then no ranges or non-zero flags → -EINVAL, a region that
 * is not a BAR → -ENODEV. Exporting the dma-buf itself (a new fd over BAR pages) is not
 * modelled: a request that passes these checks answers -EOPNOTSUPP, the kernel's answer for
 * a driver without get_dmabuf_phys.
 */
function featureDmaBuf(flags: number, data: Uint8Array, argsz: number): number {
  const ret = vfioCheckFeature(flags, argsz, VFIO_DEVICE_FEATURE_GET, DMA_BUF_SIZE);
  if (ret !== 1) return ret;
  if (data.length < DMA_BUF_SIZE) return -EFAULT;
  const dv = new DataView(data.buffer, data.byteOffset, DMA_BUF_SIZE);
  const regionIndex = dv.getUint32(0, true);
  if (dv.getUint32(12, true) === 0 || dv.getUint32(8, true) !== 0) return -EINVAL;
  if (regionIndex >= ROM_REGION_INDEX) return -ENODEV;
  return -EOPNOTSUPP;
}

/** vfio_pci_core_ioctl_feature(). */
export function vfioPciIoctlFeature(vdev: VfioPciCoreDevice, proc: Process, flags: number, data: Uint8Array, argsz: number): number {
  const lowPower = vdev.ex.lowPowerFeatures;
  switch (flags & VFIO_DEVICE_FEATURE_MASK) {
    case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
      return lowPower ? pmEntry(vdev, flags, argsz) : -ENOTTY;
    case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
      return lowPower ? pmEntryWithWakeup(vdev, proc, flags, data, argsz) : -ENOTTY;
    case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
      return lowPower ? pmExit(vdev, flags, argsz) : -ENOTTY;
    case VFIO_DEVICE_FEATURE_PCI_VF_TOKEN:
      return featureToken(vdev, flags, data, argsz);
    case VFIO_DEVICE_FEATURE_DMA_BUF:
      return vdev.ex.dmaBufFeature ? featureDmaBuf(flags, data, argsz) : -ENOTTY;
    default:
      return -ENOTTY;
  }
}
