// The kernel log (dmesg). Lines are recorded with the action that caused them, so a scenario
// can `expect dmesg "..."` about its last action and a replay can compare kmsg events.

import { Taint, TAINT_WARN, taintText, taintVerboseText, type TaintLetters } from './taint.js';

export interface LogLine {
  /** The text as printk formats it, without the `[ timestamp]` prefix. */
  text: string;
  level: 'err' | 'warn' | 'notice' | 'info' | 'debug';
  /**
   * Printed once per boot, on the first occurrence of some event (pci_enable_device's
   * "enabling device", an ACPI link's first enable). A process replayed from a trace may have
   * been preceded by others in the same boot, so a replay cannot expect these.
   */
  oncePerBoot?: boolean;
  /** The WARN report this line is part of (every line of its text form carries the same fact). */
  warn?: WarnReport;
  /**
   * Printed by an interrupt handler after the call that caused it had returned: the handler
   * of a fault raised by work a device runs from a timer (edu's DMA). A recorder that drains
   * /dev/kmsg after each call finds the line after the next call, not after its cause.
   */
  afterCall?: boolean;
}

/** Where a WARN_ON sits: the bug table's file and line, and the function holding it. */
export interface WarnSite {
  /** As __FILE__ spells it in the build (`drivers/iommu/generic_pt/fmt/../iommu_pt.h`). */
  file: string;
  line: number;
  /** The symbol of the WARN's address (%pS without its +offset/size, which is the build's). */
  fn: string;
}

/** The task that was running (`current`): what a WARN report names. */
export interface LogTask {
  readonly comm: string;
  readonly pid: number;
}

/**
 * A WARN_ON report (lib/bug.c __report_bug → kernel/panic.c __warn), as one fact: the site,
 * the CPU and task it ran on, and the taint before it (the report prints the state before its
 * own add_taint(TAINT_WARN)). What the report prints beyond this (the module list, registers,
 * code bytes, the call trace, the build's version string) belongs to the machine and build.
 */
export interface WarnReport {
  site: WarnSite;
  cpu: number;
  uid: number;
  comm: string;
  pid: number;
  taint: TaintLetters;
  /** dump_stack_arch_desc: the firmware's machine description (DMI), when the platform has one. */
  hardware?: string;
  /** The older headline form (Era.warnForm 'cpu-pid'); absent: the current one. */
  form?: 'cpu-pid';
}

/** How __warn() opens a report (Era.warnForm). */
export type WarnForm = 'cpu-pid' | 'site-first';

/** report_bug()'s line before a WARN_ON's report (include/asm-generic/bug.h CUT_HERE). */
export const WARN_CUT_HERE = '------------[ cut here ]------------';
/** print_oops_end_marker(): the last line of every report (the oops id is 0 since 5.x). */
export const WARN_END = '---[ end trace 0000000000000000 ]---';

/**
 * The report's first line (__warn's "WARNING: %s:%d at %pS, CPU#%d: %s/%d", or the older
 * "WARNING: CPU: %d PID: %d at %s:%d %pS"), without %pS's offset.
 */
export function warnHeadline(w: WarnReport): string {
  if (w.form === 'cpu-pid') return `WARNING: CPU: ${w.cpu} PID: ${w.pid} at ${w.site.file}:${w.site.line} ${w.site.fn}`;
  return `WARNING: ${w.site.file}:${w.site.line} at ${w.site.fn}, CPU#${w.cpu}: ${w.comm}/${w.pid}`;
}

/** dump_stack_print_info()'s CPU line, up to the taint (the release, version and preempt model are the build's). */
export function warnCpuLine(w: WarnReport): string {
  return `CPU: ${w.cpu} UID: ${w.uid} PID: ${w.pid} Comm: ${w.comm} ${taintText(w.taint)}`;
}

/**
 * The lines of a WARN report the model prints: CUT_HERE, the WARNING line, the CPU line, the
 * verbose taint when tainted, the hardware name when known, and the end marker. printk's
 * levels: report_bug's pr_info(CUT_HERE), __warn's pr_warn, show_regs' KERN_DEFAULT (info).
 */
function warnLines(w: WarnReport): { level: LogLine['level']; text: string }[] {
  // The older kernels' __warn() (v4.11 kernel/panic.c 520-525): pr_warn(CUT_HERE), then
  // "WARNING: CPU: %d PID: %d at %s:%d %pS". Only these two lines are modelled for that form:
  // its dump_stack_print_info() line carries a shorter taint table, and its end marker a
  // random oops id.
  if (w.form === 'cpu-pid') {
    return [
      { level: 'warn', text: WARN_CUT_HERE },
      { level: 'warn', text: warnHeadline(w) },
    ];
  }
  return [
    { level: 'info', text: WARN_CUT_HERE },
    { level: 'warn', text: warnHeadline(w) },
    { level: 'info', text: warnCpuLine(w) },
    ...(w.taint.size ? [{ level: 'info' as const, text: taintVerboseText(w.taint) }] : []),
    ...(w.hardware !== undefined ? [{ level: 'info' as const, text: `Hardware name: ${w.hardware}` }] : []),
    { level: 'warn', text: WARN_END },
  ];
}

export class KernelLog {
  readonly lines: LogLine[] = [];
  /** tainted_mask. */
  readonly taint = new Taint();
  /** The task whose system call is running, for reports that name it. */
  current?: LogTask;

  /** @param hardware dump_stack_arch_desc (the platform's DMI description), if any. */
  constructor(private readonly hardware?: string) {}

  log(level: LogLine['level'], text: string, oncePerBoot = false): void {
    this.lines.push(oncePerBoot ? { level, text, oncePerBoot } : { level, text });
  }

  /** A line an interrupt handler printed after the call that caused it returned (LogLine.afterCall). */
  afterCall(level: LogLine['level'], text: string): void {
    this.lines.push({ level, text, afterCall: true });
  }

  warn(text: string): void {
    this.log('warn', text);
  }

  info(text: string): void {
    this.log('info', text);
  }

  /**
   * WARN_ON(cond) firing at `site` in the current task: the report (one fact, printed as its
   * lines), then add_taint(TAINT_WARN) as __warn does after printing.
   */
  warnOn(site: WarnSite, form: WarnForm = 'site-first'): WarnReport {
    const task = this.current;
    const w: WarnReport = {
      ...(form === 'cpu-pid' ? { form } : {}),
      site,
      cpu: 0,
      uid: 0,
      comm: task?.comm ?? 'swapper/0',
      pid: task?.pid ?? 0,
      taint: this.taint.letters(),
      ...(this.hardware !== undefined ? { hardware: this.hardware } : {}),
    };
    for (const l of warnLines(w)) this.lines.push({ level: l.level, text: l.text, warn: w });
    this.taint.add(TAINT_WARN);
    return w;
  }

  /**
   * Lines logged since `mark` (a previous `lines.length`) that reach /dev/kmsg: pr_debug and
   * dev_dbg lines are kept for `show dmesg` but print only with dynamic debug, which the
   * modelled kernels do not enable.
   */
  since(mark: number, includeDebug = false): LogLine[] {
    if (mark >= this.lines.length) return [];
    return this.lines.slice(mark).filter((l) => includeDebug || l.level !== 'debug');
  }
}
