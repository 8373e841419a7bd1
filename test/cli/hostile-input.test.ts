// Inputs from the hostile-input campaign, fed exactly: each ends with a clear error (exit 2,
// what was expected) or a right answer, never a hang, an internal error or a host walk.

import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cli, env, scenario, tmp } from './run-cli.js';
import { decodeCommand } from '../../src/cli/decode.js';
import { UserError } from '../../src/lib/user-error.js';

const GOOD = 'platform qemu-q35-vtd\nopen /dev/vfio/vfio as c\nexpect ok\n';

function tree(name: string): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'a.vfio'), GOOD);
  return d;
}

describe('check DIR walks each real directory once, inside the tree', () => {
  // `x -> .` and `y -> .` used to double the paths at every level up to the 40-link limit.
  it('two links to the directory itself', () => {
    const d = tree('loops2');
    symlinkSync('.', join(d, 'x'));
    symlinkSync('.', join(d, 'y'));
    const r = cli(['check', d]);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '1 passed, 0 failed (scenario files)\n', '']);
  });

  // A single `self -> .` reported one file 41 times.
  it('one link to the directory itself', () => {
    const d = tree('loop1');
    symlinkSync('.', join(d, 'self'));
    const r = cli(['check', d]);
    expect([r.status, r.stdout]).toEqual([0, '1 passed, 0 failed (scenario files)\n']);
  });

  // A link out of the named tree is not followed: /proc/self/root would be the host's /.
  it('check /proc/self stays in /proc/self', () => {
    const r = cli(['check', '/proc/self']);
    expect([r.status, r.stdout, r.stderr]).toEqual([2, '', 'no scenario (*.vfio) found in /proc/self\n']);
  });

  it('a link to a scenario outside the tree is not followed', () => {
    const d = tree('outside');
    const other = tree('outside-other');
    writeFileSync(join(other, 'bad.vfio'), 'platform qemu-q35-vtd\nexpect errno=EPERM\n');
    symlinkSync(join(other, 'bad.vfio'), join(d, 'b.vfio'));
    symlinkSync(other, join(d, 'sub'));
    const r = cli(['check', d]);
    expect([r.status, r.stdout]).toEqual([0, '1 passed, 0 failed (scenario files)\n']);
  });

  // Paths given twice are checked once.
  it('a file named twice', () => {
    const d = tree('twice');
    const r = cli(['check', d, join(d, 'a.vfio'), join(d, '.', 'a.vfio')]);
    expect([r.status, r.stdout]).toEqual([0, '1 passed, 0 failed (scenario files)\n']);
  });
});

describe('inputs are bounded', () => {
  // `run /dev/zero` read without limit.
  it('run /dev/zero', () => {
    const r = cli(['run', '/dev/zero']);
    expect([r.status, r.stdout, r.stderr]).toEqual([2, '', '/dev/zero: larger than 256 MiB: expected a scenario or trace of at most that size\n']);
  });

  it('a directory given to run', () => {
    const r = cli(['run', tmp]);
    expect([r.status, r.stderr]).toEqual([2, `${tmp}: cannot read: EISDIR (a directory: give a file, or use check DIR)\n`]);
  });

  // decodeCommand with 10 MB of hex overflowed the regex engine's stack (an argv cannot carry
  // that much, so the command's function is fed directly).
  it('decode 10 MB of hex', () => {
    expect(() => decodeCommand('VFIO_IOMMU_GET_INFO', 'ab'.repeat(5_000_000), {})).toThrow(
      new UserError('10000000 hex digits: expected a buffer of at most 1 MiB'),
    );
    const atLimit = decodeCommand('VFIO_IOMMU_GET_INFO', '74000000' + '00'.repeat((1 << 20) - 4), {});
    expect(atLimit.slice(0, 2)).toEqual(['VFIO_IOMMU_GET_INFO (vfio_iommu_type1_info, 1048576 bytes, kernel 7.2)', '  argsz = 116']);
  });

  it('decode: an odd number of hex digits', () => {
    const r = cli(['decode', 'VFIO_IOMMU_GET_INFO', 'abc']);
    expect([r.status, r.stderr]).toEqual([2, '"abc" is not hex bytes (two hex digits per byte)\n']);
  });
});

