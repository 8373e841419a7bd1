// The shape checks every verb shares: one positional word, which key= arguments it takes.

import type { Command, Word } from '../ast.js';
import { failAt, quote } from '../where.js';

/** The command's only positional word; `what` says what it should be. */
export function onePositional(cmd: Command, what: string): Word {
  const w = cmd.positional[0];
  if (!w) return failAt(cmd.verbPos, `"${cmd.verb}" needs ${what}`);
  if (cmd.positional.length > 1) failAt(cmd.positional[1].pos, `"${cmd.verb}" takes only ${what}; unexpected ${quote(cmd.positional[1].text)}`);
  return w;
}

/** Every key= of the command is one of `allowed`. */
export function checkKeys(cmd: Command, allowed: readonly string[]): void {
  for (const kv of cmd.named) {
    if (!allowed.includes(kv.key)) {
      failAt(kv.keyPos, `"${cmd.verb}" takes no "${kv.key}=" (${allowed.length ? `it takes ${allowed.map((a) => a + '=').join(', ')}` : 'it takes no key=value arguments'})`);
    }
  }
}

/** The value of the first `key=`, if given. */
export const namedValue = (cmd: Command, key: string): Word | undefined => cmd.named.find((kv) => kv.key === key)?.value;
