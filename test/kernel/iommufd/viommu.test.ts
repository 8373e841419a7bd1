// The commands after IOMMU_HWPT_GET_DIRTY_BITMAP in iommufd_ioctl_ops[] (HWPT_INVALIDATE,
// VIOMMU_ALLOC, VDEVICE_ALLOC, IOAS_CHANGE_PROCESS, VEVENTQ_ALLOC, HW_QUEUE_ALLOC): in the eras
// whose table has them they answer by their own checks (7.2's hw_pagetable.c, viommu.c,
// eventq.c, ioas.c), never the empty slot's ENOTTY; past the era's table, ENOTTY.

import { describe, expect, it } from 'vitest';
import { E2BIG, EINVAL, ENOENT, ENOTTY, EOPNOTSUPP, EOVERFLOW } from '../../../src/uapi/errno.js';
import * as uapi from '../../../src/uapi/iommufd.js';
import { findPreset } from '../../../src/hw/presets.js';
import { FIXED, Iommufd, PAGE, RW, U64_MAX } from './fixture.js';

const EDU = '0000:00:01.0';

/** VT-d with SSADS (dirty tracking), edu bound and attached to a DIRTY_TRACKING HWPT on an IOAS with 8 pages. */
function dirtyHwpt(era: string) {
  const base = findPreset('qemu-q35-vtd')!;
  const ssads = { ...base, iommus: base.iommus.map((i) => ({ ...i, params: { ...i.params, ssads: true } })) };
  const t = new Iommufd(era, ssads as never);
  const ioas = t.ioas_alloc();
  t.map(ioas, t.mmap(8n * PAGE), 8n * PAGE, 0x10000n, RW | FIXED);
  const dev = t.bind(EDU);
  const hwpt = t.ok(t.hwpt_alloc_(dev.id, ioas, 2n)).k.num('out_hwpt_id');
  expect(dev.attach(hwpt).ret).toBe(0);
  return { t, ioas, dev, hwpt };
}

describe('IOMMU_HWPT_INVALIDATE', () => {
  const inval = (t: Iommufd, f: Record<string, bigint | number>) => t.cmd_('IOMMU_HWPT_INVALIDATE', uapi.IOMMU_HWPT_INVALIDATE, f);

  // Rule: the sequence found failing (SET_DIRTY_TRACKING, GET_DIRTY_BITMAP, then the next
  // command, INVALIDATE): a paging HWPT is neither nested nor a vIOMMU: -EINVAL from 6.14
  // (any object looked up), -ENOENT before (only a nested HWPT); entry_num goes back as 0.
  it('after the dirty commands, on a paging HWPT: EINVAL (7.2), ENOENT (6.12)', () => {
    for (const [era, errno] of [['7.2', EINVAL], ['6.12', ENOENT]] as const) {
      const { t, hwpt } = dirtyHwpt(era);
      t.ok(t.cmd_('IOMMU_HWPT_SET_DIRTY_TRACKING', uapi.IOMMU_HWPT_SET_DIRTY_TRACKING, { hwpt_id: hwpt, flags: 1 }));
      const bitmap = t.poisoned(8);
      t.ok(t.cmd_('IOMMU_HWPT_GET_DIRTY_BITMAP', uapi.IOMMU_HWPT_GET_DIRTY_BITMAP, { hwpt_id: hwpt, iova: 0x10000n, length: 8n * PAGE, page_size: PAGE, data: bitmap }));
      const o = inval(t, { hwpt_id: hwpt, entry_num: 0 });
      t.err(errno, o);
      expect(o.k.num('entry_num')).toBe(0);
    }
  });

  // Rule: __reserved → EOPNOTSUPP; entries without a pointer or a length, or longer than
  // PAGE_SIZE → EINVAL; an unknown id → ENOENT; entry_num is written back 0 each time.
  it('argument checks in order', () => {
    const { t, hwpt } = dirtyHwpt('7.2');
    const reserved = inval(t, { hwpt_id: hwpt, entry_num: 3, __reserved: 1 });
    t.err(EOPNOTSUPP, reserved);
    expect(reserved.k.num('entry_num')).toBe(0);
    t.err(EINVAL, inval(t, { hwpt_id: 99, entry_num: 1, entry_len: 8 }));
    t.err(EINVAL, inval(t, { hwpt_id: 99, entry_num: 1, data_uptr: 0x1000n }));
    t.err(EINVAL, inval(t, { hwpt_id: 99, entry_num: 1, data_uptr: 0x1000n, entry_len: 4097 }));
    t.err(ENOENT, inval(t, { hwpt_id: 99, entry_num: 1, data_uptr: 0x1000n, entry_len: 8 }));
    // A size below __reserved's end (min_size 32): EINVAL before anything.
    t.err(EINVAL, inval(t, { hwpt_id: 99, size: 28 }));
  });
});

