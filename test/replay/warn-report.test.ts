// A recorded WARN report is replayed as a unit against the model's WARN fact (replay.ts
// warnReport; docs/trace-format.md "What replay compares"). The oracle is a real recording:
// Linux 7.2.13's compat MAP_DMA with flags 0 (test/fixtures/real-kernel-iommufd), lines 63
// (the ioctl) to 105 (the end marker), edited here one part at a time.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrace } from '../../src/trace/reader.js';
import { DEFERRED_BOOT_REASON, replayTrace, WARN_MACHINE_REASON } from '../../src/trace/replay.js';
import { cli, scenario, tmp } from '../cli/run-cli.js';

const FILE = 'test/fixtures/real-kernel-iommufd/x86-7.2-iommufd-container-intremap-on/edu-container-type1v2.jsonl';
const LINES = readFileSync(FILE, 'utf8').trimEnd().split('\n');
const PT = 'drivers/iommu/generic_pt/fmt/../iommu_pt.h';
const kmsg = (text: string) => JSON.stringify({ op: 'kmsg', text });

/** The trace with `edit` applied to its lines (index = trace line - 1). */
function replay(edit: (l: string[]) => void = () => {}) {
  const l = LINES.slice();
  edit(l);
  return replayTrace(readTrace(`${l.join('\n')}\n`, 't.jsonl'), 't.jsonl').results;
}
const at = (results: ReturnType<typeof replay>, line: number) => results.filter((r) => r.line === line).map((r) => ({ status: r.status, diffs: r.diffs }));
const differ = (results: ReturnType<typeof replay>) => results.filter((r) => r.status === 'differs').map((r) => ({ line: r.line, diffs: r.diffs }));

describe('a recorded WARN report against the model', () => {
  // Rule: the owned lines match, the machine's lines are skipped with the reason, one result each.
  it('as recorded: no difference', () => {
    const r = replay();
    expect(differ(r)).toEqual([]);
    expect(at(r, 65)).toEqual([{ status: 'match', diffs: [] }]);
    expect(at(r, 67)).toEqual([{ status: 'match', diffs: [] }]);
    expect(r.filter((x) => x.line >= 64 && x.line <= 105).map((x) => x.status === 'skipped')).toEqual(
      Array.from({ length: 42 }, (_, i) => ![64, 65, 67, 68, 105].includes(64 + i)),
    );
    expect(r.find((x) => x.line === 66)!.reason).toBe(WARN_MACHINE_REASON);
  });

  // Rule: the WARN_ON's file:line is the model's.
  it('another line of iommu_pt.h differs', () => {
    const r = replay((l) => (l[64] = l[64]!.replace('iommu_pt.h:947', 'iommu_pt.h:948')));
    expect(differ(r)).toEqual([{ line: 65, diffs: [{ field: 'file:line', recorded: `${PT}:948`, model: `${PT}:947` }] }]);
  });

  // Rule: the function is the IOMMU's page-table format's.
  it('another function differs', () => {
    const r = replay((l) => (l[64] = l[64]!.replace('at vtdss_map_range+', 'at amdv1_map_range+')));
    expect(differ(r)).toEqual([{ line: 65, diffs: [{ field: 'function', recorded: 'amdv1_map_range', model: 'vtdss_map_range' }] }]);
  });

  // Rule: the hardware name is the preset's.
  it('another machine differs', () => {
    const r = replay((l) => (l[67] = kmsg('Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014')));
    expect(differ(r)).toEqual([
      {
        line: 68,
        diffs: [
          {
            field: 'hardware',
            recorded: '"Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014"',
            model: '"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014"',
          },
        ],
      },
    ]);
  });

  // Rule: a recorded W the model lacks is an earlier process's WARN in the same boot; its verbose line must follow.
  it('tainted by the boot: accepted with its verbose line, not without', () => {
    const tainted = (l: string[]) => (l[66] = l[66]!.replace('Not tainted', 'Tainted: G        W          '));
    expect(differ(replay((l) => (tainted(l), l.splice(67, 0, kmsg('Tainted: [W]=WARN')))))).toEqual([]);
    expect(differ(replay(tainted))).toEqual([
      { line: 65, diffs: [{ field: 'taint', recorded: 'no "Tainted: [..]" line', model: '"Tainted: [W]=WARN"' }] },
    ]);
  });

  // Rule: a second report in one trace: the model is tainted now, and the process is the same one.
  it('the second report: Not tainted and another pid differ', () => {
    const r = replay((l) => {
      const again = l.slice(62, 105).map((x) => x.replaceAll('iommufdprobe/94', 'iommufdprobe/95').replace('PID: 94', 'PID: 95'));
      l.splice(105, 0, ...again);
    });
    expect(differ(r)).toEqual([
      {
        line: 108,
        diffs: [{ field: 'task', recorded: 'iommufdprobe/95', model: 'vfio-emu/100 (the recording\'s iommufdprobe/94 at line 65)' }],
      },
      { line: 110, diffs: [{ field: 'taint', recorded: '"Not tainted"', model: '"Tainted: G        W          "' }] },
    ]);
  });

  // Rule: a kernel without generic_pt (6.18) prints no report: every line of the recorded one differs.
  it('no model report', () => {
    const r = replay((l) => (l[0] = l[0]!.replace('"kernel":"7.2.13"', '"kernel":"6.18.15"')));
    expect(at(r, 65)).toEqual([
      { status: 'differs', diffs: [{ field: 'text', recorded: JSON.stringify(JSON.parse(LINES[64]!).text), model: 'no WARN report' }] },
    ]);
    expect(at(r, 105)[0]!.status).toBe('differs');
  });
});

