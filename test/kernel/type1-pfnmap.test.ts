// type1 MAP_DMA of a device mapping (drivers/vfio/vfio_iommu_type1.c vaddr_get_pfns()): GUP
// refuses a VM_IO|VM_PFNMAP range, and type1 then takes the pfns the mapping's fault handler
// inserts (follow_fault_pfn()): a BAR mmap of another device maps for peer-to-peer DMA, as the
// kernel's vfio_dma_mapping_mmio_test expects of the type1 modes. iommufd's pinning has no such
// fallback (iopt_pages reads user VAs with pin_user_pages only): -EFAULT.

import { describe, expect, it } from 'vitest';
import { boot } from '../../src/machine/boot.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { translate } from '../../src/kernel/iommu/dma-path.js';
import { requestNr } from '../../src/uapi/requests.js';
import { EFAULT } from '../../src/uapi/errno.js';

const RW = { read: true, write: true };
const RO = { read: true, write: false };
const CONFIG = 7n << 40n;
const EDU = '0000:00:01.0';
/** edu's BAR0 on the recorded q35 machine (lspci: Region 0: Memory at fea00000, 1M). */
const EDU_BAR0 = 0xfea00000n;
const READ = 1;
const WRITE = 2;

/** q35 at 7.2, edu on vfio-pci in a type1v2 container; edu's BAR0 mapped with `prot`. */
function setup(prot = RW): { k: Kernel; p: Process; c: number; fd: number; bar0: bigint } {
  const { kernel: k, proc: p } = boot('7.2', 'qemu-q35-vtd');
  expect(k.bind(EDU, 'vfio-pci').errno).toBe(0);
  const c = Number(k.open(p, '/dev/vfio/vfio').ret);
  const g = Number(k.open(p, '/dev/vfio/1').ret);
  const cbuf = new Uint8Array(4);
  new DataView(cbuf.buffer).setInt32(0, c, true);
  expect(k.ioctl(p, g, requestNr('VFIO_GROUP_SET_CONTAINER'), { value: 0n, buf: cbuf }).errno).toBe(0);
  expect(k.ioctl(p, c, requestNr('VFIO_SET_IOMMU'), { value: 3n }).errno).toBe(0);
  const fd = Number(k.ioctl(p, g, requestNr('VFIO_GROUP_GET_DEVICE_FD'), { value: 0n, buf: new TextEncoder().encode(`${EDU}\0`) }).ret);
  const m = k.mmap(p, 0x100000n, prot, { fd, offset: 0n });
  expect(m.errno).toBe(0);
  return { k, p, c, fd, bar0: m.ret as bigint };
}

/** VFIO_IOMMU_MAP_DMA's answer: { ret, errno }. */
function map_(k: Kernel, p: Process, c: number, vaddr: bigint, iova: bigint, size: bigint, flags: number): { ret: number | bigint; errno: number } {
  const buf = new Uint8Array(32).fill(0xaa);
  const v = new DataView(buf.buffer);
  v.setUint32(0, 32, true);
  v.setUint32(4, flags, true);
  v.setBigUint64(8, vaddr, true);
  v.setBigUint64(16, iova, true);
  v.setBigUint64(24, size, true);
  const r = k.ioctl(p, c, requestNr('VFIO_IOMMU_MAP_DMA'), { value: 0n, buf });
  return { ret: r.ret, errno: r.errno };
}
const map = (k: Kernel, p: Process, c: number, vaddr: bigint, iova: bigint, size: bigint, flags = READ | WRITE): void =>
  expect(map_(k, p, c, vaddr, iova, size, flags)).toEqual({ ret: 0, errno: 0 });
const map_err = (errno: number, k: Kernel, p: Process, c: number, vaddr: bigint, iova: bigint, size: bigint, flags = READ | WRITE): void =>
  expect(map_(k, p, c, vaddr, iova, size, flags)).toEqual({ ret: -1, errno });

