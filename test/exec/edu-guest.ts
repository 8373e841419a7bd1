// The test guest (test/native/guest/edu-guest.c): built once per run, booted in QEMU under
// `vfio-emu exec`, and what it prints on the serial port when edu works (qemu.test.ts,
// qemu10.test.ts).

import { expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { env, tmp } from '../cli/run-cli.js';

/** The guest, built once per run: a 32-bit multiboot ELF QEMU's -kernel loads. */
export function guest_(): string {
  const guest = join(tmp, 'edu-guest.elf');
  const cc = spawnSync(
    'cc',
    ['-m32', '-ffreestanding', '-nostdlib', '-static', '-no-pie', '-fno-pic', '-fno-stack-protector', '-O1', '-Wl,-Ttext=0x100000', '-Wl,--build-id=none', '-o', guest, 'test/native/guest/edu-guest.c'],
    { encoding: 'utf8' },
  );
  expect(cc.stderr).toBe('');
  return guest;
}

/** QEMU 10 (scripts/qemu10.sh): its binary and firmware directory, extra arguments and -device options. */
export interface Qemu10 {
  bin: string;
  firmware: string;
  args: string[];
  device: string;
  /** A program that opens the nodes and execs QEMU (exec-fds.c `pass`): -device then has no host=. */
  launcher?: string[];
}

/** The guest in QEMU under `vfio-emu exec` with `machine` options, `bdf` assigned. */
export function runGuest_(machine: string[], bdf: string, trace: string, log?: string, qemu10?: Qemu10) {
  const qemu = [qemu10?.bin ?? 'qemu-system-x86_64', ...(qemu10 ? ['-L', qemu10.firmware] : []), '-M', 'q35', '-m', '128', '-nographic', '-nodefaults', '-display', 'none', '-monitor', 'none', '-serial', 'stdio'];
  return spawnSync(
    process.execPath,
    [
      'bin/vfio-emu.cjs', 'exec', ...machine, '--bind', bdf, '--trace', trace, ...(log ? ['--log', log] : []), '--',
      ...(qemu10?.launcher ?? []), ...qemu, '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-kernel', guest_(), ...(qemu10?.args ?? []),
      '-device', `vfio-pci${qemu10?.launcher ? '' : `,host=${bdf}`}${qemu10?.device ?? ''}`,
    ],
    { env, encoding: 'utf8', timeout: 60_000 },
  );
}

/** The guest's serial output when config cycles, BAR registers, INTx, MSI and DMA all work. */
export const EDU_SERIAL = [
  'edu: device 0x00000001',
  'edu: class 0x0000ff00',
  'edu: ident 0x010000ed',
  'edu: liveness 0xedcba987',
  'edu: factorial(5) 0x00000078',
  // INTx: SeaBIOS's line for slot 1's INTA#, pending in the 8259, then acknowledged.
  'edu: irq line 0x0000000a',
  'edu: intx pending 0x00000001',
  'edu: irq status 0x00000001',
  'edu: irq status 0x00000000',
  // MSI: nothing without bus mastering, then vector 0x41 in the local APIC.
  'edu: msi cap 0x00000040',
  'edu: msi 0x41 without bus master 0x00000000',
  'edu: msi 0x41 pending 0x00000001',
  // DMA out and back, the second raising edu's DMA interrupt (0x100) as vector 0x42.
  'edu: dma msi 0x42 pending 0x00000001',
  'edu: irq status 0x00000100',
  'edu: dma bytes equal 0x00000040',
  'edu: dma_in[0..3] 0xa3a2a1a0',
  '',
].join('\n');
