// The names a scenario binds with `as NAME`, and the words that use them: an fd, an address,
// NAME+OFFSET. A name whose binding action failed remembers why, so a later use can say so.

import { errnoName } from '../uapi/errno.js';
import type { FileKind } from '../kernel/file.js';
import type { SysResult } from '../kernel/kernel.js';
import type { Command, Word } from './ast.js';
import type { ValueResolver } from './ioctl-args.js';
import { NAME_RE } from './lexer.js';
import { parseU64, plainNumber, splitNamePlusOffset } from './values.js';
import { failAt } from './where.js';
import { U64_MAX } from '../lib/bits.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);


export type Binding =
  | { kind: 'fd'; fd: number; file: FileKind | 'sysfs' }
  | { kind: 'addr'; value: bigint; len: bigint }
  | { kind: 'value'; value: bigint };

export class Names implements ValueResolver {
  private readonly bound = new Map<string, Binding>();
  /** Names whose binding action failed: where, and why. */
  private readonly failed = new Map<string, { line: number; errno: number }>();

  has(name: string): boolean {
    return this.bound.has(name);
  }

  get(name: string): Binding | undefined {
    return this.bound.get(name);
  }

  /** What `as NAME` on `cmd` binds: `make(ret)` on success; on failure nothing, and why. */
  bindResult(cmd: Command, r: SysResult, make: (ret: bigint) => Binding): void {
    if (!cmd.bind) return;
    const name = cmd.bind.name;
    if (r.errno) {
      // Nothing to bind; a later use says which action failed to bind it.
      this.bound.delete(name);
      this.failed.set(name, { line: cmd.verbPos.line, errno: r.errno });
      return;
    }
    this.failed.delete(name);
    this.bound.set(name, make(BigInt(r.ret)));
  }

  /** A closed fd's names go with it. */
  forgetFd(fd: number): void {
    for (const [k, b] of this.bound) if (b.kind === 'fd' && b.fd === fd) this.bound.delete(k);
  }

  /** The first name bound to `fd`, if any. */
  nameOfFd(fd: number | undefined): string | undefined {
    return [...this.bound].find(([, b]) => b.kind === 'fd' && b.fd === fd)?.[0];
  }

  /** The kind of file a word names, when it is the name of an fd binding. */
  fdKindOf(w: Word): FileKind | undefined {
    const b = this.bound.get(w.text);
    return b?.kind === 'fd' && b.file !== 'sysfs' ? b.file : undefined;
  }

  /** An fd: a number or the name of an fd binding. */
  fd(w: Word): number {
    if (!w.quoted && NAME_RE.test(w.text)) {
      const b = this.bound.get(w.text);
      if (!b) return failAt(w.pos, this.unbound(w.text));
      if (b.kind !== 'fd') return failAt(w.pos, `"${w.text}" is not an fd`);
      return b.fd;
    }
    const v = parseU64(w, 'fd');
    if (v > 0x7fff_ffffn) failAt(w.pos, `fd ${w.text} is out of range`);
    return Number(v);
  }

  /** A number, NAME, or NAME+OFFSET. */
  u64(w: Word, what: string): bigint {
    // A name starts with a letter or "_": a word starting with a digit is a number.
    const c = w.text.charCodeAt(0);
    if (!w.quoted && !(c >= 0x30 && c <= 0x39)) {
      const split = splitNamePlusOffset(w.text, w);
      if (split) {
        const b = this.bound.get(split.name);
        if (!b) return failAt(w.pos, this.unbound(split.name));
        const base = b.kind === 'fd' ? BigInt(b.fd) : b.value;
        const v = split.offset === 0n ? base : base + split.offset;
        if (v > U64_MAX) failAt(w.pos, `${w.text} does not fit in 64 bits`);
        return v;
      }
    }
    return parseU64(w, what);
  }

  /** The name u64Fast() found last (it passed NAME_RE). */
  private lastName = '';

  /**
   * u64() of the common words as an exact number, with no bigint or string made: a plain
   * number (values.ts plainNumber) or NAME / NAME+OFFSET of a bound value, below 2^53. -1 for
   * anything else (a quoted word, an unbound name, a value at or above 2^53, a mistake):
   * then u64() decides, with its messages.
   */
  u64Fast(w: Word): number {
    if (w.quoted) return -1;
    const t = w.text;
    const c = t.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) return plainNumber(t);
    // NAME, or NAME+OFFSET (the first "+" ends the name); a run of lines names one buffer.
    let name = this.lastName;
    if (!(t.startsWith(name) && (t.length === name.length || t.charCodeAt(name.length) === 0x2b)) || name === '') {
      const plus = t.indexOf('+');
      name = plus < 0 ? t : t.slice(0, plus);
      if (!NAME_RE.test(name)) return -1;
      this.lastName = name;
    }
    const b = this.bound.get(name);
    if (b === undefined) return -1;
    const base = b.kind === 'fd' ? b.fd : b.value <= MAX_SAFE ? Number(b.value) : -1;
    if (base < 0) return -1;
    if (t.length === name.length) return base;
    const offset = plainNumber(t, name.length + 1);
    if (offset < 0) return -1;
    const v = base + offset;
    return v <= Number.MAX_SAFE_INTEGER ? v : -1;
  }

  private unbound(name: string): string {
    const f = this.failed.get(name);
    return f
      ? `"${name}" is not bound: the action at line ${f.line} that would bind it failed (${errnoName(f.errno)})`
      : `"${name}" is not bound: bind it first with "as ${name}"`;
  }
}
