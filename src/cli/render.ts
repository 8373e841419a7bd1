// Renderers: the same run events as coloured text (strace-style) or as JSON lines.

import { Chalk, type ChalkInstance } from 'chalk';
import type { RunEvent } from '../script/events.js';
import { stdoutIsTerminal } from './out.js';

/** A chalk that honours NO_COLOR (chalk itself does not) and --json. */
export function makeChalk(plain: boolean): ChalkInstance {
  if (plain || process.env.NO_COLOR) return new Chalk({ level: 0 });
  // FORCE_COLOR: 0 off, 1–3 a colour level, anything else (true, empty) basic colours.
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) {
    const n = Number(force);
    return new Chalk({ level: force !== '' && Number.isInteger(n) && n >= 0 && n <= 3 ? (n as 0 | 1 | 2 | 3) : 1 });
  }
  return new Chalk({ level: stdoutIsTerminal() ? 1 : 0 });
}

export function renderText(ev: RunEvent, c: ChalkInstance): string {
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
