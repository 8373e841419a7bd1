// User mistakes at the command line and in scenarios: `file:line:col: message` (or the option's
// name when the command line is at fault), exit 2, never "internal error" nor a stack trace.
// Runs the built bundle, as cli.test.ts does.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, env, scenario, tmp } from './run-cli.js';

const GOOD = 'platform qemu-q35-vtd\nopen /dev/vfio/vfio as c\n';

describe('errors raised by the model', () => {
  // A system call that would block (a Blocked fact) is reported at the command that made it.
  it('a blocking sriov_numvfs write says where', () => {
    const f = scenario(
      'block.vfio',
      [
        'kernel rfc-v10',
        'platform amd-overdrive',
        'param vfio_iommu_type1.allow_unsafe_interrupts=Y',
        'write /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs "4"',
        'bind 0000:01:10.2 vfio-pci',
        'open /dev/vfio/vfio as container',
        'open /dev/vfio/3 as group',
        'ioctl group SET_CONTAINER container',
        'ioctl container SET_IOMMU TYPE1v2',
        'ioctl group GET_DEVICE_FD 0000:01:10.2 as vf',
        'write /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs "0"',
        '',
      ].join('\n'),
    );
    const r = cli(['run', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `${f}:11:1: write /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs blocks: 0000:01:10.2 is open through VFIO (vfio_del_group_dev waits for it to be released)\n`,
    );
  });
});

describe('output', () => {
  // The reader of stdout going away ends the run quietly (no "internal error: EPIPE").
  it('EPIPE: `run many.vfio | head -1`', () => {
    const f = scenario('many.vfio', 'platform qemu-q35-vtd\n' + 'show platform\n'.repeat(400));
    const err = join(tmp, 'many.err');
    const r = spawnSync('bash', ['-c', `"${process.execPath}" bin/vfio-emu.cjs run "${f}" 2>"${err}" | head -1; echo "status=\${PIPESTATUS[0]}"`], {
      env,
      encoding: 'utf8',
    });
    expect(r.stdout).toBe('   2 # kernel 7.2, platform qemu-q35-vtd intremap=on\nstatus=0\n');
    expect(readFileSync(err, 'utf8')).toBe('');
  });

  // An output file that cannot be written is the user's to fix: FILE: cannot write: CODE (why).
  it('--trace into a directory or a missing directory', () => {
    const f = scenario('good.vfio', GOOD);
    const dir = join(tmp, 'somedir');
    mkdirSync(dir, { recursive: true });
    let r = cli(['run', '--trace', dir, f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`${dir}: cannot write: EISDIR (it is a directory: expected a file name)\n`);
    r = cli(['run', '--trace', '/nonexistent/x.jsonl', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('/nonexistent/x.jsonl: cannot write: ENOENT (no such directory: expected a file in an existing directory)\n');
  });

  it('check --reporter junit --out DIR', () => {
    const f = scenario('good.vfio', GOOD);
    const r = cli(['check', '--reporter', 'junit', '--out', tmp, f]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('1 passed, 0 failed (scenario files)\n');
    expect(r.stderr).toBe(`${tmp}: cannot write: EISDIR (it is a directory: expected a file name)\n`);
  });
});

describe('check', () => {
  // A dangling x.vfio symlink in a directory: said plainly, not "internal error: ENOENT".
  it('dangling symlink', () => {
    const dir = join(tmp, 'dangling');
    mkdirSync(dir);
    symlinkSync('/nonexistent/y.vfio', join(dir, 'x.vfio'));
    const r = cli(['check', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `${join(dir, 'x.vfio')}: cannot read: ENOENT (a symbolic link to "/nonexistent/y.vfio", which does not exist): expected a scenario file or a directory\n`,
    );
  });
});

describe('command-line options are not the file', () => {
  const f = scenario('opts.vfio', 'kernel 6.1\nplatform qemu-q35-vtd\nopen /dev/vfio/vfio as c\n');

  it('--platform with a bad option value', () => {
    const r = cli(['run', '--platform', 'qemu-q35-vtd,intremap=maybe', f]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('--platform: option intremap="maybe" of qemu-q35-vtd: expected one of on, off\n');
  });

  it('--platform with an unknown preset', () => {
    const r = cli(['run', '--platform', '', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^--platform: unknown platform "": expected one of qemu-q35-vtd, /);
  });

  it('--kernel empty', () => {
    const r = cli(['run', '--kernel', '', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^--kernel: unknown kernel "": expected a version \(4\.10 … 7\.2, any later x\.y\) or one of 4\.10, /);
  });
});

describe('scenario values', () => {
  // A refused parameter value is the write's -EINVAL (for `expect`), and a why: line.
  it('param value', () => {
    const f = scenario('param.vfio', 'platform qemu-q35-vtd\nparam vfio_iommu_type1.allow_unsafe_interrupts=maybe\nexpect errno=EINVAL\n');
    let r = cli(['run', f]);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n').slice(1, 4)).toEqual([
      '   2 param vfio_iommu_type1.allow_unsafe_interrupts=maybe = -1 EINVAL (Invalid argument)',
      '   2 why: vfio_iommu_type1.allow_unsafe_interrupts: "maybe" is not a valid value: expected a bool: Y, N, 1 or 0 (also y, n, on, off)',
      '   3 ✓ expect errno=EINVAL',
    ]);
    const g = scenario('param2.vfio', 'platform qemu-q35-vtd\nparam vfio_iommu_type1.dma_entry_limit=lots\n');
    r = cli(['run', g]);
    expect(r.stdout.split('\n')[2]).toBe('   2 why: vfio_iommu_type1.dma_entry_limit: "lots" is not a valid value: expected a number from 0 to 4294967295 (decimal or 0x hex)');
  });

  // A numeric request follows the number grammar: `_` separators; overflow in the parser's words.
  it('numeric ioctl request', () => {
    const f = scenario('req.vfio', `${GOOD}ioctl c 0x3b_70\nioctl c 0x1_0000_0000\n`);
    const r = cli(['run', f]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('ioctl(3, VFIO_IOMMU_GET_INFO, {argsz=24');
    expect(r.stderr).toBe(`${f}:4:9: "0x1_0000_0000" does not fit in 32 bits\n`);
  });

  // ioctl field values: the zod schema checks the keys, the one number/flag grammar the values.
  describe('ioctl field values', () => {
    const mapDma = (name: string, args: string) =>
      scenario(
        name,
        `platform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/1 as g\nioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nmmap 64K as buf\nioctl c MAP_DMA ${args}\n`,
      );

    it('numbers with _ and K suffix are accepted as flags', () => {
      for (const [flags, shown] of [['0x1_0', '0x10'], ['1K', '0x400']]) {
        const r = cli(['run', mapDma('flags.vfio', `flags=${flags} iova=0 size=4K vaddr=buf`)]);
        expect(r.stderr).toBe('');
        expect(r.stdout).toContain(`ioctl(3, VFIO_IOMMU_MAP_DMA, {argsz=32, flags=${shown}, vaddr=0x`);
      }
    });

    it('unknown flag names the expected ones', () => {
      const f = mapDma('flagfoo.vfio', 'flags=READ|FOO iova=0 size=4K vaddr=buf');
      const r = cli(['run', f]);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(
        `${f}:8:23: unknown vfio_iommu_type1_dma_map.flags flag "FOO" in "READ|FOO": expected READ, WRITE, VADDR (optionally prefixed VFIO_DMA_MAP_FLAG_), or a number\n`,
      );
    });

    it('negative and misplaced _', () => {
      let f = mapDma('neg.vfio', 'flags=READ iova=-5 size=4K vaddr=buf');
      let r = cli(['run', f]);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`${f}:8:33: "-5" is negative: expected 0 or more for vfio_iommu_type1_dma_map.iova\n`);
      f = mapDma('under.vfio', 'flags=READ iova=0x1__0 size=4K vaddr=buf');
      r = cli(['run', f]);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`${f}:8:33: "0x1__0" has a misplaced "_": expected "_" only between two digits\n`);
    });

    it('unknown field, still from the schema', () => {
      const f = mapDma('field.vfio', 'flags=READ iova=0 size=4K vaddr=buf bogus=1');
      const r = cli(['run', f]);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`${f}:8:53: MAP_DMA has no field "bogus" (vfio_iommu_type1_dma_map fields: argsz, flags, vaddr, iova, size; or raw=HEX)\n`);
    });
  });
});
