// User-facing errors. Everything a user can get wrong (a scenario, a trace, a command line)
// becomes a UserError: the CLI prints its message and exits 2, never a stack trace.

export interface Where {
  file: string;
  line: number;
  col?: number;
}

/** The longest message a UserError carries; past it the message says how much it left out. */
const MAX_MESSAGE = 2000;

export class UserError extends Error {
  constructor(
    message: string,
    readonly where?: Where,
  ) {
    // A message quotes the user's input; a hostile input must not make the answer as long as
    // itself (quote() shortens the quotes, this catches any message that did not use it).
    super(message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}… (${message.length - MAX_MESSAGE} more characters)` : message);
    this.name = 'UserError';
  }

  /** `file:line:col: message` (or `file:line: message` when the column is unknown). */
  format(): string {
    if (!this.where) return this.message;
    const { file, line, col } = this.where;
    return col === undefined ? `${file}:${line}: ${this.message}` : `${file}:${line}:${col}: ${this.message}`;
  }
}

export function userError(where: Where | undefined, message: string): UserError {
  return new UserError(message, where);
}

/** The longest piece of user text a message quotes whole. */
const MAX_QUOTE = 60;

/**
 * User text in a message, in double quotes; a long one keeps its start and end and says how
 * long it was, so a 10 MB word does not come back as a 10 MB message.
 */
export function quote(text: string): string {
  if (text.length <= MAX_QUOTE) return `"${text}"`;
  return `"${text.slice(0, 40)}…${text.slice(-10)}" (${text.length} characters)`;
}
