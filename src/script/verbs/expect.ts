// Expectations about the most recent action (SCENARIO-LANGUAGE.md, "Expectations"). Each
// yields one event that says what was expected and what came out; `check` reports the ones
// that failed as `file:line: expected …, got …`.

import type { Era } from '../../kernel/era.js';
import { errnoByName, errnoName } from '../../uapi/errno.js';
import { ALL_CAP_DEFS } from '../../uapi/caps.js';
import { eraFields, fieldFlags, formatCap, formatValue, structCaps } from '../../uapi/display.js';
import { fieldWidth, readField } from '../../uapi/struct.js';
import type { Command, Pos, Word } from '../ast.js';
import type { LastAction, ScenarioContext } from '../context.js';
import type { RunEvent } from '../events.js';
import type { Names } from '../names.js';
import { parseErrno, parseFlags, parseHex, parseU64, unescapeText } from '../values.js';
import { wordWithText } from '../lexer.js';
import { failAt, whereOf } from '../where.js';
import type { VerbHandler } from './verb.js';

const FORMS =
  'ok, ret=N, errno=NAME, FIELD=VALUE, cap NAME, no-cap NAME, bytes HEX, dmesg "TEXT", no-dmesg, content "TEXT", fault, no-fault, delivered, not-delivered';

export const expect: VerbHandler = { kind: 'inspect', run: checkExpectation };

function checkExpectation(cmd: Command, ctx: ScenarioContext): RunEvent {
  const where = whereOf(cmd);
  const last = ctx.last;
  const first = cmd.positional[0];
  const src = cmd.source.replace(/^\s*expect\s+/, '');
  const result = (ok: boolean, expected: string, got: string): RunEvent => ({
    type: 'expect',
    at: where,
    ok,
    text: src,
    expected,
    got,
  });
  if (!first && cmd.named.length === 0) failAt(cmd.verbPos, `expect what? (${FORMS})`);
  if (!last) failAt(cmd.verbPos, 'expect: there is no action before it to check');
  const l = last!;
  // An action came before: the machine has booted.
  const { era } = ctx.machine(cmd);
  const outcome = l.errno ? `-1 ${errnoName(l.errno)}` : l.ret.toString();

  if (first) {
    const word = first.text;
    const rest = cmd.positional.slice(1);
    switch (word) {
      case 'ok': {
        noMore(rest);
        const ok = l.errno === 0 && (l.returnsFd ? l.ret >= 0n : l.ret === 0n || l.verb !== 'ioctl' || l.ret >= 0n);
        return result(ok, 'success', outcome);
      }
      case 'dmesg': {
        const t = one(rest, cmd, 'dmesg "TEXT"');
        const text = unescapeText(t.text, t.pos);
        const ok = l.logs.some((x) => x.text.includes(text));
        return result(ok, `a kernel log line containing ${JSON.stringify(text)}`, l.logs.length ? l.logs.map((x) => JSON.stringify(x.text)).join('; ') : 'no kernel log line');
      }
      case 'no-dmesg': {
        noMore(rest);
        return result(l.logs.length === 0, 'no kernel log line', l.logs.map((x) => JSON.stringify(x.text)).join('; ') || 'none');
      }
      case 'content': {
        const t = one(rest, cmd, 'content "TEXT"');
        if (l.content === undefined) failAt(first.pos, 'expect content: the last action was not a read or readlink that returned text');
        const want = unescapeText(t.text, t.pos);
        return result(l.content === want, JSON.stringify(want), JSON.stringify(l.content));
      }
      case 'bytes': {
        const t = one(rest, cmd, 'bytes HEX');
        const want = parseHex(t);
        if (!l.out) failAt(first.pos, 'expect bytes: the last action returned no buffer');
        const d = bytesDiff(want, l.out!);
        return result(d === undefined, hexShort(want), d ?? hexShort(l.out!));
      }
      case 'cap':
      case 'no-cap':
        return expectCap(cmd, l, era, ctx.names, word === 'no-cap', rest, result);
      case 'fault':
      case 'no-fault':
      case 'delivered':
      case 'not-delivered':
        return expectHardware(cmd, l, ctx.names, word, rest, result);
      default:
        failAt(first.pos, `unknown expectation "${word}": expected one of ${FORMS}`);
    }
  }

  // key=value forms: ret=, errno=, and output fields.
  const checks: { ok: boolean; expected: string; got: string }[] = [];
  for (const kv of cmd.named) {
    if (kv.key === 'ret') {
      const want = kv.value.text.startsWith('-') ? -parseU64(wordWithText(kv.value, kv.value.text.slice(1)), 'ret') : parseU64(kv.value, 'ret');
      checks.push({ ok: l.errno === 0 && l.ret === want, expected: `ret=${want}`, got: outcome });
    } else if (kv.key === 'errno') {
      const want = parseErrno(kv.value, errnoByName);
      checks.push({ ok: l.errno === want && l.ret === -1n, expected: `-1 ${errnoName(want)}`, got: outcome });
    } else {
      checks.push(expectField(kv.key, kv.value, kv.keyPos, l, era, ctx.names));
    }
  }
  const ok = checks.every((c) => c.ok);
  return result(ok, checks.map((c) => c.expected).join(', '), checks.map((c) => c.got).join(', '));
}

