import { describe, it, expect } from 'vitest';
import { UserError } from '../../src/lib/user-error.js';
import { parseScript } from '../../src/script/parser.js';
import type { Command } from '../../src/script/ast.js';
import { LIMITS, sizeText } from '../../src/lib/limits.js';

const F = 's.vfio';
const at = (line: number, col: number) => ({ file: F, line, col });
const parse = (text: string): Command[] => parseScript(text, F).commands;
const one = (text: string): Command => {
  const cmds = parse(text);
  expect(cmds).toHaveLength(1);
  return cmds[0]!;
};

/** The formatted UserError thrown by parsing `text` (fails if nothing, or something else, is thrown). */
function errorOf(text: string): string {
  try {
    parseScript(text, F);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).format();
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('commands and words', () => {
  // one command per line; verb is the first word; positions are 1-based line and column
  it('splits lines into commands with exact positions', () => {
    const cmds = parse('open /dev/vfio/vfio\n  close  3\n');
    expect(cmds.map((c) => c.verb)).toEqual(['open', 'close']);
    expect(cmds[0]!.verbPos).toEqual(at(1, 1));
    expect(cmds[0]!.positional).toEqual([{ text: '/dev/vfio/vfio', quoted: false, pos: at(1, 6) }]);
    expect(cmds[1]!.verbPos).toEqual(at(2, 3));
    expect(cmds[1]!.positional[0]!.pos).toEqual(at(2, 10));
  });

  // words are separated by spaces and tabs
  it('accepts tabs between words', () => {
    const c = one('ioctl\tgroup \t SET_CONTAINER\tcontainer');
    expect(c.positional.map((w) => [w.text, w.pos.col])).toEqual([
      ['group', 7],
      ['SET_CONTAINER', 15],
      ['container', 29],
    ]);
  });

  // the verb is lower-cased; other words keep their case
  it('lower-cases the verb only', () => {
    const c = one('IOCTL Container GET_INFO');
    expect(c.verb).toBe('ioctl');
    expect(c.positional.map((w) => w.text)).toEqual(['Container', 'GET_INFO']);
  });

  // blank lines and comment-only lines are ignored
  it('ignores blank and comment lines', () => {
    const cmds = parse('\n   \n# a comment\n\t# indented comment\nkernel 6.1\n\n');
    expect(cmds).toHaveLength(1);
    expect(cmds[0]!.verbPos).toEqual(at(5, 1));
  });

  // an empty file has no commands
  it('parses an empty file', () => {
    expect(parseScript('', F)).toEqual({ file: F, commands: [] });
  });

  // source is the line without comment and surrounding blanks
  it('keeps the source text of the line', () => {
    expect(one('  expect errno=EPERM   # why  ').source).toBe('expect errno=EPERM');
  });

  // columns count characters (code points), not UTF-16 units
  it('counts columns in characters', () => {
    const c = one('write "😀é" next');
    expect(c.positional[0]).toEqual({ text: '😀é', quoted: true, pos: at(1, 7) });
    expect(c.positional[1]!.pos).toEqual(at(1, 12));
  });
});

describe('comments', () => {
  // `#` starts a comment, also right after a word
  it('ends the command at #', () => {
    expect(one('open x # as y').positional.map((w) => w.text)).toEqual(['x']);
    expect(one('open x#y').positional.map((w) => w.text)).toEqual(['x']);
  });

  // a # inside quotes is not a comment
  it('does not treat # inside quotes as a comment', () => {
    const c = one('expect dmesg "vfio # not a comment" # a comment');
    expect(c.positional[1]).toEqual({ text: 'vfio # not a comment', quoted: true, pos: at(1, 14) });
    expect(c.source).toBe('expect dmesg "vfio # not a comment"');
  });
});

describe('strings', () => {
  // only \" and \\ are unescaped; other escapes stay as written
  it('unescapes \\" and \\\\ only', () => {
    const c = one(String.raw`expect content "say \"hi\" a\\b msi\n\t\x41"`);
    expect(c.positional[1]!.text).toBe(String.raw`say "hi" a\b msi\n\t\x41`);
    expect(c.positional[1]!.quoted).toBe(true);
  });

  // an empty string is a word
  it('accepts an empty string', () => {
    expect(one('write f ""').positional[1]).toEqual({ text: '', quoted: true, pos: at(1, 9) });
  });

  // unterminated string: error at the opening quote
  it('reports an unterminated string at its opening quote', () => {
    expect(errorOf('kernel 6.1\n\nwrite f "abc')).toBe('s.vfio:3:9: unterminated string: expected a closing "');
    expect(errorOf(String.raw`write f "abc\"`)).toBe('s.vfio:1:9: unterminated string: expected a closing "');
  });

  // a closing quote must end the word
  it('rejects text glued to a closing quote', () => {
    expect(errorOf('write f "abc"def')).toBe('s.vfio:1:14: unexpected "def" right after the closing quote: expected a space');
  });

  // a quote may not appear inside a bare word
  it('rejects a quote inside a bare word', () => {
    expect(errorOf('write ab"c"')).toBe(
      `s.vfio:1:9: unexpected '"' inside the word "ab": expected a string to start a word or to follow key=`,
    );
  });
});

describe('key=value', () => {
  // key=value with a valid key is named; the value position is where the value starts
  it('parses named arguments', () => {
    const c = one('ioctl c MAP_DMA iova=0x1000 size=64K');
    expect(c.positional.map((w) => w.text)).toEqual(['c', 'MAP_DMA']);
    expect(c.named).toEqual([
      { key: 'iova', keyPos: at(1, 17), value: { text: '0x1000', quoted: false, pos: at(1, 22) } },
      { key: 'size', keyPos: at(1, 29), value: { text: '64K', quoted: false, pos: at(1, 34) } },
    ]);
  });

  // keys may contain `.`, `-`, `_` and digits (module parameters)
  it('accepts dotted keys', () => {
    const c = one('param vfio_iommu_type1.allow_unsafe_interrupts=Y');
    expect(c.named).toEqual([
      {
        key: 'vfio_iommu_type1.allow_unsafe_interrupts',
        keyPos: at(1, 7),
        value: { text: 'Y', quoted: false, pos: at(1, 48) },
      },
    ]);
  });

  // a quoted value keeps spaces; its position is the opening quote
  it('accepts a quoted value', () => {
    const c = one('write f data="a b" x=1');
    expect(c.named[0]).toEqual({ key: 'data', keyPos: at(1, 9), value: { text: 'a b', quoted: true, pos: at(1, 14) } });
    expect(c.named[1]!.key).toBe('x');
  });

  // only the first `=` splits; the value may contain more
  it('splits at the first =', () => {
    expect(one('f a=b=c').named[0]!.value.text).toBe('b=c');
  });

  // an invalid key makes the word positional
  it('keeps words with an invalid key positional', () => {
    const c = one('read /sys/a=b 1x=2 =y');
    expect(c.named).toEqual([]);
    expect(c.positional.map((w) => w.text)).toEqual(['/sys/a=b', '1x=2', '=y']);
  });

  // a repeated key is kept (the dispatcher decides)
  it('keeps repeated keys in order', () => {
    expect(one('f a=1 a=2').named.map((n) => n.value.text)).toEqual(['1', '2']);
  });

  // key= with nothing after it is an error
  it('rejects a missing value', () => {
    expect(errorOf('ioctl c MAP_DMA iova=')).toBe(
      's.vfio:1:17: missing value in "iova=": expected iova=VALUE (or iova="" for an empty value)',
    );
  });
});

describe('verb', () => {
  // the verb must be a bare word
  it('rejects a quoted verb or a key=value verb', () => {
    expect(errorOf('  "open" x')).toBe(
      's.vfio:1:3: expected a command (such as open, ioctl or expect) at the start of the line, found the string "open"',
    );
    expect(errorOf('a=b open')).toBe(
      's.vfio:1:1: expected a command (such as open, ioctl or expect) at the start of the line, found "a=b"',
    );
  });
});

describe('as NAME', () => {
  // `as NAME` as the last two words becomes bind
  it('binds a name', () => {
    const c = one('open /dev/vfio/vfio as container');
    expect(c.bind).toEqual({ name: 'container', pos: at(1, 24) });
    expect(c.positional.map((w) => w.text)).toEqual(['/dev/vfio/vfio']);
    expect(c.source).toBe('open /dev/vfio/vfio as container');
  });

  // after key=value arguments too
  it('binds after named arguments', () => {
    const c = one('mmap 64K prot=rw as buf');
    expect(c.bind).toEqual({ name: 'buf', pos: at(1, 21) });
    expect(c.named.map((n) => n.key)).toEqual(['prot']);
  });

  // no `as`, no bind property
  it('has no bind without as', () => {
    expect('bind' in one('eventfd')).toBe(false);
  });

  // `as` elsewhere is an error at the `as`
  it('rejects as in the middle', () => {
    expect(errorOf('open as x /dev/vfio/vfio')).toBe(
      's.vfio:1:6: "as" can only come at the end of the command: expected "as NAME" as the last two words, found "as x /dev/vfio/vfio"',
    );
  });

  // `as` without a name
  it('rejects as at the end', () => {
    expect(errorOf('eventfd as')).toBe('s.vfio:1:9: "as" needs a name after it: expected "as NAME" at the end of the command');
  });

  // `as` with an invalid name: error at the name
  it('rejects an invalid name', () => {
    expect(errorOf('eventfd as 0efd')).toBe(
      's.vfio:1:12: "0efd" is not a valid name after "as": expected a letter or "_" followed by letters, digits or "_"',
    );
    expect(errorOf('eventfd as "efd"')).toBe(
      's.vfio:1:12: the string "efd" is not a valid name after "as": expected a letter or "_" followed by letters, digits or "_"',
    );
  });

  // a line cannot start with `as`
  it('rejects as as the verb', () => {
    expect(errorOf('as x')).toBe('s.vfio:1:1: "as" cannot start a line: expected a command before "as NAME"');
  });

  // a quoted "as" is an ordinary string
  it('treats a quoted "as" as a string', () => {
    const c = one('write f "as" x');
    expect(c.positional.map((w) => w.text)).toEqual(['f', 'as', 'x']);
    expect(c.bind).toBeUndefined();
  });
});

describe('continuation lines', () => {
  // a trailing \ joins the next line with a single space; words keep their real positions
  it('joins lines and keeps real positions', () => {
    const cmds = parse('ioctl dev SET_IRQS \\\n    index=MSIX start=0\\\n\tcount=2 as irqs\nexpect ok\n');
    expect(cmds).toHaveLength(2);
    const c = cmds[0]!;
    expect(c.source).toBe('ioctl dev SET_IRQS index=MSIX start=0 count=2 as irqs');
    expect(c.named.map((n) => [n.key, n.keyPos.line, n.keyPos.col, n.value.pos.col])).toEqual([
      ['index', 2, 5, 11],
      ['start', 2, 16, 22],
      ['count', 3, 2, 8],
    ]);
    expect(c.bind).toEqual({ name: 'irqs', pos: at(3, 13) });
    expect(cmds[1]!.verbPos).toEqual(at(4, 1));
  });

  // the \ may be followed by blanks and a comment
  it('continues after trailing blanks and a comment', () => {
    const c = one('open \\   # the path follows\n  /dev/vfio/vfio');
    expect(c.positional[0]!.pos).toEqual(at(2, 3));
    expect(c.source).toBe('open /dev/vfio/vfio');
  });

  // a \ inside a word or inside quotes is not a continuation
  it('keeps a \\ that does not end the line', () => {
    const c = one(String.raw`read a\b "c\\"`);
    expect(c.positional.map((w) => w.text)).toEqual(['a\\b', 'c\\']);
  });

  // a \ inside a comment is not a continuation
  it('ignores a \\ inside a comment', () => {
    expect(parse('kernel 6.1 # \\\nplatform x')).toHaveLength(2);
  });

  // continuing onto a blank line ends the command there
  it('ends at a blank line', () => {
    expect(parse('eventfd \\\n\neventfd').map((c) => c.verbPos.line)).toEqual([1, 3]);
  });

  // a \ on the last line has nothing to continue onto
  it('rejects a continuation at the end of the file', () => {
    expect(errorOf('kernel 6.1\nopen x \\\n')).toBe(
      's.vfio:2:8: "\\" at the end of the last line: expected another line to continue the command on',
    );
  });
});

describe('line endings and junk', () => {
  // \r\n is a newline, with the same positions as \n
  it('accepts CRLF line endings', () => {
    const cmds = parse('kernel 6.1\r\nopen /dev/vfio/vfio as c \\\r\n\r\nexpect ok\r\n');
    expect(cmds.map((c) => c.source)).toEqual(['kernel 6.1', 'open /dev/vfio/vfio as c', 'expect ok']);
    expect(cmds[1]!.bind).toEqual({ name: 'c', pos: at(2, 24) });
    expect(cmds[2]!.verbPos).toEqual(at(4, 1));
  });

  // a byte order mark at the start is dropped
  it('ignores a leading BOM', () => {
    expect(one('\uFEFFkernel 6.1').verbPos).toEqual(at(1, 1));
  });

  // control characters (NUL, a lone CR) are errors wherever they are
  it('rejects control characters', () => {
    expect(errorOf('\0')).toBe('s.vfio:1:1: unexpected control character U+0000: expected plain text');
    expect(errorOf('kernel 6.1\nopen a\rb')).toBe('s.vfio:2:7: unexpected control character U+000D: expected plain text');
    expect(errorOf('# comment \x1b[0m')).toBe('s.vfio:1:11: unexpected control character U+001B: expected plain text');
  });

  // a no-break space (pasted from a web page) is not a word separator
  it('rejects other space characters', () => {
    expect(errorOf('open\u00a0x')).toBe('s.vfio:1:5: unexpected U+00A0 space character: expected a plain space or tab between words');
  });

  // the first error wins: nothing after it is looked at
  it('reports the first error only', () => {
    expect(errorOf('open "a\nopen "b')).toBe('s.vfio:1:6: unterminated string: expected a closing "');
  });

  // long text in messages is shortened
  it('shortens long quoted text in messages', () => {
    expect(errorOf(`f ${'x'.repeat(100)}"`)).toBe(
      `s.vfio:1:103: unexpected '"' inside the word "${'x'.repeat(40)}…": expected a string to start a word or to follow key=`,
    );
  });

  // arbitrary input: only UserError, never a hang or another exception
  it('throws only UserError on random junk', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % 256;
    const alphabet = ' \t\n\r"\\#=a1_.-x|+';
    for (let n = 0; n < 2000; n++) {
      let s = '';
      const len = rand() % 40;
      for (let i = 0; i < len; i++) {
        const r = rand();
        s += r < 200 ? alphabet[r % alphabet.length] : String.fromCharCode(rand() * 256 + rand());
      }
      try {
        parseScript(s, F);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        expect((e as UserError).where).toBeDefined();
      }
    }
  });

  // a 1 MB line parses (no quadratic behaviour); not timed, just run
  it('parses huge lines', () => {
    const words = 'w '.repeat(500_000);
    expect(one(`f ${words}`).positional).toHaveLength(500_000);
    const blanks = ' '.repeat(1_000_000);
    expect(one(`f${blanks}x${blanks}`).positional[0]!.pos.col).toBe(1_000_002);
    expect(one(`f "${'\\\\'.repeat(500_000)}"`).positional[0]!.text).toHaveLength(500_000);
    expect(one(`f k=${'a'.repeat(1_000_000)} as n`).named[0]!.value.text).toHaveLength(1_000_000);
    expect(errorOf(`f "${'a'.repeat(1_000_000)}`)).toBe('s.vfio:1:3: unterminated string: expected a closing "');
    expect(errorOf(`f ${'as '.repeat(300_000)}`)).toMatch(/^s\.vfio:1:3: "as" can only come at the end/);
    expect(parse('\n'.repeat(1_000_000))).toEqual([]);
  });

  // a line longer than LIMITS.lineChars is an error at its first column, found before the line is walked
  it('rejects a line longer than the limit', () => {
    const long = `f ${'a'.repeat(LIMITS.lineChars)}`;
    expect(errorOf(`kernel 6.1\n${long}\n`)).toBe(
      `s.vfio:2:1: line 2 is longer than ${sizeText(LIMITS.lineChars)}: expected at most ${LIMITS.lineChars} characters on a line (split a long command with "\\" at the end of a line)`,
    );
    expect(one(`f ${'a'.repeat(LIMITS.lineChars - 2)}`).positional[0]!.text).toHaveLength(LIMITS.lineChars - 2);
    // a 10 MB line: the same error, without lexing it
    expect(errorOf('x'.repeat(Math.max(10_000_000, LIMITS.lineChars + 1)))).toMatch(/^s\.vfio:1:1: line 1 is longer than \d+ MiB: /);
  });

  // columns count code points: a character outside the BMP is one column
  it('counts a surrogate pair as one column', () => {
    expect(one('f \u{1F600} x').positional[1]!.pos).toEqual(at(1, 5));
    expect(errorOf('f \u{1F600}\u0001')).toBe('s.vfio:1:4: unexpected control character U+0001: expected plain text');
  });
});
