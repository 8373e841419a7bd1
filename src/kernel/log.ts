// The kernel log (dmesg). Lines are recorded with the action that caused them, so a scenario
// can `expect dmesg "..."` about its last action and a replay can compare kmsg events.

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
  /**
   * Printed by an interrupt handler after the call that caused it had returned: the handler
   * of a fault raised by work a device runs from a timer (edu's DMA). A recorder that drains
   * /dev/kmsg after each call finds the line after the next call, not after its cause.
   */
  afterCall?: boolean;
}

export class KernelLog {
  readonly lines: LogLine[] = [];

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
   * Lines logged since `mark` (a previous `lines.length`) that reach /dev/kmsg: pr_debug and
   * dev_dbg lines are kept for `show dmesg` but print only with dynamic debug, which the
   * modelled kernels do not enable.
   */
  since(mark: number, includeDebug = false): LogLine[] {
    return this.lines.slice(mark).filter((l) => includeDebug || l.level !== 'debug');
  }
}
