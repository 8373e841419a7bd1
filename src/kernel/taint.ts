// The kernel's taint mask (kernel/panic.c): the flags add_taint() sets, and how print_tainted()
// and print_tainted_verbose() spell them in the CPU line of an oops or WARN report and the line
// after it. A WARN taints the kernel (__warn → add_taint(TAINT_WARN)), so the first WARN of a
// boot says "Not tainted" and every later one "Tainted: G        W           ".

/** One row of taint_flags[] (kernel/panic.c TAINT_FLAG(): the letter when set, when clear, the name). */
interface TaintFlag {
  name: string;
  set: string;
  clear: string;
}

/** taint_flags[] in bit order (include/linux/panic.h TAINT_*), as of 6.15 (TAINT_FWCTL, 'J', the last added) through 7.2. */
const TAINT_FLAGS: readonly TaintFlag[] = [
  { name: 'PROPRIETARY_MODULE', set: 'P', clear: 'G' },
  { name: 'FORCED_MODULE', set: 'F', clear: ' ' },
  { name: 'CPU_OUT_OF_SPEC', set: 'S', clear: ' ' },
  { name: 'FORCED_RMMOD', set: 'R', clear: ' ' },
  { name: 'MACHINE_CHECK', set: 'M', clear: ' ' },
  { name: 'BAD_PAGE', set: 'B', clear: ' ' },
  { name: 'USER', set: 'U', clear: ' ' },
  { name: 'DIE', set: 'D', clear: ' ' },
  { name: 'OVERRIDDEN_ACPI_TABLE', set: 'A', clear: ' ' },
  { name: 'WARN', set: 'W', clear: ' ' },
  { name: 'CRAP', set: 'C', clear: ' ' },
  { name: 'FIRMWARE_WORKAROUND', set: 'I', clear: ' ' },
  { name: 'OOT_MODULE', set: 'O', clear: ' ' },
  { name: 'UNSIGNED_MODULE', set: 'E', clear: ' ' },
  { name: 'SOFTLOCKUP', set: 'L', clear: ' ' },
  { name: 'LIVEPATCH', set: 'K', clear: ' ' },
  { name: 'AUX', set: 'X', clear: ' ' },
  { name: 'RANDSTRUCT', set: 'T', clear: ' ' },
  { name: 'TEST', set: 'N', clear: ' ' },
  { name: 'FWCTL', set: 'J', clear: ' ' },
];

/** TAINT_FLAGS_COUNT: the letters print_tainted() writes after "Tainted: ". */
export const TAINT_FLAG_COUNT = TAINT_FLAGS.length;

/** A set of taint flags, by their letters when set ('W'). */
export type TaintLetters = ReadonlySet<string>;

/** print_tainted(): "Not tainted", or "Tainted: " and one letter (or blank) per flag. */
export function taintText(set: TaintLetters): string {
  if (set.size === 0) return 'Not tainted';
  return `Tainted: ${TAINT_FLAGS.map((f) => (set.has(f.set) ? f.set : f.clear)).join('')}`;
}

/** print_tainted_verbose(): "Tainted: [W]=WARN, ..." (dump_stack_print_info prints it when tainted). */
export function taintVerboseText(set: TaintLetters): string {
  return `Tainted: ${TAINT_FLAGS.filter((f) => set.has(f.set)).map((f) => `[${f.set}]=${f.name}`).join(', ')}`;
}

/**
 * print_tainted()'s text read back: the letters set, or undefined when `text` is not what
 * print_tainted() prints (a different flag table, a letter in the wrong place).
 */
export function parseTaintText(text: string): Set<string> | undefined {
  if (text === 'Not tainted') return new Set();
  const m = /^Tainted: (.*)$/.exec(text);
  if (!m || m[1]!.length !== TAINT_FLAGS.length) return undefined;
  const set = new Set<string>();
  for (const [i, f] of TAINT_FLAGS.entries()) {
    const c = m[1]![i];
    if (c === f.set) set.add(f.set);
    else if (c !== f.clear) return undefined;
  }
  return set;
}

/** The letter TAINT_WARN sets. */
export const TAINT_WARN = 'W';

/** The kernel's tainted_mask: flags are only ever added (add_taint), never cleared. */
export class Taint {
  private readonly set = new Set<string>();

  add(letter: string): void {
    this.set.add(letter);
  }

  /** The flags set now (a copy). */
  letters(): Set<string> {
    return new Set(this.set);
  }
}
