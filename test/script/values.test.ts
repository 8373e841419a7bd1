import { describe, it, expect } from 'vitest';
import { UserError } from '../../src/lib/user-error.js';
import type { Word } from '../../src/script/ast.js';
import {
  parseErrno,
  parseFlags,
  parseHex,
  parseInt,
  parseS32,
  parseU32,
  parseU64,
  splitNamePlusOffset,
  unescapeText,
  type FlagTable,
} from '../../src/script/values.js';

const F = 's.vfio';
/** A bare word at line 3, column 14. */
const w = (text: string, quoted = false): Word => ({ text, quoted, pos: { file: F, line: 3, col: 14 } });

/** The formatted UserError thrown by `f` (fails if nothing, or something else, is thrown). */
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).format();
  }
  throw new Error('no error');
}

describe('parseU64', () => {
  // the common forms read without the regular expression give what the full grammar gives
  it('reads plain numbers exactly', () => {
    const cases: [string, bigint][] = [
      ['4K', 4096n],
      ['0K', 0n],
      ['1t', 1n << 40n],
      ['16777215T', 16777215n << 40n],
      ['0x1K', 1n << 10n],
      ['007', 7n],
      ['9007199254740993', 9007199254740993n],
      ['999999999999999999', 999999999999999999n],
      ['18446744073709551615', (1n << 64n) - 1n],
      ['0xffffffffffffffff', (1n << 64n) - 1n],
      // Hex read as a number up to 13 digits, as a string beyond: both sides of the switch.
      ['0xfffffffffffff', (1n << 52n) - 1n],
      ['0x1fffffffffffff', (1n << 53n) - 1n],
      ['0x20000000000001', (1n << 53n) + 1n],
      ['0x0000000000000000001', 1n],
    ];
    for (const [text, v] of cases) expect(parseU64(w(text)), text).toBe(v);
    expect(errorOf(() => parseU64(w('16777216T')))).toBe('s.vfio:3:14: "16777216T" does not fit in 64 bits');
    expect(errorOf(() => parseU64(w('4KK')))).toMatch(/^s\.vfio:3:14: "4KK" is not a number: /);
  });

  // decimal and 0x hex
  it('parses decimal and hex', () => {
    expect(parseU64(w('0'))).toBe(0n);
    expect(parseU64(w('4096'))).toBe(4096n);
    expect(parseU64(w('0x1000'))).toBe(0x1000n);
    expect(parseU64(w('0XaBc'))).toBe(0xabcn);
    expect(parseU64(w('0010'))).toBe(10n); // decimal, not octal
  });

  // _ separators between digits
  it('accepts _ between digits', () => {
    expect(parseU64(w('0xffff_ffff_ffff_ffff'))).toBe(2n ** 64n - 1n);
    expect(parseU64(w('1_000_000'))).toBe(1_000_000n);
  });

  // _ not leading, trailing or doubled
  it('rejects misplaced _', () => {
    expect(() => parseU64(w('_1'))).toThrow('"_1" is not a number');
    for (const t of ['1_', '1__0', '0x_10', '0x10_', '1_K']) {
      expect(errorOf(() => parseU64(w(t)))).toBe(`s.vfio:3:14: "${t}" has a misplaced "_": expected "_" only between two digits`);
    }
  });

  // binary size suffixes, upper or lower case
  it('applies K M G T suffixes', () => {
    expect(parseU64(w('64K'))).toBe(0x10000n);
    expect(parseU64(w('0x10K'))).toBe(0x4000n);
    expect(parseU64(w('2M'))).toBe(2n << 20n);
    expect(parseU64(w('1g'))).toBe(1n << 30n);
    expect(parseU64(w('1T'))).toBe(2n ** 40n);
    expect(parseU64(w('16777215T'))).toBe((2n ** 24n - 1n) << 40n);
  });

  // exact at the 64-bit edge: 2^64-1 fits, 2^64 does not
  it('rejects values above 2^64-1', () => {
    expect(parseU64(w('18446744073709551615'))).toBe(2n ** 64n - 1n);
    expect(errorOf(() => parseU64(w('18446744073709551616')))).toBe('s.vfio:3:14: "18446744073709551616" does not fit in 64 bits');
    expect(errorOf(() => parseU64(w('0x1_0000_0000_0000_0000')))).toBe(
      's.vfio:3:14: "0x1_0000_0000_0000_0000" does not fit in 64 bits',
    );
    expect(errorOf(() => parseU64(w('16777216T')))).toBe('s.vfio:3:14: "16777216T" does not fit in 64 bits');
    expect(parseU64(w('0x' + '0'.repeat(100) + '1'))).toBe(1n);
    expect(errorOf(() => parseU64(w('9'.repeat(100_000))))).toMatch(/does not fit in 64 bits$/);
  });

  // not a number: message names the value when told what it is
  it('rejects non-numbers', () => {
    expect(errorOf(() => parseU64(w('12abc'), 'iova'))).toBe(
      's.vfio:3:14: "12abc" is not a number: expected a number for iova, such as 4096, 0x1000, 0xffff_0000 or 64K',
    );
    for (const t of ['', '0x', '1.5K', '1e3', '+1', '64KB', 'K', '0x10 ']) {
      expect(() => parseU64(w(t))).toThrow(UserError);
    }
  });

  // a quoted word is not a number
  it('rejects quoted numbers', () => {
    expect(errorOf(() => parseU64(w('12', true)))).toBe(
      's.vfio:3:14: "12" is a quoted string: expected a number, written without quotes',
    );
  });

  // negative numbers only where signed
  it('rejects negative numbers', () => {
    expect(errorOf(() => parseU64(w('-1'), 'size'))).toBe('s.vfio:3:14: "-1" is negative: expected 0 or more for size');
    expect(parseU64(w('-0'))).toBe(0n);
  });
});

