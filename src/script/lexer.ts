// The scenario lexer: turns one physical line of a `.vfio` file into tokens.
//
// Lines are lexed one at a time, so every token carries its real line and column even when the
// parser later joins continuation lines into one command. Columns are 1-based and count Unicode
// code points (a line is handled as an array of code points, never as UTF-16 offsets).
//
// Rules (SCENARIO-LANGUAGE.md, "Lexical rules"):
//   - words are separated by spaces and tabs;
//   - `#` outside quotes starts a comment, anywhere on the line (also inside a bare word);
//   - `"..."` is a string; only `\"` and `\\` are unescaped here, any other backslash sequence is
//     kept as written so that later stages (e.g. `expect content`) can interpret `\n` themselves;
//   - a bare word `key=value` whose key is valid is a named argument; its value may be a string
//     (`data="a b"`) when the quote comes right after the first `=`;
//   - a `\` that is the last thing on the line (ignoring trailing blanks and a comment) continues
//     the command on the next line; it ends the word it is attached to.

import { UserError } from '../lib/user-error.js';
import type { KeyValue, Pos, Word } from './ast.js';

/** A positional word (bare or quoted) or a key=value pair; `raw` is the source text, for messages. */
export type Token = { kind: 'word'; word: Word; raw: string } | { kind: 'named'; kv: KeyValue; raw: string };

export interface LexedLine {
  tokens: Token[];
  /** The line's source text without comment, continuation backslash and surrounding blanks. */
  text: string;
  /** Where the continuation backslash is, when the line ends in one. */
  continuation?: Pos;
}

/** A named-argument key: a letter, then letters, digits, `_`, `.`, `-`. */
export const KEY_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** A name bound by `as NAME` (and usable later as NAME or NAME+OFFSET). */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const MAX_QUOTED = 40;

/**
 * Quotes a piece of user text for an error message: `"text"`, shortened with `…` when long, and
 * with control characters shown as `\u{..}` so a message never carries raw junk.
 */
export function quote(text: string): string {
  const cps = Array.from(text.length > MAX_QUOTED * 2 + 8 ? text.slice(0, MAX_QUOTED * 2 + 8) : text);
  let shown = cps.length > MAX_QUOTED ? cps.slice(0, MAX_QUOTED).join('') + '…' : cps.join('');
  shown = shown.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
  return `"${shown}"`;
}

