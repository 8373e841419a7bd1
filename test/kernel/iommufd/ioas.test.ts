// /dev/iommu's command handling and the IOAS commands, stanza by stanza as the iommufd selftest
// checks them (tools/testing/selftests/iommu/iommufd.c), against the kernel source
// (drivers/iommu/iommufd/main.c, ioas.c, io_pagetable.c). Era 6.12 on q35 with VT-d unless said.

import { describe, expect, it } from 'vitest';
import { E2BIG, EADDRINUSE, EBUSY, EEXIST, EFAULT, EINVAL, EMSGSIZE, ENOENT, ENOSPC, ENOTTY, EOPNOTSUPP, EOVERFLOW, EPERM, errnoName } from '../../../src/uapi/errno.js';
import { IOMMU_DESTROY, IOMMU_IOAS_ALLOC, IOMMU_IOAS_MAP, IOMMU_IOAS_UNMAP, IOMMUFD_TYPE, iommufdIO } from '../../../src/uapi/iommufd.js';
import { FIXED, Iommufd, PAGE, READ, RW, U64_MAX, WRITE } from './fixture.js';

const M = 0x10_0000n;

describe('iommufd_fops_ioctl: the ucmd rules', () => {
  // Rule: a size below the command's min_size (offsetofend of its last required field) is -EINVAL.
  it('size below min_size: EINVAL', () => {
    const t = new Iommufd();
    t.err(EINVAL, t.cmd_('IOMMU_IOAS_ALLOC', IOMMU_IOAS_ALLOC, {}, 11));
    t.err(EINVAL, t.cmd_('IOMMU_IOAS_MAP', IOMMU_IOAS_MAP, {}, 39));
    t.err(EINVAL, t.cmd_('IOMMU_DESTROY', IOMMU_DESTROY, { id: 1 }, 7));
  });

  // Rule: copy_struct_from_user(): a larger struct with a non-zero byte past the kernel's is
  // -E2BIG; all-zero it is accepted.
  it('larger size: zero tail accepted, non-zero tail E2BIG', () => {
    const t = new Iommufd();
    const o = t.cmd_('IOMMU_IOAS_ALLOC', IOMMU_IOAS_ALLOC, {}, 20);
    t.ok(o);
    expect(o.k.num('out_ioas_id')).toBe(1);
    const buf = new Uint8Array(20);
    new DataView(buf.buffer).setUint32(0, 20, true);
    buf[16] = 1;
    const r = t.kernel.ioctl(t.proc, t.fd, iommufdIO('IOMMU_IOAS_ALLOC'), { value: 1n, buf });
    expect(errnoName(r.errno)).toBe(errnoName(E2BIG));
    // Nothing was allocated by the refused call: the next id is 2.
    expect(t.ioas_alloc()).toBe(2);
  });

  // Rule: the size is read with get_user(): no readable u32 is -EFAULT.
  it('no user buffer: EFAULT', () => {
    const t = new Iommufd();
    const r = t.kernel.ioctl(t.proc, t.fd, iommufdIO('IOMMU_IOAS_ALLOC'), { value: 0n });
    expect(errnoName(r.errno)).toBe(errnoName(EFAULT));
  });

  // Rule: a number past the era's table goes to the VFIO compat ioctls, which do not know it
  // (-ENOIOCTLCMD → ENOTTY); so does IOMMU_HWPT_INVALIDATE (0x8d) on 6.6, whose table ends at
  // GET_HW_INFO (0x8a).
  it('unknown commands: ENOTTY', () => {
    const t = new Iommufd();
    const buf = new Uint8Array(64);
    buf[0] = 64;
    expect(errnoName(t.kernel.ioctl(t.proc, t.fd, (IOMMUFD_TYPE << 8) | 0xbf, { value: 1n, buf }).errno)).toBe(errnoName(ENOTTY));
    const six = new Iommufd('6.6');
    expect(errnoName(six.kernel.ioctl(six.proc, six.fd, iommufdIO('IOMMU_HWPT_INVALIDATE'), { value: 1n, buf }).errno)).toBe(errnoName(ENOTTY));
    expect(errnoName(six.kernel.ioctl(six.proc, six.fd, iommufdIO('IOMMU_HWPT_SET_DIRTY_TRACKING'), { value: 1n, buf }).errno)).toBe(errnoName(ENOTTY));
  });

  // Rule: /dev/iommu exists only with CONFIG_IOMMUFD (Debian's kernels: -ENOENT).
  it('no /dev/iommu in the legacy configuration', () => {
    const t = new Iommufd('6.12', 'qemu-q35-vtd', {}, 'iommufd');
    const legacy = new Iommufd('6.12', 'qemu-q35-vtd', {}, 'legacy', '/dev/vfio/vfio');
    expect(errnoName(legacy.kernel.open(legacy.proc, '/dev/iommu').errno)).toBe(errnoName(ENOENT));
    expect(t.fd).toBe(3);
  });
});

