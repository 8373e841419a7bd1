// The generator behind random-scenarios.test.ts: seeded scenarios over every preset and era.
// Values are drawn from pools that fit the field they go into (a u32 field never gets 4G, an
// offset into `buf` stays inside its 64M), so a scenario runs to its end unless the model
// itself raises a UserError.

import { ERAS } from '../../src/kernel/era.js';

/** xorshift64: the same scenarios on every run. */
export function prng(seed: bigint): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= (x << 13n) & 0xffff_ffff_ffff_ffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffff_ffff_ffff_ffffn;
    return Number(x % BigInt(n));
  };
}

/**
 * Preset, a device on it that vfio-pci can take, that device's IOMMU group, and its group in
 * eras that probe IOMMUs at bus scan (Era.iommuProbeAtScan) where that differs.
 */
const PLATFORMS: [string, string, number, number?][] = [
  ['qemu-q35-vtd', '0000:00:02.0', 2],
  ['qemu-virt-smmuv3', '0000:00:02.0', 1, 2],
  ['amd-overdrive', '0000:01:00.0', 0],
  ['powernv', '0001:01:00.0', 0],
  ['fsl-pamu', '0000:01:00.0', 0],
  ['x86-amd-vi', '0000:00:02.0', 2],
  ['arm-its-plus-v2m', '0000:00:01.0', 0],
  ['armada-7040', '0000:01:00.0', 0],
];

/** u32 fields (argsz, flags, index, start, count) and by-value ioctl arguments. */
const U32 = ['0', '1', '4', '8', '16', '24', '64', '0x1000', '64K', '0x7fffffff', '0xffffffff'];
/** u64 fields (iova, size). */
const U64 = ['0', '1', '4', '0x1000', '64K', '1M', '2M', '0x100000', '0x8000000', '0xfee00000', '4G', '0xfffffffffffff000', '0xffffffffffffffff'];
/** Offsets into the 64M `buf`, lengths within it, and offsets into a device region. */
const OFF = ['0', '4', '64', '0x1000', '64K', '1M', '2M', '0x3fff000'];

const ACTIONS = [
  'ioctl c SET_IOMMU arg={U32}',
  'ioctl c GET_INFO argsz={U32}',
  'ioctl c MAP_DMA vaddr=buf+{OFF} iova={U64} size={U64} flags=READ|WRITE',
  'ioctl c MAP_DMA vaddr=buf+{OFF} iova={OFF} size={OFF} flags=READ',
  'ioctl c MAP_DMA flags=4 iova={U64} size={U64}',
  'ioctl c UNMAP_DMA iova={U64} size={U64} flags={F}',
  'ioctl c UNMAP_DMA flags=ALL',
  'ioctl c CHECK_EXTENSION arg={U32}',
  'ioctl g GET_STATUS',
  'ioctl g UNSET_CONTAINER',
  'ioctl g SET_CONTAINER c',
  'ioctl c MAP_DMA raw={HEX}',
  'ioctl c GET_INFO raw={HEX}',
  'munmap buf+{OFF} {OFF}',
  'mprotect buf+{OFF} 4K prot=r',
  'show verdict',
  'show mappings',
  'read /sys/kernel/iommu_groups/{I}/reserved_regions',
  'write /sys/bus/pci/devices/{DEV}/sriov_numvfs "{I}"',
];
const DEVICE_ACTIONS = [
  'ioctl d GET_INFO argsz={U32}',
  'ioctl d GET_REGION_INFO index={I} argsz={U32}',
  'ioctl d GET_IRQ_INFO index={I}',
  'ioctl d SET_IRQS index={I} start={I} count={I} flags={U32}',
  'ioctl d SET_IRQS index=MSIX start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e',
  'ioctl d SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e',
  'ioctl d RESET',
  'pread d region={I} offset={OFF} len=64',
  'pwrite d region=CONFIG offset={OFF} data=00112233',
  'msi {DEV} vector={I}',
  'dma {DEV} write iova={U64} len=64',
];

/** Scenario mistakes a user makes (a value too wide for its field, a missing word, an unbound
 * name): rare, so most scenarios run to the end. Each ends in the PLANTED comment, the only
 * lines a UserError may stop on. */
export const PLANTED = '# planted mistake';
const MISTAKES = ['ioctl c GET_INFO argsz=4G', 'ioctl d GET_REGION_INFO index=0x100000000', 'munmap buf+{OFF}', 'ioctl d SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=nosuchfd'];

export function scenario(r: (n: number) => number): string {
  const [platform, dev, bindGroup, scanGroup] = PLATFORMS[r(PLATFORMS.length)];
  const eras = [...ERAS.keys()];
  const era = eras[r(eras.length)];
  const group = ERAS.get(era)!.iommuProbeAtScan && scanGroup !== undefined ? scanGroup : bindGroup;
  const spapr = platform === 'powernv';
  const lines = [
    `kernel ${era}`,
    `platform ${platform}`,
    // Without it an era/platform pair that refuses unsafe interrupts would never open the device.
    ...(spapr ? [] : ['param vfio_iommu_type1.allow_unsafe_interrupts=Y']),
    `bind ${dev} vfio-pci`,
    'mmap 64M as buf',
    'eventfd as e',
    'open /dev/vfio/vfio as c',
    `open /dev/vfio/${group} as g`,
    'ioctl g SET_CONTAINER c',
    spapr ? 'ioctl c SET_IOMMU SPAPR_TCE_v2' : 'ioctl c SET_IOMMU TYPE1v2',
    // Before any random action (one may UNSET_CONTAINER), so `d` is always bound.
    `ioctl g GET_DEVICE_FD ${dev} as d`,
  ];
  const pick = (pool: string[]) => () => pool[r(pool.length)];
  const fill = (t: string) =>
    t
      .replace(/\{DEV\}/g, dev)
      .replace(/\{U32\}/g, pick(U32))
      .replace(/\{U64\}/g, pick(U64))
      .replace(/\{OFF\}/g, pick(OFF))
      .replace(/\{I\}/g, () => String(r(10)))
      .replace(/\{F\}/g, () => ['0', '1', '2', '4', '6', '8'][r(6)])
      .replace('{HEX}', () => Array.from({ length: 1 + r(40) }, () => r(256).toString(16).padStart(2, '0')).join(''));
  for (let i = 0; i < 80; i++) {
    if (r(1000) === 0) lines.push(`${fill(MISTAKES[r(MISTAKES.length)])}  ${PLANTED}`);
    else lines.push(fill(r(2) ? DEVICE_ACTIONS[r(DEVICE_ACTIONS.length)] : ACTIONS[r(ACTIONS.length)]));
  }
  return lines.join('\n') + '\n';
}