/** `U+00A0` style code point label. */
export function codePointLabel(ch: string): string {
  return 'U+' + (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Splits a whole file into physical lines: `\n` and `\r\n` end a line. A trailing newline does not
 * start an extra (empty) line, and a leading byte order mark is dropped.
 */
export function splitLines(text: string): string[] {
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t';

/** Whitespace that is not a plain space or tab (no-break space from a web page or a mail, ...). */
const OTHER_SPACE_RE = /^\s$/u;

function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
}

/** Lexes one physical line (without its line terminator). */
export function lexLine(line: string, lineNo: number, file: string): LexedLine {
  const cs = Array.from(line);
  const n = cs.length;
  const pos = (i: number): Pos => ({ file, line: lineNo, col: i + 1 });
  const fail = (i: number, message: string): never => {
    throw new UserError(message, pos(i));
  };

  // A scenario is plain text: control characters (a NUL from a binary file, a lone carriage
  // return, an escape sequence) are rejected wherever they are, comments included.
  for (let i = 0; i < n; i++) {
    if (isControl(cs[i]!)) fail(i, `unexpected control character ${codePointLabel(cs[i]!)}: expected plain text`);
  }

  // True when nothing but blanks and possibly a comment follows index j.
  const restIsEmpty = (j: number): boolean => {
    while (j < n && isBlank(cs[j]!)) j++;
    return j >= n || cs[j] === '#';
  };
  const isContinuation = (i: number): boolean => cs[i] === '\\' && restIsEmpty(i + 1);

  const rejectOtherSpace = (i: number): void => {
    if (OTHER_SPACE_RE.test(cs[i]!)) {
      fail(i, `unexpected ${codePointLabel(cs[i]!)} space character: expected a plain space or tab between words`);
    }
  };

  // Lexes a string whose opening quote is at q; returns its text and the index after the closing quote.
  const lexString = (q: number): { text: string; end: number } => {
    let out = '';
    let j = q + 1;
    while (j < n) {
      const c = cs[j]!;
      if (c === '"') return { text: out, end: j + 1 };
      if (c === '\\' && (cs[j + 1] === '"' || cs[j + 1] === '\\')) {
        out += cs[j + 1];
        j += 2;
        continue;
      }
      out += c; // includes an unknown escape's backslash, kept as written
      j++;
    }
    return fail(q, 'unterminated string: expected a closing "');
  };

  // After a closing quote the word must end.
  const checkAfterString = (e: number): void => {
    if (e >= n || isBlank(cs[e]!) || cs[e] === '#' || isContinuation(e)) return;
    let k = e;
    while (k < n && !isBlank(cs[k]!)) k++;
    fail(e, `unexpected ${quote(cs.slice(e, k).join(''))} right after the closing quote: expected a space`);
  };

  const tokens: Token[] = [];
  let cut = n; // where the command text ends (comment or continuation)
  let continuation: Pos | undefined;
  let i = 0;
  for (;;) {
    while (i < n && isBlank(cs[i]!)) i++;
    if (i >= n) break;
    if (cs[i] === '#') {
      cut = i;
      break;
    }
    if (isContinuation(i)) {
      cut = i;
      continuation = pos(i);
      break;
    }

    const start = i;
    if (cs[i] === '"') {
      const s = lexString(i);
      checkAfterString(s.end);
      tokens.push({ kind: 'word', word: { text: s.text, quoted: true, pos: pos(start) }, raw: cs.slice(start, s.end).join('') });
      i = s.end;
      continue;
    }

    // A bare word, possibly key=value (with a quoted value right after the first `=`).
    let eq = -1;
    let quotedValue: { text: string; end: number } | undefined;
    while (i < n) {
      const c = cs[i]!;
      if (isBlank(c) || c === '#' || isContinuation(i)) break;
      if (c.charCodeAt(0) > 0x7f) rejectOtherSpace(i);
      if (c === '"') {
        if (eq === i - 1 && eq > start && KEY_RE.test(cs.slice(start, eq).join(''))) {
          quotedValue = lexString(i);
          checkAfterString(quotedValue.end);
          i = quotedValue.end;
          break;
        }
        fail(
          i,
          `unexpected '"' inside the word ${quote(cs.slice(start, i).join(''))}: ` +
            'expected a string to start a word or to follow key=',
        );
      }
      if (c === '=' && eq < 0) eq = i;
      i++;
    }

    const raw = cs.slice(start, i).join('');
    const key = eq > start ? cs.slice(start, eq).join('') : '';
    if (key !== '' && KEY_RE.test(key)) {
      const valueText = quotedValue ? quotedValue.text : cs.slice(eq + 1, i).join('');
      if (!quotedValue && valueText === '') {
        fail(start, `missing value in ${quote(raw)}: expected ${key}=VALUE (or ${key}="" for an empty value)`);
      }
      const value: Word = { text: valueText, quoted: quotedValue !== undefined, pos: pos(eq + 1) };
      tokens.push({ kind: 'named', kv: { key, keyPos: pos(start), value }, raw });
    } else {
      tokens.push({ kind: 'word', word: { text: raw, quoted: false, pos: pos(start) }, raw });
    }
  }

  // Trimmed by hand: a trimming regex could backtrack quadratically on long runs of blanks.
  let a = 0;
  let b = cut;
  while (a < b && isBlank(cs[a]!)) a++;
  while (b > a && isBlank(cs[b - 1]!)) b--;
  const text = cs.slice(a, b).join('');
  return continuation ? { tokens, text, continuation } : { tokens, text };
}
