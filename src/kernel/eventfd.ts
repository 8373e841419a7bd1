// eventfd(2): the counter an interrupt signals. vfio-pci takes eventfds by fd in SET_IRQS
// (eventfd_ctx_fdget) and signals them when the device's interrupt fires.

import { EAGAIN } from '../uapi/errno.js';
import type { FileOps } from './file.js';

/** Every eventfd_signal() so far, numbered (all eventfds of every kernel in the process). */
let signalSeq = 0;

/** The number of the latest eventfd_signal(): a step that leaves it unchanged signalled nothing. */
export function eventfdSignalSeq(): number {
  return signalSeq;
}

export class EventFd implements FileOps {
  readonly kind = 'eventfd' as const;
  count = 0n;
  /** Times it was signalled, for `expect delivered`. */
  signals = 0;
  /** The eventfdSignalSeq() of its latest signal (0: never signalled). */
  lastSignal = 0;

  /** Wakeups registered on the eventfd's wait queue (a virqfd's poll callback). */
  private readonly waiters = new Set<() => void>();

  /** eventfd_signal(): the counter goes up and every waiter wakes. */
  signal(): void {
    this.count += 1n;
    this.signals++;
    this.lastSignal = ++signalSeq;
    for (const w of [...this.waiters]) w();
  }

  addWaiter(w: () => void): void {
    this.waiters.add(w);
  }

  removeWaiter(w: () => void): void {
    this.waiters.delete(w);
  }

  /**
   * read(2) of the 8-byte counter, as eventfd_read() answers a non-semaphore eventfd opened
   * EFD_NONBLOCK: the count, which goes back to 0; -EAGAIN while it is 0.
   */
  read8(): bigint | number {
    if (this.count === 0n) return -EAGAIN;
    const n = this.count;
    this.count = 0n;
    return n;
  }
}