describe('output files', () => {
  // `run --trace ""` wrote nothing and exited 0.
  it('an empty --trace', () => {
    const f = scenario('empty-trace.vfio', GOOD);
    const r = cli(['run', '--trace', '', f]);
    expect([r.status, r.stdout, r.stderr]).toEqual([2, '', '--trace needs a file name\n']);
  });

  // `--out` equal to an input file overwrote it.
  it('--out naming an input', () => {
    const f = scenario('out-input.vfio', GOOD);
    const r = cli(['check', f, '--reporter', 'junit', '--out', f]);
    expect([r.status, r.stderr]).toEqual([2, `--out ${f}: is an input of this run; writing it would overwrite it: expected another file\n`]);
    expect(cli(['check', f]).stdout).toBe('1 passed, 0 failed (scenario files)\n');
  });

  it('--trace naming the scenario', () => {
    const f = scenario('trace-input.vfio', GOOD);
    const r = cli(['run', '--trace', f, f]);
    expect([r.status, r.stderr]).toEqual([2, `--trace ${f}: is an input of this run; writing it would overwrite it: expected another file\n`]);
  });
});

describe('replay reads stdin', () => {
  // `replay -` did not read stdin, though run and check do.
  it('replay - with a recorded run', () => {
    const f = scenario('to-replay.vfio', GOOD);
    const t = join(tmp, 'to-replay.jsonl');
    expect(cli(['run', '--trace', t, f]).status).toBe(0);
    const r = cli(['replay', '-'], readFileSync(t, 'utf8'));
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').at(-2)).toMatch(/^\d+ events, \d+ match, 0 differ, 0 skipped$/);
  });
});

describe('scenario text the model must survive', () => {
  const GROUP = 'platform qemu-q35-vtd\nbind 0000:00:02.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/2 as g\n';

  // A raw= buffer shorter than SET_CONTAINER's int crashed the display after the call ran.
  it('raw= shorter than the struct', () => {
    const f = scenario('short-raw.vfio', GROUP + 'ioctl g SET_CONTAINER raw=00\nexpect errno=EFAULT\nioctl g SET_CONTAINER raw=000000\nexpect errno=EFAULT\n');
    const r = cli(['run', f]);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n').filter((l) => l.includes('SET_CONTAINER'))).toEqual([
      '   5 ioctl(4, VFIO_GROUP_SET_CONTAINER, "\\x00") = -1 EFAULT (Bad address)',
      '   7 ioctl(4, VFIO_GROUP_SET_CONTAINER, "\\x00\\x00\\x00") = -1 EFAULT (Bad address)',
    ]);
  });

  // Built-in property names are not options, protections or parameters.
  it('constructor, toString, __proto__', () => {
    const opt = cli(['run', '--platform', 'qemu-q35-vtd,constructor=1', scenario('p.vfio', GOOD)]);
    expect([opt.status, opt.stderr]).toEqual([2, '--platform: platform qemu-q35-vtd has no option "constructor" (options: intremap)\n']);
    const f = scenario('proto.vfio', 'platform qemu-q35-vtd toString=1\n');
    expect(cli(['run', f]).stderr).toBe(`${f}:1:23: platform qemu-q35-vtd has no option "toString" (options: intremap)\n`);
    const m = scenario('prot.vfio', 'platform qemu-q35-vtd\nmmap 4K prot=constructor\n');
    expect(cli(['run', m]).stderr).toBe(`${m}:2:14: prot="constructor": expected one of r, w, rw, none\n`);
  });

  // A sysfs path the machine lacks is ENOENT (it was EPERM); an attribute without a store is EACCES.
  it('writes of sysfs files that are not writable', () => {
    const f = scenario(
      'sysfs.vfio',
      'platform qemu-q35-vtd\nwrite /sys/module/constructor/parameters/toString "1"\nexpect errno=ENOENT\n' +
        'write /sys/kernel/iommu_groups/1/reserved_regions "x"\nexpect errno=EACCES\n',
    );
    const r = cli(['run', f]);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('   2 write("/sys/module/constructor/parameters/toString", "1") = -1 ENOENT (No such file or directory)\n');
  });

  // Messages quote at most a little of a 10 KB word.
  it('a 10 KB word in a message', () => {
    const word = 'a'.repeat(10_000);
    const f = scenario('long-word.vfio', `platform qemu-q35-vtd\n${word}\n`);
    const r = cli(['run', f]);
    expect([r.status, r.stderr]).toEqual([2, `${f}:2:1: unknown command "${'a'.repeat(40)}…${'a'.repeat(10)}" (10000 characters): expected one of kernel, platform, param, bind, unbind, driver_override, open, close, mmap, munmap, mprotect, eventfd, memfd, ioctl, pread, pwrite, load, store, read, write, readlink, expect, show, dma, msi\n`]);
  });
});

