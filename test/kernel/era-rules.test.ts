// Rules that changed between kernels, one stanza per rule and era (the recorded traces cover
// 6.1 and 6.12 only; these pin what older kernels and the posted series did).

import { describe, expect, it } from 'vitest';
import { EBADF, EBADFD, EINVAL, ENODEV, EPERM } from '../../src/uapi/errno.js';
import { EventFd } from '../../src/kernel/eventfd.js';
import { Machine, RW, hex, poisoned } from './fixture.js';
import { VFIO_IOMMU_TYPE1_INFO } from '../../src/uapi/structs.js';

const K = 0x400n;
const EDU = '0000:00:01.0';

describe('SET_CONTAINER checks by era', () => {
  const withGroup = (era: string) => {
    const m = new Machine(era, 'qemu-q35-vtd');
    m.kernel.bind(EDU, 'vfio-pci');
    m.container = m.open('/dev/vfio/vfio');
    m.group = m.open('/dev/vfio/1');
    return m;
  };

  // A fd that is not a container: -EINVAL until iommufd's "not recognized" -EBADFD (6.2+).
  it('not a container', () => {
    for (const [era, errno] of [['5.4', EINVAL], ['6.1', EINVAL], ['6.12', EBADFD]] as const) {
      const m = withGroup(era);
      const efd = Number(m.kernel.eventfd(m.proc).ret);
      expect(m.set_container_(m.group, efd).errno, era).toBe(errno);
    }
  });

  // A negative fd: the legacy dispatcher's -EINVAL; from 6.1 fdget's -EBADF.
  it('negative fd', () => {
    for (const [era, errno] of [['5.4', EINVAL], ['6.1', EBADF]] as const) {
      const m = withGroup(era);
      expect(m.set_container_(m.group, -1).errno, era).toBe(errno);
    }
  });
});

