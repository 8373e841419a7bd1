import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/lib/user-error.js';
import { TRACE_OPS, type TraceEventData, type TraceHeader } from '../../src/trace/format.js';
import { fromHex, hex64, toHex } from '../../src/trace/hex.js';
import { parseTraceLine, readTrace } from '../../src/trace/reader.js';
import { TraceWriter, formatEvent } from '../../src/trace/writer.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/real-kernel');
const fixtures = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(FIXTURES, d.name))
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => `${d.name}/${f}`),
  )
  .sort();
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

/** Per-op counts by a plain JSON.parse pass, independent of the reader. */
function countOps(text: string): { total: number; byOp: Record<string, number> } {
  const lines = text.split('\n').filter((l) => l !== '');
  const byOp: Record<string, number> = {};
  for (const l of lines.slice(1)) {
    const op = (JSON.parse(l) as { op: string }).op;
    byOp[op] = (byOp[op] ?? 0) + 1;
  }
  return { total: lines.length - 1, byOp };
}

/** `file:line: message` of the UserError that reading `text` throws. */
function errorOf(text: string): string {
  try {
    readTrace(text, 't.jsonl');
  } catch (e) {
    if (e instanceof UserError) return e.format();
    throw e;
  }
  throw new Error('no error');
}

/** JSON.parse's own message for `text` (it differs between Node versions). */
function jsonMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('valid JSON');
}

const H =
  '{"trace":"vfio-trace/1","kernel":"6.12","arch":"x86_64","platform":{"preset":"qemu-q35-vtd","options":{"intremap":"on"}}}';
const trace = (...events: string[]) => `${[H, ...events].join('\n')}\n`;
const IOCTL_BUF = '{"op":"ioctl","fd":3,"request":"VFIO_IOMMU_GET_INFO","nr":"0x3b70","in":"1800","out":"1800","ret":0,"errno":0}';

describe('real-kernel fixtures', () => {
  // Rule: the fixtures are the 52 shared traces.
  it('has 52 traces in 4 configurations', () => {
    expect(fixtures).toHaveLength(52);
    expect(new Set(fixtures.map((f) => f.split('/')[0])).size).toBe(4);
  });

  // Rule: every fixture reads, with the event counts per op that a plain JSON pass finds.
  it.each(fixtures)('%s reads with the right counts', (name) => {
    const text = fixture(name);
    const { header, events } = readTrace(text, name);
    const expected = countOps(text);
    expect(header.trace).toBe('vfio-trace/1');
    expect(events).toHaveLength(expected.total);
    const byOp: Record<string, number> = {};
    for (const e of events) byOp[e.op] = (byOp[e.op] ?? 0) + 1;
    expect(byOp).toEqual(expected.byOp);
    expect(events.map((e) => e.line)).toEqual(events.map((_, i) => i + 2));
  });

  // Rule: readTrace → TraceWriter → text reproduces the file byte for byte.
  it.each(fixtures)('%s round-trips byte for byte', (name) => {
    const text = fixture(name);
    const { header, events } = readTrace(text, name);
    const w = new TraceWriter().header(header);
    for (const e of events) w.event(e);
    expect(w.text()).toBe(text);
  });

  // Rule: over all fixtures, every op of the real traces occurs (pwrite is never recorded).
  it('covers every op but pwrite and the emulator-only sysfs-write', () => {
    // eventfd-read, load and store are only in the device-fd recordings (test/fixtures/real-kernel-device),
    // memfd only in the iommufd ones (test/fixtures/real-kernel-iommufd, edu-file).
    const seen = new Set<string>();
    for (const name of fixtures) for (const op of Object.keys(countOps(fixture(name)).byOp)) seen.add(op);
    expect([...seen].sort()).toEqual(TRACE_OPS.filter((op) => op !== 'pwrite' && op !== 'sysfs-write' && !['eventfd-read', 'load', 'store', 'memfd'].includes(op)).sort());
  });
});

