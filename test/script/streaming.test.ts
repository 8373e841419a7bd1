// The runner streams: events go to its sink as they happen, and it builds only what the sink
// consumes. A run that keeps every event and a streamed one see the same things.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordTrace, TraceRecorder } from '../../src/cli/record.js';
import { UserError } from '../../src/lib/user-error.js';
import { parseScript, ScriptReader } from '../../src/script/parser.js';
import { Runner } from '../../src/script/runner.js';
import type { ExpectEvent, RunEvent } from '../../src/script/events.js';

const F = 's.vfio';
const SCENARIO = [
  'platform qemu-q35-vtd',
  'bind 0000:00:01.0 vfio-pci',
  'open /dev/vfio/vfio as container',
  'open /dev/vfio/1 as group',
  'ioctl group SET_CONTAINER container',
  'ioctl container SET_IOMMU TYPE1v2',
  'mmap 64K as buf',
  'ioctl container MAP_DMA flags=READ|WRITE vaddr=buf iova=0x100000 size=64K',
  'expect ok',
  'ioctl container MAP_DMA flags=READ|WRITE vaddr=buf iova=0x100000 size=64K',
  'expect ok',
  'expect errno=EEXIST',
  '',
].join('\n');

/** Runs SCENARIO keeping every event (no sink). */
function keepAll(): Runner {
  const r = new Runner();
  r.run(parseScript(SCENARIO, F));
  return r;
}

describe('a streamed run', () => {
  // Rule: with only `failed` (check), no display event is built and the failures arrive in order.
  it('gives check only its failures', () => {
    const failed: ExpectEvent[] = [];
    const r = new Runner({}, { failed: (e) => failed.push(e) });
    r.runText(SCENARIO, F);
    expect(r.events).toEqual([]);
    expect(failed.map((e) => [e.at.line, e.expected, e.got])).toEqual([[11, 'success', '-1 EEXIST']]);
  });

  // Rule: check reads the text once, but a syntax error anywhere still means nothing ran:
  // no failure is given, and the syntax error is the one reported, even after a run-time mistake.
  it('gives check no failure before a syntax error', () => {
    const failed: ExpectEvent[] = [];
    const errorOf = (text: string): string => {
      try {
        new Runner({}, { failed: (e) => failed.push(e) }).runText(text, F);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        return (e as UserError).format();
      }
      throw new Error('no error');
    };
    expect(errorOf(`${SCENARIO}expect "oops\n`)).toBe('s.vfio:13:8: unterminated string: expected a closing "');
    expect(errorOf(`${SCENARIO}frobnicate\nexpect "oops\n`)).toBe('s.vfio:14:8: unterminated string: expected a closing "');
    expect(failed).toEqual([]);
    // Without a syntax error: the failures, then the run-time mistake.
    expect(errorOf(`${SCENARIO}frobnicate\n`)).toMatch(/^s\.vfio:13:1: unknown command "frobnicate"/);
    expect(failed.map((e) => e.at.line)).toEqual([11]);
  });

  // Rule: an unwatched run a syntax error stopped is void (as if it never ran: no newer-kernel
  // notice, no expectation counted), even though it ran the lines before the error.
  it('is void after a syntax error, and only then', () => {
    const run_ = (text: string): { r: Runner; held: number } => {
      let held = 0;
      const r = new Runner({}, { held: () => held++ });
      try {
        r.runText(text, F);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
      }
      return { r, held };
    };
    const bad = run_(`${SCENARIO}expect "oops\n`);
    expect([bad.r.voided, bad.held]).toEqual([true, 0]);
    const mistake = run_(`${SCENARIO}frobnicate\n`);
    expect([mistake.r.voided, mistake.held]).toEqual([false, 2]);
  });

  // Rule: the display events are those a keep-all run keeps, without their trace records.
  it('gives run the same events', () => {
    const seen: RunEvent[] = [];
    new Runner({}, { event: (e) => seen.push(e) }).runText(SCENARIO, F);
    const kept = keepAll().events.map((e) => {
      const { trace: _t, ...rest } = e as RunEvent & { trace?: unknown };
      return rest;
    });
    expect(seen).toEqual(kept);
    expect(seen.some((e) => 'trace' in e)).toBe(false);
  });

  // Rule: --trace records the same trace as the keep-all recording, header aside, whether
  // it goes to the file in one piece or in chunks of a line.
  it('records the same trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-emu-trace-'));
    try {
      const body = (t: string) => t.split('\n').slice(1).join('\n');
      const want = body(recordTrace(keepAll()));
      for (const chunk of [1 << 20, 1]) {
        const file = join(dir, `t-${chunk}.jsonl`);
        const rec = new TraceRecorder(file, chunk);
        const r = new Runner({}, { trace: rec.event });
        rec.boundTo(() => r.kernel);
        r.runText(SCENARIO, F);
        rec.finish(r.kernel);
        expect(body(readFileSync(file, 'utf8'))).toBe(want);
        expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[0]).trace).toBe('vfio-trace/1');
      }
      // A run that booted nothing writes no file.
      new TraceRecorder(join(dir, 'none.jsonl')).finish(undefined);
      expect(existsSync(join(dir, 'none.jsonl'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Rule: a syntax error stops the scenario before any line runs.
  it('runs nothing before a syntax error', () => {
    const seen: RunEvent[] = [];
    const r = new Runner({}, { event: (e) => seen.push(e) });
    expect(() => r.runText(`${SCENARIO}expect "oops\n`, F)).toThrow(UserError);
    expect(seen).toEqual([]);
    expect(r.kernel).toBe(undefined);
  });
});

describe('the script reader', () => {
  // Rule: one logical line per next(), continuations joined, then undefined.
  it('reads one command at a time', () => {
    const r = new ScriptReader('\uFEFFopen a \\\r\n  as x\r\n\n# c\nclose x', F);
    expect(r.next()).toMatchObject({ verb: 'open', source: 'open a as x', bind: { name: 'x', pos: { line: 2, col: 6 } } });
    expect(r.next()).toMatchObject({ verb: 'close', verbPos: { line: 5, col: 1 } });
    expect(r.next()).toBe(undefined);
  });
});