describe('deferred boot lines', () => {
  const tsc = kmsg('tsc: Refined TSC clocksource calibration: 2096.003 MHz');

  // Rule: x86's TSC refinement prints once per boot at no particular call: skipped once, a second time differs.
  it('once, then a difference', () => {
    const r = replay((l) => l.splice(62, 0, tsc, tsc));
    expect(r.filter((x) => x.line === 63 || x.line === 64).map((x) => x.status)).toEqual(['skipped', 'differs']);
    expect(r.find((x) => x.line === 63)!.reason).toBe(DEFERRED_BOOT_REASON);
  });
});

// The older form (4.11's __warn, Era.warnForm 'cpu-pid'): the model prints CUT_HERE and
// "WARNING: CPU: %d PID: %d at %s:%d %pS"; replay compares that headline's site, function and
// PID, and takes the rest of a recorded report (CPU line, registers, an end marker with a
// random id) as the machine's.
describe('a WARN report in the older form', () => {
  const SCENARIO =
    'kernel 4.11\nplatform qemu-virt-smmuv3\nparam vfio_iommu_type1.allow_unsafe_interrupts=Y\nbind 0000:00:01.0 vfio-pci\n' +
    'open /dev/vfio/vfio as c\nopen /dev/vfio/0 as g\nioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nmmap 1M as buf\n' +
    'ioctl c MAP_DMA flags=READ|WRITE vaddr=buf iova=0x8000000 size=64K\nioctl g GET_DEVICE_FD 0000:00:01.0 as dev\neventfd as e\n' +
    'ioctl dev SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e\n';
  const recorded = (() => {
    const file = join(tmp, 'old-warn.jsonl');
    expect(cli(['run', '--trace', file, scenario('old-warn.vfio', SCENARIO)]).status).toBe(0);
    return readFileSync(file, 'utf8').trimEnd().split('\n');
  })();
  const head = recorded.findIndex((l) => l.includes('WARNING: CPU: 0 PID: 100 at drivers/iommu/dma-iommu.c:812 iommu_dma_map_msi_msg'));
  const replayOld = (edit: (l: string[]) => void) => {
    const l = recorded.slice();
    edit(l);
    return replayTrace(readTrace(`${l.join('\n')}\n`, 't.jsonl'), 't.jsonl').results;
  };

  // Rule: as a real 4.11 kernel prints it (offsets, CPU line, registers, end marker with an id): no difference.
  it('with the machine lines a real report carries: no difference', () => {
    const r = replayOld((l) => {
      l[head] = kmsg('WARNING: CPU: 0 PID: 812 at drivers/iommu/dma-iommu.c:812 iommu_dma_map_msi_msg+0x1d8/0x1f0');
      l.splice(head + 1, 0, kmsg('CPU: 0 PID: 812 Comm: qemu-system-aar Not tainted 4.11.0 #1'), kmsg('---[ end trace 5a1b2c3d4e5f6a7b ]---'));
    });
    expect(differ(r)).toEqual([]);
    expect(r.filter((x) => x.reason === WARN_MACHINE_REASON)).toHaveLength(2);
  });

  // Rule: the site is compared: another line of dma-iommu.c differs.
  it('another line: file:line differs', () => {
    const r = replayOld((l) => {
      l[head] = kmsg('WARNING: CPU: 0 PID: 100 at drivers/iommu/dma-iommu.c:886 iommu_dma_map_msi_msg');
    });
    expect(differ(r)).toEqual([
      { line: head + 1, diffs: [{ field: 'file:line', recorded: 'drivers/iommu/dma-iommu.c:886', model: 'drivers/iommu/dma-iommu.c:812' }] },
    ]);
  });
});
