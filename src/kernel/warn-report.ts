// A WARN_ON() report as the pre-7.x kernels open it: __warn() (kernel/panic.c) prints
//   pr_warn("------------[ cut here ]------------\n");
//   pr_warn("WARNING: CPU: %d PID: %d at %s:%d %pS\n", raw_smp_processor_id(),
//           current->pid, file, line, caller);
// (v4.11 kernel/panic.c lines 520-525), then the modules, the registers or a stack dump, and
// "---[ end trace %016llx ]---".
//
// The site (file, line, function) is the fact a scenario can check. The rest belongs to the
// recorded machine and is not modelled: the CPU and the PID (the model has neither), the
// caller's "+0xoff/0xsize" (the build's code layout), the registers, the stack and the taint.
// Those fields print as "?" so that no made-up number can be mistaken for a measured one.
//
// TODO(merge): the "warn" work gives kernel/log.ts a structured WARN fact (7.2's
// "WARNING: file:line at func+off, CPU#: comm/pid" form); this file is the minimal 4.11 form
// until the two are unified.

import type { KernelLog } from './log.js';

/** Where a WARN_ON sits: its file and line in that kernel's source, and its function. */
export interface WarnSite {
  file: string;
  line: number;
  func: string;
}

/** The report's first lines, as __warn() prints them (at KERN_WARNING). */
export function warnReportLines(site: WarnSite): string[] {
  return ['------------[ cut here ]------------', `WARNING: CPU: ? PID: ? at ${site.file}:${site.line} ${site.func}+0x?/0x?`];
}

/** Logs a WARN_ON report of `site`. */
export function logWarn(log: KernelLog, site: WarnSite): void {
  for (const line of warnReportLines(site)) log.warn(line);
}
