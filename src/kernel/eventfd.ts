// eventfd(2): the counter an interrupt signals. vfio-pci takes eventfds by fd in SET_IRQS
// (eventfd_ctx_fdget) and signals them when the device's interrupt fires.

import type { FileOps } from './file.js';

export class EventFd implements FileOps {
  readonly kind = 'eventfd' as const;
  count = 0n;
  /** Times it was signalled, for `expect delivered`. */
  signals = 0;

  signal(): void {
    this.count += 1n;
    this.signals++;
  }
}