describe('parsed values', () => {
  const events = readTrace(fixture('x86-6.1-intremap-on/edu-type1v2.jsonl'), 'f').events;
  const at = (line: number) => events[line - 2]!;

  // Rule: u64 hex strings become bigints, byte buffers Uint8Arrays, nr a number.
  it('converts hex', () => {
    expect(at(165)).toMatchObject({ op: 'mmap', addr: null, len: 1048576n, fd: 5, offset: 0n, ret: 0x7f46aafb3000n });
    expect(at(162)).toMatchObject({ op: 'pread', offset: 0x70000000000n, len: 64, ret: 64 });
    const ioctl = at(22);
    expect(ioctl).toMatchObject({ op: 'ioctl', nr: 0x3b70, ret: -1, errno: 22, label: 'before-set-iommu' });
    expect(ioctl.op === 'ioctl' && ioctl.in !== undefined && toHex(ioctl.in)).toBe('18000000' + 'aa'.repeat(20));
  });

  // Rule: by-value ioctls keep `arg` and have no buffers.
  it('keeps arg', () => {
    const e = at(9);
    expect(e).toMatchObject({ op: 'ioctl', request: 'VFIO_CHECK_EXTENSION', arg: 1n });
    expect(e.op === 'ioctl' && e.in).toBeUndefined();
  });

  // Rule: unknown keys are ignored (and not written back).
  it('ignores unknown keys', () => {
    const t = readTrace(
      trace('{"op":"close","fd":3,"ret":0,"errno":0,"future":{"x":1}}').replace('"platform"', '"extra":1,"platform"'),
      't',
    );
    expect(t.events[0]).toEqual({ op: 'close', fd: 3, ret: 0, errno: 0, line: 2 });
    expect(formatEvent(t.events[0]!)).toBe('{"op":"close","fd":3,"ret":0,"errno":0}');
  });

  // Rule: parseTraceLine reads one line: header on line 1, events after, blank lines flagged.
  it('parses line by line', () => {
    expect(parseTraceLine(H, 'f', 1).kind).toBe('header');
    expect(parseTraceLine('{"op":"eventfd","ret":5,"errno":0}', 'f', 7)).toEqual({
      kind: 'event',
      event: { op: 'eventfd', ret: 5, errno: 0, line: 7 },
    });
    expect(parseTraceLine('  ', 'f', 3)).toEqual({ kind: 'blank' });
  });
});

