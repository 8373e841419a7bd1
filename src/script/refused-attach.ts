// Why an attach was refused: a VFIO_SET_IOMMU or VFIO_GROUP_SET_CONTAINER that failed with
// EPERM is followed by the verdict on the groups it concerned, judged by the era's rule
// (explain/verdict.ts).

import { EPERM } from '../uapi/errno.js';
import type { SysResult } from '../kernel/kernel.js';
import { VfioContainer } from '../kernel/vfio/container.js';
import { VfioGroupFile } from '../kernel/vfio/group.js';
import type { Machine } from '../machine/boot.js';
import { verdictLines } from './explain/verdict.js';
import type { Call } from './syscall.js';

export function refusedAttachNote(call: Call, r: SysResult, { kernel, proc }: Machine): string[] | undefined {
  if (call.op !== 'ioctl' || r.errno !== EPERM) return undefined;
  const name = call.req.name;
  if (name !== 'VFIO_SET_IOMMU' && name !== 'VFIO_GROUP_SET_CONTAINER') return undefined;
  const ops = proc.file(call.fd)?.ops;
  const groups = ops instanceof VfioContainer ? ops.groups : ops instanceof VfioGroupFile ? [ops.group.iommuGroup] : [];
  return verdictLines(kernel, groups, name === 'VFIO_SET_IOMMU' ? call.arg : undefined);
}
