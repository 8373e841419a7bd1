// The scenario lexer: turns one physical line of a `.vfio` file into tokens.
//
// Lines are lexed one at a time, so every token carries its real line and column even when the
// parser later joins continuation lines into one command. Columns are 1-based and count Unicode
// code points (a surrogate pair is one column), computed from UTF-16 offsets.
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

import { LIMITS, sizeText } from '../lib/limits.js';
import { UserError } from '../lib/user-error.js';
import type { KeyValue, Pos, Word } from './ast.js';

/**
 * The physical line tokens were read from. A token keeps its line and UTF-16 index, and its
 * position ({file, line, col}) is made only when something asks for it (an error, a binding):
 * a line of a hot run is lexed, run and dropped without one.
 */
export class SourceLine {
  constructor(
    readonly file: string,
    readonly line: number,
    /** The line's text (for the source text of a token and for counting columns). */
    readonly text: string,
    /** The line holds a surrogate pair: columns are counted, not taken from the index. */
    readonly astral: boolean,
  ) {}

  /** The position of UTF-16 index i. */
  pos(i: number): Pos {
    return { file: this.file, line: this.line, col: this.astral ? codePointColumn(this.text, i) : i + 1 };
  }
}

/**
 * A token as lexed: a positional word (bare or quoted, `key` empty) or a key=value pair,
 * which is its own value word (`value` is the token itself: its text, quotedness and
 * position are the value's). Positions are computed on each read (a new object each time):
 * a line of a hot run is lexed, run and dropped without one. Spreading a token would drop
 * them: make a changed word with wordWithText().
 */
export class LexedToken implements Word, KeyValue {
  constructor(
    /** The key of a key=value pair; empty for a positional word. */
    readonly key: string,
    /** The word's text, or the pair's value, unquoted. */
    readonly text: string,
    readonly quoted: boolean,
    readonly src: SourceLine,
    /** The UTF-16 index where the token starts (its key, or the word's opening quote). */
    readonly at: number,
    /** The UTF-16 index where the word or the value starts. */
    readonly valueAt: number,
    /** The UTF-16 index after the token's last character. */
    readonly end: number,
  ) {}

  /** A key=value pair. */
  get named(): boolean {
    return this.key !== '';
  }

  /** Where the word starts (for a pair: where its value starts). */
  get pos(): Pos {
    return this.src.pos(this.valueAt);
  }

  get keyPos(): Pos {
    return this.src.pos(this.at);
  }

  /** A pair's value word: the token itself. */
  get value(): Word {
    return this;
  }
}

/** A positional word or a key=value pair. */
export type Token = LexedToken;

/** The source text of a token (`key=value` as written, a string with its quotes), for messages. */
export function rawOf(t: Token): string {
  return t.src.text.slice(t.at, t.end);
}

/** A word like w with another text, at w's position (a spread of a LexedWord would lose it). */
export function wordWithText(w: Word, text: string): Word {
  return { text, quoted: w.quoted, pos: w.pos };
}

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

const BLANK = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;

const isBlankCode = (c: number): boolean => c === BLANK || c === TAB;

/**
 * 1 for printable ASCII that only continues a bare word: not a blank, `#`, `"`, `\` or `=`
 * (the characters the word loop of lex looks at), read with one look instead of a compare each.
 */
const PLAIN_WORD_CHAR = new Uint8Array(0x80);
for (let c = 0x21; c < 0x7f; c++) PLAIN_WORD_CHAR[c] = c === HASH || c === QUOTE || c === BACKSLASH || c === EQUALS ? 0 : 1;

/** A character other than a tab or printable ASCII: a control character, or one to look at. */
const NOT_PRINTABLE_ASCII = /[^\t\x20-\x7e]/;

/** Whitespace that is not a plain space or tab (no-break space from a web page or a mail, ...). */
const OTHER_SPACE_RE = /^\s$/u;

/** The line-too-long message: what the limit is and what to do instead. */
function tooLong(lineNo: number): string {
  return (
    `line ${lineNo} is longer than ${sizeText(LIMITS.lineChars)}: expected at most ${LIMITS.lineChars} characters on a line ` +
    '(split a long command with "\\" at the end of a line)'
  );
}

/**
 * Lexes one physical line (without its line terminator).
 *
 * The line is read as UTF-16 character codes, with no copy of it: every structural character
 * (blank, `#`, `"`, `\`, `=`) is ASCII, so it can never be half of a surrogate pair. Columns
 * count code points; they are the index + 1 unless the line holds a character outside the
 * Basic Multilingual Plane, when they are counted on demand.
 */
export function lexLine(line: string, lineNo: number, file: string, printable = false): LexedLine {
  const tokens: Token[] = [];
  const text = lexLineInto(line, lineNo, file, printable, tokens, 0);
  const continuation = LEXER.continuation;
  return continuation ? { tokens, text, continuation } : { tokens, text };
}