describe('malformed traces', () => {
  // Rule: empty trailing lines are allowed, empty lines elsewhere are not.
  it('allows only trailing empty lines', () => {
    expect(readTrace(`${trace('{"op":"eventfd","ret":4,"errno":0}')}\n\n`, 't').events).toHaveLength(1);
    expect(readTrace(H, 't').events).toHaveLength(0);
    expect(errorOf(`${H}\n\n{"op":"eventfd","ret":4,"errno":0}\n`)).toBe(
      't.jsonl:2: empty line (empty lines are only allowed at the end of a trace)',
    );
  });

  // Rule: line 1 must be a vfio-trace/1 header.
  it('requires the header', () => {
    expect(errorOf('')).toBe('t.jsonl:1: line 1 must be a vfio-trace/1 header (the file is empty)');
    expect(errorOf('\n{"op":"eventfd","ret":4,"errno":0}')).toBe(
      't.jsonl:1: line 1 must be a vfio-trace/1 header (line 1 is empty)',
    );
    expect(errorOf('{"op":"eventfd","ret":4,"errno":0}\n')).toBe(
      't.jsonl:1: line 1 must be a vfio-trace/1 header (found an "eventfd" event)',
    );
    expect(errorOf('container c\n')).toBe(
      `t.jsonl:1: line 1 must be a vfio-trace/1 header (not JSON: ${jsonMessage('container c')})`,
    );
    expect(errorOf('[1]\n')).toBe('t.jsonl:1: line 1 must be a vfio-trace/1 header (found an array)');
    expect(errorOf('{"kernel":"6.1"}\n')).toBe('t.jsonl:1: line 1 must be a vfio-trace/1 header (no "trace" field)');
    expect(errorOf(H.replace('vfio-trace/1', 'vfio-trace/2'))).toBe(
      't.jsonl:1: unsupported trace format "vfio-trace/2" (this reader knows vfio-trace/1)',
    );
    expect(errorOf(H.replace('"kernel":"6.12",', ''))).toBe('t.jsonl:1: header: field "kernel" is missing');
    expect(errorOf(H.replace('"on"', 'true'))).toBe(
      't.jsonl:1: header: field "platform.options.intremap" must be a string',
    );
    expect(errorOf(trace(H))).toBe('t.jsonl:2: missing field "op" (a header is only allowed on line 1)');
  });

  // Rule: a line that is not JSON says so, with JSON.parse's message.
  it('reports bad JSON', () => {
    expect(errorOf(trace('{"op":'))).toBe(`t.jsonl:2: not JSON: ${jsonMessage('{"op":')}`);
    expect(errorOf(trace('{"op":"eventfd","ret":4,"errno":0}', 'nonsense'))).toBe(
      `t.jsonl:3: not JSON: ${jsonMessage('nonsense')}`,
    );
    expect(errorOf(trace('42'))).toBe('t.jsonl:2: an event must be a JSON object, found a number (42)');
  });

  // Rule: every event has a known op.
  it('requires a known op', () => {
    expect(errorOf(trace('{"fd":3,"ret":0,"errno":0}'))).toBe('t.jsonl:2: missing field "op"');
    expect(errorOf(trace('{"op":7}'))).toBe('t.jsonl:2: field "op" must be a string, found a number (7)');
    expect(errorOf(trace('{"op":"read","fd":3}'))).toBe(
      't.jsonl:2: unknown op "read" (known ops: param, bind, open, close, mmap, munmap, mprotect, ioctl, pread, pwrite, eventfd, memfd, eventfd-read, load, store, sysfs, sysfs-write, kmsg)',
    );
    expect(errorOf(trace('{"op":"constructor"}'))).toMatch(/^t\.jsonl:2: unknown op "constructor"/);
  });

  // Rule: sysfs and sysfs-write share their fields, and so their messages.
  it('checks sysfs and sysfs-write content alike', () => {
    expect(errorOf(trace('{"op":"sysfs-write","path":"/sys/x","content":5,"ret":1,"errno":0}'))).toBe(
      't.jsonl:2: event "sysfs-write": field "content" must be a string',
    );
    expect(errorOf(trace('{"op":"sysfs","path":"/sys/x","content":5,"ret":1,"errno":0}'))).toBe(
      't.jsonl:2: event "sysfs": field "content" must be a string',
    );
    const w = readTrace(trace('{"op":"sysfs-write","path":"/sys/x","content":"0","ret":1,"errno":0,"label":"l"}'), 't');
    expect(w.events[0]).toMatchObject({ op: 'sysfs-write', path: '/sys/x', content: '0', ret: 1, errno: 0, label: 'l' });
  });

  // Rule: byte buffers are lowercase hex with an even number of digits.
  it('checks hex bytes', () => {
    const bad = 't.jsonl:2: event "ioctl": field "out" must be hex bytes';
    expect(errorOf(trace(IOCTL_BUF.replace('"out":"1800"', '"out":"180"')))).toBe(bad);
    expect(errorOf(trace(IOCTL_BUF.replace('"out":"1800"', '"out":"18AA"')))).toBe(bad);
    expect(errorOf(trace(IOCTL_BUF.replace('"out":"1800"', '"out":"0x18"')))).toBe(bad);
    expect(errorOf(trace(IOCTL_BUF.replace('"out":"1800"', '"out":[24,0]')))).toBe(bad);
    expect(errorOf(trace('{"op":"pread","fd":5,"offset":"0x0","len":1,"out":"g0","ret":1,"errno":0}'))).toBe(
      't.jsonl:2: event "pread": field "out" must be hex bytes',
    );
  });

  // Rule: u64 values are 0x hex strings of 1 to 16 digits; mmap's addr may be null, its ret -1.
  it('checks 0x hex numbers', () => {
    const munmap = (addr: string) => trace(`{"op":"munmap","addr":${addr},"len":4096,"ret":0,"errno":0}`);
    const bad = 't.jsonl:2: event "munmap": field "addr" must be a 0x hex number (1 to 16 hex digits)';
    expect(errorOf(munmap('"0x"'))).toBe(bad);
    expect(errorOf(munmap('"0x10000000000000000"'))).toBe(bad);
    expect(errorOf(munmap('"4096"'))).toBe(bad);
    expect(errorOf(munmap('4096'))).toBe(bad);
    expect(readTrace(munmap('"0xFFFF0000"'), 't').events[0]).toMatchObject({ addr: 0xffff0000n });
    const mmap = (addr: string, ret: string) =>
      trace(`{"op":"mmap","addr":${addr},"len":4096,"prot":"rw","ret":${ret},"errno":0}`);
    expect(readTrace(mmap('null', '-1'), 't').events[0]).toMatchObject({ addr: null, ret: -1 });
    expect(errorOf(mmap('0', '-1'))).toBe('t.jsonl:2: event "mmap": field "addr" must be a 0x hex address or null');
    expect(errorOf(mmap('null', '-2'))).toBe('t.jsonl:2: event "mmap": field "ret" must be a 0x hex address or -1');
    expect(errorOf(mmap('null', '"-1"'))).toBe('t.jsonl:2: event "mmap": field "ret" must be a 0x hex address or -1');
    expect(errorOf(trace(IOCTL_BUF.replace('"0x3b70"', '"0x100003b70"')))).toBe(
      't.jsonl:2: event "ioctl": field "nr" must be a 0x hex number (1 to 8 hex digits)',
    );
  });

  // Rule: an ioctl has either `arg` or `in` and `out` of the same length.
  it('checks the ioctl argument', () => {
    const arg = '{"op":"ioctl","fd":3,"request":"VFIO_SET_IOMMU","nr":"0x3b66","arg":3,"ret":0,"errno":0}';
    expect(errorOf(trace(arg.replace('"arg":3', '"arg":3,"in":"00"')))).toBe(
      't.jsonl:2: event "ioctl": has both "arg" and "in" (a by-value ioctl has no buffer)',
    );
    expect(errorOf(trace(arg.replace('"arg":3,', '')))).toBe(
      't.jsonl:2: event "ioctl": needs either "arg" or "in" and "out"',
    );
    expect(errorOf(trace(IOCTL_BUF.replace(',"out":"1800"', '')))).toBe(
      't.jsonl:2: event "ioctl": field "out" is missing (a buffer ioctl has "in" and "out")',
    );
    expect(errorOf(trace(IOCTL_BUF.replace('"out":"1800"', '"out":"18"')))).toBe(
      't.jsonl:2: event "ioctl": fields "in" and "out" must be the same length (2 and 1 bytes)',
    );
    expect(errorOf(trace(arg.replace('"arg":3', '"arg":3.5')))).toBe(
      't.jsonl:2: event "ioctl": field "arg" must be an integer or a 0x hex string',
    );
  });

  // Rule: missing or mistyped fields are named, in the event's terms.
  it('names missing and mistyped fields', () => {
    expect(errorOf(trace('{"op":"close","ret":0,"errno":0}'))).toBe('t.jsonl:2: event "close": field "fd" is missing');
    expect(errorOf(trace('{"op":"close","fd":"3","ret":0,"errno":0}'))).toBe(
      't.jsonl:2: event "close": field "fd" must be an integer',
    );
    expect(errorOf(trace('{"op":"close","fd":3,"ret":0}'))).toBe('t.jsonl:2: event "close": field "errno" is missing');
    expect(errorOf(trace('{"op":"close","fd":3,"ret":0,"errno":-1}'))).toBe(
      't.jsonl:2: event "close": field "errno" must be a non-negative integer',
    );
    expect(errorOf(trace('{"op":"kmsg","text":"x","label":5}'))).toBe(
      't.jsonl:2: event "kmsg": field "label" must be a string',
    );
    expect(errorOf(trace('{"op":"mprotect","addr":"0x1000","len":4096,"prot":"rwx!","ret":0,"errno":0}'))).toBe(
      't.jsonl:2: event "mprotect": field "prot" must be one of "none", "r", "w", "x", "rw", "rx", "wx", "rwx"',
    );
  });

  // Rule: junk never throws anything but a UserError at a line of the input, and never hangs.
  it('survives junk', () => {
    const lines = fixture('x86-6.12-intremap-off/edu-type1v2-unsafe.jsonl').split('\n').slice(0, 60);
    const alphabet = '{}[]":,.-+0123456789abcdefxnulrtAZ \\\u0000\u00ff\n\r';
    let seed = 0x9e3779b9;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const inputs: string[] = [
      '\u0000\u0001\u00ff'.repeat(1000),
      '['.repeat(200000),
      `${H}\n${'['.repeat(200000)}`,
      `${H}\n${'{"op":"ioctl","in":"'}${'a'.repeat(1_000_001)}`,
      '\uFEFF' + trace('{"op":"eventfd","ret":4,"errno":0}'),
    ];
    for (let i = 0; i < 2000; i++) {
      const chars = lines.slice(0, 1 + rand(6)).join('\n').split('');
      for (let k = 1 + rand(4); k > 0; k--) {
        const at = rand(chars.length + 1);
        const r = rand(3);
        if (r === 0) chars.splice(at, 1);
        else if (r === 1) chars.splice(at, 0, alphabet[rand(alphabet.length)]!);
        else chars.length = at;
      }
      inputs.push(chars.join(''));
    }
    let errors = 0;
    for (const input of inputs) {
      try {
        readTrace(input, 'j');
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        const where = (e as UserError).where!;
        expect(where.line).toBeGreaterThanOrEqual(1);
        expect(where.line).toBeLessThanOrEqual(input.split('\n').length);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(1000);
  });
});

describe('writer and hex', () => {
  const header: TraceHeader = {
    trace: 'vfio-trace/1',
    kernel: '6.12',
    arch: 'x86_64',
    platform: { preset: 'qemu-q35-vtd', options: { intremap: 'off' } },
    source: 'vfio-emu',
  };

  // Rule: keys come in a fixed order (op, fields, ret, errno, label, decoded), bigints as 0x hex.
  it('writes events in the fixed key order', () => {
    const events: TraceEventData[] = [
      { decoded: { n: 1 }, label: 'w', errno: 0, ret: 4, len: 4, in: fromHex('01020304'), offset: 1n << 40n, fd: 5, op: 'pwrite' },
      { errno: 12, ret: -1, offset: 0x1000n, fd: 5, prot: 'r', len: 4096n, addr: 0x10000n, op: 'mmap' },
      { label: 'l', text: 'vfio-pci 0000:00:01.0: enabling device (0000 -> 0002)', op: 'kmsg' },
      { decoded: { size: 0x1000n, neg: -2n }, errno: 0, ret: 0, out: new Uint8Array(2), in: new Uint8Array(2), nr: 0x3b72, request: 'VFIO_IOMMU_UNMAP_DMA', fd: 3, op: 'ioctl' },
      { flags: 'O_RDWR', ret: 3, errno: 0, path: '/dev/vfio/vfio', op: 'open' },
    ];
    const w = new TraceWriter().header(header);
    for (const e of events) w.event(e);
    expect(w.eventCount).toBe(5);
    expect(w.text()).toBe(
      [
        '{"trace":"vfio-trace/1","kernel":"6.12","arch":"x86_64","platform":{"preset":"qemu-q35-vtd","options":{"intremap":"off"}},"source":"vfio-emu"}',
        '{"op":"pwrite","fd":5,"offset":"0x10000000000","len":4,"in":"01020304","ret":4,"errno":0,"label":"w","decoded":{"n":1}}',
        '{"op":"mmap","addr":"0x10000","len":4096,"prot":"r","fd":5,"offset":"0x1000","ret":-1,"errno":12}',
        '{"op":"kmsg","text":"vfio-pci 0000:00:01.0: enabling device (0000 -> 0002)","label":"l"}',
        '{"op":"ioctl","fd":3,"request":"VFIO_IOMMU_UNMAP_DMA","nr":"0x3b72","in":"0000","out":"0000","ret":0,"errno":0,"decoded":{"size":"0x1000","neg":"-0x2"}}',
        '{"op":"open","path":"/dev/vfio/vfio","flags":"O_RDWR","ret":3,"errno":0}',
        '',
      ].join('\n'),
    );
    // and it reads back to the same events
    expect(readTrace(w.text(), 'w').events[0]).toMatchObject({ op: 'pwrite', offset: 1n << 40n, in: fromHex('01020304') });
  });

  // Rule: the writer needs the header first, once.
  it('needs the header first', () => {
    expect(new TraceWriter().text()).toBe('');
    expect(() => new TraceWriter().event({ op: 'eventfd', ret: 3, errno: 0 })).toThrow(/before header/);
    expect(() => new TraceWriter().header(header).header(header)).toThrow(/twice/);
  });

  // Rule: hex helpers are lowercase, minimal for u64, and refuse what they cannot represent.
  it('converts hex', () => {
    expect(toHex(new Uint8Array([0, 0x0f, 0xa0, 0xff]))).toBe('000fa0ff');
    expect(toHex(new Uint8Array(0))).toBe('');
    expect(fromHex('000FA0ff')).toEqual(new Uint8Array([0, 0x0f, 0xa0, 0xff]));
    expect(() => fromHex('abc')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
    expect(hex64(0n)).toBe('0x0');
    expect(hex64(0x3b70n)).toBe('0x3b70');
    expect(hex64((1n << 64n) - 1n)).toBe('0xffffffffffffffff');
    expect(() => hex64(1n << 64n)).toThrow(RangeError);
    expect(() => hex64(-1n)).toThrow(RangeError);
  });
});

describe('values beyond 2^53', () => {
  // Lengths and by-value arguments that do not fit a JSON number are written as 0x hex and read back exactly.
  it('round trip', () => {
    const w = new TraceWriter();
    w.header({ trace: 'vfio-trace/1', kernel: '6.12', arch: 'x86_64', platform: { preset: 'qemu-q35-vtd', options: {} } });
    w.event({ op: 'mmap', addr: null, len: (1n << 64n) - 1n, prot: 'rw', ret: -1, errno: 12 });
    w.event({ op: 'ioctl', fd: 3, request: 'VFIO_CHECK_EXTENSION', nr: 0x3b65, arg: (1n << 64n) - 1n, ret: 0, errno: 0 });
    const text = w.text();
    expect(text).toContain('"len":"0xffffffffffffffff"');
    expect(text).toContain('"arg":"0xffffffffffffffff"');
    const t = readTrace(text, 'big.jsonl');
    expect(t.events.map((e) => ('len' in e ? e.len : 'arg' in e ? e.arg : undefined))).toEqual([(1n << 64n) - 1n, (1n << 64n) - 1n]);
  });
});
