// The `why:` note under a refused call, naming the rule that decided:
// - a VFIO_SET_IOMMU or VFIO_GROUP_SET_CONTAINER that failed with EPERM: a group that is not
//   viable by the era's rule (viability.ts), or else the era's interrupt-safety rule
//   (verdict.ts);
// - a GET_DEVICE_FD refused (-EINVAL) because the group is not viable (before 5.19);
// - a BIND_IOMMUFD, or a GET_DEVICE_FD of a group in an iommufd container, refused (-EPERM) by
//   iommufd_device_bind()'s isolated-MSI rule (verdict.ts);
// - a MAP_DMA refused (-EINVAL) by the valid IOVA list (iova-list.ts);
// - a SET_IRQS that could not enable MSI/MSI-X (-EINVAL) because the series v10 had no MSI
//   window to map the doorbell in (msi-window.ts);
// - a module parameter value the parameter refuses (-EINVAL): what it takes.

import { EINVAL, EPERM } from '../../uapi/errno.js';
import type { SysResult } from '../../kernel/kernel.js';
import { VfioContainer } from '../../kernel/vfio/container.js';
import { VfioGroupFile } from '../../kernel/vfio/group.js';
import { KStruct } from '../../uapi/struct.js';
import { VFIO_IOMMU_TYPE1_DMA_MAP, VFIO_IRQ_SET } from '../../uapi/structs.js';
import type { Machine } from '../../machine/boot.js';
import { iovaListLines } from './iova-list.js';
import { iommufdVerdictLines, verdictLines } from './verdict.js';
import { VfioDeviceFile } from '../../kernel/vfio/device.js';
import { viabilityLines } from './viability.js';
import { msiWindowLines } from './msi-window.js';
import { VfioPciCoreDevice } from '../../kernel/vfio-pci/core-device.js';
import { vfioPciGetIrqCount } from '../../kernel/vfio-pci/intrs.js';
import type { Call } from '../syscall.js';

export function whyNote(call: Call, r: SysResult, { kernel, proc }: Machine): string[] | undefined {
  if (call.op === 'param' && r.errno === EINVAL) {
    return [`${call.name}: "${call.value}" is not a valid value: expected ${kernel.params.expects(call.name) ?? 'a value the parameter takes'}`];
  }
  if (call.op !== 'ioctl') return undefined;
  const name = call.req.name;
  const ops = proc.file(call.fd)?.ops;
  if (name === 'VFIO_GROUP_GET_DEVICE_FD' && r.errno === EINVAL && ops instanceof VfioGroupFile) {
    const g = ops.group.iommuGroup;
    return !kernel.era.dmaOwnerClaim && ops.group.container?.iommu && !ops.group.viable ? viabilityLines(kernel, g) : undefined;
  }
  if (name === 'VFIO_IOMMU_MAP_DMA' && r.errno === EINVAL && ops instanceof VfioContainer) {
    const map = KStruct.fromUser(VFIO_IOMMU_TYPE1_DMA_MAP, call.before, VFIO_IOMMU_TYPE1_DMA_MAP.size);
    // READ|WRITE given and vaddr aligned (the flag and argsz checks that come first).
    const sane = map && map.get('argsz') >= BigInt(VFIO_IOMMU_TYPE1_DMA_MAP.size) && (map.get('flags') & 3n) !== 0n;
    return sane ? iovaListLines(kernel, ops, map.get('iova'), map.get('size'), map.get('vaddr')) : undefined;
  }
  if (name === 'VFIO_DEVICE_SET_IRQS' && r.errno === EINVAL && ops instanceof VfioDeviceFile) {
    // Only a trigger setup with eventfds on MSI (1) or MSI-X (2), inside the index's vectors,
    // that left the device without MSI enabled: the other -EINVALs (flags, argsz, ranges) are
    // decided before any vector is allocated.
    const set = KStruct.fromUser(VFIO_IRQ_SET, call.before, VFIO_IRQ_SET.size);
    const vdev = ops.device.ops;
    if (!set || !(vdev instanceof VfioPciCoreDevice) || set.get('argsz') < BigInt(VFIO_IRQ_SET.size) + 4n * set.get('count')) return undefined;
    const index = Number(set.get('index'));
    const end = set.get('start') + set.get('count');
    const enabling = (index === 1 || index === 2) && set.get('flags') === 0x24n && set.get('count') > 0n && end <= BigInt(vfioPciGetIrqCount(vdev, index));
    const kdev = ops.device.kdev;
    return enabling && kernel.msi.get(kdev.bdf)?.enabled === undefined ? msiWindowLines(kernel, kdev) : undefined;
  }
  if (r.errno !== EPERM) return undefined;
  const bindGroup =
    name === 'VFIO_DEVICE_BIND_IOMMUFD' && ops instanceof VfioDeviceFile
      ? kernel.vfioGroups.get(ops.device.group.id)?.iommuGroup
      : name === 'VFIO_GROUP_GET_DEVICE_FD' && ops instanceof VfioGroupFile
        ? ops.group.iommuGroup
        : undefined;
  if (bindGroup) return iommufdVerdictLines(kernel, bindGroup, proc);
  if (name !== 'VFIO_SET_IOMMU' && name !== 'VFIO_GROUP_SET_CONTAINER') return undefined;
  if (ops instanceof VfioGroupFile && kernel.era.dmaOwnerClaim && !ops.group.viable) {
    return viabilityLines(kernel, ops.group.iommuGroup);
  }
  const groups = ops instanceof VfioContainer ? ops.groups : ops instanceof VfioGroupFile ? [ops.group.iommuGroup] : [];
  return verdictLines(kernel, groups, name === 'VFIO_SET_IOMMU' ? call.arg : undefined);
}
