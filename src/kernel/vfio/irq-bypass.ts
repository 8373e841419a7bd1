// The irqbypass producer list (virt/lib/irqbypass.c), as far as vfio-pci sees it: each MSI/MSI-X
// vector with a trigger registers a producer whose token is the trigger's eventfd context, and
// irq_bypass_register_producer() refuses (-EBUSY) a token already on the list, whichever
// device registered it. vfio_msi_set_vector_signal() only logs that refusal:
//   "irq bypass producer (token %p) registration fails: -16"      (to 6.16)
//   "irq bypass producer (eventfd %p) registration fails: -16"    (6.17+, Era.irqBypassLogNames:
// the registration takes the eventfd itself; recorded on Debian 7.2.13)
//
// %p prints a pointer hashed with a key chosen at boot (lib/vsprintf.c, ptr_to_id), so the
// token is a per-boot value: the model gives each eventfd a stable pseudo-random 32-bit id per
// kernel, printed as %p prints a hashed pointer on 64-bit (16 hex digits, the top 8 zero).
// Recordings and the model cannot agree on it; the replayer compares these lines with the
// token as a wildcard (trace/replay.ts).

import { EBUSY } from '../../uapi/errno.js';
import type { Era } from '../era.js';

export class IrqBypass {
  private readonly producers = new Set<object>();
  private readonly ids = new WeakMap<object, number>();
  /** xorshift32 state: the boot's hashing key. */
  private key: number;

  constructor(seed = 0x2545f491) {
    this.key = seed >>> 0 || 1;
  }

  /** irq_bypass_register_producer(): 0, or -EBUSY when the token is already registered. */
  register(token: object): number {
    if (this.producers.has(token)) return -EBUSY;
    this.producers.add(token);
    return 0;
  }

  /** irq_bypass_unregister_producer(). */
  unregister(token: object): void {
    this.producers.delete(token);
  }

  /** vfio-pci's line for a refused registration, in the era's words (dev_info's text). */
  failureText(era: Era, token: object, ret: number): string {
    return `irq bypass producer (${era.irqBypassLogNames} ${this.hashedPointer(token)}) registration fails: ${ret}`;
  }

  /** "%p" of the token: its hashed id for this boot. */
  hashedPointer(token: object): string {
    let id = this.ids.get(token);
    if (id === undefined) {
      let x = this.key;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.key = x >>> 0;
      id = this.key;
      this.ids.set(token, id);
    }
    return id.toString(16).padStart(16, '0');
  }
}
