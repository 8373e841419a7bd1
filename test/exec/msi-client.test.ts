// The seed's doorbell story from a real userspace driver (test/native/msi-client.c, built here
// with the system's cc): it takes the X540 PF of the AMD Overdrive through type1, maps a DMA
// buffer, registers the MSI window where the series asks for one, enables MSI with an eventfd,
// makes the PF raise vector 0 itself (EIMS, EICS through BAR0 pwrite) and polls the eventfd.
// Run unmodified under `vfio-emu exec` at 4.10 (the MSI faults in the SMMU), at rfc-v10 (the
// attach is refused; with allow_unsafe_interrupts and the window registered, delivered; with
// no window, MSI cannot be enabled) and at 6.1 (the kernel maps the doorbell itself: delivered
// with no window). Every trace replays.
// QEMU 7.2 in the same places: test/exec/qemu.test.ts.

import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, env, tmp } from '../cli/run-cli.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const client = join(tmp, 'msi-client');

// Nothing is skipped: without a compiler the build fails, saying so (.ci/run installs cc).
describe('the MSI client builds', () => {
  test('cc test/native/msi-client.c', () => {
    const r = spawnSync('cc', ['-O1', '-Wall', '-o', client, 'test/native/msi-client.c'], { encoding: 'utf8' });
    expect([hasCc, r.status, r.stderr]).toEqual([true, 0, '']);
  });
});

interface ClientRun {
  status: number;
  stdout: string;
  /** The --log lines of the kernel log and of IOMMU faults. */
  kernelLog: string[];
  events: { request?: string; in?: string; ret?: number; errno?: number }[];
  replay: string;
}

/** The client under `vfio-emu exec` with `machine` options, `bdf` bound, `mode` its uapi. */
function runClient_(name: string, machine: string[], bdf: string, mode?: 'series'): ClientRun {
  const trace = join(tmp, `${name}.jsonl`);
  const log = join(tmp, `${name}.log`);
  const r = spawnSync(
    process.execPath,
    ['bin/vfio-emu.cjs', 'exec', ...machine, '--bind', bdf, '--trace', trace, '--log', log, '--', client, bdf, ...(mode ? [mode] : [])],
    { env, encoding: 'utf8', timeout: 30_000 },
  );
  expect(r.stderr).toBe('');
  const lines = readFileSync(trace, 'utf8').trim().split('\n').slice(1);
  return {
    status: r.status ?? -1,
    stdout: r.stdout,
    kernelLog: readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('kmsg: ') || l.startsWith('fault: ')),
    events: lines.map((l) => JSON.parse(l) as ClientRun['events'][number]),
    replay: cli(['replay', trace]).stdout.trim().split('\n').at(-1)!,
  };
}

const OVERDRIVE = ['--platform', 'amd-overdrive'];
const UNSAFE = ['--param', 'vfio_iommu_type1.allow_unsafe_interrupts=Y'];
const X540 = '0000:01:00.0';
const SMMU_FAULT = 'arm-smmu e0a00000.smmu: Unhandled context fault: fsr=0x2, iova=0xe1180040, fsynr=0x10, cb=0';
/** The client's last lines when vector 0 reached its eventfd. */
const DELIVERED = ['read eventfd = 8', 'MSI vector 0: eventfd count 1', 'SET_IRQS MSI off = 0', ''];
const allMatch = (run: ClientRun) => `${run.events.length} events, ${run.events.length} match, 0 differ, 0 skipped`;

