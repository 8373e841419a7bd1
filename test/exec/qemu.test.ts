// Acceptance with a real client: Debian's QEMU 7.2 assigns the emulated edu with
// `-device vfio-pci,host=…` on the qemu-q35-vtd machine, under `vfio-emu exec`. QEMU realizes the
// device (container, group, guest RAM mapped with MAP_DMA, config space, BARs, IRQ info), and its
// monitor shows the device the guest would see. The trace replays with no difference.

import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, env, tmp } from '../cli/run-cli.js';
import { EDU_SERIAL, runGuest_ } from './edu-guest.js';

const hasQemu = spawnSync('qemu-system-x86_64', ['-version'], { stdio: 'ignore' }).status === 0;
const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;

// Nothing is skipped: without QEMU or a compiler these cases fail, saying what is missing
// (.ci/run installs both).
describe('the acceptance tools', () => {
  test('qemu-system-x86_64 and cc are installed', () => {
    expect({ qemu: hasQemu, cc: hasCc }, 'install qemu-system-x86 and a C compiler (.ci/run does it with apt-get)').toEqual({ qemu: true, cc: true });
  });
});

describe('QEMU vfio-pci on the model', () => {
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
// factorial registers, each a pread/pwrite on the device fd (BAR mmap is refused). Then edu's
// interrupts reach the guest's interrupt controllers: INTx (the model's INTx eventfd, QEMU's
// PIRQ to the 8259, unmasked by QEMU through the unmask eventfd) and MSI (the model writes the
// host message into edu's capability; edu's write crosses VT-d to the doorbell; QEMU's MSI
// eventfd; the guest's local APIC) — and no MSI while Bus Master Enable is clear, as an MSI is
// a memory write. Last, edu's DMA engine copies guest RAM into its buffer and back through the
// IOMMU model into QEMU's own guest RAM, and the guest compares the bytes. It ends QEMU through
// isa-debug-exit: status (0 << 1) | 1.
describe('a guest drives edu', () => {
  test('config space, BAR registers, INTx, MSI and DMA from the guest', () => {
    const trace = join(tmp, 'guest.jsonl');
    const r = runGuest_(['--platform', 'qemu-q35-vtd', '--kernel', '6.12'], '0000:00:01.0', trace);
    expect(r.stderr).toBe('qemu-system-x86_64: vfio: Cannot reset device 0000:00:01.0, no available reset mechanism.\n'.repeat(2));
    expect(r.status).toBe(1);
    const serial = r.stdout.slice(r.stdout.indexOf('edu: '));
    expect(serial).toBe(EDU_SERIAL);
    const lines = readFileSync(trace, 'utf8').trim().split('\n').slice(1);
    // QEMU's SET_IRQS as the trace holds them (flags/index): INTx trigger eventfd (0x24 =
    // DATA_EVENTFD|ACTION_TRIGGER, index 0), the device-request eventfd (index 4), INTx off (0x21
    // = DATA_NONE|ACTION_TRIGGER) and on again across QEMU's resets, INTx unmasked (0x11 =
    // DATA_NONE|ACTION_UNMASK) at the BAR accesses after the interrupt, INTx off when the guest
    // enables MSI, then MSI (index 1) with its eventfd — every one answered 0.
    const irqs = lines.map((l) => JSON.parse(l) as { request?: string; in?: string; ret: number }).filter((e) => e.request === 'VFIO_DEVICE_SET_IRQS');
    // How many BAR accesses QEMU makes while its INTx is pending (each one unmasks: vfio_intx_eoi
    // from vfio_region_write/read) depends on when its main loop sees the eventfd, so a run of
    // unmasks counts as one.
    const calls = irqs.map((e) => `${e.in?.slice(8, 16)}/${e.in?.slice(16, 24)} ${e.ret}`);
    expect(calls.filter((c, i) => !(c === '11000000/00000000 0' && calls[i - 1] === c))).toEqual([
      '24000000/00000000 0', '24000000/04000000 0', '21000000/00000000 0',
      '24000000/00000000 0', '21000000/00000000 0',
      '24000000/00000000 0', '11000000/00000000 0', '21000000/00000000 0',
      '24000000/01000000 0',
    ]);
    const events = lines.length;
    expect(cli(['replay', trace]).stdout.trim().split('\n').at(-1)).toBe(`${events} events, ${events} match, 0 differ, 0 skipped`);
  });
});

// qemu-virt-smmuv3 at 6.1: the SMMU's software MSI window (0x8000000..0x80fffff) is a reserved
// region, and since 5.x type1 refuses a MAP_DMA that crosses one (vfio_iommu_iova_dma_valid()).
// A q35 guest with 256 MiB of RAM has pc.ram at GPA 0..0x10000000, across the window, so QEMU's
// first MAP_DMA fails with -EINVAL and QEMU gives up on the device, in its own words.
describe('QEMU on smmuv3 at 6.1', () => {
  test('guest RAM over the MSI window: MAP_DMA -EINVAL and QEMU stops', () => {
    const trace = join(tmp, 'smmuv3.jsonl');
    const qemu = ['qemu-system-x86_64', '-M', 'q35', '-m', '256', '-nographic', '-nodefaults', '-display', 'none', '-S', '-monitor', 'none', '-serial', 'none'];
    const r = spawnSync(
      process.execPath,
      ['bin/vfio-emu.cjs', 'exec', '--platform', 'qemu-virt-smmuv3', '--kernel', '6.1', '--bind', '0000:00:01.0', '--trace', trace, '--', ...qemu, '-device', 'vfio-pci,host=0000:00:01.0'],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    // QEMU's pointers (container, host address) vary from run to run.
    expect(r.stderr.replace(/0x[0-9a-f]{12}\b/g, 'PTR')).toBe(
      'qemu-system-x86_64: -device vfio-pci,host=0000:00:01.0: VFIO_MAP_DMA failed: Invalid argument\n' +
        'qemu-system-x86_64: -device vfio-pci,host=0000:00:01.0: vfio 0000:00:01.0: failed to setup container for group 0: ' +
        'memory listener initialization failed: Region pc.ram: vfio_dma_map(PTR, 0x0, 0x10000000, PTR) = -22 (Invalid argument)\n',
    );
    const events = readFileSync(trace, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { request?: string; in?: string; ret: number; errno: number });
    // The first MAP_DMA: flags READ|WRITE, iova 0, size 0x10000000 (bytes 16..31 of the struct).
    const map = events.find((e) => e.request === 'VFIO_IOMMU_MAP_DMA');
    expect([map?.in?.slice(32, 64), map?.ret, map?.errno]).toEqual(['00000000000000000000001000000000', -1, 22]);
    expect(cli(['replay', trace]).stdout.trim().split('\n').at(-1)).toBe(`${events.length} events, ${events.length} match, 0 differ, 0 skipped`);
  });
});

// The seed's doorbell story from a real client: amd-overdrive at 4.10 (an arm64 machine; QEMU
// x86 drives it through the same ioctls). No edu there, so the guest takes the X540 PF and
// raises MSI vector 0 by software (EIMS, EICS). The ARM SMMU driver claims INTR_REMAP, so the
// attach and QEMU's SET_IRQS succeed, but nothing maps the GICv2m doorbell in the domain: the
// X540's MSI write to the doorbell's physical address faults in the SMMU, and the guest's
// local APIC never sees the vector. The fault is in --log, in arm-smmu's words.
describe('the doorbell story from QEMU', () => {
  test('amd-overdrive at 4.10: the MSI faults in the SMMU', () => {
    const trace = join(tmp, 'overdrive.jsonl');
    const log = join(tmp, 'overdrive.log');
    const r = runGuest_(['--platform', 'amd-overdrive', '--kernel', '4.10'], '0000:01:00.0', trace, log);
    expect(r.status).toBe(1);
    expect(r.stdout.slice(r.stdout.indexOf('x540: '))).toBe(
      ['x540: device 0x00000001', 'x540: msi cap 0x00000050', 'x540: eicr 0x00000001', 'x540: msi 0x43 pending 0x00000000', ''].join('\n'),
    );
    expect(readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('fault: '))).toEqual([
      'fault: arm-smmu e0a00000.smmu: Unhandled context fault: fsr=0x2, iova=0xe1180040, fsynr=0x10, cb=0',
    ]);
    const events = readFileSync(trace, 'utf8').trim().split('\n').length - 1;
    expect(cli(['replay', trace]).stdout.trim().split('\n').at(-1)).toBe(`${events} events, ${events} match, 0 differ, 0 skipped`);
  });

  // rfc-v10 with allow_unsafe_interrupts: the attach goes through, but the series maps MSI
  // doorbells only in a window the user registers with MAP_DMA's RESERVED_MSI_IOVA flag, which
  // QEMU 7.2 never sends. Behind the ARM SMMU the MSI layer must map the doorbell when the
  // vectors are allocated, and with no window iommu_msi_get_doorbell_iova() answers -EINVAL
  // ("[PATCH 42/57] genirq/msi: map/unmap the MSI doorbells on msi_domain_alloc/free_irqs";
  // Era.msiWindowMissing): QEMU's SET_IRQS for MSI fails and QEMU says so in its own words. The
  // guest enabled MSI and sees nothing: an unmodified VMM gains nothing from the series without
  // learning its uapi. (The scenario seeds/000-allow-unsafe-delivered.vfio and the userspace
  // driver of msi-client.test.ts register the window and are delivered.)
  test('amd-overdrive at rfc-v10, allow_unsafe_interrupts: QEMU registers no MSI window, its MSI SET_IRQS fails', () => {
    const trace = join(tmp, 'overdrive-v10.jsonl');
    const log = join(tmp, 'overdrive-v10.log');
    const r = runGuest_(['--platform', 'amd-overdrive', '--kernel', 'rfc-v10', '--param', 'vfio_iommu_type1.allow_unsafe_interrupts=Y'], '0000:01:00.0', trace, log);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('qemu-system-x86_64: vfio: Error: Failed to setup MSI fds: Invalid argument\nqemu-system-x86_64: vfio: Error: Failed to enable MSI\n');
    expect(r.stdout.slice(r.stdout.indexOf('x540: '))).toBe(
      ['x540: device 0x00000001', 'x540: msi cap 0x00000050', 'x540: eicr 0x00000001', 'x540: msi 0x43 pending 0x00000000', ''].join('\n'),
    );
    const events = readFileSync(trace, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { request?: string; in?: string; ret?: number; errno?: number });
    // QEMU's MAP_DMA flags: READ|WRITE (3) for RAM, READ (1) for ROM — never RESERVED_MSI_IOVA (4).
    expect([...new Set(events.filter((e) => e.request === 'VFIO_IOMMU_MAP_DMA').map((e) => e.in?.slice(8, 16)))].sort()).toEqual(['01000000', '03000000']);
    // The last SET_IRQS: DATA_EVENTFD|ACTION_TRIGGER (0x24) on index 1 (MSI), -EINVAL.
    const irqs = events.filter((e) => e.request === 'VFIO_DEVICE_SET_IRQS');
    expect(irqs.map((e) => `${e.in?.slice(8, 16)}/${e.in?.slice(16, 24)} ${e.ret} ${e.errno}`).at(-1)).toBe('24000000/01000000 -1 22');
    // No message was programmed, so the PF raised nothing through the SMMU: no fault.
    expect(readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('fault: '))).toEqual([]);
    expect(cli(['replay', trace]).stdout.trim().split('\n').at(-1)).toBe(`${events.length} events, ${events.length} match, 0 differ, 0 skipped`);
  });
});
