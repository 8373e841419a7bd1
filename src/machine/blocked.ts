// What a blocked system call means, in the user's words. The kernel model answers a call that
// would not return with a Blocked fact (kernel/would-block.ts); a scenario or a replay cannot
// wait on itself, so it stops there and says what the call waits for.

import type { Blocked } from '../kernel/would-block.js';

/** The message for `call` (e.g. "bind 0000:01:00.0", "write /sys/..."), blocked on `b`. */
export function blockedMessage(call: string, b: Blocked): string {
  switch (b.waits) {
    case 'vf-release':
      return `${call} blocks: ${b.device} is open through VFIO (vfio_del_group_dev waits for it to be released)`;
    case 'vaddr-update':
      return 'SET_IOMMU/SET_CONTAINER blocks: vfio_iommu_replay() waits in vfio_wait_all_valid() until every invalidated vaddr is updated (MAP_DMA with VADDR) or the container closes';
  }
}
