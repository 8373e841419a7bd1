// Seeded random scenarios over every preset and era: whatever a user throws at the model, it
// answers with a result or a UserError (never another exception), and the run, recorded as
// vfio-trace/1, replays against the model with no difference.

import { describe, expect, it } from 'vitest';
import { recordTrace } from '../../src/cli/record.js';
import { UserError } from '../../src/diag.js';
import { ERAS } from '../../src/kernel/era.js';
import { parseScript } from '../../src/script/parser.js';
import { Runner } from '../../src/script/runner.js';
import { readTrace } from '../../src/trace/reader.js';
import { replayTrace } from '../../src/trace/replay.js';

/** xorshift64: the same scenarios on every run. */
function prng(seed: bigint): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= (x << 13n) & 0xffff_ffff_ffff_ffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffff_ffff_ffff_ffffn;
    return Number(x % BigInt(n));
  };
}

const PLATFORMS: [string, string, number][] = [
  ['qemu-q35-vtd', '0000:00:01.0', 1],
  ['qemu-virt-smmuv3', '0000:00:02.0', 1],
  ['amd-overdrive', '0000:01:00.0', 0],
  ['powernv', '0001:01:00.0', 0],
  ['fsl-pamu', '0000:01:00.0', 0],
  ['x86-amd-vi', '0000:00:02.0', 2],
  ['arm-its-plus-v2m', '0000:00:01.0', 0],
  ['armada-7040', '0000:01:00.0', 0],
];
const NUMS = ['0', '1', '4', '24', '64', '0x1000', '64K', '1M', '2M', '0x8000000', '0xfee00000', '0xfffffffffffff000', '4G', '0x100000'];
const ACTIONS = [
  'ioctl c SET_IOMMU arg={N}',
  'ioctl c GET_INFO argsz={N}',
  'ioctl c MAP_DMA vaddr=buf+{N} iova={N} size={N} flags=READ|WRITE',
  'ioctl c MAP_DMA flags=4 iova={N} size={N}',
  'ioctl c UNMAP_DMA iova={N} size={N} flags={F}',
  'ioctl c UNMAP_DMA flags=ALL',
  'ioctl c CHECK_EXTENSION arg={N}',
  'ioctl g GET_STATUS',
  'ioctl g UNSET_CONTAINER',
  'ioctl g SET_CONTAINER c',
  'ioctl c MAP_DMA raw={HEX}',
  'ioctl c GET_INFO raw={HEX}',
  'munmap buf+{N} {N}',
  'mprotect buf+{N} 4K prot=r',
  'show verdict',
  'show mappings',
  'read /sys/kernel/iommu_groups/{I}/reserved_regions',
  'write /sys/bus/pci/devices/{DEV}/sriov_numvfs "{I}"',
];
const DEVICE_ACTIONS = [
  'ioctl d GET_INFO argsz={N}',
  'ioctl d GET_REGION_INFO index={I} argsz={N}',
  'ioctl d GET_IRQ_INFO index={I}',
  'ioctl d SET_IRQS index={I} start={I} count={I} flags={N}',
  'ioctl d SET_IRQS index=MSIX start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e',
  'ioctl d SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e',
  'ioctl d RESET',
  'pread d region={I} offset={N} len=64',
  'pwrite d region=CONFIG offset={N} data=00112233',
  'msi {DEV} vector={I}',
  'dma {DEV} write iova={N} len=64',
];

function scenario(r: (n: number) => number): string {
  const [platform, dev, group] = PLATFORMS[r(PLATFORMS.length)];
  const eras = [...ERAS.keys()];
  const lines = [
    `kernel ${eras[r(eras.length)]}`,
    `platform ${platform}`,
    `bind ${dev} vfio-pci`,
    'mmap 64M as buf',
    'eventfd as e',
    'open /dev/vfio/vfio as c',
    `open /dev/vfio/${group} as g`,
    'ioctl g SET_CONTAINER c',
    r(2) ? 'ioctl c SET_IOMMU TYPE1v2' : 'ioctl c SET_IOMMU SPAPR_TCE_v2',
  ];
  const fill = (t: string) =>
    t
      .replace(/\{DEV\}/g, dev)
      .replace(/\{N\}/g, () => NUMS[r(NUMS.length)])
      .replace(/\{I\}/g, () => String(r(10)))
      .replace(/\{F\}/g, () => ['0', '1', '2', '4', '6', '8'][r(6)])
      .replace('{HEX}', () => Array.from({ length: 1 + r(40) }, () => r(256).toString(16).padStart(2, '0')).join(''));
  for (let i = 0; i < 40; i++) lines.push(fill(ACTIONS[r(ACTIONS.length)]));
  lines.push(`ioctl g GET_DEVICE_FD ${dev} as d`);
  for (let i = 0; i < 40; i++) lines.push(fill(r(3) ? DEVICE_ACTIONS[r(DEVICE_ACTIONS.length)] : ACTIONS[r(ACTIONS.length)]));
  return lines.join('\n') + '\n';
}

describe('random scenarios', () => {
  const r = prng(0x5eed_1234_abcd_0001n);
  for (let n = 0; n < 60; n++) {
    const text = scenario(r);
    it(`#${n}`, () => {
      const runner = new Runner();
      try {
        runner.run(parseScript(text, `random-${n}.vfio`));
      } catch (e) {
        // A user mistake (an fd whose opening failed, a value out of range) is fine; nothing else is.
        if (!(e instanceof UserError)) throw e;
      }
      if (!runner.kernel) return;
      const rep = replayTrace(readTrace(recordTrace(runner), `random-${n}.jsonl`), `random-${n}.jsonl`);
      expect(rep.results.filter((x) => x.status === 'differs')).toEqual([]);
    });
  }
});