describe('the doorbell story from a userspace driver', () => {
  // 4.10: the ARM SMMU driver claims IOMMU_CAP_INTR_REMAP, so the attach and SET_IRQS succeed;
  // GET_INFO has no capability, so the driver registers nothing, and nothing maps the GICv2m
  // doorbell (frame 0xe1180000, SETSPI_NS at +0x40) in the domain. The PF's MSI write to the
  // doorbell's physical address faults in the SMMU, and the eventfd never fires.
  test('amd-overdrive at 4.10: the MSI faults in the SMMU, the wait times out', () => {
    const run = runClient_('msi-4.10', [...OVERDRIVE, '--kernel', '4.10'], X540, 'series');
    expect(run.stdout).toBe(
      [
        'device 8086:1528',
        'SET_CONTAINER = 0',
        'SET_IOMMU = 0',
        'IOMMU_GET_INFO argsz 24 flags 0x1 iova_pgsizes 0x40201000',
        'no capabilities',
        'MAP_DMA buffer = 0',
        'MSI vectors 1 flags 0x9',
        'SET_IRQS MSI eventfd = 0',
        'EICR 0x00000001',
        'MSI vector 0: timeout after 200 ms',
        'SET_IRQS MSI off = 0',
        '',
      ].join('\n'),
    );
    expect(run.status).toBe(1);
    expect(run.kernelLog).toEqual([`kmsg: ${SMMU_FAULT}`, `fault: ${SMMU_FAULT}`]);
    expect(run.replay).toBe(allMatch(run));
  });

  // rfc-v10 ([PATCH v10 6/8] vfio/type1: check doorbell safety, and 7/8, which drops the ARM
  // SMMU's INTR_REMAP claim): the GICv2m doorbell does not isolate MSIs, so the attach is
  // refused with EPERM and the kernel's warning, before the driver gets anywhere.
  test('amd-overdrive at rfc-v10: SET_IOMMU -EPERM, "No interrupt remapping support"', () => {
    const run = runClient_('msi-v10', [...OVERDRIVE, '--kernel', 'rfc-v10'], X540, 'series');
    expect(run.stdout).toBe(['device 8086:1528', 'SET_CONTAINER = 0', 'SET_IOMMU = -1 Operation not permitted', ''].join('\n'));
    expect(run.status).toBe(2);
    const setIommu = run.events.find((e) => e.request === 'VFIO_SET_IOMMU');
    expect([setIommu?.ret, setIommu?.errno]).toEqual([-1, 1]);
    expect(run.kernelLog).toEqual([
      'kmsg: vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "allow_unsafe_interrupts" to enable VFIO IOMMU support on this platform',
    ]);
    expect(run.replay).toBe(allMatch(run));
  });

  // rfc-v10 with allow_unsafe_interrupts: GET_INFO's MSI_GEOMETRY asks for one 4 KiB page (one
  // GICv2m doorbell: msi_doorbell_calc_pages(12) << 12); the driver registers it with MAP_DMA's
  // RESERVED_MSI_IOVA flag, the msi-iommu layer maps the doorbell page there when MSI is
  // enabled, and the PF's write reaches the doorbell: the eventfd fires once.
  test('amd-overdrive at rfc-v10 with allow_unsafe_interrupts: the window registered, the MSI delivered', () => {
    const run = runClient_('msi-v10-unsafe', [...OVERDRIVE, '--kernel', 'rfc-v10', ...UNSAFE], X540, 'series');
    expect(run.stdout).toBe(
      [
        'device 8086:1528',
        'SET_CONTAINER = 0',
        'SET_IOMMU = 0',
        'IOMMU_GET_INFO argsz 64 flags 0x3 iova_pgsizes 0x40201000',
        'MSI geometry: order 12 size 0x1000',
        'MAP_DMA buffer = 0',
        'MSI window 0x8000000-0x8000fff',
        'MAP_DMA RESERVED_MSI_IOVA = 0',
        'MSI vectors 1 flags 0x9',
        'SET_IRQS MSI eventfd = 0',
        'EICR 0x00000001',
        ...DELIVERED,
      ].join('\n'),
    );
    expect(run.status).toBe(0);
    expect(run.kernelLog).toEqual([]);
    // The window's MAP_DMA as the kernel got it: argsz 32, flags 4, vaddr 0, iova 0x8000000, size 0x1000.
    const maps = run.events.filter((e) => e.request === 'VFIO_IOMMU_MAP_DMA');
    expect(maps.at(-1)?.in).toBe('2000000004000000000000000000000000000008000000000010000000000000');
    expect(run.replay).toBe(allMatch(run));
  });

  // The same driver built for upstream's uapi registers no window. It reads the series'
  // capability 1 (MSI_GEOMETRY, flags 0 at byte 8) as IOVA_RANGE with nr_iovas 0, as any
  // upstream-built program would; then, with no window, the ARM SMMU's domain has no aperture
  // to map the doorbell in, and enabling MSI fails ("[PATCH 42/57] genirq/msi: map/unmap the
  // MSI doorbells on msi_domain_alloc/free_irqs": iommu_msi_get_doorbell_iova() is -EINVAL).
  test('amd-overdrive at rfc-v10 with allow_unsafe_interrupts, no window: SET_IRQS -EINVAL', () => {
    const run = runClient_('msi-v10-upstream', [...OVERDRIVE, '--kernel', 'rfc-v10', ...UNSAFE], X540);
    expect(run.stdout).toBe(
      [
        'device 8086:1528',
        'SET_CONTAINER = 0',
        'SET_IOMMU = 0',
        'IOMMU_GET_INFO argsz 64 flags 0x3 iova_pgsizes 0x40201000',
        'IOVA ranges:',
        'MAP_DMA buffer = 0',
        'MSI vectors 1 flags 0x9',
        'SET_IRQS MSI eventfd = -1 Invalid argument',
        '',
      ].join('\n'),
    );
    expect(run.status).toBe(2);
    expect(run.kernelLog).toEqual([]);
    expect(run.replay).toBe(allMatch(run));
  });

  // 6.1 on the GICv3 ITS machine: type1 takes the SMMUv3's software MSI region as the domain's
  // MSI cookie (iommu_get_msi_cookie) and the ITS driver maps its doorbell there when the
  // vector is prepared (iommu_dma_prepare_msi). The driver registers nothing (the IOVA list
  // shows the hole at 0x8000000..0x80fffff) and edu's MSI is delivered.
  test('qemu-virt-smmuv3 (GICv3 ITS) at 6.1: delivered with no window', () => {
    const run = runClient_('msi-6.1-its', ['--platform', 'qemu-virt-smmuv3,gic=v3', '--kernel', '6.1'], '0000:00:01.0');
    expect(run.stdout).toBe(
      [
        'device 1234:11e8',
        'SET_CONTAINER = 0',
        'SET_IOMMU = 0',
        'IOMMU_GET_INFO argsz 116 flags 0x3 iova_pgsizes 0x40201000',
        'IOVA ranges: 0x0-0x7ffffff 0x8100000-0xffffffffffff',
        'MAP_DMA buffer = 0',
        'MSI vectors 1 flags 0x9',
        'SET_IRQS MSI eventfd = 0',
        'irq status 0x00000001',
        ...DELIVERED,
      ].join('\n'),
    );
    expect(run.status).toBe(0);
    expect(run.kernelLog).toEqual(['kmsg: vfio-pci 0000:00:01.0: enabling device (0000 -> 0002)']);
    expect(run.replay).toBe(allMatch(run));
  });

  // 6.1 on the Overdrive itself: the same cookie maps the GICv2m doorbell, so the X540's MSI is
  // delivered with no window; the doorbell still does not isolate MSIs, so only with
  // allow_unsafe_interrupts (the 6.1 rule: iommu_group_has_isolated_msi / MSI_REMAP).
  test('amd-overdrive at 6.1 with allow_unsafe_interrupts: delivered with no window', () => {
    const run = runClient_('msi-6.1-overdrive', [...OVERDRIVE, '--kernel', '6.1', ...UNSAFE], X540);
    expect(run.stdout.split('\n').slice(3, 5)).toEqual(['IOMMU_GET_INFO argsz 116 flags 0x3 iova_pgsizes 0x40201000', 'IOVA ranges: 0x0-0x7ffffff 0x8100000-0xffffffffffff']);
    expect(run.stdout.split('\n').slice(-4)).toEqual(DELIVERED);
    expect(run.status).toBe(0);
    expect(run.kernelLog).toEqual([]);
    expect(run.replay).toBe(allMatch(run));
  });
});
