// The hot path's shortcuts and the ways they fall back. A line read from text (runText, as
// check and run read a file) carries positions computed only when asked, and a struct
// argument's plain numbers and NAME+OFFSET below 2^53 are read as exact numbers: every
// answer, message and position must be the one the full path gives.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveEra } from '../../src/kernel/era.js';
import { UserError } from '../../src/lib/user-error.js';
import type { Command, Word } from '../../src/script/ast.js';
import { buildIoctlArg } from '../../src/script/ioctl-args.js';
import { Names } from '../../src/script/names.js';
import { parseScript, ScriptReader } from '../../src/script/parser.js';
import { Runner } from '../../src/script/runner.js';
import { resolveRequest } from '../../src/uapi/requests.js';

const F = 'h.vfio';

const SETUP = [
  'kernel 6.12',
  'platform qemu-virt-smmuv3',
  'bind 0000:00:01.0 vfio-pci',
  'open /dev/vfio/vfio as container',
  'open /dev/vfio/0 as group',
  'ioctl group SET_CONTAINER container',
  'ioctl container SET_IOMMU TYPE1v2',
  'mmap 64K as ram',
];

/** The error a text stops with, read as check reads it (lazy positions). */
function streamedError(text: string): string {
  try {
    new Runner({}, { failed: () => {} }).runText(text, F);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).format();
  }
  throw new Error('no error');
}

/** The error the same text stops with as parsed commands (positions made at parse time). */
function parsedError(text: string): string {
  try {
    new Runner().run(parseScript(text, F));
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).format();
  }
  throw new Error('no error');
}

const withLines = (...lines: string[]): string => [...SETUP, ...lines, ''].join('\n');

describe('positions of a streamed run', () => {
  // Rule: a mistake found when a line runs is reported at the same file:line:col as when the
  // whole file was parsed first, on a continued line and after a character outside the BMP.
  it('reports run-time mistakes where the parsed run does', () => {
    const cases: [string, string][] = [
      // an unbound name on the second physical line of a command
      [withLines('ioctl container MAP_DMA flags=READ|WRITE \\', '  vaddr=nope+0x1000 iova=0x100000 size=4K'), `${F}:10:9: "nope" is not bound: bind it first with "as nope"`],
      // a quoted value (the number path leaves it to the full one)
      [withLines('ioctl container MAP_DMA flags=READ|WRITE vaddr=ram iova=0x100000 size=4K argsz="😀" # 😀'), `${F}:9:80: "😀" is not a number: expected a number for vfio_iommu_type1_dma_map.argsz, such as 4096, 0x1000, 0xffff_0000 or 64K`],
      // a value that does not fit its 32-bit field (the number path leaves it to the full one)
      [withLines('ioctl container MAP_DMA flags=READ|WRITE vaddr=ram iova=0x100000 size=4K argsz=0x100000000'), `${F}:9:80: argsz=0x100000000 does not fit in 32 bits`],
      // NAME+OFFSET past 2^64
      [withLines('ioctl container MAP_DMA flags=READ|WRITE vaddr=ram+0xffff_ffff_ffff_ffff iova=0x100000 size=4K'), `${F}:9:48: ram+0xffff_ffff_ffff_ffff does not fit in 64 bits`],
      // a malformed offset
      [withLines('ioctl container UNMAP_DMA \\', '\tiova=ram+4Q size=4K'), `${F}:10:7: "4Q" is not a valid offset in "ram+4Q": expected NAME+OFFSET with OFFSET a number such as 0x1000 or 4K`],
      // a repeated field, reported by the schema at the second one
      [withLines('ioctl container UNMAP_DMA iova=0x1000 size=4K iova=0x2000'), `${F}:9:52: field "iova" given twice`],
    ];
    for (const [text, want] of cases) {
      expect(streamedError(text)).toBe(want);
      expect(parsedError(text)).toBe(want);
    }
  });

  // Rule: a key=value token is its own value word; the pair's key position is where the key
  // starts; after a surrogate pair, columns count code points.
  it('gives a pair its key and value positions', () => {
    const cmd = new ScriptReader('f \\\n 😀=1 k="a b" x=y', F).next()!;
    expect(cmd.positional.map((w) => [w.text, w.pos])).toEqual([['😀=1', { file: F, line: 2, col: 2 }]]);
    expect(cmd.named.map((kv) => [kv.key, kv.keyPos, kv.value.text, kv.value.quoted, kv.value.pos])).toEqual([
      ['k', { file: F, line: 2, col: 6 }, 'a b', true, { file: F, line: 2, col: 8 }],
      ['x', { file: F, line: 2, col: 14 }, 'y', false, { file: F, line: 2, col: 16 }],
    ]);
  });
});

