// Turning `ioctl FD REQUEST [ARG] [field=value …]` into the user buffer the kernel sees.
//
// Fields not given take their natural value: argsz = the struct's size (plus its variable
// tail), everything else 0. `raw=HEX` passes an exact buffer instead. By-value requests take
// their argument as a word (`CHECK_EXTENSION TYPE1v2`), and a few requests have a shorthand:
// `SET_CONTAINER container` (the fd the kernel reads through the pointer),
// `GET_DEVICE_FD 0000:01:00.0` (the NUL-terminated name), `SET_IRQS … data=efd0,efd1`.

import { UserError } from '../lib/user-error.js';
import type { Era } from '../kernel/era.js';
import type { UapiLayout } from '../uapi/layout.js';
import type { UserArg } from '../kernel/file.js';
import { fieldFlags } from '../uapi/display.js';
import { resolveExtension, type RequestDef } from '../uapi/requests.js';
import { allFields, anyField, fieldWidth, writeField, writeFieldNumber, type FieldDef, type FlagTable, type StructDef } from '../uapi/struct.js';
import { IRQ_SET_FLAGS } from '../uapi/structs.js';
import { argsSchema, IRQ_DATA_RE, type FieldCheck } from '../uapi/schemas.js';
import type { Command, KeyValue, Pos, Word } from './ast.js';
import { NAME_RE, wordWithText } from './lexer.js';
import { parseFlags, parseHex, parseU64, splitNamePlusOffset } from './values.js';
import { failAt } from './where.js';

/** The most a scenario buffer may be (argsz beyond it is passed as written, the buffer capped). */
export const MAX_BUFFER = 64 * 1024;

export interface ValueResolver {
  /** A number, or NAME / NAME+OFFSET of a bound value (an fd, an address). */
  u64(word: Word, what: string): bigint;
  /** An fd: a number or the name of an fd binding. */
  fd(word: Word): number;
  /** u64() of a plain number or NAME+OFFSET below 2^53 as an exact number, else -1 (then u64() decides). */
  u64Fast?(word: Word): number;
}

export interface BuiltArg {
  /** The argument; its buffer is new, the call's own. */
  arg: UserArg;
}

const fail = (w: Word, msg: string): never => failAt(w.pos, msg);

function noExtras(req: RequestDef, words: Word[], named: KeyValue[]): void {
  if (words.length) fail(words[0], `${req.name} takes no argument here, got "${words[0].text}"`);
  if (named.length) fail(named[0].value, `${req.name} takes no field "${named[0].key}"`);
}

export function buildIoctlArg(req: RequestDef, cmd: Command, args: Word[], era: Era, r: ValueResolver): BuiltArg {
  const named = cmd.named;
  // (A loop, not find(): no closure made for every ioctl line.)
  let raw: KeyValue | undefined;
  for (let i = 0; i < named.length && !raw; i++) if (named[i].key === 'raw') raw = named[i];
  if (raw) {
    const others = named.filter((kv) => kv !== raw);
    if (others.length || args.length) fail(raw.value, 'raw= passes the exact buffer: give no other argument with it');
    const bytes = parseHex(raw.value);
    return { arg: { value: 0x7f00_dead_0000n, buf: bytes } };
  }

  switch (req.arg) {
    case 'none':
      noExtras(req, args, named);
      return { arg: { value: 0n } };
    case 'value': {
      const v = named.find((kv) => kv.key === 'arg')?.value ?? args[0];
      if (!v) return failAt(cmd.verbPos, `${req.name} needs an argument, e.g. ${req.short} TYPE1v2`);
      noExtras(req, args.slice(named.some((kv) => kv.key === 'arg') ? 0 : 1), named.filter((kv) => kv.key !== 'arg'));
      const ext = resolveExtension(v!.text);
      return { arg: { value: ext !== undefined ? BigInt(ext) : parseU64(v!, 'argument') } };
    }
    case 'unknown': {
      const v = named.find((kv) => kv.key === 'arg')?.value ?? args[0];
      noExtras(req, args.slice(v === args[0] && v ? 1 : 0), named.filter((kv) => kv.key !== 'arg'));
      return { arg: { value: v ? parseU64(v, 'argument') : 0n } };
    }
    case 'string': {
      const v = named.find((kv) => kv.key === 'name')?.value ?? args[0];
      if (!v) return failAt(cmd.verbPos, `${req.name} needs a device name, e.g. GET_DEVICE_FD 0000:00:01.0`);
      const bytes = new TextEncoder().encode(v!.text);
      const buf = new Uint8Array(bytes.length + 1);
      buf.set(bytes);
      return { arg: { value: 0x7f00_dead_0000n, buf } };
    }
    case 'struct':
      return buildStruct(req, req.struct!, args, named, era, r);
  }
}