/**
 * lexLine() for the script reader: the tokens are written into `out` from index `at` on (a
 * list the reader reuses from line to line: emptying it with `length = 0` would give up its
 * storage), and the line's text is returned. How many entries of `out` are now in use is
 * lexedCount(); where the continuation backslash is, if the line ends in one,
 * lexedContinuation().
 */
export function lexLineInto(line: string, lineNo: number, file: string, printable: boolean, out: Token[], at: number): string {
  // Checked first, before anything walks the line: a hostile 10 MB line ends here at once.
  if (line.length > LIMITS.lineChars) throw new UserError(tooLong(lineNo), { file, line: lineNo, col: 1 });
  return LEXER.start(line, lineNo, file, printable).lex(out, at);
}

/** The number of entries of lexLineInto's `out` in use after the line lexed last. */
export function lexedCount(): number {
  return LEXER.count;
}

/** Where the continuation backslash of the line lexed last is, when it ends in one. */
export function lexedContinuation(): Pos | undefined {
  return LEXER.continuation;
}

/** A character other than a tab, a newline or printable ASCII. */
const NOT_PRINTABLE_TEXT = /[^\t\n\x20-\x7e]/;

/**
 * Whether a whole text is tabs, newlines and printable ASCII: then none of its lines needs
 * the check for control characters and surrogate pairs (lexLine's `printable`), and a
 * scenario is read with one scan of the text instead of one per line.
 */
export function isPrintableText(text: string): boolean {
  return !NOT_PRINTABLE_TEXT.test(text);
}

/** The lexer of one line at a time: one instance, set up again for each line. */
class LineLexer {
  private line = '';
  private lineNo = 0;
  private file = '';
  private n = 0;
  /** The line holds a surrogate pair: columns are counted, not taken from the index. */
  private astral = false;
  /** Where the string lexString read last ends (the index after its closing quote). */
  private stringEnd = 0;

  /** The caller knows the line is tabs and printable ASCII (isPrintableText). */
  private printable = false;

  start(line: string, lineNo: number, file: string, printable: boolean): this {
    this.printable = printable;
    this.line = line;
    this.lineNo = lineNo;
    this.file = file;
    this.n = line.length;
    this.astral = false;
    this.stringEnd = 0;
    this.continuation = undefined;
    return this;
  }

  /** Where the line's continuation backslash is, when it ends in one (set by lex). */
  continuation: Pos | undefined;
  /** The entries of lex's `tokens` in use after the line. */
  count = 0;

  private pos(i: number): Pos {
    return { file: this.file, line: this.lineNo, col: this.astral ? codePointColumn(this.line, i) : i + 1 };
  }

  private fail(i: number, message: string): never {
    throw new UserError(message, this.pos(i));
  }

  /** True when nothing but blanks and possibly a comment follows index j. */
  private restIsEmpty(j: number): boolean {
    const { line, n } = this;
    while (j < n && isBlankCode(line.charCodeAt(j))) j++;
    return j >= n || line.charCodeAt(j) === HASH;
  }

  private isContinuation(i: number): boolean {
    return this.line.charCodeAt(i) === BACKSLASH && this.restIsEmpty(i + 1);
  }

  /** Lexes a string whose opening quote is at q: its text; stringEnd is the index after the closing quote. */
  private lexString(q: number): string {
    const { line, n } = this;
    let out = '';
    let from = q + 1;
    for (let j = q + 1; j < n; j++) {
      const c = line.charCodeAt(j);
      if (c === QUOTE) {
        this.stringEnd = j + 1;
        return out + line.slice(from, j);
      }
      if (c === BACKSLASH) {
        const e = line.charCodeAt(j + 1);
        // `\"` and `\\` are unescaped; any other backslash is kept as written.
        if (e === QUOTE || e === BACKSLASH) {
          out += line.slice(from, j);
          from = j + 1;
          j++;
        }
      }
    }
    return this.fail(q, 'unterminated string: expected a closing "');
  }

  /** After a closing quote the word must end. */
  private checkAfterString(e: number): void {
    const { line, n } = this;
    if (e >= n) return;
    const c = line.charCodeAt(e);
    if (isBlankCode(c) || c === HASH || this.isContinuation(e)) return;
    let k = e;
    while (k < n && !isBlankCode(line.charCodeAt(k))) k++;
    this.fail(e, `unexpected ${quote(line.slice(e, k))} right after the closing quote: expected a space`);
  }