describe('objects: ids and IOMMU_DESTROY', () => {
  // Rule: ids come from 1, the lowest free (xa_alloc with XA_FLAGS_ALLOC1); a destroyed id is reused.
  it('ids from 1, lowest free', () => {
    const t = new Iommufd();
    expect([t.ioas_alloc(), t.ioas_alloc(), t.ioas_alloc()]).toEqual([1, 2, 3]);
    t.destroy(2);
    expect(t.ioas_alloc()).toBe(2);
    expect(t.ioas_alloc()).toBe(4);
  });

  // Rule: IOMMU_DESTROY of an unknown id (or one destroyed already) is -ENOENT.
  it('destroy unknown: ENOENT', () => {
    const t = new Iommufd();
    t.destroy_err(ENOENT, 0);
    t.destroy_err(ENOENT, 1);
    const id = t.ioas_alloc();
    t.destroy(id);
    t.destroy_err(ENOENT, id);
  });

  // Rule: IOAS_ALLOC takes no flags (-EOPNOTSUPP).
  it('ioas_alloc flags: EOPNOTSUPP', () => {
    const t = new Iommufd();
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_IOAS_ALLOC', IOMMU_IOAS_ALLOC, { flags: 1 }));
  });

  // Rule: an object something else holds (an HWPT holds its IOAS) is -EBUSY to destroy.
  it('destroy in use: EBUSY', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const dev = t.bind('0000:00:01.0');
    const hwpt = t.ok(t.hwpt_alloc_(dev.id, ioas)).k.num('out_hwpt_id');
    expect([ioas, dev.id, hwpt]).toEqual([1, 2, 3]);
    t.destroy_err(EBUSY, ioas);
    // The device is held by the driver that bound it.
    t.destroy_err(EBUSY, dev.id);
    t.destroy(hwpt);
    t.destroy(ioas);
  });
});

describe('IOMMU_IOAS_MAP', () => {
  // Rule: unknown flags and __reserved are -EOPNOTSUPP, checked first.
  it('flags: EOPNOTSUPP before anything else', () => {
    const t = new Iommufd();
    const buf = t.mmap(PAGE);
    t.map_err(EOPNOTSUPP, 99, buf, PAGE, 0n, RW | 8n);
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_IOAS_MAP', IOMMU_IOAS_MAP, { ioas_id: 99, flags: RW, __reserved: 1, user_va: buf, length: PAGE }));
  });

  // Rule: iova or length of ULONG_MAX is -EOVERFLOW, before the missing-permission -EINVAL and
  // the unknown IOAS.
  it('EOVERFLOW, then EINVAL, then ENOENT', () => {
    const t = new Iommufd();
    const buf = t.mmap(PAGE);
    t.map_err(EOVERFLOW, 99, buf, U64_MAX, 0n, 0n);
    t.map_err(EOVERFLOW, 99, buf, PAGE, U64_MAX, FIXED);
    t.map_err(EINVAL, 99, buf, PAGE, 0n, FIXED);
    t.map_err(ENOENT, 99, buf, PAGE, 0n, RW);
  });

  // Rule: iopt_alloc_iova() picks the lowest free IOVA from PAGE_SIZE, aligned to
  // min(roundup_pow_of_two(length), lowest set bit of user_va).
  it('IOVA allocation', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const buf = t.mmap(16n * M);
    expect(buf % (4n * M)).toBe(0n);
    expect(t.map(ioas, buf, 0x4000n)).toBe(0x4000n);
    expect(t.map(ioas, buf, PAGE)).toBe(0x1000n);
    expect(t.map(ioas, buf, PAGE)).toBe(0x2000n);
    expect(t.map(ioas, buf, 0x3000n)).toBe(0x8000n);
    // An odd user address keeps its offset in the page: alignment 1 without a domain.
    expect(t.map(ioas, buf + 0x10n, 0x10n)).toBe(0x3010n);
  });

  // Rule: FIXED_IOVA over a mapped range is -EEXIST; a length of 0 is -EINVAL; a range past
  // 2^64 is -EOVERFLOW (check_add_overflow on user_va + length).
  it('FIXED_IOVA: EEXIST, EINVAL, EOVERFLOW', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const buf = t.mmap(4n * PAGE);
    expect(t.map(ioas, buf, 2n * PAGE, 0x10000n, RW | FIXED)).toBe(0x10000n);
    t.map_err(EEXIST, ioas, buf, 2n * PAGE, 0x11000n, RW | FIXED);
    t.map_err(EINVAL, ioas, buf, 0n, 0x20000n, RW | FIXED);
    t.map_err(EOVERFLOW, ioas, U64_MAX - PAGE, 2n * PAGE, 0x20000n, RW | FIXED);
  });

  // Rule: with no domain the pages are referenced lazily: a map of memory the process does not
  // have succeeds, and the attach that must pin it fails with -EFAULT.
  it('lazy pinning: EFAULT at attach', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    expect(t.map(ioas, 0x1000_0000n, PAGE, 0x10000n, RW | FIXED)).toBe(0x10000n);
    const dev = t.bind('0000:00:01.0');
    expect(dev.attach(ioas)).toEqual({ ret: -EFAULT, ptId: ioas });
    // The failed auto domain's id was freed again.
    expect(t.ioas_alloc()).toBe(3);
  });

  // Rule: an allowed-IOVA list confines the allocator (never FIXED_IOVA), -ENOSPC when full.
  it('allowed IOVAs steer the allocator', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const buf = t.mmap(4n * PAGE);
    t.ok(t.allow_iovas_(ioas, [[0x100_0000n, 0x100_1fffn]]));
    expect(t.map(ioas, buf, PAGE)).toBe(0x100_0000n);
    expect(t.map(ioas, buf, PAGE)).toBe(0x100_1000n);
    t.map_err(ENOSPC, ioas, buf, PAGE);
    expect(t.map(ioas, buf, PAGE, 0x5000n, RW | FIXED)).toBe(0x5000n);
  });
});

