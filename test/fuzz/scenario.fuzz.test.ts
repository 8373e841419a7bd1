// Hostile scenarios and traces: mutations of the shipped scenarios and of real-kernel traces,
// random tokens and bytes, adversarial numbers and names. Whatever the input:
// - only a UserError escapes (the CLI's exit 2), never another exception (an internal error);
// - a scenario error is at file:line:col;
// - a run recorded as vfio-trace/1 replays against the model with no difference;
// - an eventfd's count never goes down;
// - an MSI window keeps no doorbell page whose references reached zero, and closing every fd
//   frees every IOMMU domain (the doorbell mappings with it).

import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordTrace } from '../../src/cli/record.js';
import { EventFd } from '../../src/kernel/eventfd.js';
import { UserError } from '../../src/lib/user-error.js';
import { parseScript } from '../../src/script/parser.js';
import { Runner } from '../../src/script/runner.js';
import { readTrace } from '../../src/trace/reader.js';
import { replayTrace } from '../../src/trace/replay.js';
import { budget, TIMEOUT } from './budget.js';

function filesUnder(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, ext));
    else if (e.endsWith(ext)) out.push(p);
  }
  return out;
}

const SCENARIOS = filesUnder('scenarios', '.vfio').map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n') }));
const TRACES = filesUnder('test/fixtures/real-kernel', '.jsonl')
  .filter((_, i) => i % 4 === 0)
  .map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n') }));

/** Words where parsers and lookups break: numbers at every edge, built-in property names, quoting. */
const ADVERSARIAL = [
  '0', '-0', '-1', '00', '0x', '0x0', '0xffffffffffffffff', '0x10000000000000000', '18446744073709551615',
  '18446744073709551616', '9007199254740993', '1e999', 'NaN', 'Infinity', '4G', '16E', '1K1', '0b101', '1_000',
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__proto__=1', 'constructor=x',
  'prot=constructor', 'index=__proto__', 'flags=toString', 'errno=valueOf', '""', '"', '\\', '#', '+', 'a+', 'buf+',
  'buf+0xffffffffffffffff', '=', '==', 'x=', '=x', '\u00e9', '\u{1F600}', '\u0000', '\t', 'as', 'as as',
];

/** One mutation of a list of lines. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('token' as const), at: fc.nat(), word: fc.nat(), by: fc.constantFrom(...ADVERSARIAL) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 40 }), fc.array(fc.constantFrom(...ADVERSARIAL), { maxLength: 6 }).map((w) => w.join(' '))) }),
  fc.record({ kind: fc.constant('bytes' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 24 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), keep: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(lines: readonly string[], muts: Mutation[]): string[] {
  const out = [...lines];
  for (const m of muts) {
    if (out.length === 0) out.push('');
    const i = m.at % out.length;
    switch (m.kind) {
      case 'delete':
        out.splice(i, 1);
        break;
      case 'duplicate':
        out.splice(i, 0, out[i]!);
        break;
      case 'swap': {
        const j = m.with % out.length;
        [out[i], out[j]] = [out[j]!, out[i]!];
        break;
      }
      case 'token': {
        const words = out[i]!.split(' ');
        words[m.word % words.length] = m.by;
        out[i] = words.join(' ');
        break;
      }
      case 'insert':
        out.splice(i, 0, m.text);
        break;
      case 'bytes':
        out[i] = out[i]! + Buffer.from(m.bytes).toString('latin1');
        break;
      case 'cut':
        out[i] = out[i]!.slice(0, m.keep % (out[i]!.length + 1));
        break;
    }
  }
  return out;
}

/** Runs a scenario command by command, checking the model's invariants between commands. */
function runChecked(text: string, file: string): { runner: Runner; stop?: unknown } {
  const runner = new Runner();
  const seen = new Map<EventFd, bigint>();
  let stop: unknown;
  try {
    for (const cmd of parseScript(text, file).commands) {
      runner.step(cmd);
      const m = runner.setup.booted;
      if (!m) continue;
      // An eventfd's count never goes down (nothing here reads it).
      for (const [, f] of m.proc.openFds()) {
        if (!(f.ops instanceof EventFd)) continue;
        expect(f.ops.count >= (seen.get(f.ops) ?? 0n)).toBe(true);
        seen.set(f.ops, f.ops.count);
      }
      // A doorbell page of an MSI window is mapped only while something refers to it.
      for (const d of m.kernel.iommu.domains) for (const p of d.msiWindow?.pages.values() ?? []) expect(p.refs).toBeGreaterThanOrEqual(1);
    }
  } catch (e) {
    stop = e;
  }
  return { runner, stop };
}

function expectUserErrorAt(stop: unknown, file: string): void {
  if (stop === undefined) return;
  // Only a UserError escapes...
  if (!(stop instanceof UserError)) throw stop;
  // ...and it says where: file:line:col.
  const w = stop.where;
  expect(w?.file).toBe(file);
  expect(Number.isInteger(w?.line) && Number.isInteger(w?.col)).toBe(true);
  expect(stop.format().startsWith(`${file}:${w!.line}:${w!.col}: `)).toBe(true);
}

describe('mutated scenarios', () => {
  it('answer with results or a located UserError, and replay as recorded', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.nat(SCENARIOS.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (n, muts) => {
        const { lines } = SCENARIOS[n]!;
        const file = 'mutant.vfio';
        const { runner, stop } = runChecked(mutate(lines, muts).join('\n'), file);
        expectUserErrorAt(stop, file);
        const m = runner.setup.booted;
        if (!m) return;
        // The run, recorded, replays with no difference.
        const rep = replayTrace(readTrace(recordTrace(runner), 'mutant.jsonl'), 'mutant.jsonl');
        expect(rep.results.filter((x) => x.status === 'differs')).toEqual([]);
        // Closing every fd frees every IOMMU domain, and the doorbell mappings with it.
        for (const [fd] of m.proc.openFds()) m.kernel.close(m.proc, fd);
        expect(m.kernel.iommu.domains.size).toBe(0);
      }),
      budget(120),
    );
  });

  it('random tokens after a valid start', { timeout: TIMEOUT }, () => {
    const START = ['platform qemu-q35-vtd', 'bind 0000:00:02.0 vfio-pci', 'open /dev/vfio/vfio as c', 'open /dev/vfio/2 as g'];
    const VERBS = ['ioctl c', 'ioctl g', 'mmap', 'munmap', 'mprotect', 'expect', 'show', 'read', 'write', 'param', 'open', 'close', 'pread', 'msi', 'dma'];
    const line = fc.tuple(fc.constantFrom(...VERBS), fc.array(fc.oneof(fc.constantFrom(...ADVERSARIAL), fc.string({ maxLength: 12 })), { maxLength: 5 })).map(([v, ws]) => [v, ...ws].join(' '));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (ls) => {
        const file = 'tokens.vfio';
        const { stop } = runChecked([...START, ...ls].join('\n'), file);
        expectUserErrorAt(stop, file);
      }),
      budget(200),
    );
  });
});

describe('mutated real-kernel traces', () => {
  // A damaged trace is a UserError at file:line, never another exception.
  it('read and replay, or a located UserError', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.nat(TRACES.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (n, muts) => {
        const file = 'mutant.jsonl';
        try {
          replayTrace(readTrace(mutate(TRACES[n]!.lines, muts).join('\n'), file), file);
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          expect(e.where?.file).toBe(file);
          expect(Number.isInteger(e.where?.line)).toBe(true);
        }
      }),
      budget(60),
    );
  });
});
