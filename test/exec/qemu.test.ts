// Acceptance with a real client: Debian's QEMU 7.2 assigns the emulated edu with
// `-device vfio-pci,host=…` on the qemu-q35-vtd machine, under `vfio-emu exec`. QEMU realizes the
// device (container, group, guest RAM mapped with MAP_DMA, config space, BARs, IRQ info), and its
// monitor shows the device the guest would see. The trace replays with no difference.

import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, env, tmp } from '../cli/run-cli.js';

const hasQemu = spawnSync('qemu-system-x86_64', ['-version'], { stdio: 'ignore' }).status === 0;
const hasLib = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasQemu || !hasLib)('QEMU vfio-pci on the model', () => {
  test('QEMU realizes the assigned edu', () => {
    const trace = join(tmp, 'qemu.jsonl');
    const qemu = ['qemu-system-x86_64', '-M', 'q35', '-m', '128', '-nographic', '-nodefaults', '-display', 'none', '-S', '-monitor', 'stdio', '-serial', 'none'];
    const r = spawnSync(
      process.execPath,
      ['bin/vfio-emu.cjs', 'exec', '--platform', 'qemu-q35-vtd', '--kernel', '6.12', '--bind', '0000:00:01.0', '--trace', trace, '--', ...qemu, '-device', 'vfio-pci,host=0000:00:01.0'],
      { env, input: 'info pci\nquit\n', encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(0);
    // QEMU's own words: edu has neither FLR nor PM reset (as with a real edu behind VFIO).
    expect(r.stderr).toBe('qemu-system-x86_64: vfio: Cannot reset device 0000:00:01.0, no available reset mechanism.\n'.repeat(2));
    const pci = r.stdout.replace(/\r/g, '');
    expect(pci).toContain(
      ['  Bus  0, device   1, function 0:', '    Class 0255: PCI device 1234:11e8', '      PCI subsystem 1af4:1100', '      IRQ 0, pin A', '      BAR0: 32 bit memory at 0xffffffffffffffff [0x000ffffe].'].join('\n'),
    );
    const events = readFileSync(trace, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { request?: string; ret: number });
    const maps = events.filter((e) => e.request === 'VFIO_IOMMU_MAP_DMA');
    expect(maps.map((e) => e.ret)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(cli(['replay', trace]).stdout.trim().split('\n').at(-1)).toBe(`${events.length} events, ${events.length} match, 0 differ, 0 skipped`);
  });
});

// A guest the project builds (test/native/guest/edu-guest.c, multiboot) runs in that QEMU and
// drives edu through vfio-pci: found by config cycles, then BAR0's identification, liveness and
// factorial registers, each a pread/pwrite on the device fd (BAR mmap is refused). It ends QEMU
// through isa-debug-exit: status (0 << 1) | 1.
describe.skipIf(!hasQemu || !hasLib)('a guest drives edu', () => {
  test('config space and BAR registers from the guest', () => {
    const guest = join(tmp, 'edu-guest.elf');
    const cc = spawnSync(
      'cc',
      ['-m32', '-ffreestanding', '-nostdlib', '-static', '-no-pie', '-fno-pic', '-fno-stack-protector', '-O1', '-Wl,-Ttext=0x100000', '-Wl,--build-id=none', '-o', guest, 'test/native/guest/edu-guest.c'],
      { encoding: 'utf8' },
    );
    expect(cc.stderr).toBe('');
    const trace = join(tmp, 'guest.jsonl');
    const qemu = ['qemu-system-x86_64', '-M', 'q35', '-m', '128', '-nographic', '-nodefaults', '-display', 'none', '-monitor', 'none', '-serial', 'stdio'];
    const r = spawnSync(
      process.execPath,
      [
        'bin/vfio-emu.cjs', 'exec', '--platform', 'qemu-q35-vtd', '--kernel', '6.12', '--bind', '0000:00:01.0', '--trace', trace, '--',
        ...qemu, '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-kernel', guest, '-device', 'vfio-pci,host=0000:00:01.0',
      ],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    const serial = r.stdout.slice(r.stdout.indexOf('edu: '));
    expect(serial).toBe(
      'edu: device 0x00000001\nedu: class 0x0000ff00\nedu: ident 0x010000ed\nedu: liveness 0xedcba987\nedu: factorial(5) 0x00000078\n',
    );
    const events = readFileSync(trace, 'utf8').trim().split('\n').length - 1;
    expect(cli(['replay', trace]).stdout.trim().split('\n').at(-1)).toBe(`${events} events, ${events} match, 0 differ, 0 skipped`);
  });
});