  /**
   * Writes the line's tokens into `tokens` from index `k` on (count says how far); returns
   * the line's text without comment, continuation and surrounding blanks.
   */
  lex(tokens: Token[], k: number): string {
    const { line, n, file, lineNo } = this;
    // A scenario is plain text: control characters (a NUL from a binary file, a lone carriage
    // return, an escape sequence) are rejected wherever they are, comments included.
    // (A line of printable ASCII and tabs, the usual, has none: one regular expression says so.)
    if (!this.printable && NOT_PRINTABLE_ASCII.test(line)) {
      for (let i = 0; i < n; i++) {
        const c = line.charCodeAt(i);
        if (c < 0x20) {
          if (c !== TAB) throw controlChar(line, i, c, lineNo, file);
        } else if (c >= 0x7f) {
          if (c === 0x7f) throw controlChar(line, i, c, lineNo, file);
          if (c >= 0xd800 && c <= 0xdfff) this.astral = true;
        }
      }
    }

    const src = new SourceLine(file, lineNo, line, this.astral);
    let cut = n; // where the command text ends (comment or continuation)
    let i = 0;
    for (;;) {
      while (i < n && isBlankCode(line.charCodeAt(i))) i++;
      if (i >= n) break;
      const first = line.charCodeAt(i);
      if (first === HASH) {
        cut = i;
        break;
      }
      if (this.isContinuation(i)) {
        cut = i;
        this.continuation = this.pos(i);
        break;
      }

      const start = i;
      if (first === QUOTE) {
        const text = this.lexString(i);
        const end = this.stringEnd;
        this.checkAfterString(end);
        tokens[k++] = new LexedToken('', text, true, src, start, start, end);
        i = end;
        continue;
      }

      // A bare word, possibly key=value (with a quoted value right after the first `=`).
      let eq = -1;
      let quotedValue: string | undefined;
      while (i < n) {
        const c = line.charCodeAt(i);
        // Most characters of a word are plain: one table look says so.
        if (c < 0x80 && PLAIN_WORD_CHAR[c] === 1) {
          i++;
          continue;
        }
        if (isBlankCode(c) || c === HASH || (c === BACKSLASH && this.isContinuation(i))) break;
        if (c > 0x7f && OTHER_SPACE_RE.test(line[i]!)) {
          this.fail(i, `unexpected ${codePointLabel(line[i]!)} space character: expected a plain space or tab between words`);
        }
        if (c === QUOTE) {
          if (eq === i - 1 && eq > start && KEY_RE.test(line.slice(start, eq))) {
            quotedValue = this.lexString(i);
            i = this.stringEnd;
            this.checkAfterString(i);
            break;
          }
          this.fail(
            i,
            `unexpected '"' inside the word ${quote(line.slice(start, i))}: ` + 'expected a string to start a word or to follow key=',
          );
        }
        if (c === EQUALS && eq < 0) eq = i;
        i++;
      }

      if (eq > start && isKeyAt(line, start, eq)) {
        const key = line.slice(start, eq);
        if (quotedValue === undefined && eq + 1 === i) {
          const raw = line.slice(start, i);
          this.fail(start, `missing value in ${quote(raw)}: expected ${key}=VALUE (or ${key}="" for an empty value)`);
        }
        const valueText = quotedValue ?? line.slice(eq + 1, i);
        tokens[k++] = new LexedToken(key, valueText, quotedValue !== undefined, src, start, eq + 1, i);
      } else {
        tokens[k++] = new LexedToken('', line.slice(start, i), false, src, start, start, i);
      }
    }

    this.count = k;
    // Trimmed by hand: a trimming regex could backtrack quadratically on long runs of blanks.
    let a = 0;
    let b = cut;
    while (a < b && isBlankCode(line.charCodeAt(a))) a++;
    while (b > a && isBlankCode(line.charCodeAt(b - 1))) b--;
    return a === 0 && b === n ? line : line.slice(a, b);
  }
}

/** Whether line[start, end) is a named-argument key (KEY_RE), read by character code. */
function isKeyAt(line: string, start: number, end: number): boolean {
  let c = line.charCodeAt(start) | 0x20;
  if (!(c >= 0x61 && c <= 0x7a)) return false;
  for (let i = start + 1; i < end; i++) {
    c = line.charCodeAt(i);
    const l = c | 0x20;
    if (!((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d)) return false;
  }
  return true;
}

const LEXER = new LineLexer();

function controlChar(line: string, i: number, c: number, lineNo: number, file: string): UserError {
  return new UserError(`unexpected control character ${codePointLabel(String.fromCharCode(c))}: expected plain text`, {
    file,
    line: lineNo,
    col: codePointColumn(line, i),
  });
}

/** The 1-based column of UTF-16 index i, counting code points (a surrogate pair is one). */
function codePointColumn(line: string, i: number): number {
  let col = 1;
  for (let j = 0; j < i; j++) {
    const c = line.charCodeAt(j);
    // The second half of a pair does not start a code point.
    if (!(c >= 0xdc00 && c <= 0xdfff && j > 0 && isHighSurrogate(line.charCodeAt(j - 1)))) col++;
  }
  return col;
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