describe('parseInt, parseU32, parseS32', () => {
  // unsigned 32-bit range
  it('checks the unsigned range', () => {
    expect(parseU32(w('0xffffffff'))).toBe(0xffffffff);
    expect(parseU32(w('4M'))).toBe(4 << 20);
    expect(errorOf(() => parseU32(w('4G')))).toBe('s.vfio:3:14: "4G" does not fit in 32 bits');
    expect(errorOf(() => parseU32(w('-1')))).toBe('s.vfio:3:14: "-1" is negative: expected 0 or more');
  });

  // signed 32-bit range, negatives allowed
  it('checks the signed range', () => {
    expect(parseS32(w('-1'))).toBe(-1);
    expect(parseS32(w('-0x8000_0000'))).toBe(-(2 ** 31));
    expect(parseS32(w('2147483647'))).toBe(2 ** 31 - 1);
    expect(errorOf(() => parseS32(w('0x80000000')))).toBe(
      's.vfio:3:14: "0x80000000" does not fit in a signed 32-bit number: expected -2147483648 to 2147483647',
    );
    expect(errorOf(() => parseS32(w('-2147483649')))).toBe(
      's.vfio:3:14: "-2147483649" does not fit in a signed 32-bit number: expected -2147483648 to 2147483647',
    );
  });

  // any width up to 64, signed or not
  it('generalises to other widths', () => {
    expect(parseInt(w('-0x8000000000000000'), 64, true)).toBe(-(2n ** 63n));
    expect(parseInt(w('255'), 8, false)).toBe(255n);
    expect(errorOf(() => parseInt(w('256'), 8, false))).toBe('s.vfio:3:14: "256" does not fit in 8 bits');
    expect(errorOf(() => parseInt(w('-4K'), 8, true))).toBe(
      's.vfio:3:14: "-4K" does not fit in a signed 8-bit number: expected -128 to 127',
    );
  });
});

