// The scenario parser: groups physical lines into logical lines (continuations) and turns each
// logical line's tokens into a Command. It knows the generic shape only (verb, positional words,
// key=value pairs, `as NAME`); what each verb accepts is the dispatcher's business.

import { UserError } from '../lib/user-error.js';
import type { Command, KeyValue, Pos, Script, Word } from './ast.js';
import { lexLine, NAME_RE, quote, splitLines, type Token } from './lexer.js';

/** Parses a whole scenario file. Throws a UserError (`file:line:col: message`) at the first mistake. */
export function parseScript(text: string, file: string): Script {
  const lines = splitLines(text);
  const commands: Command[] = [];

  // The logical line being gathered across continuations.
  let tokens: Token[] = [];
  let texts: string[] = [];
  let pendingContinuation: Pos | undefined;

  for (let k = 0; k < lines.length; k++) {
    const lexed = lexLine(lines[k]!, k + 1, file);
    // push one by one: spreading a huge token list into push() would overflow the call stack
    for (const t of lexed.tokens) tokens.push(t);
    if (lexed.text !== '') texts.push(lexed.text);
    pendingContinuation = lexed.continuation;
    if (pendingContinuation) continue;

    const cmd = buildCommand(tokens, texts.join(' '));
    if (cmd) commands.push(cmd);
    tokens = [];
    texts = [];
  }

  if (pendingContinuation) {
    throw new UserError('"\\" at the end of the last line: expected another line to continue the command on', pendingContinuation);
  }
  return { file, commands };
}

function describe(t: Token): string {
  if (t.kind === 'named') return quote(t.raw);
  return t.word.quoted ? `the string ${quote(t.word.text)}` : quote(t.word.text);
}

const isBareWord = (t: Token | undefined, text?: string): boolean =>
  t !== undefined && t.kind === 'word' && !t.word.quoted && (text === undefined || t.word.text === text);

function tokenPos(t: Token): Pos {
  return t.kind === 'named' ? t.kv.keyPos : t.word.pos;
}

/** Builds the Command of one logical line, or undefined for a blank or comment-only line. */
function buildCommand(tokens: Token[], source: string): Command | undefined {
  const first = tokens[0];
  if (first === undefined) return undefined;
  if (first.kind !== 'word' || first.word.quoted) {
    throw new UserError(
      `expected a command (such as open, ioctl or expect) at the start of the line, found ${describe(first)}`,
      tokenPos(first),
    );
  }
  if (first.word.text === 'as') {
    throw new UserError('"as" cannot start a line: expected a command before "as NAME"', first.word.pos);
  }

  // `as NAME` is only allowed as the last two words. Check every bare `as`, leftmost first, so
  // the first mistake on the line is the one reported.
  let bind: Command['bind'];
  let end = tokens.length;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!isBareWord(t, 'as') || t.kind !== 'word') continue;
    if (i === tokens.length - 1) {
      throw new UserError('"as" needs a name after it: expected "as NAME" at the end of the command', t.word.pos);
    }
    if (i !== tokens.length - 2) {
      throw new UserError(
        `"as" can only come at the end of the command: expected "as NAME" as the last two words, found ${quote(
          tokens.slice(i, i + 8).map((x) => x.raw).join(' '),
        )}`,
        t.word.pos,
      );
    }
    const nameTok = tokens[i + 1]!;
    if (!isBareWord(nameTok) || nameTok.kind !== 'word' || !NAME_RE.test(nameTok.word.text)) {
      throw new UserError(
        `${describe(nameTok)} is not a valid name after "as": expected a letter or "_" followed by letters, digits or "_"`,
        tokenPos(nameTok),
      );
    }
    bind = { name: nameTok.word.text, pos: nameTok.word.pos };
    end = i;
    break;
  }

  const positional: Word[] = [];
  const named: KeyValue[] = [];
  for (let i = 1; i < end; i++) {
    const t = tokens[i]!;
    if (t.kind === 'named') named.push(t.kv);
    else positional.push(t.word);
  }

  const cmd: Command = {
    verb: first.word.text.toLowerCase(),
    verbPos: first.word.pos,
    positional,
    named,
    source,
  };
  if (bind) cmd.bind = bind;
  return cmd;
}