describe('type1 MAP_DMA of a BAR mapping (VM_PFNMAP)', () => {
  // follow_fault_pfn(): the fault handler inserts the BAR's pfn (vma_to_pfn: vm_pgoff is
  // pci_resource_start() >> PAGE_SHIFT), and the IOMMU maps the IOVA to it.
  it('maps the whole BAR to its physical address', () => {
    const { k, p, c, bar0 } = setup();
    map(k, p, c, bar0, 0x100000n, 0x100000n);
    const dev = k.devices.get(EDU)!;
    expect(translate(dev, 0x100000n, 4n, false)).toEqual({ ok: true, pa: EDU_BAR0, translated: true });
    expect(translate(dev, 0x1ff000n, 4n, true)).toEqual({ ok: true, pa: EDU_BAR0 + 0xff000n, translated: true });
  });

  // A page in the middle: the pfn of that page (vfio_dma_mapping_mmio_test's map_partial_bar).
  it('maps part of the BAR from its offset', () => {
    const { k, p, c, bar0 } = setup();
    map(k, p, c, bar0 + 0x3000n, 0x200000n, 0x1000n);
    expect(translate(k.devices.get(EDU)!, 0x200000n, 4n, false)).toEqual({ ok: true, pa: EDU_BAR0 + 0x3000n, translated: true });
  });

  // vfio_pci_vmf_insert_pfn(): VM_FAULT_SIGBUS while memory decode is off, so
  // fixup_user_fault() fails and MAP_DMA is -EFAULT; with decode back on it maps.
  it('-EFAULT while memory decode is off', () => {
    const { k, p, c, fd, bar0 } = setup();
    expect(k.pwrite(p, fd, Uint8Array.of(0, 0), CONFIG + 4n)).toEqual({ ret: 2, errno: 0 });
    map_err(EFAULT, k, p, c, bar0, 0x100000n, 0x1000n);
    expect(k.pwrite(p, fd, Uint8Array.of(6, 0), CONFIG + 4n)).toEqual({ ret: 2, errno: 0 });
    map(k, p, c, bar0, 0x100000n, 0x1000n);
  });

  // follow_fault_pfn(): a write mapping of a read-only VMA (write_fault && !args.writable)
  // is -EFAULT; a read-only DMA mapping of it maps.
  it('a read-only BAR mapping maps only for reading', () => {
    const { k, p, c, bar0 } = setup(RO);
    map_err(EFAULT, k, p, c, bar0, 0x100000n, 0x1000n);
    map(k, p, c, bar0, 0x100000n, 0x1000n, READ);
  });

  // Past the mapping's end there is no VMA: -EFAULT, as for any unmapped vaddr.
  it('a range running off the mapping is -EFAULT', () => {
    const { k, p, c, bar0 } = setup();
    map_err(EFAULT, k, p, c, bar0 + 0xff000n, 0x100000n, 0x2000n);
  });
});

// iommufd's IOAS_MAP pins user memory with pin_user_pages_fast() alone (iommufd/pages.c has no
// VM_PFNMAP path for user VAs): a BAR mapping is -EFAULT, which the mmio test expects of the
// iommufd modes.
it('iommufd IOMMU_IOAS_MAP of a BAR mapping is -EFAULT', () => {
  const { kernel: k, proc: p } = boot('7.2', 'qemu-q35-vtd', {}, 'iommufd');
  expect(k.bind(EDU, 'vfio-pci').errno).toBe(0);
  const ictx = Number(k.open(p, '/dev/iommu').ret);
  const alloc = new Uint8Array(12).fill(0);
  new DataView(alloc.buffer).setUint32(0, 12, true);
  expect(k.ioctl(p, ictx, requestNr('IOMMU_IOAS_ALLOC'), { value: 0n, buf: alloc }).errno).toBe(0);
  const ioas = new DataView(alloc.buffer).getUint32(8, true);
  const cdev = Number(k.open(p, '/dev/vfio/devices/vfio0').ret);
  const bind = new Uint8Array(24).fill(0);
  const bv = new DataView(bind.buffer);
  bv.setUint32(0, 24, true);
  bv.setInt32(8, ictx, true);
  expect(k.ioctl(p, cdev, requestNr('VFIO_DEVICE_BIND_IOMMUFD'), { value: 0n, buf: bind }).errno).toBe(0);
  // Attached first, as the selftests' library does: with a domain to fill, IOAS_MAP pins at once
  // (iopt_fill_domains_pages); an IOAS with no domain pins nothing until an attach.
  const attach = new Uint8Array(12).fill(0);
  const av = new DataView(attach.buffer);
  av.setUint32(0, 12, true);
  av.setUint32(8, ioas, true);
  expect(k.ioctl(p, cdev, requestNr('VFIO_DEVICE_ATTACH_IOMMUFD_PT'), { value: 0n, buf: attach }).errno).toBe(0);
  const m = k.mmap(p, 0x100000n, RW, { fd: cdev, offset: 0n });
  expect(m.errno).toBe(0);
  const buf = new Uint8Array(40).fill(0);
  const v = new DataView(buf.buffer);
  v.setUint32(0, 40, true);
  v.setUint32(4, 1 | 2 | 4, true); // FIXED_IOVA | WRITEABLE | READABLE
  v.setUint32(8, ioas, true);
  v.setBigUint64(16, m.ret as bigint, true);
  v.setBigUint64(24, 0x1000n, true);
  v.setBigUint64(32, 0x100000n, true);
  expect(k.ioctl(p, ictx, requestNr('IOMMU_IOAS_MAP'), { value: 0n, buf })).toEqual({ ret: -1, errno: EFAULT });
});