describe('replay does not trust sizes', () => {
  const recorded = (): string[] => {
    const f = scenario(
      'pread.vfio',
      'platform qemu-q35-vtd\nbind 0000:00:02.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/2 as g\nioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\n' +
        'ioctl g GET_DEVICE_FD 0000:00:02.0 as d\npread d region=CONFIG offset=0 len=4\n',
    );
    const t = join(tmp, 'pread.jsonl');
    expect(cli(['run', '--trace', t, f]).status).toBe(0);
    return readFileSync(t, 'utf8').split('\n');
  };

  // A pread of 2^32 bytes made a 3-line trace take 4.2 GB; 2^40 an internal error.
  for (const len of ['4294967296', '1099511627776']) {
    it(`pread len ${len}`, () => {
      const lines = recorded();
      const at = lines.findIndex((l) => l.startsWith('{"op":"pread"'));
      lines[at] = lines[at]!.replace('"len":4,', `"len":${len},`);
      const t = join(tmp, `pread-${len}.jsonl`);
      writeFileSync(t, lines.join('\n'));
      const r = cli(['replay', t]);
      expect([r.status, r.stdout, r.stderr]).toEqual([2, '', `${t}:${at + 1}: event "pread": field "len" must be at most 1048576 (1 MiB)\n`]);
    });
  }

  it('an event line over the line limit', () => {
    const lines = recorded();
    lines.splice(1, 0, `{"op":"sysfs","path":"${'x'.repeat(6 * 1024 * 1024)}"}`);
    const t = join(tmp, 'long-line.jsonl');
    writeFileSync(t, lines.join('\n'));
    const r = cli(['replay', t]);
    expect([r.status, r.stderr]).toEqual([2, `${t}:2: line 2 is ${6 * 1024 * 1024 + 24} characters long: expected at most 5 MiB per event\n`]);
  });
});

describe('the memory a run may use', () => {
  // A run past the limit stops at the command that crossed it (checked every 4096 commands).
  it('VFIO_EMU_MAX_MEMORY_MIB=1', () => {
    const f = scenario('memory.vfio', 'platform qemu-q35-vtd\n' + 'show platform\n'.repeat(5000));
    const r = spawnSync(process.execPath, ['bin/vfio-emu.cjs', 'check', f], { env: { ...env, VFIO_EMU_MAX_MEMORY_MIB: '1' }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout.replace(/uses \d+ MiB/, 'uses N MiB')).toBe(`${f}:4096:1: the run uses N MiB, more than the 1 MiB a run may use (VFIO_EMU_MAX_MEMORY_MIB raises it)\n0 passed, 1 failed (scenario files)\n`);
  });
});