describe('IOMMU_IOAS_UNMAP', () => {
  // Rule: an area reaching outside the range is -ENOENT (areas never split); an empty range too.
  it('partial areas: ENOENT', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const buf = t.mmap(4n * PAGE);
    t.map(ioas, buf, 2n * PAGE, 0x10000n, RW | FIXED);
    t.unmap_err(ENOENT, ioas, 0x10000n, PAGE);
    t.unmap_err(ENOENT, ioas, 0x11000n, 2n * PAGE);
    t.unmap_err(ENOENT, ioas, 0x20000n, PAGE);
    expect(t.unmap(ioas, 0x8000n, 0x10000n)).toBe(2n * PAGE);
  });

  // Rule: the walk goes in IOVA order and stops at the first partial area: what came before
  // it is gone though the call fails.
  it('a failed unmap keeps what it did', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const buf = t.mmap(4n * PAGE);
    t.map(ioas, buf, PAGE, 0x10000n, RW | FIXED);
    t.map(ioas, buf, 2n * PAGE, 0x11000n, RW | FIXED);
    t.unmap_err(ENOENT, ioas, 0x10000n, 2n * PAGE);
    t.unmap_err(ENOENT, ioas, 0x10000n, PAGE);
    expect(t.unmap(ioas, 0n, U64_MAX)).toBe(2n * PAGE);
  });

  // Rule: iova 0 with length U64_MAX unmaps everything, and succeeds on an empty IOAS; other
  // lengths of U64_MAX are -EOVERFLOW, a length of 0 is -EINVAL.
  it('unmap all; EOVERFLOW; EINVAL', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    expect(t.unmap(ioas, 0n, U64_MAX)).toBe(0n);
    t.unmap_err(EOVERFLOW, ioas, PAGE, U64_MAX);
    t.unmap_err(EOVERFLOW, ioas, U64_MAX, PAGE);
    t.unmap_err(EINVAL, ioas, PAGE, 0n);
    t.unmap_err(EOVERFLOW, ioas, U64_MAX - PAGE, 2n * PAGE);
    t.unmap_err(ENOENT, 9, 0n, U64_MAX);
    // The answer's length is written back; the rest of the struct as sent.
    const buf = t.mmap(PAGE);
    t.map(ioas, buf, PAGE, 0x4000n, RW | FIXED);
    const o = t.ok(t.cmd_('IOMMU_IOAS_UNMAP', IOMMU_IOAS_UNMAP, { ioas_id: ioas, iova: 0x4000n, length: PAGE }));
    expect([o.k.num('size'), o.k.num('ioas_id'), o.k.get('iova'), o.k.get('length')]).toEqual([24, ioas, 0x4000n, PAGE]);
  });
});