/** Bytes as hex, the first 64 of a longer buffer followed by its length. */
function hexShort(b: Uint8Array): string {
  const hex = Buffer.from(b.subarray(0, 64)).toString('hex');
  return b.length > 64 ? `${hex}… (${b.length} bytes)` : hex;
}

/**
 * How `got` differs from `want`, or undefined when they are equal: the buffer, then the offset
 * of the first differing byte and up to 8 bytes of each from there (or where one ends).
 */
export function bytesDiff(want: Uint8Array, got: Uint8Array): string | undefined {
  const n = Math.min(want.length, got.length);
  let at = 0;
  while (at < n && want[at] === got[at]) at++;
  if (at === n && want.length === got.length) return undefined;
  const span = (b: Uint8Array) => (at < b.length ? Buffer.from(b.subarray(at, at + 8)).toString('hex') + (b.length > at + 8 ? '…' : '') : 'nothing (the buffer ends)');
  const where = `first difference at offset ${at} (0x${at.toString(16)}): expected ${span(want)}, got ${span(got)}`;
  const len = want.length === got.length ? '' : `; ${got.length} bytes, expected ${want.length}`;
  return `${hexShort(got)} — ${where}${len}`;
}

function noMore(rest: Word[]): void {
  if (rest.length) failAt(rest[0].pos, `unexpected "${rest[0].text}"`);
}

function one(rest: Word[], cmd: Command, form: string): Word {
  if (rest.length !== 1) failAt(rest[1]?.pos ?? cmd.verbPos, `expected: expect ${form}`);
  return rest[0];
}

function expectField(key: string, value: Word, keyPos: Pos, l: LastAction, era: Era, names: Names): { ok: boolean; expected: string; got: string } {
  const io = l.ioctl;
  const def = io?.req?.struct;
  if (!def || !io?.after) failAt(keyPos, `expect ${key}=: the last action was not an ioctl with a struct`);
  const f = eraFields(def!, era).find((x) => x.name === key);
  if (!f) failAt(keyPos, `${def!.name} has no field "${key}" (fields: ${eraFields(def!, era).map((x) => x.name).join(', ')}; or ret=, errno=)`);
  const flags = fieldFlags(def!, f!, era);
  let want: bigint;
  if (flags) want = parseFlags(wordWithText(value, value.text.replace(/\\\|/g, '|')), flags, `${def!.name}.${key}`);
  else {
    const named = f!.values?.bits.find(([n]) => n === value.text.toUpperCase());
    want = named ? named[1] : names.u64(value, key);
  }
  if (f!.off + fieldWidth(f!) > io!.after!.length) return { ok: false, expected: `${key}=${value.text}`, got: `${key} not in the buffer` };
  const got = readField(io!.after!, f!.off, f!.type);
  return {
    ok: got === want,
    expected: `${key}=${formatValue(def!, f!, want, era)}`,
    got: `${key}=${formatValue(def!, f!, got, era)}`,
  };
}