describe('viability before DMA ownership (5.19)', () => {
  // x86 group 3 with only 00:1f.0 bound to vfio-pci: ahci and i801_smbus still drive the rest.
  const partial = (era: string) => {
    const m = new Machine(era, 'qemu-q35-vtd');
    m.kernel.bind('0000:00:1f.0', 'vfio-pci');
    m.container = m.open('/dev/vfio/vfio');
    m.group = m.open('/dev/vfio/3');
    return m;
  };

  // 6.1: the claim of DMA ownership fails: -EPERM.
  it('6.1 refuses the group', () => {
    const m = partial('6.1');
    expect(m.set_container_(m.group, m.container).errno).toBe(EPERM);
    expect(m.group_status()).toBe(0n);
  });

  // 5.4: the group joins; VIABLE is clear; GET_DEVICE_FD is -EINVAL before the name is looked up.
  it('5.4 lets it join but not open devices', () => {
    const m = partial('5.4');
    expect(m.set_container_(m.group, m.container).errno).toBe(0);
    m.set_iommu();
    expect(m.group_status()).toBe(2n);
    const name = (s: string) => Uint8Array.from([...Buffer.from(s), 0]);
    expect(m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', name('0000:00:1f.0')).errno).toBe(EINVAL);
    expect(m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', name('nonexistent')).errno).toBe(EINVAL);
  });
});

describe('VADDR in 5.12', () => {
  // CHECK_EXTENSION(UPDATE_VADDR) answered 1 before any IOMMU was set.
  it('UPDATE_VADDR', () => {
    const m = new Machine('5.12', 'qemu-q35-vtd');
    m.container = m.open('/dev/vfio/vfio');
    expect(m.check_extension(10)).toBe(1);
    const n = new Machine('6.1', 'qemu-q35-vtd');
    n.container = n.open('/dev/vfio/vfio');
    expect(n.check_extension(10)).toBe(0);
  });
});

describe('UNMAP wrap check by era', () => {
  // One range ends exactly at 2^64, one wraps past it. The strict check (4.16) refuses both;
  // 5.0's off-by-one fix (5.4) accepts the first; the series' base (4.10) has no check, and the
  // wrapped end finds no mapping. An accepted unmap is 0 with size 0: the mapping stays.
  const AT_END = 0x100000n;
  const PAST_END = 0x200000n;
  it.each([
    ['4.10', AT_END, 0],
    ['4.16', AT_END, EINVAL],
    ['5.4', AT_END, 0],
    ['4.10', PAST_END, 0],
    ['4.16', PAST_END, EINVAL],
    ['5.4', PAST_END, EINVAL],
  ] as const)('%s, iova %s', (era, iova, errno) => {
    const m = new Machine(era, 'qemu-q35-vtd');
    m.setup(EDU);
    const buf = m.mmap(1n << 20n);
    m.map_dma(buf, 0x200000n, 64n * K);
    const o = m.unmap_dma_(iova, (1n << 64n) - 0x100000n);
    expect(o.errno).toBe(errno);
    if (!errno) expect(o.size).toBe(0n);
    expect(m.unmap_dma(0x200000n, 64n * K)).toBe(64n * K);
  });
});

describe('the series v14', () => {
  // The first group is judged before its own domain joins: vfio_msi_resv() is false, so even
  // an ITS group is refused without the parameter; a second group is judged with the first's.
  it('first attach refused even with an ITS', () => {
    const m = new Machine('rfc-v14', 'qemu-virt-smmuv3', { gic: 'v3' });
    m.group_open(EDU);
    m.set_iommu_err(EPERM);
    m.param('allow_unsafe_interrupts', 'Y');
    m.set_iommu();
    m.param('allow_unsafe_interrupts', 'N');
    m.kernel.bind('0000:00:02.0', 'vfio-pci');
    const g2 = m.open('/dev/vfio/1');
    expect(m.set_container_(g2, m.container).errno).toBe(0);
  });

  // Registering the MSI window on VT-d: the domain has no MSI_RESV, so it is skipped (0);
  // v10's msi-iommu layer answers -ENODEV.
  it('window on x86', () => {
    for (const [era, errno] of [['rfc-v14', 0], ['rfc-v10', ENODEV]] as const) {
      const m = new Machine(era, 'qemu-q35-vtd');
      m.setup(EDU);
      expect(m.map_dma_(0n, 0x8000000n, 1n << 20n, 4n).errno, era).toBe(errno);
    }
  });

  // GET_INFO without a capability leaves the caller's cap_offset as it was (20 bytes copied).
  it('GET_INFO with no capability', () => {
    const m = new Machine('rfc-v14', 'qemu-q35-vtd');
    m.setup(EDU);
    const o = m.ioctl_(m.container, 'VFIO_IOMMU_GET_INFO', poisoned(VFIO_IOMMU_TYPE1_INFO, { argsz: 24 }));
    expect(hex(o.buf)).toBe('18000000' + '01000000' + '0010204000000000' + 'aaaaaaaa' + 'aaaaaaaa');
  });
});

describe('doorbell IOVAs', () => {
  // The series' msi-iommu allocates from the top of the registered window (alloc_iova).
  it('top-down in the user window', () => {
    const m = new Machine('rfc-v10', 'qemu-virt-smmuv3', { gic: 'v3' });
    m.setup(EDU);
    m.map_dma(0n, 0x8000000n, 64n * K, 4n);
    const dev = Number(m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', Uint8Array.from([...Buffer.from(EDU), 0])).ret);
    const efd = Number(m.kernel.eventfd(m.proc).ret);
    const set = new Uint8Array(24);
    const dv = new DataView(set.buffer);
    dv.setUint32(0, 24, true);
    dv.setUint32(4, 0x24, true); // DATA_EVENTFD | ACTION_TRIGGER
    dv.setUint32(8, 1, true); // MSI
    dv.setUint32(16, 1, true);
    dv.setInt32(20, efd, true);
    expect(m.ioctl_(dev, 'VFIO_DEVICE_SET_IRQS', set).errno).toBe(0);
    const v = m.kernel.msi.get(EDU)!.vectors[0];
    expect(v.msg.addr).toBe(0x800f000n + 0x40n); // GITS_TRANSLATER's page offset, at the window's top page
    expect(v.trigger).toBeInstanceOf(EventFd);
  });

  // No window registered: v10's msi-iommu layer has no aperture to map the doorbell in
  // (iommu_msi_get_doorbell_iova: -EINVAL), so enabling MSI or MSI-X behind the ARM SMMU fails
  // with it; v14 programs the physical address. Behind the PAMU (no series cookie), v10 too.
  it('no user window', () => {
    for (const [era, platform, errno] of [['rfc-v10', 'qemu-virt-smmuv3', EINVAL], ['rfc-v14', 'qemu-virt-smmuv3', 0], ['rfc-v10', 'fsl-pamu', 0]] as const) {
      const m = new Machine(era, platform, platform === 'qemu-virt-smmuv3' ? { gic: 'v3' } : {});
      const bdf = platform === 'fsl-pamu' ? '0000:01:00.0' : EDU;
      m.param('allow_unsafe_interrupts', 'Y');
      m.setup(bdf);
      const irq = m.kernel.msi.get(bdf)!;
      const ret = errno ? -errno : 0;
      expect(irq.enable('msi', 1), `${era} ${platform}`).toBe(ret);
      if (!errno) expect(irq.vectors[0].msg.addr, `${era} ${platform}`).toBe(irq.vectors[0].doorbell);
      expect(irq.enable('msix', 1), `${era} ${platform}`).toBe(ret);
    }
  });

  // 4.11: no IOVA list, so a user mapping can take the SW_MSI window; composing then fails
  // and iommu_dma_map_msi_msg() sets address_hi, address_lo and data to ~0U (5.3+ fails the
  // allocation instead).
  it('cookie mapping failure at compose (4.11)', () => {
    const m = new Machine('4.11', 'qemu-virt-smmuv3', { gic: 'v3' });
    m.setup(EDU);
    const buf = m.mmap(64n * K);
    m.map_dma(buf, 0x8000000n, 64n * K, RW);
    const irq = m.kernel.msi.get(EDU)!;
    expect(irq.enable('msi', 1)).toBe(0);
    expect(irq.vectors[0].msg).toEqual({ addr: 0xffff_ffff_ffff_ffffn, data: 0xffff_ffff });
  });
});

describe('dirty bitmap words', () => {
  // update_user_bitmap() writes whole unsigned longs: the user's bits below the mapping in its
  // first word are kept (bits 0-3 here), the mapping's are set (4, 5), the rest is cleared.
  it('word granularity', () => {
    const m = new Machine('6.1', 'qemu-q35-vtd');
    m.setup(EDU);
    const buf = m.mmap(1n << 20n);
    const bitmap = m.mmap(4n * K);
    m.proc.mm.copyToUser(bitmap, new Uint8Array(8).fill(0xff));
    m.map_dma(buf, 0x104000n, 8n * K); // bits 4 and 5 of a range starting at 0x100000
    expect(m.dirty_pages_(1n).errno).toBe(0);
    expect(m.dirty_pages_(4n, { iova: 0x100000n, size: 64n * K, pgsize: 4n * K, bsize: 8n, data: bitmap }).errno).toBe(0);
    expect(hex(m.proc.mm.copyFromUser(bitmap, 8) as Uint8Array)).toBe('3f00000000000000');
  });
});