const MAX_BUFFER_N = BigInt(MAX_BUFFER);

/** A value as read: an exact number below 2^53 (the common case, no bigint made), or the bigint. */
type FieldValue = number | bigint;

/**
 * A struct request's `field=value` words as read: each field with its value, in the line's
 * order (a line gives a handful: parallel arrays, searched by name, cost less than a Map).
 */
interface FieldValues {
  /** The first n entries are the line's; the arrays are reused from line to line. */
  fields: FieldDef[];
  vals: FieldValue[];
  n: number;
  /** SET_IRQS's data list. */
  data?: Word;
}

/**
 * The one FieldValues, set up again for each struct argument: a struct is built to the end
 * before the next one starts, and reusing its two arrays spares the collector a pair of
 * growing arrays per ioctl line.
 */
const FIELD_VALUES: FieldValues = { fields: [], vals: [], n: 0 };

function valueOf(v: FieldValues, name: string): bigint | undefined {
  for (let i = 0; i < v.n; i++) {
    if (v.fields[i].name !== name) continue;
    const x = v.vals[i];
    return typeof x === 'bigint' ? x : BigInt(x);
  }
  return undefined;
}

function hasValue(v: FieldValues, name: string): boolean {
  for (let i = 0; i < v.n; i++) if (v.fields[i].name === name) return true;
  return false;
}

function addValue(v: FieldValues, f: FieldDef, value: FieldValue): void {
  v.fields[v.n] = f;
  v.vals[v.n++] = value;
}

/**
 * Whether a field of what follows `def` is among the values' fields: one at or past the
 * struct's end (uapi/struct.ts places what follows at def.size on; a struct's own fields end
 * within it), told by a compare rather than a lookup by name on every line.
 */
function givesFollowing(def: StructDef, v: FieldValues): boolean {
  for (let i = 0; i < v.n; i++) if (v.fields[i].off >= def.size) return true;
  return false;
}

/** How one `field=value` key of a struct is read in an era: worked out once (ArgPlan). */
interface KeyPlan {
  f: FieldDef;
  /** The era's flag table (flags=READ|WRITE), when the field takes flags. */
  flags?: FlagTable;
  /** `struct.field`, as messages name the field (fieldLabel). */
  label: string;
  /** A field of plain numbers (no flags, no named values, not an fd): the number fast path applies. */
  plain: boolean;
  /** The largest value of the field, as a number (a 64-bit field's is above 2^53: any exact number fits). */
  maxNum: number;
  /** Bytes from the buffer's start to the field's end. */
  end: number;
}

/**
 * A struct request's argument as worked out once per struct and era (issue 8): each key's
 * field, flag table and bounds, the leading size field. The checks a line's words need are
 * then a Map lookup and a compare; a word the plan does not take goes the full way, and a
 * mistake is worded by the request's zod schema (validateArgs), as before.
 */
interface ArgPlan {
  era: UapiLayout;
  keys: Map<string, KeyPlan>;
  /** The leading size: VFIO's argsz, iommufd's size (include/uapi/linux/iommufd.h); none for a bare fd. */
  sizeField?: FieldDef;
}

const plans = new WeakMap<StructDef, ArgPlan>();

