// Where in a scenario something happened, and the one way to stop at a user's mistake there.

import { UserError } from '../lib/user-error.js';

export { quote } from '../lib/user-error.js';
import type { Command, Pos } from './ast.js';
import type { Where } from './events.js';

/** A UserError at `p` (`file:line:col: msg`). */
export const failAt = (p: Pos, msg: string): never => {
  throw new UserError(msg, { file: p.file, line: p.line, col: p.col });
};

/** The line of a command, as its events record it. */
export const whereOf = (cmd: Command): Where => ({ file: cmd.verbPos.file, line: cmd.verbPos.line });
