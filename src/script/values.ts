// Value parsers for scenario words: numbers, flag sets, errno values, hex bytes, NAME+OFFSET and
// escaped texts. The dispatcher calls them when a command runs; each reports a user mistake as
// a UserError at the word's position.
//
// All integers are exact bigints: no Number or floating point ever touches a parsed value.

import type { FlagTable } from '../uapi/struct.js';
import { UserError } from '../lib/user-error.js';
import { didYouMean } from '../lib/did-you-mean.js';
import { ERRNO } from '../uapi/errno.js';
import type { Pos, Word } from './ast.js';
import { NAME_RE, quote } from './lexer.js';
import { U64_MAX } from '../lib/bits.js';

// ---------------------------------------------------------------------------------------------
// Integers

// Sign, then `0x` hex or decimal digits (with `_` anywhere for now: checked separately so that a
// misplaced `_` gets its own message), then an optional binary size suffix.
const INTEGER_RE = /^(-?)(?:0[xX]([0-9A-Fa-f_]*)|([0-9][0-9_]*))([KMGTkmgt]?)$/;

const SUFFIX_SHIFT: Readonly<Record<string, bigint>> = { k: 10n, m: 20n, g: 30n, t: 40n };

// More significant digits than this cannot fit in 64 bits, whatever the suffix says; checking
// the length first keeps BigInt() away from absurdly long digit strings.
const MAX_DIGITS = { hex: 17, dec: 21 };

type IntegerText = { value: bigint } | { problem: 'syntax' | 'underscore' | 'huge' };

/** Reads `[-]digits[suffix]` exactly; reports what is wrong rather than throwing. */
function readInteger(text: string): IntegerText {
  const plain = plainInteger(text);
  if (plain !== undefined) return { value: plain };
  const m = INTEGER_RE.exec(text);
  if (!m) return { problem: 'syntax' };
  const [, sign, hex, dec, suffix] = m;
  const digits = hex ?? dec ?? '';
  if (digits === '') return { problem: 'syntax' }; // `0x` alone
  // `_` separates digits: not first, not last, never two in a row.
  if (digits.startsWith('_') || digits.endsWith('_') || digits.includes('__')) return { problem: 'underscore' };
  const stripped = digits.replace(/_/g, '').replace(/^0+(?=.)/, '');
  if (stripped.length > (hex !== undefined ? MAX_DIGITS.hex : MAX_DIGITS.dec)) return { problem: 'huge' };
  let value = BigInt(hex !== undefined ? '0x' + stripped : stripped);
  if (suffix) value <<= SUFFIX_SHIFT[suffix.toLowerCase()]!;
  return { value: sign === '-' ? -value : value };
}

/**
 * The common case without the regular expression: unsigned decimal (not starting with 0
 * unless it is 0) or `0x` hex, no `_`, no suffix, short enough to be exact. Anything else
 * is undefined and takes the full path.
 */
function plainInteger(text: string): bigint | undefined {
  const v = plainNumber(text);
  if (v >= 0) return BigInt(v);
  // What plainNumber leaves for a bigint: the same forms at or above 2^53.
  const n = text.length;
  if (n === 0 || n > 18) return undefined;
  const shift = n <= 12 ? suffixBits(text.charCodeAt(n - 1)) : undefined;
  if (shift !== undefined && n > 1) {
    const d = plainDecimal(text, 0, n - 1);
    // (A power of two scales a double exactly.)
    return d === undefined ? undefined : BigInt(d * 2 ** shift);
  }
  if (text.charCodeAt(0) === 0x30 && n > 2 && (text.charCodeAt(1) | 0x20) === 0x78) {
    for (let i = 2; i < n; i++) if (hexDigit(text.charCodeAt(i)) < 0) return undefined;
    return BigInt('0x' + text.slice(2));
  }
  if (n > 15) return /^[1-9][0-9]*$/.test(text) ? BigInt(text) : undefined;
  return undefined;
}

/**
 * plainInteger's value of text[from..] as an exact number when it is below 2^53, else -1
 * (anything else, or a value at or above 2^53: the bigint path decides). No string, no
 * bigint is made.
 */