function planOf(def: StructDef, era: UapiLayout): ArgPlan {
  const p = plans.get(def);
  if (p && p.era === era) return p;
  const keys = new Map<string, KeyPlan>();
  for (const f of allFields(def)) {
    if (f.role === 'pad') continue;
    const flags = fieldFlags(def, f, era);
    const bits = f.type === 'u64' ? 64 : f.type === 'u16' ? 16 : f.type === 'u8' ? 8 : 32;
    keys.set(f.name, {
      f,
      flags,
      label: fieldLabel(def, f),
      plain: !flags && !f.values && f.role !== 'fd',
      maxNum: bits === 64 ? Number.MAX_SAFE_INTEGER : 2 ** bits - 1,
      end: f.off + fieldWidth(f),
    });
  }
  const sizeField = def.fields.find((x) => x.off === 0 && (x.name === 'argsz' || x.name === 'size'));
  const plan: ArgPlan = { era, keys, sizeField };
  plans.set(def, plan);
  return plan;
}

function buildStruct(
  req: RequestDef,
  def: StructDef,
  args: Word[],
  named: KeyValue[],
  era: Era,
  r: ValueResolver,
): BuiltArg {
  // GROUP_SET_CONTAINER: the positional word is the container fd.
  if (def.fields.length === 1 && def.fields[0].role === 'fd') {
    const w = args[0] ?? named.find((kv) => kv.key === 'fd')?.value;
    if (!w) throw new UserError(`${req.name} needs the container, e.g. SET_CONTAINER container`);
    const buf = new Uint8Array(4);
    writeField(buf, 0, 's32', BigInt(r.fd(w)));
    return { arg: { value: 0x7f00_dead_0000n, buf } };
  }
  if (args.length) fail(args[0], `${req.name} takes field=value arguments (fields: ${def.fields.map((f) => f.name).join(', ')}), got "${args[0].text}"`);

  const plan = planOf(def, era);
  const values = readFields(req, def, plan, named, era, r);
  // SET_IRQS: the data array follows the struct; count defaults to its number of entries.
  const tail = values.data ? irqData(values.data, valueOf(values, 'flags') ?? 0n, r) : undefined;
  // What follows the struct (a vfio_bitmap, a dirty-bitmap range) is passed when a field of it is given.
  const follows = def.follows && givesFollowing(def, values) ? def.follows.def.size : 0;
  const natural = def.size + follows + (tail?.length ?? 0);
  const sizeField = plan.sizeField;
  let len = natural;
  if (sizeField) {
    const givenSize = valueOf(values, sizeField.name);
    if (givenSize === undefined) addValue(values, sizeField, natural);
    else len = Math.min(MAX_BUFFER, Math.max(natural, Number(givenSize > MAX_BUFFER_N ? MAX_BUFFER_N : givenSize)));
  }
  if (def.tail === 'irq-data' && tail && valueOf(values, 'count') === undefined) {
    const flags = valueOf(values, 'flags') ?? 0n;
    const per = flags & (1n << 2n) ? 4 : 1;
    addValue(values, anyField(def, 'count')!, tail.length / per);
  }
  len = Math.min(MAX_BUFFER, len);
  const buf = new Uint8Array(len);
  // Every given field ends within the struct and what follows it when that is passed
  // (defineStruct checks each struct's fields): only a shorter buffer leaves some out.
  const allFit = len >= def.size + follows;
  // (Fields do not overlap: the order they are written in does not matter.)
  for (let i = 0; i < values.n; i++) {
    const f = values.fields[i];
    if (!allFit && f.off + fieldWidth(f) > len) continue;
    const v = values.vals[i];
    if (typeof v === 'number') writeFieldNumber(buf, f.off, f.type, v);
    else writeField(buf, f.off, f.type, v);
  }
  if (tail) buf.set(tail.subarray(0, Math.max(0, len - def.size)), def.size);
  return { arg: { value: 0x7f00_dead_0000n, buf } };
}