describe('IOMMU_IOAS_COPY', () => {
  // Rule: the source range must be mapped contiguously (-ENOENT); the copy shares its pages,
  // and a writeable copy of pages mapped read-only is -EPERM.
  it('copy rules', () => {
    const t = new Iommufd();
    const a = t.ioas_alloc();
    const b = t.ioas_alloc();
    const buf = t.mmap(4n * PAGE);
    t.map(a, buf, 2n * PAGE, 0x10000n, RW | FIXED);
    t.map(a, buf + 2n * PAGE, PAGE, 0x12000n, READ | FIXED);
    const o = t.ok(t.copy_(b, a, 0x10000n, 3n * PAGE, 0x40000n, READ | FIXED));
    expect(o.k.get('dst_iova')).toBe(0x40000n);
    t.err(EPERM, t.copy_(b, a, 0x10000n, 3n * PAGE, 0x80000n, RW | FIXED));
    t.err(ENOENT, t.copy_(b, a, 0x10000n, 4n * PAGE, 0x80000n, READ | FIXED));
    t.err(ENOENT, t.copy_(b, 7, 0x10000n, PAGE, 0x80000n, READ | FIXED));
    t.err(ENOENT, t.copy_(7, a, 0x10000n, PAGE, 0x80000n, READ | FIXED));
    t.err(EINVAL, t.copy_(b, a, 0x10000n, PAGE, 0x80000n, FIXED));
    t.err(EOPNOTSUPP, t.copy_(b, a, 0x10000n, PAGE, 0x80000n, RW | 16n));
    // A copy from the middle of an area (the allocator keeps the source's page offset).
    expect(t.ok(t.copy_(b, a, 0x11000n, PAGE, 0n, WRITE)).k.get('dst_iova')).toBe(0x1000n);
    // The copies outlive the source's unmap.
    expect(t.unmap(a, 0n, U64_MAX)).toBe(3n * PAGE);
    expect(t.unmap(b, 0n, U64_MAX)).toBe(4n * PAGE);
  });
});

describe('IOMMU_IOAS_IOVA_RANGES and ALLOW_IOVAS', () => {
  // Rule: a new IOAS allows everything with alignment 1; a short array is -EMSGSIZE after the
  // count is written back (and nothing of the array written past what it holds).
  it('fresh IOAS: [0, U64_MAX]; EMSGSIZE', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const o = t.iova_ranges_(ioas, 2);
    t.ok(o);
    expect(o.ranges).toEqual([[0n, U64_MAX]]);
    expect([o.k.num('num_iovas'), o.k.get('out_iova_alignment')]).toEqual([1, 1n]);
    expect(Buffer.from(o.raw.subarray(16)).toString('hex')).toBe('aa'.repeat(16));
    const z = t.iova_ranges_(ioas, 0);
    t.err(EMSGSIZE, z);
    expect(z.k.num('num_iovas')).toBe(1);
  });

  // Rule: an attached device's reserved regions and the domain's aperture narrow the ranges
  // (VT-d: 39-bit aperture, the 0xfee00000 interrupt window); the alignment is the page.
  it('VT-d: aperture and MSI window', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const dev = t.bind('0000:00:01.0');
    expect(dev.attach(ioas)).toEqual({ ret: 0, ptId: 3 });
    const o = t.iova_ranges_(ioas, 4);
    t.ok(o);
    expect(o.ranges).toEqual([
      [0n, 0xfedf_ffffn],
      [0xfef0_0000n, (1n << 39n) - 1n],
    ]);
    expect(o.k.get('out_iova_alignment')).toBe(PAGE);
    // FIXED_IOVA into the interrupt window is -EINVAL; allowing it is -EADDRINUSE.
    const buf = t.mmap(PAGE);
    t.map_err(EINVAL, ioas, buf, PAGE, 0xfee0_0000n, RW | FIXED);
    t.err(EADDRINUSE, t.allow_iovas_(ioas, [[0xfe00_0000n, 0xfeff_ffffn]]));
    // Unaligned maps are refused once a domain sets the alignment.
    t.map_err(EINVAL, ioas, buf, 0x800n, 0x10000n, RW | FIXED);
  });

  // Rule: allowed ranges need start < last and must not overlap each other (-EINVAL).
  it('ALLOW_IOVAS: EINVAL', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    t.err(EINVAL, t.allow_iovas_(ioas, [[0x2000n, 0x2000n]]));
    t.err(EINVAL, t.allow_iovas_(ioas, [[0x1000n, 0x2fffn], [0x2000n, 0x3fffn]]));
    t.ok(t.allow_iovas_(ioas, [[0x1000n, 0x1fffn], [0x2000n, 0x3fffn]]));
    t.err(ENOENT, t.allow_iovas_(9, []));
    // An allowed range over a region a device would reserve makes the attach -EADDRINUSE.
    t.ok(t.allow_iovas_(ioas, [[0xfe00_0000n, 0xfeff_ffffn]]));
    const dev = t.bind('0000:00:01.0');
    expect(dev.attach(ioas)).toEqual({ ret: -EADDRINUSE, ptId: ioas });
  });
});