function expectCap(
  cmd: Command,
  l: LastAction,
  era: Era,
  names: Names,
  negate: boolean,
  rest: Word[],
  result: (ok: boolean, e: string, g: string) => RunEvent,
): RunEvent {
  const nameW = rest[0];
  if (!nameW) failAt(cmd.positional[0].pos, `expect ${negate ? 'no-cap' : 'cap'} NAME`);
  noMore(rest.slice(1));
  const name = nameW.text.toUpperCase().replace(/^VFIO_(IOMMU_TYPE1_INFO_(CAP_)?|REGION_INFO_CAP_)/, '');
  if (!ALL_CAP_DEFS.some((d) => d.name === name)) {
    failAt(nameW.pos, `unknown capability "${nameW.text}": expected one of ${[...new Set(ALL_CAP_DEFS.map((d) => d.name))].join(', ')}`);
  }
  const io = l.ioctl;
  if (!io?.req?.struct || !io.after) failAt(nameW.pos, 'expect cap: the last action was not an info ioctl');
  const chain = structCaps(io!.req.struct!, era, io!.after!);
  const cap = chain.caps.find((c) => c.def?.name === name);
  const gotText = chain.caps.length ? chain.caps.map(formatCap).join(', ') : 'no capability chain';
  if (negate) return result(!cap, `no ${name} capability`, gotText);
  if (!cap) return result(false, `capability ${name}`, gotText);
  const mism: string[] = [];
  const exp: string[] = [name];
  // `area=N` (SPARSE_MMAP) or `iova_range=N` (IOVA_RANGE) selects entry N (from 0) of the
  // capability's trailing array; the other keys are then that entry's fields.
  const array = cap.def!.array;
  const selKey = array?.name.replace(/s$/, '');
  const sel = selKey === undefined ? undefined : cmd.named.find((kv) => kv.key === selKey);
  if (sel && array) {
    const idx = names.u64(sel.value, selKey!);
    const entry = idx < BigInt(cap.entries.length) ? cap.entries[Number(idx)] : undefined;
    exp.push(`${selKey}=${idx}`);
    if (!entry) mism.push(`${selKey}=${idx} absent (${cap.entries.length} ${array.name})`);
    for (const kv of cmd.named) {
      if (kv === sel) continue;
      const f = array.entry.fields.find((x) => x.name === kv.key);
      if (!f) failAt(kv.keyPos, `${name} ${selKey}= takes the entry's fields (${array.entry.fields.map((x) => x.name).join(', ')}), not "${kv.key}="`);
      const want = names.u64(kv.value, kv.key);
      exp.push(`${kv.key}=${f!.hex ? `0x${want.toString(16)}` : want}`);
      const got = entry?.get(kv.key);
      if (entry && got !== want) mism.push(`${kv.key}=${got === undefined ? 'absent' : f!.hex ? `0x${got.toString(16)}` : got}`);
    }
    return result(mism.length === 0, exp.join(' '), mism.length ? mism.join(' ') : formatCap(cap));
  }
  for (const kv of cmd.named) {
    const f = cap.def!.struct.fields.find((x) => x.name === kv.key);
    if (kv.key === 'offset') {
      const want = names.u64(kv.value, 'offset');
      exp.push(`offset=${want}`);
      if (BigInt(cap.off) !== want) mism.push(`offset=${cap.off}`);
      continue;
    }
    if (!f) failAt(kv.keyPos, `${name} has no field "${kv.key}" (fields: ${[...cap.def!.struct.fields.map((x) => x.name), 'offset', ...(selKey ? [`${selKey}=N`] : [])].join(', ')})`);
    const want = f!.flags ? parseFlags(kv.value, f!.flags, kv.key) : names.u64(kv.value, kv.key);
    const got = cap.fields.get(kv.key);
    exp.push(`${kv.key}=${kv.value.text}`);
    if (got !== want) mism.push(`${kv.key}=${got === undefined ? 'absent' : f!.hex ? `0x${got.toString(16)}` : got}`);
  }
  return result(mism.length === 0, exp.join(' '), mism.length ? mism.join(' ') : formatCap(cap));
}

function expectHardware(
  cmd: Command,
  l: LastAction,
  names: Names,
  word: string,
  rest: Word[],
  result: (ok: boolean, e: string, g: string) => RunEvent,
): RunEvent {
  const hw = l.hw;
  if (!hw) failAt(cmd.positional[0].pos, `expect ${word}: the last action was not a hardware action (dma, msi)`);
  const f = hw!.fault;
  const got = f ? f.text : hw!.delivered ? `delivered to ${hw!.delivered.name ?? `fd ${hw!.delivered.fd}`}` : hw!.text;
  switch (word) {
    case 'no-fault':
      noMore(rest);
      return result(!f, 'no IOMMU fault', got);
    case 'not-delivered':
      noMore(rest);
      return result(!hw!.delivered, 'the MSI not delivered', got);
    case 'delivered': {
      noMore(rest);
      const to = cmd.named.find((kv) => kv.key === 'to');
      for (const kv of cmd.named) if (kv.key !== 'to') failAt(kv.keyPos, `expect delivered takes to=EVENTFD, not "${kv.key}="`);
      if (!hw!.delivered) return result(false, to ? `delivered to ${to.value.text}` : 'the MSI delivered', got);
      if (!to) return result(true, 'the MSI delivered', got);
      const fd = names.fd(to.value);
      return result(hw!.delivered.fd === fd, `delivered to ${to.value.text}`, got);
    }
    default: {
      // expect fault [IOMMU] [type=T] [iova=N]
      if (rest.length > 1) failAt(rest[1].pos, `unexpected "${rest[1].text}"`);
      const exp: string[] = ['an IOMMU fault'];
      let ok = !!f;
      if (rest[0]) {
        exp.push(`on ${rest[0].text}`);
        ok &&= f!.iommu === rest[0].text;
      }
      for (const kv of cmd.named) {
        if (kv.key === 'type') {
          exp.push(`type=${kv.value.text}`);
          ok &&= !!f && f.type.toUpperCase().includes(kv.value.text.toUpperCase());
        } else if (kv.key === 'iova') {
          const want = names.u64(kv.value, 'iova');
          exp.push(`iova=0x${want.toString(16)}`);
          ok &&= !!f && f.iova === want;
        } else failAt(kv.keyPos, `expect fault takes type= and iova=, not "${kv.key}="`);
      }
      return result(ok, exp.join(' '), got);
    }
  }
}
