// Output without touching process.stdout: creating that stream (a tty or pipe handle) costs a
// few milliseconds of start time, and a CLI that prints and exits needs none of it.

import { fstatSync, writeSync } from 'node:fs';

/** Writes all of `text` to fd 1 (2 for errors), retrying while a non-blocking pipe is full. */
export function writeOut(text: string, fd: 1 | 2 = 1): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}

/** Whether fd 1 is a terminal (a character device: close enough to decide on colour). */
export function stdoutIsTerminal(): boolean {
  try {
    return fstatSync(1).isCharacterDevice();
  } catch {
    return false;
  }
}