const era = resolveEra('6.12')!;
const MAP = resolveRequest('MAP_DMA', 'container', 'type1')!;

/** Names with `buf` bound to `value`. */
function namesWith(value: bigint): Names {
  const names = new Names();
  const bind = { bind: { name: 'buf', pos: { file: F, line: 1, col: 1 } }, verbPos: { file: F, line: 1, col: 1 } } as Command;
  names.bindResult(bind, { ret: value, errno: 0 }, (v) => ({ kind: 'value', value: v }));
  return names;
}

/** MAP_DMA's buffer for `args`, read as check reads a line. */
function mapBuffer(args: string, names: Names): Uint8Array {
  const cmd = new ScriptReader(`ioctl container MAP_DMA ${args}`, F).next()!;
  return buildIoctlArg(MAP, cmd, [], era, names).arg.buf!;
}

const u64At = (buf: Uint8Array, off: number): bigint => new DataView(buf.buffer, buf.byteOffset).getBigUint64(off, true);

describe('struct arguments at and above 2^53', () => {
  // Rule: 64-bit values stay exact; a value at or above 2^53 takes the bigint path.
  it('writes values around 2^53 exactly', () => {
    const names = namesWith(2n ** 53n - 1n);
    const buf = mapBuffer('flags=READ vaddr=buf+0x2 iova=9007199254740993 size=0x1fffffffffffff', names);
    expect(u64At(buf, 8)).toBe(2n ** 53n + 1n); // vaddr: a name below 2^53 plus an offset past it
    expect(u64At(buf, 16)).toBe(2n ** 53n + 1n); // iova: a decimal past 2^53
    expect(u64At(buf, 24)).toBe(2n ** 53n - 1n); // size: the largest exact number
    expect(mapBuffer('vaddr=buf iova=0xffff_ffff_ffff_f000 size=4096T', names).subarray(8)).toEqual(
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00, 0x00, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x10, 0]),
    );
  });

  // Rule: the number path answers exactly what the full path answers, or leaves the word to it.
  it('reads a word as u64() does', () => {
    const digits = fc.stringMatching(/^[0-9a-fA-F_]{1,20}$/);
    const text = fc.oneof(
      digits,
      digits.map((d) => `0x${d}`),
      fc.tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom('k', 'K', 'm', 'M', 'g', 'G', 't', 'T', '')).map(([n, s]) => `${n}${s}`),
      fc.bigInt({ min: 0n, max: 2n ** 64n + 5n }).map(String),
      fc.bigInt({ min: 0n, max: 2n ** 64n }).map((n) => `0x${n.toString(16)}`),
      fc.tuple(fc.constantFrom('buf', 'bu', 'buff', 'nope', '_x'), fc.constantFrom('', '+'), digits).map(([n, p, d]) => `${n}${p}${p ? d : ''}`),
      fc.tuple(fc.constantFrom('buf+', 'buf+0x'), fc.bigInt({ min: 0n, max: 2n ** 54n })).map(([n, v]) => n + (n.endsWith('x') ? v.toString(16) : String(v))),
    );
    const base = fc.constantFrom(0n, 0x1000n, 2n ** 52n, 2n ** 53n - 0x1000n, 2n ** 53n, 2n ** 63n);
    fc.assert(
      fc.property(base, text, fc.boolean(), (b, t, quoted) => {
        const names = namesWith(b);
        const w: Word = { text: t, quoted, pos: { file: F, line: 1, col: 1 } };
        const fast = names.u64Fast(w);
        if (fast < 0) return;
        expect(fast).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
        expect(names.u64(w, 'x')).toBe(BigInt(fast));
      }),
      { numRuns: 3000 },
    );
  });
});
