// Output without touching process.stdout: creating that stream (a tty or pipe handle) costs a
// few milliseconds of start time, and a CLI that prints and exits needs none of it.

import { fstatSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { UserError } from '../lib/user-error.js';

/**
 * Thrown by writeOut when the reader of stdout has gone (`vfio-emu run x | head -1`): the CLI
 * stops there and exits quietly, as Unix tools do.
 */
export class StdoutClosed extends Error {
  constructor() {
    super('stdout closed');
    this.name = 'StdoutClosed';
  }
}

/** A reader that went away from fd 1 (or fd 2) is not coming back: later writes are dropped. */
const closed = { 1: false, 2: false };

const pause = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps `ms` milliseconds without spinning (the CLI is synchronous; nothing else can run). */
function sleep(ms: number): void {
  Atomics.wait(pause, 0, 0, ms);
}

/**
 * Writes all of `text` to fd 1 (2 for errors), waiting while a non-blocking pipe is full.
 * When the reader has closed the pipe (EPIPE), writing stops: on fd 1 StdoutClosed is thrown
 * so the command ends; on fd 2 the text is dropped (there is no one to tell).
 */
export function writeOut(text: string, fd: 1 | 2 = 1): void {
  if (closed[fd]) {
    if (fd === 1) throw new StdoutClosed();
    return;
  }
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  let wait = 1;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
      wait = 1;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') {
        closed[fd] = true;
        if (fd === 1) throw new StdoutClosed();
        return;
      }
      if (code !== 'EAGAIN') throw e;
      // The pipe is full: give the reader time to drain it (1, 2, 4 … up to 16 ms).
      sleep(wait);
      wait = Math.min(wait * 2, 16);
    }
  }
}

const WRITE_PROBLEM: Record<string, string> = {
  EISDIR: 'it is a directory: expected a file name',
  ENOENT: 'no such directory: expected a file in an existing directory',
  ENOTDIR: 'a part of the path is not a directory: expected a file in an existing directory',
  EACCES: 'permission denied: expected a file you may write',
  EPERM: 'operation not permitted: expected a file you may write',
  EROFS: 'read-only file system: expected a file you may write',
  ENOSPC: 'no space left on the device',
};

/**
 * Writes an output file the user named (`--trace FILE`, `--out FILE`); a failure is the
 * user's to fix: `FILE: cannot write: CODE (why)`, a UserError.
 */
export function writeUserFile(file: string, text: string): void {
  userWrite(file, () => writeFileSync(file, text));
}

/** Opens (creates or truncates) an output file the user named, for writing in chunks; a failure as writeUserFile's. */
export function openUserFile(file: string): number {
  return userWrite(file, () => openSync(file, 'w'));
}

/** Appends a chunk to an output file opened by openUserFile; a failure as writeUserFile's. */
export function writeUserChunk(file: string, fd: number, text: string): void {
  userWrite(file, () => writeFileSync(fd, text));
}

function userWrite<T>(file: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    const why = WRITE_PROBLEM[code];
    throw new UserError(`${file}: cannot write: ${code}${why ? ` (${why})` : ''}`);
  }
}

/**
 * Whether fd 1 is a terminal (a character device: close enough to decide on colour, without
 * loading node:tty). Not /dev/null, which is one too: nobody reads colour there, and styling
 * text for it would load chalk into every run whose output is thrown away.
 */
export function stdoutIsTerminal(): boolean {
  try {
    const out = fstatSync(1);
    return out.isCharacterDevice() && out.rdev !== statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}
