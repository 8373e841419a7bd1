// Reading what the user names on the command line: scenario and trace files (or stdin), and the
// directories `check` searches. Every input is bounded (lib/limits.ts), so `run /dev/zero` or a
// pipe that never ends stops with an error instead of eating memory, and a directory walk visits
// each real directory once and never leaves the tree the user named (symlink loops, /proc/self).

import { closeSync, fstatSync, readFileSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { isAscii } from 'node:buffer';
import { LIMITS, sizeText } from '../lib/limits.js';
import { UserError } from '../lib/user-error.js';

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * The bytes as UTF-8 text. Scenarios and traces are almost always plain ASCII, whose UTF-8
 * and Latin-1 readings are the same string: the Latin-1 copy skips the UTF-8 decoder, which
 * on a large generated scenario costs more than the read itself.
 */
function text(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** The text of a file the user named (`-` is stdin), at most LIMITS.inputBytes. */
export function readInput(file: string): string {
  let fd: number;
  try {
    fd = file === '-' ? 0 : openSync(file, 'r');
  } catch (e) {
    throw new UserError(`${file}: cannot read: ${code(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UserError(`${file}: cannot read: EISDIR (a directory: give a file, or use check DIR)`);
    const tooLarge = () => new UserError(`${file}: larger than ${sizeText(LIMITS.inputBytes)}: expected a scenario or trace of at most that size`);
    // A regular file says its size: one read, no copies. Anything else (a pipe, stdin, a
    // device such as /dev/zero) is read in chunks until it ends or passes the limit.
    if (st.isFile()) {
      if (st.size > LIMITS.inputBytes) throw tooLarge();
      return text(readFileSync(fd));
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 20);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if (code(e) === 'EAGAIN') continue;
        if (code(e) === 'EOF') break;
        throw new UserError(`${file}: cannot read: ${code(e)}`);
      }
      if (n === 0) break;
      total += n;
      if (total > LIMITS.inputBytes) throw tooLarge();
      chunks.push(chunk.subarray(0, n));
    }
    return text(Buffer.concat(chunks, total));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: cannot read: ${code(e)}`);
  } finally {
    if (file !== '-') closeSync(fd);
  }
}

/** What a path the user gave (or a directory holds) is; a path that cannot be read says why. */
function statPath(p: string): Stats {
  try {
    return statSync(p);
  } catch (e) {
    const c = code(e);
    let target: string | undefined;
    try {
      if (lstatSync(p).isSymbolicLink()) target = readlinkSync(p);
    } catch {
      // not there at all
    }
    if (target !== undefined) {
      throw new UserError(
        `${p}: cannot read: ${c} (a symbolic link to "${target}", which ${c === 'ENOENT' ? 'does not exist' : 'cannot be followed'}): expected a scenario file or a directory`,
      );
    }
    if (c === 'ENOENT') throw new UserError(`${p}: no such file or directory`);
    throw new UserError(`${p}: cannot read: ${c}`);
  }
}

const inside = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/**
 * The scenario files under the paths given: each named file, and every `*.vfio` below each
 * named directory, in name order. Each real directory is visited once (so `x -> .` adds
 * nothing), and a link that leads out of the named tree is not followed.
 */
export function collectScenarios(paths: string[]): string[] {
  const out: string[] = [];
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  const add = (p: string, real: string): void => {
    if (seenFiles.has(real)) return;
    seenFiles.add(real);
    out.push(p);
  };
  /** `dir` (whose real path is `realDir`) and what lies below it. */
  const walk = (dir: string, realDir: string, root: string, top: boolean): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      // The directory the user named must be readable; one found below it is not ours.
      if (!top) return;
      throw new UserError(`${dir}: cannot read: ${code(e)}`);
    }
    for (const ent of entries) {
      const e = ent.name;
      const q = join(dir, e);
      // An entry that is not a link is where its directory is: no path to resolve.
      if (!ent.isSymbolicLink()) {
        const real = join(realDir, e);
        if (ent.isDirectory()) {
          if (seenDirs.has(real)) continue;
          seenDirs.add(real);
          walk(q, real, root, false);
        } else if (e.endsWith('.vfio')) add(q, real);
        continue;
      }
      let real: string;
      let st: Stats;
      try {
        real = realpathSync(q);
        st = statSync(real);
      } catch (err) {
        // A scenario that cannot be read is an error; anything else unreadable is not ours.
        if (e.endsWith('.vfio')) statPath(q);
        continue;
      }
      if (!inside(real, root)) continue;
      if (st.isDirectory()) {
        if (seenDirs.has(real)) continue;
        seenDirs.add(real);
        walk(q, real, root, false);
      } else if (e.endsWith('.vfio')) add(q, real);
    }
  };
  for (const p of paths) {
    if (p === '-') {
      out.push(p);
      continue;
    }
    const st = statPath(p);
    const real = realpathSync(p);
    if (!st.isDirectory()) {
      add(p, real);
      continue;
    }
    if (seenDirs.has(real)) continue;
    seenDirs.add(real);
    walk(p, real, real, true);
  }
  return out;
}

/**
 * An output file the user named (`--trace FILE`, `--out FILE`): a name, and not one of the
 * inputs, which writing the report would overwrite.
 */
export function checkOutputPath(option: string, file: string, inputs: string[]): void {
  if (file === '') throw new UserError(`${option} needs a file name`);
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return; // not there yet: it cannot be an input
  }
  for (const f of inputs) {
    if (f === '-') continue;
    try {
      if (realpathSync(f) === real) throw new UserError(`${option} ${file}: is an input of this run; writing it would overwrite it: expected another file`);
    } catch (e) {
      if (e instanceof UserError) throw e;
    }
  }
}
