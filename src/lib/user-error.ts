// User-facing errors. Everything a user can get wrong (a scenario, a trace, a command line)
// becomes a UserError: the CLI prints its message and exits 2, never a stack trace.

export interface Where {
  file: string;
  line: number;
  col?: number;
}

export class UserError extends Error {
  constructor(
    message: string,
    readonly where?: Where,
  ) {
    super(message);
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
