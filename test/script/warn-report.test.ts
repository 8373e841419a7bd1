// A kernel WARN in a scenario: `show dmesg` and `expect dmesg` see the report's lines as the
// model prints them (kernel/log.ts warnOn). Oracle: Linux 7.2.13's compat MAP_DMA with flags 0
// (test/fixtures/real-kernel-iommufd, iommu_pt.h:947 at vtdss_map_range).

import { describe, expect, it } from 'vitest';
import { at, run_ } from './run-scenario.js';

const compat =
  'kernel 7.2 config=iommufd-compat\nplatform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/1 as g\n' +
  'ioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nioctl g GET_DEVICE_FD 0000:00:01.0 as d\nmmap 1M as buf\n';
const flags0 = 'ioctl c MAP_DMA flags=0 vaddr=buf iova=0x100000 size=4K\n';

describe('a WARN in a scenario', () => {
  // Rule: the report follows the call that tripped it; the second is tainted by the first.
  it('the lines of two reports', () => {
    const evs = run_(compat + flags0 + flags0);
    const dmesg = (line: number) => at(evs, 'dmesg', line).map((e) => e.text);
    const head = 'WARNING: drivers/iommu/generic_pt/fmt/../iommu_pt.h:947 at vtdss_map_range, CPU#0: vfio-emu/100';
    const hw = 'Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014';
    expect(dmesg(10)).toEqual(['------------[ cut here ]------------', head, 'CPU: 0 UID: 0 PID: 100 Comm: vfio-emu Not tainted', hw, '---[ end trace 0000000000000000 ]---']);
    expect(dmesg(11)).toEqual([
      '------------[ cut here ]------------',
      head,
      'CPU: 0 UID: 0 PID: 100 Comm: vfio-emu Tainted: G        W          ',
      'Tainted: [W]=WARN',
      hw,
      '---[ end trace 0000000000000000 ]---',
    ]);
  });

  // Rule: `expect dmesg` finds a report's line like any log line.
  it('expect dmesg', () => {
    const evs = run_(compat + flags0 + 'expect dmesg "iommu_pt.h:947 at vtdss_map_range"\n');
    expect(evs[evs.length - 1]).toMatchObject({ type: 'expect', ok: true });
  });
});
