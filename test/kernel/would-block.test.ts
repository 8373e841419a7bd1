// A call the real kernel would not return from (src/kernel/would-block.ts): the syscall answers
// a Blocked fact and changes nothing. The SR-IOV cases (a VF open through VFIO) are in
// sriov.test.ts; the runner's message is in test/cli/errors.test.ts.

import { describe, expect, it } from 'vitest';
import { resolveEra } from '../../src/kernel/era.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { buildPlatform, findPreset } from '../../src/hw/presets.js';
import { KStruct } from '../../src/uapi/struct.js';
import { VFIO_GROUP_STATUS, VFIO_IOMMU_TYPE1_DMA_MAP, VFIO_IOMMU_TYPE1_DMA_UNMAP } from '../../src/uapi/structs.js';
import { BIT2, RW, UNMAP_ALL, UNMAP_VADDR, nr, poisoned } from './fixture.js';

const EDU = '0000:00:01.0';
const E1000E = '0000:00:02.0';

/**
 * q35 with e1000e behind a second VT-d unit, so its group cannot join edu's domain and
 * type1 builds a new one (the path that replays the mappings).
 */
function twoDmars(era: string) {
  const p = findPreset('qemu-q35-vtd')!;
  const preset = {
    ...p,
    iommus: [...p.iommus, ...p.iommus.map((i) => ({ ...i, name: 'dmar1' }))],
    devices: p.devices.map((d) => (d.bdf === E1000E ? { ...d, iommu: 'dmar1' } : d)),
  };
  const kernel = new Kernel(resolveEra(era)!, buildPlatform(preset, {}));
  const proc = kernel.newProcess();
  const open = (path: string) => Number(kernel.open(proc, path).ret);
  const ioctl_ = (fd: number, name: string, buf: Uint8Array) => kernel.ioctl(proc, fd, nr(name), { value: 1n, buf });
  const setContainer_ = (group: number, container: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, container, true);
    return ioctl_(group, 'VFIO_GROUP_SET_CONTAINER', b);
  };
  return { kernel, proc, open, ioctl_, setContainer_ };
}

describe('vfio_wait_all_valid (5.12)', () => {
  // attaching a group that needs a new domain while a vaddr is invalid waits in
  // vfio_iommu_replay(): blocked, and the group is not attached; once the vaddr is updated
  // the same attach succeeds
  it('SET_CONTAINER blocks', () => {
    const m = twoDmars('5.12');
    expect(m.kernel.bind(EDU, 'vfio-pci').errno).toBe(0);
    const c = m.open('/dev/vfio/vfio');
    expect(m.setContainer_(m.open('/dev/vfio/1'), c).errno).toBe(0);
    expect(m.kernel.ioctl(m.proc, c, nr('VFIO_SET_IOMMU'), { value: 3n }).errno).toBe(0);
    const buf = m.kernel.mmap(m.proc, 0x10000n, { read: true, write: true }).ret as bigint;
    const map = (flags: bigint) => poisoned(VFIO_IOMMU_TYPE1_DMA_MAP, { argsz: 32, flags, vaddr: buf, iova: 0x100000n, size: 0x10000n });
    expect(m.ioctl_(c, 'VFIO_IOMMU_MAP_DMA', map(RW)).errno).toBe(0);
    const unmap = poisoned(VFIO_IOMMU_TYPE1_DMA_UNMAP, { argsz: 24, flags: UNMAP_ALL | UNMAP_VADDR, iova: 0n, size: 0n });
    expect(m.ioctl_(c, 'VFIO_IOMMU_UNMAP_DMA', unmap).errno).toBe(0);
    expect(m.kernel.bind(E1000E, 'vfio-pci').errno).toBe(0);
    const g2 = m.open('/dev/vfio/2');

    expect(m.setContainer_(g2, c)).toEqual({ ret: -1, errno: 0, blocked: { waits: 'vaddr-update' } });
    const status = poisoned(VFIO_GROUP_STATUS, { argsz: 8 });
    expect(m.ioctl_(g2, 'VFIO_GROUP_GET_STATUS', status).errno).toBe(0);
    expect(KStruct.fromUser(VFIO_GROUP_STATUS, status, 8)!.get('flags')).toBe(1n); // VIABLE, no CONTAINER_SET

    expect(m.ioctl_(c, 'VFIO_IOMMU_MAP_DMA', map(BIT2)).errno).toBe(0);
    expect(m.setContainer_(g2, c)).toEqual({ ret: 0, errno: 0 });
  });
});