/** A field=value the fast path does not take (an unknown key, a repeated one, a bad data list): validateArgs says why. */
const NOT_PLAIN = Symbol('not plain');

/**
 * The values of a struct request's `field=value` words (and SET_IRQS's data list), checked
 * by the request's plan directly. When a word is wrong, validateArgs runs the request's
 * schema for the message: the leftmost problem by grammar first, as a user reads the line;
 * a problem only the bound names show (an unbound NAME) is the one this loop met.
 */
function readFields(
  req: RequestDef,
  def: StructDef,
  plan: ArgPlan,
  named: KeyValue[],
  era: Era,
  r: ValueResolver,
): FieldValues {
  try {
    const values = FIELD_VALUES;
    values.n = 0;
    values.data = undefined;
    for (let i = 0; i < named.length; i++) {
      const kv = named[i];
      if (def.tail === 'irq-data' && kv.key === 'data') {
        if (values.data || !IRQ_DATA_RE.test(kv.value.text)) throw NOT_PLAIN;
        values.data = kv.value;
        continue;
      }
      const k = plan.keys.get(kv.key);
      if (k === undefined || hasValue(values, kv.key)) throw NOT_PLAIN;
      if (k.plain && r.u64Fast) {
        // A number or NAME+OFFSET below 2^53 that fits the field: exactly what fieldValue gives.
        const v = r.u64Fast(kv.value);
        if (v >= 0 && v <= k.maxNum) {
          addValue(values, k.f, v);
          continue;
        }
      }
      addValue(values, k.f, k.flags ? parseFlags(unescapePipes(kv.value), k.flags, k.label) : fieldValue(def, k.f, kv.value, era, r));
    }
    return values;
  } catch (e) {
    if (e === NOT_PLAIN || e instanceof UserError) validateArgs(req, def, named, era);
    if (e === NOT_PLAIN) throw new Error(`${req.name}: the fast path and the schema disagree`);
    throw e;
  }
}

/**
 * Resolves values by their grammar alone: a NAME (or NAME+OFFSET) stands for any bound value,
 * so a field's text can be checked before the names are looked up.
 */
const GRAMMAR_ONLY: ValueResolver = {
  u64(w, what) {
    const split = w.quoted ? null : splitNamePlusOffset(w.text, w);
    return split ? split.offset : parseU64(w, what);
  },
  fd(w) {
    if (!w.quoted && NAME_RE.test(w.text)) return 0;
    const v = parseU64(w, 'fd');
    if (v > 0x7fff_ffffn) fail(w, `fd ${w.text} is out of range`);
    return Number(v);
  },
};

const NOWHERE: Pos = { file: '', line: 0, col: 0 };

/** The schema's value check: the field's text through fieldValue, the one grammar. */
const checkFieldText: FieldCheck = (def, f, text, era) => {
  try {
    fieldValue(def, f, { text, quoted: false, pos: NOWHERE }, era, GRAMMAR_ONLY);
    return undefined;
  } catch (e) {
    if (e instanceof UserError) return e.message;
    throw e;
  }
};

/** The request's zod schema over its `field=value` words; the first problem (in the line's order), at its word. */
function validateArgs(req: RequestDef, def: StructDef, named: KeyValue[], era: Era): void {
  const seen = new Set<string>();
  for (const kv of named) {
    if (seen.has(kv.key)) fail(kv.value, `field "${kv.key}" given twice`);
    seen.add(kv.key);
  }
  const res = argsSchema(req, era, checkFieldText).safeParse(Object.fromEntries(named.map((kv) => [kv.key, kv.value.text])));
  if (res.success) return;
  const fields = allFields(def).filter((f) => f.role !== 'pad').map((f) => f.name);
  // Each issue at the word it concerns; the leftmost is reported.
  const problems = res.error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [String(issue.path[0])];
    return keys.map((key) => ({ issue, kv: named.find((x) => x.key === key) }));
  });
  const index = (kv: KeyValue | undefined) => (kv ? named.indexOf(kv) : named.length);
  problems.sort((a, b) => index(a.kv) - index(b.kv));
  const { issue, kv } = problems[0]!;
  if (issue.code === 'unrecognized_keys') {
    failAt(kv!.keyPos, `${req.short} has no field "${kv!.key}" (${def.name} fields: ${fields.join(', ')}${def.tail === 'irq-data' ? ', data' : ''}; or raw=HEX)`);
  }
  // A value check's message is the value parser's own (it quotes the value); others name the field.
  if (kv && issue.code === 'custom') failAt(kv.value.pos, issue.message);
  failAt(kv ? kv.value.pos : named[0].keyPos, `${kv ? `${kv.key}="${kv.value.text}": ` : ''}${issue.message}`);
}