describe('parseFlags', () => {
  const MAP: FlagTable = {
    prefix: 'VFIO_DMA_MAP_FLAG_',
    bits: [
      ['READ', 1n],
      ['WRITE', 2n],
      ['VADDR', 4n],
    ],
  };

  // names joined by |, with or without prefix, any case
  it('ORs names', () => {
    expect(parseFlags(w('READ|WRITE'), MAP, 'map flags')).toBe(3n);
    expect(parseFlags(w('VFIO_DMA_MAP_FLAG_READ'), MAP, 'map flags')).toBe(1n);
    expect(parseFlags(w('vfio_dma_map_flag_write|read'), MAP, 'map flags')).toBe(3n);
    expect(parseFlags(w('READ|READ'), MAP, 'map flags')).toBe(1n);
  });

  // numbers and mixes
  it('accepts numbers and mixes', () => {
    expect(parseFlags(w('0'), MAP, 'map flags')).toBe(0n);
    expect(parseFlags(w('READ|0x8'), MAP, 'map flags')).toBe(9n);
    expect(parseFlags(w('0x8000_0000_0000_0000|VADDR'), MAP, 'map flags')).toBe((1n << 63n) | 4n);
  });

  // unknown name: the valid names are listed
  it('rejects unknown names', () => {
    expect(errorOf(() => parseFlags(w('READ|EXEC'), MAP, 'map'))).toBe(
      's.vfio:3:14: unknown map flag "EXEC" in "READ|EXEC": expected READ, WRITE, VADDR (optionally prefixed VFIO_DMA_MAP_FLAG_), or a number',
    );
    expect(errorOf(() => parseFlags(w('EXEC'), { prefix: '', bits: [['A', 1n]] }, 'test'))).toBe(
      's.vfio:3:14: unknown test flag "EXEC": expected A, or a number',
    );
  });

  // empty parts and bad numbers
  it('rejects empty parts and bad numbers', () => {
    expect(errorOf(() => parseFlags(w('READ||WRITE'), MAP, 'map flags'))).toBe(
      's.vfio:3:14: empty flag in "READ||WRITE": expected map flags as NAME|NAME|…',
    );
    expect(() => parseFlags(w('READ|'), MAP, 'map flags')).toThrow(UserError);
    expect(errorOf(() => parseFlags(w('READ|-1'), MAP, 'map flags'))).toBe(
      's.vfio:3:14: "-1" is negative: expected 0 or more for map flags',
    );
  });

  // quoted flags are not flags
  it('rejects quoted flags', () => {
    expect(errorOf(() => parseFlags(w('READ', true), MAP, 'map flags'))).toBe(
      's.vfio:3:14: "READ" is a quoted string: expected map flags written without quotes, such as A|B',
    );
  });
});

describe('parseErrno', () => {
  const byName = (n: string) => ({ EPERM: 1, EINVAL: 22 } as Record<string, number>)[n];

  // by name (any case) or number
  it('parses names and numbers', () => {
    expect(parseErrno(w('EPERM'), byName)).toBe(1);
    expect(parseErrno(w('einval'), byName)).toBe(22);
    expect(parseErrno(w('22'), byName)).toBe(22);
    expect(parseErrno(w('0x16'), byName)).toBe(22);
  });

  // unknown names and out-of-range numbers
  it('rejects unknown errnos', () => {
    expect(errorOf(() => parseErrno(w('EFOO'), byName))).toBe(
      's.vfio:3:14: unknown errno "EFOO": expected a name such as EPERM, EINVAL or ENOTTY, or a number',
    );
    expect(errorOf(() => parseErrno(w('0'), byName))).toBe(
      's.vfio:3:14: "0" is not an errno: expected a name such as EPERM, or a number from 1 to 4095',
    );
    expect(() => parseErrno(w('-1'), byName)).toThrow(UserError);
    expect(() => parseErrno(w('4096'), byName)).toThrow(UserError);
    expect(() => parseErrno(w('EPERM', true), byName)).toThrow(UserError);
  });
});

