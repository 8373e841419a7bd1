// The scenario language after lexing: one Command per logical line.
//
// The parser is deliberately generic: it knows words, key=value pairs, strings and `as NAME`,
// but not what each verb means. Each verb's handler (verbs/*.ts) validates its shape and
// resolves values (numbers, flags, names bound by earlier actions) when the command runs,
// because `as NAME` bindings only exist at run time.

/** A place in a scenario file; line and col are 1-based, col counts characters. */
export interface Pos {
  file: string;
  line: number;
  col: number;
}

/** One word of a command: a bare word, a quoted string, or the value side of key=value. */
export interface Word {
  /** The text after unquoting and unescaping. */
  text: string;
  /** True when the word was written as "...". A quoted word is never a number or a name. */
  quoted: boolean;
  /** Where the word starts (for key=value values: where the value starts). */
  pos: Pos;
}

export interface KeyValue {
  key: string;
  keyPos: Pos;
  value: Word;
}

export interface Command {
  /** The first word, lower-cased as written (`ioctl`, `expect`, `kernel`, ...). */
  verb: string;
  verbPos: Pos;
  /** Words that are not key=value, in order (for `ioctl group SET_CONTAINER container`: group, SET_CONTAINER, container). */
  positional: Word[];
  /** key=value pairs, in order. A key may repeat; the dispatcher decides whether that is an error. */
  named: KeyValue[];
  /** `as NAME` at the end of the line binds the action's result to NAME. */
  bind?: { name: string; pos: Pos };
  /** The source text of the whole logical line (continuations joined with a space), for messages. */
  source: string;
}

export interface Script {
  file: string;
  commands: Command[];
}