function fieldValue(def: StructDef, f: FieldDef, w: Word, era: UapiLayout, r: ValueResolver): bigint {
  const flags = fieldFlags(def, f, era);
  if (flags) return parseFlags(unescapePipes(w), flags, `${def.name}.${f.name}`);
  if (f.values) {
    const t = w.text.toUpperCase().replace(prefixRe(f.values), '').replace(/_(REGION|IRQ)_INDEX$/, '');
    const named = f.values.bits.find(([n]) => n === t);
    if (named) return named[1];
  }
  // An fd field takes a bound fd, a number, or -1 ("none", as in SET_IRQS data and IOEVENTFD).
  if (f.role === 'fd') return w.text === '-1' ? -1n : BigInt(r.fd(w));
  const v = r.u64(w, fieldLabel(def, f));
  const bits = f.type === 'u64' ? 64 : f.type === 'u16' ? 16 : f.type === 'u8' ? 8 : 32;
  if (v > FIELD_MAX[bits]) fail(w, `${f.name}=${w.text} does not fit in ${bits} bits`);
  return v;
}

const fieldLabels = new WeakMap<StructDef, Map<FieldDef, string>>();

/**
 * `struct.field`, as messages name a field: made once per struct and field, not once per
 * value read (a field of what follows a struct is named after the request's struct).
 */
function fieldLabel(def: StructDef, f: FieldDef): string {
  let labels = fieldLabels.get(def);
  if (!labels) fieldLabels.set(def, (labels = new Map()));
  let label = labels.get(f);
  if (label === undefined) labels.set(f, (label = `${def.name}.${f.name}`));
  return label;
}

/** The largest value of a field of 8, 16, 32 or 64 bits. */
const FIELD_MAX: Record<number, bigint> = { 8: 0xffn, 16: 0xffffn, 32: 0xffff_ffffn, 64: (1n << 64n) - 1n };

const prefixRes = new WeakMap<FlagTable, RegExp>();

/** `^PREFIX`, made once per table. */
function prefixRe(t: FlagTable): RegExp {
  let re = prefixRes.get(t);
  if (!re) prefixRes.set(t, (re = new RegExp(`^${t.prefix}`)));
  return re;
}

/** `A\|B` as the contract's table writes it: the backslash is the table's, not the flag's. */
function unescapePipes(w: Word): Word {
  return w.text.includes('\\|') ? wordWithText(w, w.text.replace(/\\\|/g, '|')) : w;
}

/** SET_IRQS data: eventfds (`efd0,efd1`, -1 for none) for DATA_EVENTFD, bytes (`1,0`) for DATA_BOOL. */
function irqData(w: Word, flags: bigint, r: ValueResolver): Uint8Array {
  const parts = w.text.split(',').filter((s) => s.length);
  const eventfd = (flags & (IRQ_SET_FLAGS.bits.find(([n]) => n === 'DATA_EVENTFD')![1])) !== 0n;
  const out = new Uint8Array(parts.length * (eventfd ? 4 : 1));
  const dv = new DataView(out.buffer);
  parts.forEach((p, i) => {
    const sub = wordWithText(w, p);
    if (eventfd) dv.setInt32(i * 4, p === '-1' ? -1 : r.fd(sub), true);
    else out[i] = Number(parseU64(sub, 'data') & 0xffn);
  });
  return out;
}
