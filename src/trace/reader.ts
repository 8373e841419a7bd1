// Reads vfio-trace/1 text. Every problem in the text is a UserError at `file:line` whose message
// says what is wrong in the trace's terms; nothing else is ever thrown, and the work is linear in
// the size of the input (JSON.parse, anchored regexes without nested quantifiers).

import { UserError, type Where } from '../lib/user-error.js';
import { LIMITS, sizeText } from '../lib/limits.js';
import {
  TRACE_FORMAT,
  TRACE_OPS,
  eventSchema,
  fromWire,
  ioctlShapeProblem,
  isTraceOp,
  traceHeaderSchema,
  type Trace,
  type TraceEvent,
  type TraceHeader,
  type WireEvent,
} from './format.js';

export type { Trace, TraceEvent, TraceHeader } from './format.js';

/** What one line of a trace holds. */
export type TraceLine =
  | { kind: 'header'; header: TraceHeader }
  | { kind: 'event'; event: TraceEvent }
  /** A line with nothing but white space; only allowed at the end of a file. */
  | { kind: 'blank' };

/**
 * Parses the whole text of a trace: the header on line 1, then one event per line. Empty lines are
 * allowed only at the end. Throws UserError (and only UserError) on the first malformed line.
 */
export function readTrace(text: string, file: string): Trace {
  const lines = text.split('\n');
  let header: TraceHeader | undefined;
  const events: TraceEvent[] = [];
  let blank: number | undefined; // the first blank line after the header, if any
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    if (lineNo === 1 && text.length === 0) {
      throw new UserError(`line 1 must be a ${TRACE_FORMAT} header (the file is empty)`, { file, line: 1 });
    }
    if (lines[i]!.length > LIMITS.lineChars) {
      throw new UserError(`line ${lineNo} is ${lines[i]!.length} characters long: expected at most ${sizeText(LIMITS.lineChars)} per event`, { file, line: lineNo });
    }
    const parsed = parseTraceLine(lines[i]!, file, lineNo);
    if (parsed.kind === 'blank') {
      blank ??= lineNo;
      continue;
    }
    if (blank !== undefined) {
      throw new UserError('empty line (empty lines are only allowed at the end of a trace)', {
        file,
        line: blank,
      });
    }
    if (parsed.kind === 'header') header = parsed.header;
    else events.push(parsed.event);
  }
  // Line 1 always yields a header or throws, and split() returns at least one line.
  return { header: header!, events };
}

/**
 * Parses one line: line 1 must be the header, every other line is an event or blank. For
 * streaming readers: the caller enforces that blank lines come only at the end (see readTrace).
 */
export function parseTraceLine(line: string, file: string, lineNo: number): TraceLine {
  const where: Where = { file, line: lineNo };
  if (lineNo === 1) return { kind: 'header', header: parseHeader(line.replace(/^\uFEFF/, ''), where) };
  if (line.trim() === '') return { kind: 'blank' };
  return { kind: 'event', event: parseEvent(line, where) };
}

// ---- header ------------------------------------------------------------------------------------

function parseHeader(line: string, where: Where): TraceHeader {
  const notHeader = (why: string) => new UserError(`line 1 must be a ${TRACE_FORMAT} header (${why})`, where);
  if (line.trim() === '') throw notHeader('line 1 is empty');
  const json = parseJson(line);
  if (!json.ok) throw notHeader(`not JSON: ${json.message}`);
  const v = json.value;
  if (!isPlainObject(v)) throw notHeader(`found ${describe(v)}`);
  if (!Object.hasOwn(v, 'trace')) {
    if (Object.hasOwn(v, 'op')) throw notHeader(`found ${typeof v.op === 'string' ? `an "${clip(v.op)}" event` : 'an event'}`);
    throw notHeader('no "trace" field');
  }
  if (typeof v.trace === 'string' && v.trace !== TRACE_FORMAT) {
    throw new UserError(`unsupported trace format ${quote(v.trace)} (this reader knows ${TRACE_FORMAT})`, where);
  }
  const r = traceHeaderSchema().safeParse(v);
  if (!r.success) throw new UserError(`header: ${issueText(r.error.issues, v)}`, where);
  return r.data;
}

// ---- events ------------------------------------------------------------------------------------

const KNOWN_OPS = TRACE_OPS.join(', ');

function parseEvent(line: string, where: Where): TraceEvent {
  const json = parseJson(line);
  if (!json.ok) throw new UserError(`not JSON: ${json.message}`, where);
  const v = json.value;
  if (!isPlainObject(v)) throw new UserError(`an event must be a JSON object, found ${describe(v)}`, where);
  if (!Object.hasOwn(v, 'op')) {
    const hint = Object.hasOwn(v, 'trace') ? ' (a header is only allowed on line 1)' : '';
    throw new UserError(`missing field "op"${hint}`, where);
  }
  const op = v.op;
  if (typeof op !== 'string') throw new UserError(`field "op" must be a string, found ${describe(op)}`, where);
  if (!isTraceOp(op)) throw new UserError(`unknown op ${quote(op)} (known ops: ${KNOWN_OPS})`, where);

  const r = eventSchema(op).safeParse(v);
  if (!r.success) throw new UserError(`event "${op}": ${issueText(r.error.issues, v)}`, where);
  const w = r.data as WireEvent;
  if (w.op === 'ioctl') {
    const problem = ioctlShapeProblem(w);
    if (problem !== undefined) throw new UserError(`event "ioctl": ${problem}`, where);
  }
  const event = fromWire(w) as TraceEvent;
  event.line = where.line;
  return event;
}

// ---- helpers -----------------------------------------------------------------------------------

type JsonResult = { ok: true; value: unknown } | { ok: false; message: string };

function parseJson(line: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(line) as unknown };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a JSON value is, for messages: `an array`, `a number (5)`, `null`. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return `a string (${quote(v)})`;
    case 'number':
    case 'boolean':
      return `a ${typeof v} (${String(v)})`;
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

/** At most 60 characters of user text, so that a message stays one readable line. */
function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function quote(s: string): string {
  return JSON.stringify(clip(s));
}

interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * The first zod issue in user terms: `field "x" is missing` when the key is absent, else
 * `field "x" <the field's message>` (each field schema carries its own message).
 */
function issueText(issues: readonly Issue[], value: Record<string, unknown>): string {
  const issue = issues[0];
  if (!issue) return 'is not valid';
  const path = issue.path.map((p) => (typeof p === 'symbol' ? p.description ?? '' : String(p)));
  if (path.length === 0) return issue.message;
  const name = `field "${path.join('.')}"`;
  let at: unknown = value;
  for (const p of path) at = isPlainObject(at) && Object.hasOwn(at, p) ? at[p] : undefined;
  if (at === undefined) return `${name} is missing`;
  return `${name} ${issue.message}`;
}