describe('parseHex', () => {
  // optional 0x, _ and : separators
  it('parses bytes', () => {
    expect(parseHex(w('0x0102ff'))).toEqual(new Uint8Array([1, 2, 0xff]));
    expect(parseHex(w('de:ad:BE:EF'))).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    expect(parseHex(w('0000_1000'))).toEqual(new Uint8Array([0, 0, 0x10, 0]));
    expect(parseHex(w('0x'))).toEqual(new Uint8Array([]));
    expect(parseHex(w('01 02', true))).toEqual(new Uint8Array([1, 2]));
  });

  // odd length or non-hex
  it('rejects odd lengths and non-hex', () => {
    expect(errorOf(() => parseHex(w('0x123')))).toBe(
      's.vfio:3:14: "0x123" has an odd number of hex digits (3): expected whole bytes, two digits each',
    );
    expect(errorOf(() => parseHex(w('01zz')))).toBe(
      's.vfio:3:14: "01zz" is not hex: unexpected "z", expected pairs of hex digits such as 0x01ff or 01:ff',
    );
    expect(() => parseHex(w('0x0x01'))).toThrow(UserError);
  });

  // a long buffer is fine
  it('parses a long buffer', () => {
    expect(parseHex(w('ab'.repeat(500_000))).length).toBe(500_000);
  });
});

describe('splitNamePlusOffset', () => {
  // NAME and NAME+OFFSET
  it('splits names and offsets', () => {
    expect(splitNamePlusOffset('buf')).toEqual({ name: 'buf', offset: 0n });
    expect(splitNamePlusOffset('buf+0x1000')).toEqual({ name: 'buf', offset: 0x1000n });
    expect(splitNamePlusOffset('_b2+4K')).toEqual({ name: '_b2', offset: 4096n });
    expect(splitNamePlusOffset('buf+0xffff_ffff_ffff_ffff')).toEqual({ name: 'buf', offset: 2n ** 64n - 1n });
  });

  // not a name: null, so the caller can try a number
  it('returns null for non-names', () => {
    for (const t of ['0x1000', '4K', '1abc+1', '+1', '', 'a-b', '/dev/x']) expect(splitNamePlusOffset(t)).toBeNull();
  });

  // a bad offset is an error at the given position
  it('rejects bad offsets', () => {
    const pos = { file: F, line: 3, col: 14 };
    expect(errorOf(() => splitNamePlusOffset('buf+x', pos))).toBe(
      's.vfio:3:14: "x" is not a valid offset in "buf+x": expected NAME+OFFSET with OFFSET a number such as 0x1000 or 4K',
    );
    expect(errorOf(() => splitNamePlusOffset('buf+0x1_0000_0000_0000_0000', pos))).toBe(
      's.vfio:3:14: "0x1_0000_0000_0000_0000" does not fit in 64 bits',
    );
    expect(() => splitNamePlusOffset('buf+', pos)).toThrow(UserError);
    expect(() => splitNamePlusOffset('buf+1+2', pos)).toThrow(UserError);
    expect(() => splitNamePlusOffset('buf+-1', pos)).toThrow(UserError);
  });
});

describe('unescapeText', () => {
  // \n \t \\ \" \xNN
  it('interprets escapes', () => {
    expect(unescapeText(String.raw`0xfee00000 msi\n`)).toBe('0xfee00000 msi\n');
    expect(unescapeText(String.raw`a\tb\\c\"d\x41\x7e`)).toBe('a\tb\\c"dA~');
    expect(unescapeText('plain 😀')).toBe('plain 😀');
  });

  // anything else is an error
  it('rejects invalid escapes', () => {
    const pos = { file: F, line: 3, col: 14 };
    expect(errorOf(() => unescapeText(String.raw`a\qb`, pos))).toBe(
      's.vfio:3:14: invalid escape "\\q" in "a\\qb": expected \\n, \\t, \\\\, \\" or \\xNN',
    );
    expect(() => unescapeText(String.raw`a\x4`, pos)).toThrow(UserError);
    expect(() => unescapeText('a\\', pos)).toThrow(UserError);
  });
});
