// A WARN_ON report as one log fact (kernel/log.ts warnOn): what __report_bug and __warn print
// (lib/bug.c, kernel/panic.c of 7.2), the taint it leaves (add_taint(TAINT_WARN)), and where
// generic_pt's map_range WARN_ON sits in each era (kernel/iommu/generic-pt.ts).

import { describe, expect, it } from 'vitest';
import { KernelLog, type WarnSite } from '../../src/kernel/log.js';
import { parseTaintText, taintText, taintVerboseText } from '../../src/kernel/taint.js';
import { mapNoAccessWarnSite } from '../../src/kernel/iommu/generic-pt.js';
import { resolveEra } from '../../src/kernel/era.js';
import { boot } from '../../src/machine/boot.js';

const SITE: WarnSite = { file: 'drivers/iommu/generic_pt/fmt/../iommu_pt.h', line: 947, fn: 'vtdss_map_range' };
const text = (log: KernelLog) => log.lines.map((l) => l.text);

describe('the WARN report', () => {
  // Rule: the first WARN of a boot prints "Not tainted"; the report names the running task.
  it('first report: the lines, the task, no taint', () => {
    const log = new KernelLog('QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014');
    log.current = { comm: 'iommufdprobe', pid: 94 };
    log.warnOn(SITE);
    expect(text(log)).toEqual([
      '------------[ cut here ]------------',
      'WARNING: drivers/iommu/generic_pt/fmt/../iommu_pt.h:947 at vtdss_map_range, CPU#0: iommufdprobe/94',
      'CPU: 0 UID: 0 PID: 94 Comm: iommufdprobe Not tainted',
      'Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014',
      '---[ end trace 0000000000000000 ]---',
    ]);
    expect(log.lines.map((l) => l.level)).toEqual(['info', 'warn', 'info', 'info', 'warn']);
  });

  // Rule: __warn taints after printing: the second report says W, and prints the verbose taint.
  it('second report: Tainted G W and [W]=WARN', () => {
    const log = new KernelLog();
    log.current = { comm: 'probe', pid: 97 };
    const first = log.warnOn(SITE);
    const second = log.warnOn(SITE);
    expect([...first.taint]).toEqual([]);
    expect([...second.taint]).toEqual(['W']);
    expect(text(log).slice(4)).toEqual([
      '------------[ cut here ]------------',
      'WARNING: drivers/iommu/generic_pt/fmt/../iommu_pt.h:947 at vtdss_map_range, CPU#0: probe/97',
      'CPU: 0 UID: 0 PID: 97 Comm: probe Tainted: G        W          ',
      'Tainted: [W]=WARN',
      '---[ end trace 0000000000000000 ]---',
    ]);
  });

  // Rule: every line of the text form carries the same fact (what replay matches as a unit).
  it('one fact behind all lines', () => {
    const log = new KernelLog();
    const w = log.warnOn(SITE);
    expect(log.lines.every((l) => l.warn === w)).toBe(true);
    expect(log.lines.length).toBe(4);
  });
});

describe('print_tainted', () => {
  // Rule: one letter or blank per taint_flags[] row; P/G for the proprietary flag.
  it('text and back', () => {
    expect(taintText(new Set())).toBe('Not tainted');
    expect(taintText(new Set(['W']))).toBe('Tainted: G        W          ');
    expect(taintText(new Set(['P', 'W', 'J']))).toBe('Tainted: P        W         J');
    expect(taintVerboseText(new Set(['P', 'W']))).toBe('Tainted: [P]=PROPRIETARY_MODULE, [W]=WARN');
    expect([...parseTaintText('Tainted: G        W          ')!]).toEqual(['W']);
    expect(parseTaintText('Tainted: G       W           ')).toBe(undefined);
    expect(parseTaintText('Tainted: G W')).toBe(undefined);
  });
});

describe("generic_pt's map_range WARN_ON by era and IOMMU", () => {
  const vtd = boot('7.2', 'qemu-q35-vtd').platform.iommus[0]!;
  const smmu = boot('7.2', 'qemu-virt-smmuv3').platform.iommus[0]!;

  // Rule: before d373449d8e97 (6.19) VT-d refused the prot in __domain_mapping, silently.
  it('6.18: none', () => {
    expect(mapNoAccessWarnSite(resolveEra('6.18')!, vtd)).toBe(undefined);
  });

  // Rule: the line is the era's iommu_pt.h (6.19.14: 864, 7.2.13: 947), the function the format's.
  it('6.19 and 7.2: vtdss_map_range', () => {
    expect(mapNoAccessWarnSite(resolveEra('6.19')!, vtd)).toEqual({ ...SITE, line: 864 });
    expect(mapNoAccessWarnSite(resolveEra('7.2')!, vtd)).toEqual(SITE);
  });

  // Rule: an IOMMU whose page table is no generic_pt format (SMMUv3's io-pgtable-arm) has no such WARN.
  it('SMMUv3: none', () => {
    expect(mapNoAccessWarnSite(resolveEra('7.2')!, smmu)).toBe(undefined);
  });
});