describe('the vIOMMU commands (no modelled IOMMU nests)', () => {
  // Rule: flags or type DEFAULT → EOPNOTSUPP, then the device (ENOENT), then no viommu ops /
  // no nesting (VT-d; SMMUv3 without IDR0.S2P) → EOPNOTSUPP.
  it('VIOMMU_ALLOC', () => {
    for (const [preset, opts] of [['qemu-q35-vtd', {}], ['qemu-virt-smmuv3', { gic: 'v3' }]] as const) {
      const t = new Iommufd('7.2', preset, opts);
      const dev = t.bind(EDU);
      const va = (f: Record<string, bigint | number>, size?: number) => t.cmd_('IOMMU_VIOMMU_ALLOC', uapi.IOMMU_VIOMMU_ALLOC, f, size);
      t.err(EOPNOTSUPP, va({ flags: 1, type: 1, dev_id: dev.id }));
      t.err(EOPNOTSUPP, va({ type: 0, dev_id: dev.id }));
      t.err(ENOENT, va({ type: 1, dev_id: 99 }));
      t.err(EOPNOTSUPP, va({ type: 1, dev_id: dev.id }));
    }
  });

  // Rule: the struct is 24 bytes until data_len/data_uptr (6.17): a 40-byte one with a
  // non-zero tail is E2BIG on 6.15 and reaches the checks on 7.2; below out_viommu_id, EINVAL.
  it('VIOMMU_ALLOC size by era', () => {
    for (const [era, errno] of [['6.15', E2BIG], ['7.2', EOPNOTSUPP]] as const) {
      const t = new Iommufd(era);
      t.err(errno, t.cmd_('IOMMU_VIOMMU_ALLOC', uapi.IOMMU_VIOMMU_ALLOC, { type: 1, dev_id: t.bind(EDU).id, data_len: 4 }));
      t.err(EINVAL, t.cmd_('IOMMU_VIOMMU_ALLOC', uapi.IOMMU_VIOMMU_ALLOC, { type: 1 }, 20));
    }
  });

  // Rule: the commands that need a vIOMMU look it up after their own checks: ENOENT.
  it('VDEVICE_ALLOC, VEVENTQ_ALLOC, HW_QUEUE_ALLOC', () => {
    const t = new Iommufd('7.2');
    const ioas = t.ioas_alloc();
    t.err(ENOENT, t.cmd_('IOMMU_VDEVICE_ALLOC', uapi.IOMMU_VDEVICE_ALLOC, { viommu_id: ioas, dev_id: t.bind(EDU).id, virt_id: U64_MAX }));
    const vq = (f: Record<string, bigint | number>) => t.cmd_('IOMMU_VEVENTQ_ALLOC', uapi.IOMMU_VEVENTQ_ALLOC, { viommu_id: ioas, type: 1, veventq_depth: 16, ...f });
    t.err(EOPNOTSUPP, vq({ flags: 1 }));
    t.err(EOPNOTSUPP, vq({ __reserved: 1 }));
    t.err(EOPNOTSUPP, vq({ type: 0 }));
    t.err(EINVAL, vq({ veventq_depth: 0 }));
    t.err(EINVAL, vq({ veventq_depth: (1 << 19) + 1 }));
    t.err(ENOENT, vq({ veventq_depth: 1 << 19 }));
    const hq = (f: Record<string, bigint | number>) => t.cmd_('IOMMU_HW_QUEUE_ALLOC', uapi.IOMMU_HW_QUEUE_ALLOC, { viommu_id: ioas, type: 1, length: PAGE, ...f });
    t.err(EOPNOTSUPP, hq({ flags: 1 }));
    t.err(EOPNOTSUPP, hq({ type: 0 }));
    t.err(EINVAL, hq({ length: 0 }));
    t.err(EOVERFLOW, hq({ nesting_parent_iova: U64_MAX - PAGE + 2n }));
    t.err(ENOENT, hq({ nesting_parent_iova: U64_MAX - PAGE + 1n }));
  });

  // Rule: a command past the era's table goes to the VFIO compat ioctls: ENOTTY (HW_QUEUE_ALLOC
  // is 6.17's, VEVENTQ_ALLOC 6.15's, IOAS_CHANGE_PROCESS 6.14's).
  it('past the era table: ENOTTY', () => {
    const t15 = new Iommufd('6.15');
    t15.err(ENOTTY, t15.cmd_('IOMMU_HW_QUEUE_ALLOC', uapi.IOMMU_HW_QUEUE_ALLOC, { type: 1, length: PAGE }));
    t15.err(ENOENT, t15.cmd_('IOMMU_VEVENTQ_ALLOC', uapi.IOMMU_VEVENTQ_ALLOC, { type: 1, veventq_depth: 1 }));
    const t13 = new Iommufd('6.13');
    t13.err(ENOTTY, t13.cmd_('IOMMU_VEVENTQ_ALLOC', uapi.IOMMU_VEVENTQ_ALLOC, { type: 1, veventq_depth: 1 }));
    t13.err(ENOTTY, t13.cmd_('IOMMU_IOAS_CHANGE_PROCESS', uapi.IOMMU_IOAS_CHANGE_PROCESS, {}));
    t13.err(ENOENT, t13.cmd_('IOMMU_VDEVICE_ALLOC', uapi.IOMMU_VDEVICE_ALLOC, { viommu_id: 1 }));
  });
});

describe('IOMMU_IOAS_CHANGE_PROCESS', () => {
  // Rule: __reserved → EOPNOTSUPP; nothing mapped: 0; an area mapped from user memory (not a
  // file) cannot move to another process: EINVAL.
  it('only file-backed areas move', () => {
    const t = new Iommufd('7.2');
    const cp = (f: Record<string, bigint | number> = {}) => t.cmd_('IOMMU_IOAS_CHANGE_PROCESS', uapi.IOMMU_IOAS_CHANGE_PROCESS, f);
    t.err(EOPNOTSUPP, cp({ __reserved: 1 }));
    t.ok(cp());
    const ioas = t.ioas_alloc();
    t.ok(cp());
    t.map(ioas, t.mmap(PAGE), PAGE, 0x10000n, RW | FIXED);
    t.err(EINVAL, cp());
    t.unmap(ioas, 0x10000n, PAGE);
    t.ok(cp());
  });
});