export function plainNumber(text: string, from = 0): number {
  const n = text.length - from;
  if (n <= 0 || n > 18) return -1;
  // A K/M/G/T suffix on a short decimal (4K, 64M).
  const shift = n <= 12 ? suffixBits(text.charCodeAt(from + n - 1)) : undefined;
  if (shift !== undefined && n > 1) {
    const d = plainDecimal(text, from, n - 1);
    if (d === undefined) return -1;
    const v = d * 2 ** shift;
    return v <= Number.MAX_SAFE_INTEGER ? v : -1;
  }
  if (text.charCodeAt(from) === 0x30 && n > 2 && (text.charCodeAt(from + 1) | 0x20) === 0x78) {
    // Up to 13 hex digits (52 bits) the value is exact as a number.
    if (n - 2 > 13) return -1;
    let v = 0;
    for (let i = from + 2; i < from + n; i++) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }
  // Up to 15 decimal digits the value is below 2^53.
  if (n > 15) return -1;
  return plainDecimal(text, from, n) ?? -1;
}

/** text[from, from + n) as a decimal without a leading zero (0 alone is fine), n <= 15; else undefined. */
function plainDecimal(text: string, from: number, n: number): number | undefined {
  const c0 = text.charCodeAt(from);
  if (c0 === 0x30) return n === 1 ? 0 : undefined;
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** The shift of a size suffix (K, M, G, T in either case), by character code. */
function suffixBits(c: number): number | undefined {
  switch (c | 0x20) {
    case 0x6b:
      return 10;
    case 0x6d:
      return 20;
    case 0x67:
      return 30;
    case 0x74:
      return 40;
    default:
      return undefined;
  }
}

/** The largest unsigned and signed value of each width, 1..64 bits. */
const MAX_UNSIGNED = Array.from({ length: 65 }, (_, b) => (1n << BigInt(b)) - 1n);
const MAX_SIGNED = Array.from({ length: 65 }, (_, b) => (b === 0 ? 0n : (1n << BigInt(b - 1)) - 1n));

const numberDesc = (what?: string): string => (what ? `a number for ${what}` : 'a number');

/**
 * Parses an integer of `bits` bits (1..64), signed or not: decimal, `0x` hex, `_` between digits,
 * optional K/M/G/T (×2^10, 2^20, 2^30, 2^40) suffix; `-` only when signed. `what` names the
 * value in messages ("iova", "the length").
 */
export function parseInt(word: Word, bits: number, signed: boolean, what?: string): bigint {
  if (!Number.isInteger(bits) || bits < 1 || bits > 64) throw new RangeError(`parseInt: bad width ${bits}`);
  // The common case (a plain number in range) without the checks below and their closures.
  if (!word.quoted) {
    const plain = plainInteger(word.text);
    if (plain !== undefined && plain <= (signed ? MAX_SIGNED[bits] : MAX_UNSIGNED[bits])) return plain;
  }
  // The quoted word for a message is made only when there is a message to make.
  const fail = (message: (shown: string) => string): never => {
    throw new UserError(message(quote(word.text)), word.pos);
  };
  if (word.quoted) fail((shown) => `${shown} is a quoted string: expected ${numberDesc(what)}, written without quotes`);

  const r = readInteger(word.text);
  if ('problem' in r) {
    if (r.problem === 'underscore') fail((shown) => `${shown} has a misplaced "_": expected "_" only between two digits`);
    if (r.problem === 'syntax') {
      fail((shown) => `${shown} is not a number: expected ${numberDesc(what)}, such as 4096, 0x1000, 0xffff_0000 or 64K`);
    }
    return fail((shown) => outOfRange(shown, bits, signed));
  }
  const v = r.value;
  if (signed) {
    const max = (1n << BigInt(bits - 1)) - 1n;
    if (v > max || v < -max - 1n) fail((shown) => outOfRange(shown, bits, signed));
  } else {
    if (v < 0n) fail((shown) => `${shown} is negative: expected 0 or more${what ? ` for ${what}` : ''}`);
    if (v > (bits === 64 ? U64_MAX : (1n << BigInt(bits)) - 1n)) fail((shown) => outOfRange(shown, bits, signed));
  }
  return v;
}

function outOfRange(shown: string, bits: number, signed: boolean): string {
  if (!signed) return `${shown} does not fit in ${bits} bits`;
  const max = (1n << BigInt(bits - 1)) - 1n;
  return `${shown} does not fit in a signed ${bits}-bit number: expected ${-max - 1n} to ${max}`;
}

/** An unsigned 64-bit value (addresses, lengths, offsets). */
export function parseU64(word: Word, what?: string): bigint {
  return parseInt(word, 64, false, what);
}

/** An unsigned 32-bit value, as a number (exact: it fits in 2^53). */
export function parseU32(word: Word, what?: string): number {
  return Number(parseInt(word, 32, false, what));
}

/** A signed 32-bit value, as a number (fds, return values). */
export function parseS32(word: Word, what?: string): number {
  return Number(parseInt(word, 32, true, what));
}

// ---------------------------------------------------------------------------------------------
// Flag sets

// FlagTable (ioctl/struct.ts): names are matched case-insensitively, with or without `prefix`.
export type { FlagTable };

/** A flag table's names, upper-cased without the prefix, worked out once per table. */
interface FlagIndex {
  prefix: string;
  byName: ReadonlyMap<string, bigint>;
  /** The text parsed last without a mistake, and its value. */
  lastText?: string;
  lastValue: bigint;
}

const flagIndexes = new WeakMap<FlagTable, FlagIndex>();

const stripPrefix = (name: string, prefix: string): string => {
  const up = name.toUpperCase();
  return prefix !== '' && up.startsWith(prefix) && up.length > prefix.length ? up.slice(prefix.length) : up;
};

function flagIndex(table: FlagTable): FlagIndex {
  let ix = flagIndexes.get(table);
  if (ix) return ix;
  const prefix = table.prefix.toUpperCase();
  const byName = new Map<string, bigint>();
  for (const [name, bit] of table.bits) byName.set(stripPrefix(name, prefix), bit);
  flagIndexes.set(table, (ix = { prefix, byName, lastValue: 0n }));
  return ix;
}

/**
 * Parses `READ|WRITE`, `VFIO_DMA_MAP_FLAG_READ`, `0x3`, `READ|0x8`: the OR of every part.
 * `what` names the field in messages ("map flags").
 */
export function parseFlags(word: Word, table: FlagTable, what: string): bigint {
  const fail = (message: string): never => {
    throw new UserError(message, word.pos);
  };
  if (word.quoted) fail(`${quote(word.text)} is a quoted string: expected ${what} written without quotes, such as A|B`);

  const ix = flagIndex(table);
  // A run of MAP_DMAs writes the same flags line after line.
  if (word.text === ix.lastText) return ix.lastValue;
  const { prefix, byName } = ix;
  const parts = word.text.split('|');
  // Said in a message only: made only for one.
  const where = (): string => (parts.length > 1 ? ` in ${quote(word.text)}` : '');
  let value = 0n;
  for (const part of parts) {
    if (part === '') fail(`empty flag${where()}: expected ${what} as NAME|NAME|…`);
    if (/^[0-9-]/.test(part)) {
      // A numeric part follows the u64 number rules (and their messages).
      value |= parseU64({ text: part, quoted: false, pos: word.pos }, what);
      continue;
    }
    const bit = byName.get(part) ?? byName.get(stripPrefix(part, prefix));
    if (bit === undefined) {
      const names = [...byName.keys()].join(', ');
      const prefixed = prefix !== '' ? ` (optionally prefixed ${table.prefix})` : '';
      fail(`unknown ${what} flag ${quote(part)}${where()}: expected ${names || 'no names'}${prefixed}, or a number${didYouMean(stripPrefix(part, prefix), byName.keys())}`);
    }
    value |= bit!;
  }
  ix.lastText = word.text;
  ix.lastValue = value;
  return value;
}

// ---------------------------------------------------------------------------------------------
// Errno

const MAX_ERRNO = 4095n; // the kernel's MAX_ERRNO: -4095..-1 are error returns

/** An errno value by name (`EPERM`, case-insensitive) or number (1..4095). */
export function parseErrno(word: Word, errnoByName: (n: string) => number | undefined): number {
  const fail = (message: string): never => {
    throw new UserError(message, word.pos);
  };
  const shown = (): string => quote(word.text);
  if (word.quoted) fail(`${shown()} is a quoted string: expected an errno name such as EPERM, or a number`);
  if (/^[0-9-]/.test(word.text)) {
    const r = readInteger(word.text);
    if ('value' in r && r.value >= 1n && r.value <= MAX_ERRNO) return Number(r.value);
    return fail(`${shown()} is not an errno: expected a name such as EPERM, or a number from 1 to ${MAX_ERRNO}`);
  }
  const n = errnoByName(word.text) ?? errnoByName(word.text.toUpperCase());
  if (n === undefined) fail(`unknown errno ${shown()}: expected a name such as EPERM, EINVAL or ENOTTY, or a number${didYouMean(word.text.toUpperCase(), Object.keys(ERRNO))}`);
  return n!;
}

// ---------------------------------------------------------------------------------------------
// Hex bytes

/**
 * Hex bytes: `0x0102ff`, `01:02:ff`, `0102_ffff`. `_` and `:` separate (and spaces too, which only
 * a quoted word can hold). An optional `0x` prefix applies to the whole word.
 */
export function parseHex(word: Word): Uint8Array {
  const shown = (): string => quote(word.text);
  let text = word.text;
  if (/^0[xX]/.test(text)) text = text.slice(2);
  const digits: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f /* _ */ || c === 0x3a /* : */ || c === 0x20 || c === 0x09) continue;
    const d = hexDigit(c);
    if (d < 0) {
      throw new UserError(
        `${shown()} is not hex: unexpected ${quote(String.fromCodePoint(text.codePointAt(i)!))}, expected pairs of hex digits such as 0x01ff or 01:ff`,
        word.pos,
      );
    }
    digits.push(d);
  }
  if (digits.length % 2 !== 0) {
    throw new UserError(`${shown()} has an odd number of hex digits (${digits.length}): expected whole bytes, two digits each`, word.pos);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (digits[2 * i]! << 4) | digits[2 * i + 1]!;
  return out;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// NAME and NAME+OFFSET

/**
 * Splits `NAME` or `NAME+OFFSET` (NAME as bound by `as NAME`). Returns null when the text does not
 * start with a name followed by the end or `+` (e.g. a number), so the caller can try other forms.
 * A malformed OFFSET is an error, reported at `at` when given (a position, or the word whose
 * position it is: a lexed word makes its position only when asked).
 */
export function splitNamePlusOffset(text: string, at?: Pos | Word): { name: string; offset: bigint } | null {
  const plus = text.indexOf('+');
  const name = plus < 0 ? text : text.slice(0, plus);
  if (!NAME_RE.test(name)) return null;
  if (plus < 0) return { name, offset: 0n };
  const offsetText = text.slice(plus + 1);
  const r = readInteger(offsetText);
  if ('value' in r && r.value >= 0n && r.value <= U64_MAX) return { name, offset: r.value };
  const shown = quote(offsetText);
  const pos = at && 'text' in at ? at.pos : at;
  if ('value' in r && r.value >= 0n) throw new UserError(`${shown} does not fit in 64 bits`, pos);
  if ('problem' in r && r.problem === 'huge') throw new UserError(`${shown} does not fit in 64 bits`, pos);
  throw new UserError(
    `${shown} is not a valid offset in ${quote(text)}: expected NAME+OFFSET with OFFSET a number such as 0x1000 or 4K`,
    pos,
  );
}

// ---------------------------------------------------------------------------------------------
// Escaped texts

/**
 * Interprets the escapes of an expected text (`expect content "..."`): `\n`, `\t`, `\\`, `\"`,
 * and `\xNN` (the character with code NN). Any other escape is an error, reported at `pos`.
 *
 * Note: the lexer has already turned `\\` into `\` and `\"` into `"` in quoted words, so a literal
 * backslash followed by `n` must be written `\\\\n` in the file.
 */
export function unescapeText(s: string, pos?: Pos): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[i + 1];
    if (e === 'n') out += '\n';
    else if (e === 't') out += '\t';
    else if (e === '\\') out += '\\';
    else if (e === '"') out += '"';
    else if (e === 'x' && hexDigit(s.charCodeAt(i + 2)) >= 0 && hexDigit(s.charCodeAt(i + 3)) >= 0) {
      out += String.fromCharCode((hexDigit(s.charCodeAt(i + 2)) << 4) | hexDigit(s.charCodeAt(i + 3)));
      i += 2;
    } else {
      const bad = e === undefined ? '\\' : e === 'x' ? s.slice(i, i + 4) : '\\' + String.fromCodePoint(s.codePointAt(i + 1)!);
      throw new UserError(`invalid escape ${quote(bad)} in ${quote(s)}: expected \\n, \\t, \\\\, \\" or \\xNN`, pos);
    }
    i++;
  }
  return out;
}
