// The scenario parser: groups physical lines into logical lines (continuations) and turns each
// logical line's tokens into a Command, one logical line at a time (ScriptReader). It knows the generic shape only (verb, positional words,
// key=value pairs, `as NAME`); what each verb accepts is the dispatcher's business.

import { UserError } from '../lib/user-error.js';
import type { Command, KeyValue, Pos, Script, Word } from './ast.js';
import { isPrintableText, lexedContinuation, lexedCount, lexLineInto, NAME_RE, quote, rawOf, type Token } from './lexer.js';

/**
 * Reads a scenario one logical line at a time: `next()` lexes the physical lines of the next
 * command (continuations joined) and parses it, so a run holds one command at a time, never
 * the whole file's. Throws a UserError (`file:line:col: message`) at a mistake.
 */
export class ScriptReader {
  private at = 0;
  private lineNo = 0;
  private readonly text: string;

  constructor(
    text: string,
    readonly file: string,
  ) {
    // A leading byte order mark is dropped.
    this.text = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    this.printable = isPrintableText(this.text);
  }

  /** The whole text is tabs, newlines and printable ASCII: its lines skip that check. */
  private readonly printable: boolean;

  /**
   * The tokens of the logical line being read: one list, reused from line to line (a
   * command takes its words into lists of their own).
   */
  private readonly tokens: Token[] = [];

  /** The next command, or undefined at the end of the file. */
  next(): Command | undefined {
    const text = this.text;
    const tokens = this.tokens;
    // The logical line being gathered across continuations.
    let gathering = false;
    let source = '';
    let count = 0;
    for (;;) {
      // `\n` and `\r\n` end a line; a trailing newline does not start an extra (empty) line.
      if (this.at >= text.length && !(this.at === 0 && this.lineNo === 0)) {
        if (gathering) {
          throw new UserError('"\\" at the end of the last line: expected another line to continue the command on', this.pending!);
        }
        return undefined;
      }
      let end = text.indexOf('\n', this.at);
      if (end < 0) end = text.length;
      const lineEnd = end > this.at && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
      const line = text.slice(this.at, lineEnd);
      this.at = end + 1;
      const lineText = lexLineInto(line, ++this.lineNo, this.file, this.printable, tokens, count);
      count = lexedCount();
      if (lineText !== '') source = source === '' ? lineText : `${source} ${lineText}`;
      const continuation = lexedContinuation();
      if (continuation) {
        this.pending = continuation;
        gathering = true;
        continue;
      }
      this.pending = undefined;
      const cmd = buildCommand(tokens, count, source);
      // The tokens stay in the list until overwritten: they are small, and the list's length
      // is kept (see lexLineInto).
      if (cmd) return cmd;
      gathering = false;
      count = 0;
      source = '';
    }
  }

  /** Where the continuation backslash of the line being gathered is. */
  private pending?: Pos;
}

/**
 * Parses a whole scenario file. Throws a UserError (`file:line:col: message`) at the first
 * mistake. The commands are plain data (positions made, not computed on demand), as kept
 * commands and this module's users expect.
 */
export function parseScript(text: string, file: string): Script {
  const reader = new ScriptReader(text, file);
  const commands: Command[] = [];
  for (let cmd = reader.next(); cmd; cmd = reader.next()) commands.push(plainCommand(cmd));
  return { file, commands };
}

const plainWord = (w: Word): Word => ({ text: w.text, quoted: w.quoted, pos: w.pos });

/** A command whose words' positions are made: plain objects, as a spread or a JSON dump sees them. */
export function plainCommand(cmd: Command): Command {
  const out: Command = {
    verb: cmd.verb,
    verbPos: cmd.verbPos,
    positional: cmd.positional.map(plainWord),
    named: cmd.named.map((kv) => ({ key: kv.key, keyPos: kv.keyPos, value: plainWord(kv.value) })),
    source: cmd.source,
  };
  if (cmd.bind) out.bind = cmd.bind;
  return out;
}

function describe(t: Token): string {
  if (t.named) return quote(rawOf(t));
  return t.quoted ? `the string ${quote(t.text)}` : quote(t.text);
}

const isBareWord = (t: Token | undefined, text?: string): boolean =>
  t !== undefined && !t.named && !t.quoted && (text === undefined || t.text === text);

function tokenPos(t: Token): Pos {
  return t.named ? t.keyPos : t.pos;
}

/** Builds the Command of one logical line (tokens[0, n)), or undefined for a blank or comment-only line. */
function buildCommand(tokens: Token[], n: number, source: string): Command | undefined {
  if (n === 0) return undefined;
  const first = tokens[0]!;
  if (first.named || first.quoted) {
    throw new UserError(
      `expected a command (such as open, ioctl or expect) at the start of the line, found ${describe(first)}`,
      tokenPos(first),
    );
  }
  if (first.text === 'as') {
    throw new UserError('"as" cannot start a line: expected a command before "as NAME"', first.pos);
  }

  // `as NAME` is only allowed as the last two words. Check every bare `as`, leftmost first, so
  // the first mistake on the line is the one reported.
  let bind: Command['bind'];
  let end = n;
  for (let i = 1; i < n; i++) {
    const t = tokens[i]!;
    if (!isBareWord(t, 'as')) continue;
    if (i === n - 1) {
      throw new UserError('"as" needs a name after it: expected "as NAME" at the end of the command', t.pos);
    }
    if (i !== n - 2) {
      throw new UserError(
        `"as" can only come at the end of the command: expected "as NAME" as the last two words, found ${quote(
          tokens.slice(i, Math.min(i + 8, n)).map(rawOf).join(' '),
        )}`,
        t.pos,
      );
    }
    const nameTok = tokens[i + 1]!;
    if (!isBareWord(nameTok) || !NAME_RE.test(nameTok.text)) {
      throw new UserError(
        `${describe(nameTok)} is not a valid name after "as": expected a letter or "_" followed by letters, digits or "_"`,
        tokenPos(nameTok),
      );
    }
    bind = { name: nameTok.text, pos: nameTok.pos };
    end = i;
    break;
  }

  // Lists of their exact length (the token list is the reader's, reused for the next line).
  let nNamed = 0;
  for (let i = 1; i < end; i++) if (tokens[i]!.named) nNamed++;
  const positional = new Array<Word>(end - 1 - nNamed);
  const named = new Array<KeyValue>(nNamed);
  for (let i = 1, p = 0, k = 0; i < end; i++) {
    const t = tokens[i]!;
    if (t.named) named[k++] = t;
    else positional[p++] = t;
  }

  const cmd: Command = {
    verb: first.text.toLowerCase(),
    verbPos: first.pos,
    positional,
    named,
    source,
  };
  if (bind) cmd.bind = bind;
  return cmd;
}
