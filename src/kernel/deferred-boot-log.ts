// Kernel log lines printed once per boot by work the boot deferred, at a moment no system call
// decides: on x86 the TSC's refined calibration runs from a delayed work item that
// init_tsc_clocksource() (a device_initcall) schedules, and when it registers the refined
// clocksource the timekeeping core prints its parameters and switches to it. Under a slow
// emulator this lands while the first user processes run, so a process's kmsg may hold it.
// The values (the measured frequency, the cycle mask and limits) are the machine's.

import type { Arch } from '../hw/platform.js';

export interface DeferredBootLine {
  /** The line as printk prints it, the machine's values as patterns. */
  pattern: RegExp;
  /** Where it is printed. */
  source: string;
}

/**
 * arch/x86/kernel/tsc.c tsc_refine_calibration_work() (without X86_FEATURE_TSC_KNOWN_FREQ, as
 * under QEMU TCG's -cpu max), then clocksource_register_khz(&clocksource_tsc).
 */
const X86_TSC_REFINE: readonly DeferredBootLine[] = [
  { pattern: /^tsc: Refined TSC clocksource calibration: \d+\.\d{3} MHz$/, source: 'arch/x86/kernel/tsc.c tsc_refine_calibration_work' },
  {
    pattern: /^clocksource: tsc: mask: 0x[0-9a-f]+ max_cycles: 0x[0-9a-f]+, max_idle_ns: \d+ ns$/,
    source: 'kernel/time/clocksource.c __clocksource_update_freq_scale',
  },
  { pattern: /^clocksource: Switched to clocksource tsc$/, source: 'kernel/time/clocksource.c __clocksource_select' },
];

/** The deferred boot lines of each architecture's kernel. */
export const DEFERRED_BOOT_LOG: Readonly<Record<Arch, readonly DeferredBootLine[]>> = {
  x86_64: X86_TSC_REFINE,
  aarch64: [],
  ppc64le: [],
};
