// Renderers: the same run events as coloured text (strace-style) or as JSON lines.

import * as chalk from 'chalk';
import type { RunEvent } from '../script/events.js';
import { stdoutIsTerminal } from './out.js';

type Style = (text: string) => string;

/** The styles the commands print with: chalk's, or, without colour, the text as it is. */
export interface Styles {
  bold: Style;
  dim: Style;
  red: Style;
  green: Style;
  yellow: Style;
  cyan: Style;
  magenta: Style;
}

const same: Style = (text) => text;
/** What chalk at level 0 does to one string: nothing. Without colour chalk is not needed at all. */
const PLAIN: Styles = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same, magenta: same };

/** Styles that honour NO_COLOR (chalk itself does not) and --json. */
export function makeChalk(plain: boolean): Styles {
  if (plain || process.env.NO_COLOR) return PLAIN;
  // FORCE_COLOR: 0 off, 1–3 a colour level, anything else (true, empty) basic colours.
  const force = process.env.FORCE_COLOR;
  let level: 0 | 1 | 2 | 3;
  if (force !== undefined) {
    const n = Number(force);
    level = force !== '' && Number.isInteger(n) && n >= 0 && n <= 3 ? (n as 0 | 1 | 2 | 3) : 1;
  } else {
    level = stdoutIsTerminal() ? 1 : 0;
  }
  return level ? new chalk.Chalk({ level }) : PLAIN;
}

export function renderText(ev: RunEvent, c: Styles): string {
  const loc = c.dim(`${ev.at.line}`.padStart(4) + ' ');
  switch (ev.type) {
    case 'setup':
      return `${loc}${c.cyan('# ' + ev.text)}`;
    case 'syscall':
      return `${loc}${ev.errno ? c.red(ev.text) : ev.text}`;
    case 'dmesg':
      return `${loc}${c.yellow('[kernel] ' + ev.text)}`;
    case 'hw':
      return `${loc}${c.magenta(ev.text)}`;
    case 'fault':
      // A record the driver printed is shown by its kernel lines, which follow.
      return `${loc}${c.red(ev.logged ? `[fault] recorded by ${ev.iommu}; the driver logs:` : `[fault] ${ev.text}`)}`;
    case 'expect':
      return ev.ok
        ? `${loc}${c.green('✓ expect ' + ev.text)}`
        : `${loc}${c.red(`✗ expect ${ev.text}: expected ${ev.expected}, got ${ev.got}`)}`;
    case 'note':
      return ev.lines.map((l, i) => `${i ? '      ' : loc}${c.yellow((i ? '  ' : 'why: ') + l)}`).join('\n');
    case 'show':
      return [`${loc}${c.cyan('show ' + ev.what + ':')}`, ...ev.lines.map((l) => `      ${l}`)].join('\n');
  }
}

/** One JSON object per event; u64 values are already hex strings in the events. */
export function renderJson(ev: RunEvent, file: string): string {
  const { trace: _t, ...rest } = ev as RunEvent & { trace?: unknown };
  return JSON.stringify({ file, ...rest });
}
