// Binding and attaching devices through the VFIO-side API (device-api.ts), HWPT_ALLOC,
// IOMMU_OPTION, GET_HW_INFO and dirty tracking, against drivers/iommu/iommufd/device.c,
// hw_pagetable.c, main.c, ioas.c.

import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, ENOENT, EOPNOTSUPP, EPERM, errnoName } from '../../../src/uapi/errno.js';
import { IOMMU_HW_INFO, IOMMU_HWPT_ALLOC, IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_HWPT_SET_DIRTY_TRACKING } from '../../../src/uapi/iommufd.js';
import { IOMMUFD_UNSAFE_MSI_WARNING } from '../../../src/kernel/iommufd/device.js';
import { FIXED, Iommufd, PAGE, RW, U64_MAX } from './fixture.js';
import { findPreset } from '../../../src/hw/presets.js';
import { translate } from '../../../src/kernel/iommu/dma-path.js';
import type { PciBusMaster } from '../../../src/hw/pci/device.js';
import type { IommufdContext } from '../../../src/kernel/iommufd/objects.js';

const EDU = '0000:00:01.0';
const E1000E = '0000:00:02.0';
const AHCI = '0000:00:1f.2';
const errs = (r: number | object): string => errnoName(typeof r === 'number' ? -r : 0);

describe('iommufd_device_bind', () => {
  // Rule: a device whose group's MSIs are isolated binds (VT-d with interrupt remapping; a GICv3 ITS).
  it('isolated MSI: bound', () => {
    expect(new Iommufd().bind(EDU).id).toBe(1);
    expect(new Iommufd('6.12', 'qemu-virt-smmuv3', { gic: 'v3' }).bind(EDU).id).toBe(1);
  });

  // Rule: otherwise -EPERM, unless iommufd.allow_unsafe_interrupts, which binds with a dev_warn.
  it('unisolated MSI: EPERM, or a warning with allow_unsafe_interrupts', () => {
    const v2m = new Iommufd('6.12', 'qemu-virt-smmuv3', { gic: 'v2' });
    expect(errs(v2m.bind_(EDU))).toBe(errnoName(EPERM));
    expect(v2m.kernel.sysfsWrite('/sys/module/iommufd/parameters/allow_unsafe_interrupts', 'Y')).toBe(1);
    expect(v2m.bind(EDU).id).toBe(1);
    expect(v2m.dmesg()).toContain(`vfio-pci ${EDU}: ${IOMMUFD_UNSAFE_MSI_WARNING}`);
    const noIr = new Iommufd('6.12', 'qemu-q35-vtd', { intremap: 'off' });
    expect(errs(noIr.bind_(EDU))).toBe(errnoName(EPERM));
  });

  // Rule: the DMA ownership claim: a group with a kernel driver in it is -EPERM; a second
  // context cannot bind a device the first holds; unbind gives the ownership back.
  it('DMA ownership', () => {
    const t = new Iommufd();
    expect(errs(t.bind_(AHCI))).toBe(errnoName(EPERM));
    const dev = t.bind(EDU);
    const other = new Iommufd();
    const k = t.kernel;
    const ctx2 = k.iommufd!.ctxFromFile(t.proc.file(t.open('/dev/iommu'))!);
    if (typeof ctx2 === 'number') throw new Error('ctx');
    expect(errs(k.iommufd!.bind(ctx2, k.devices.get(EDU)!) as number)).toBe(errnoName(EPERM));
    dev.unbind();
    expect(typeof k.iommufd!.bind(ctx2, k.devices.get(EDU)!)).toBe('object');
    expect(other.fd).toBe(3);
  });

  // Rule: iommufd_ctx_from_file() of anything but /dev/iommu is -EBADFD.
  it('ctxFromFile: EBADFD', () => {
    const t = new Iommufd();
    const efd = Number(t.kernel.eventfd(t.proc).ret);
    expect(t.kernel.iommufd!.ctxFromFile(t.proc.file(efd)!)).toBe(-77);
  });
});

describe('attach, replace, detach', () => {
  // Rule: an attach to an IOAS makes an auto domain (its id is the answer) filled with the
  // IOAS's mappings; another device of the same IOMMU joins that domain.
  it('auto domains', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const buf = t.mmap(2n * PAGE);
    t.map(ioas, buf, 2n * PAGE, 0x10000n, RW | FIXED);
    const edu = t.bind(EDU);
    const nic = t.bind(E1000E);
    expect(edu.attach(ioas)).toEqual({ ret: 0, ptId: 4 });
    expect(nic.attach(ioas)).toEqual({ ret: 0, ptId: 4 });
    const domain = t.kernel.devices.get(EDU)!.group.domain!;
    expect(t.kernel.devices.get(E1000E)!.group.domain).toBe(domain);
    expect(domain.hw.translate(0x11008n)?.pa).toBe(t.proc.mm.physOf(buf + 0x1008n));
    // Maps after the attach reach the domain; unmaps leave it.
    t.map(ioas, buf, PAGE, 0x40000n, RW | FIXED);
    expect(domain.hw.translate(0x40000n)?.pa).toBe(t.proc.mm.physOf(buf));
    t.unmap(ioas, 0x40000n, PAGE);
    expect(domain.hw.translate(0x40000n)).toBe(undefined);
    // In use: the IOAS (held by the HWPT), the HWPT (held by its devices).
    t.destroy_err(EBUSY, ioas);
    t.destroy_err(EBUSY, 4);
    edu.detach();
    t.destroy_err(EBUSY, 4);
    nic.detach();
    // The auto domain went with its last device.
    t.destroy_err(ENOENT, 4);
    expect(t.kernel.devices.get(EDU)!.group.domain).toBe(undefined);
    t.destroy(ioas);
  });

  // Rule: the device's DMA reaches the pages of the process whose iommufd it is bound to.
  it('DMA lands in the bound process', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const buf = t.mmap(PAGE);
    t.map(ioas, buf, PAGE, 0x10000n, RW | FIXED);
    const dev = t.bind(EDU);
    expect(dev.attach(ioas).ret).toBe(0);
    const port = (t.kernel.devices.get(EDU)!.hw as unknown as { busMaster: PciBusMaster }).busMaster;
    expect(port.dmaWrite(0x10010n, new Uint8Array([1, 2, 3, 4]))).toBe(true);
    expect(Buffer.from(t.read(buf + 0x10n, 4)).toString('hex')).toBe('01020304');
    expect(port.dmaWrite(0x20000n, new Uint8Array([1]))).toBe(false);
  });

  // Rule: a bound device holds the context (iommufd_ctx_get): closing /dev/iommu leaves its
  // mappings working until the device goes, then every object is released.
  it('close while bound', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const buf = t.mmap(PAGE);
    t.map(ioas, buf, PAGE, 0x10000n, RW | FIXED);
    const dev = t.bind(EDU);
    // A user's HWPT the device is not on, and the auto domain it is on.
    expect(t.ok(t.hwpt_alloc_(dev.id, ioas)).k.num('out_hwpt_id')).toBe(3);
    expect(dev.attach(ioas)).toEqual({ ret: 0, ptId: 4 });
    const domain = t.kernel.devices.get(EDU)!.group.domain!;
    expect(t.kernel.close(t.proc, t.fd).errno).toBe(0);
    expect(domain.hw.translate(0x10000n)?.pa).toBe(t.proc.mm.physOf(buf));
    expect(t.kernel.iommu.domains.size).toBe(2);
    dev.unbind();
    expect(t.kernel.devices.get(EDU)!.group.domain).toBe(undefined);
    expect(domain.hw.translate(0x10000n)).toBe(undefined);
    expect(t.kernel.iommu.domains.size).toBe(0);
  });

  // Rule: replace moves the group to another HWPT (-EINVAL when not attached); the old auto
  // domain is freed; a user's HWPT stays until destroyed.
  it('replace', () => {
    const t = new Iommufd();
    const a = t.ioas_alloc();
    const b = t.ioas_alloc();
    const dev = t.bind(EDU);
    expect(dev.replace(a)).toEqual({ ret: -EINVAL, ptId: a });
    expect(dev.attach(a)).toEqual({ ret: 0, ptId: 4 });
    const hwpt = t.ok(t.hwpt_alloc_(dev.id, b)).k.num('out_hwpt_id');
    expect(hwpt).toBe(5);
    expect(dev.replace(hwpt)).toEqual({ ret: 0, ptId: 5 });
    t.destroy_err(ENOENT, 4);
    t.destroy_err(EBUSY, hwpt);
    // Attaching again while attached elsewhere is -EINVAL.
    expect(dev.attach(a)).toEqual({ ret: -EINVAL, ptId: a });
    expect(dev.replace(a)).toEqual({ ret: 0, ptId: 4 });
    t.destroy(hwpt);
    expect(dev.replace(99)).toEqual({ ret: -ENOENT, ptId: 99 });
    expect(dev.replace(dev.id)).toEqual({ ret: -EINVAL, ptId: dev.id });
  });

  // Rule: unbind detaches what is attached; the device's id is free again.
  it('unbind', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const dev = t.bind(EDU);
    dev.attach(ioas);
    dev.unbind();
    t.destroy_err(ENOENT, 2);
    t.destroy_err(ENOENT, 3);
    t.destroy(ioas);
  });
});

describe('IOMMU_HWPT_ALLOC', () => {
  // Rule: the argument checks in order: __reserved, data_type/data_len, the device, the pt
  // (no object: -EINVAL from 6.7's IOMMUFD_OBJ_ANY lookup, 6.6's iommufd_get_ioas -ENOENT).
  // A nested HWPT: no driver data is -EOPNOTSUPP before the parent is judged (7.2, recorded).
  it('checks', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const dev = t.bind(EDU);
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_HWPT_ALLOC', IOMMU_HWPT_ALLOC, { dev_id: dev.id, pt_id: ioas, __reserved: 1 }));
    t.err(EINVAL, t.cmd_('IOMMU_HWPT_ALLOC', IOMMU_HWPT_ALLOC, { dev_id: dev.id, pt_id: ioas, data_len: 8 }));
    t.err(EINVAL, t.cmd_('IOMMU_HWPT_ALLOC', IOMMU_HWPT_ALLOC, { dev_id: dev.id, pt_id: ioas, data_type: 1 }));
    t.err(ENOENT, t.hwpt_alloc_(ioas, ioas));
    t.err(EINVAL, t.hwpt_alloc_(dev.id, 9));
    t.err(EINVAL, t.hwpt_alloc_(dev.id, dev.id));
    const hwpt = t.ok(t.hwpt_alloc_(dev.id, ioas)).k.num('out_hwpt_id');
    t.err(EOPNOTSUPP, t.hwpt_alloc_(dev.id, hwpt));
    // With driver data, a nested HWPT needs a nesting parent.
    t.err(EINVAL, t.cmd_('IOMMU_HWPT_ALLOC', IOMMU_HWPT_ALLOC, { dev_id: dev.id, pt_id: hwpt, data_type: 1, data_len: 8 }));
    t.destroy(hwpt);
    const six = new Iommufd('6.6');
    six.ioas_alloc();
    t.err(ENOENT, six.hwpt_alloc_(six.bind(EDU).id, 9));
  });

  // Rule (7.2, recorded): PASID is a paging flag (6.14); FAULT_ID_VALID looks the fault queue
  // up after the HWPT exists — fault_id 0 names none, so -ENOENT, and the HWPT goes again.
  it('PASID and FAULT_ID_VALID', () => {
    const t = new Iommufd('7.2');
    const ioas = t.ioas_alloc();
    const dev = t.bind(EDU);
    expect(t.ok(t.hwpt_alloc_(dev.id, ioas, 8n)).k.num('out_hwpt_id')).toBe(3);
    t.err(ENOENT, t.hwpt_alloc_(dev.id, ioas, 4n));
    // the aborted id is free again (xa_erase)
    expect(t.ok(t.hwpt_alloc_(dev.id, ioas)).k.num('out_hwpt_id')).toBe(4);
    const old = new Iommufd('6.12');
    const oldIoas = old.ioas_alloc();
    old.err(EOPNOTSUPP, old.hwpt_alloc_(old.bind(EDU).id, oldIoas, 8n));
  });

  // Rule: NEST_PARENT and DIRTY_TRACKING need the hardware (QEMU's VT-d and SMMUv3 models have
  // neither nesting nor dirty tracking): -EOPNOTSUPP, and the id taken is freed again. On 6.6
  // no flag exists.
  it('flags', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const dev = t.bind(EDU);
    t.err(EOPNOTSUPP, t.hwpt_alloc_(dev.id, ioas, 1n));
    t.err(EOPNOTSUPP, t.hwpt_alloc_(dev.id, ioas, 2n));
    t.err(EOPNOTSUPP, t.hwpt_alloc_(dev.id, ioas, 0x10n));
    expect(t.ok(t.hwpt_alloc_(dev.id, ioas)).k.num('out_hwpt_id')).toBe(3);
    const six = new Iommufd('6.6');
    const ioas6 = six.ioas_alloc();
    const dev6 = six.bind(EDU);
    six.err(EOPNOTSUPP, six.hwpt_alloc_(dev6.id, ioas6, 1n));
    // 6.6's struct ends at __reserved: a 48-byte struct with data_type set is -E2BIG there.
    six.err(7, six.cmd_('IOMMU_HWPT_ALLOC', IOMMU_HWPT_ALLOC, { dev_id: dev6.id, pt_id: ioas6, data_type: 1, data_len: 4 }));
    six.ok(six.cmd_('IOMMU_HWPT_ALLOC', IOMMU_HWPT_ALLOC, { dev_id: dev6.id, pt_id: ioas6 }, 24));
  });
});

describe('dirty tracking and GET_HW_INFO', () => {
  // Rule: an HWPT without dirty_ops answers -EOPNOTSUPP, after the flag and range checks.
  it('no dirty tracking on the modelled IOMMUs', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    const dev = t.bind(EDU);
    const hwpt = t.ok(t.hwpt_alloc_(dev.id, ioas)).k.num('out_hwpt_id');
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_HWPT_SET_DIRTY_TRACKING', IOMMU_HWPT_SET_DIRTY_TRACKING, { hwpt_id: hwpt, flags: 2 }));
    t.err(ENOENT, t.cmd_('IOMMU_HWPT_SET_DIRTY_TRACKING', IOMMU_HWPT_SET_DIRTY_TRACKING, { hwpt_id: ioas, flags: 1 }));
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_HWPT_SET_DIRTY_TRACKING', IOMMU_HWPT_SET_DIRTY_TRACKING, { hwpt_id: hwpt, flags: 1 }));
    const get = (f: Record<string, bigint | number>) => t.cmd_('IOMMU_HWPT_GET_DIRTY_BITMAP', IOMMU_HWPT_GET_DIRTY_BITMAP, { hwpt_id: hwpt, ...f });
    t.err(EINVAL, get({ iova: 0x800n, length: PAGE, page_size: PAGE }));
    t.err(EINVAL, get({ iova: 0n, length: PAGE, page_size: 0 }));
    t.err(75, get({ iova: PAGE, length: U64_MAX, page_size: PAGE }));
    t.err(EOPNOTSUPP, get({ iova: 0n, length: PAGE, page_size: PAGE }));
  });

  // Rule: on hardware that records writes (here VT-d with SSADS, which QEMU does not model), a
  // DIRTY_TRACKING HWPT tracks once enabled; GET_DIRTY_BITMAP sets one bit per page_size unit a
  // DMA write dirtied, clears the hardware bits unless NO_CLEAR, and needs the range mapped.
  it('dirty tracking with SSADS', () => {
    const base = findPreset('qemu-q35-vtd')!;
    const ssads = { ...base, iommus: base.iommus.map((i) => ({ ...i, params: { ...i.params, ssads: true } })) };
    const t = new Iommufd('6.12', ssads as never);
    const ioas = t.ioas_alloc();
    const buf = t.mmap(8n * PAGE);
    t.map(ioas, buf, 8n * PAGE, 0x10000n, RW | FIXED);
    const dev = t.bind(EDU);
    const k = t.kernel.devices.get(EDU)!;
    const hinfo = t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id }));
    expect(hinfo.k.get('out_capabilities')).toBe(1n);
    const hwpt = t.ok(t.hwpt_alloc_(dev.id, ioas, 2n)).k.num('out_hwpt_id');
    expect(dev.attach(hwpt).ret).toBe(0);
    const bitmap = t.poisoned(8);
    t.proc.mm.copyToUser(bitmap, new Uint8Array(8));
    const get = (flags = 0n) => t.cmd_('IOMMU_HWPT_GET_DIRTY_BITMAP', IOMMU_HWPT_GET_DIRTY_BITMAP, { hwpt_id: hwpt, iova: 0x10000n, length: 8n * PAGE, page_size: PAGE, data: bitmap, flags });
    // Writes before tracking is on leave nothing.
    expect(translate(k, 0x11000n, 8n, true).ok).toBe(true);
    t.ok(get());
    expect(Buffer.from(t.read(bitmap, 8)).toString('hex')).toBe('0000000000000000');
    t.ok(t.cmd_('IOMMU_HWPT_SET_DIRTY_TRACKING', IOMMU_HWPT_SET_DIRTY_TRACKING, { hwpt_id: hwpt, flags: 1 }));
    translate(k, 0x11000n, 8n, true);
    translate(k, 0x13ff8n, 16n, true);
    translate(k, 0x15000n, 8n, false);
    t.ok(get(1n));
    expect(Buffer.from(t.read(bitmap, 8)).toString('hex')).toBe('1a00000000000000');
    t.proc.mm.copyToUser(bitmap, new Uint8Array(8));
    t.ok(get());
    expect(Buffer.from(t.read(bitmap, 8)).toString('hex')).toBe('1a00000000000000');
    t.proc.mm.copyToUser(bitmap, new Uint8Array(8));
    t.ok(get());
    expect(Buffer.from(t.read(bitmap, 8)).toString('hex')).toBe('0000000000000000');
    // An unmapped hole in the range is -EINVAL.
    t.err(EINVAL, t.cmd_('IOMMU_HWPT_GET_DIRTY_BITMAP', IOMMU_HWPT_GET_DIRTY_BITMAP, { hwpt_id: hwpt, iova: 0x10000n, length: 16n * PAGE, page_size: PAGE, data: bitmap }));
    // An auto domain (no DIRTY_TRACKING flag) has no dirty_ops.
    const other = t.ioas_alloc();
    const nic = t.bind(E1000E);
    const auto = nic.attach(other).ptId;
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_HWPT_SET_DIRTY_TRACKING', IOMMU_HWPT_SET_DIRTY_TRACKING, { hwpt_id: auto, flags: 1 }));
  });

  // Rule: intel_iommu_hw_info() answers INTEL_VTD with struct iommu_hw_info_vtd (the errata
  // flag, CAP_REG, ECAP_REG as QEMU 7.2's vtd_init sets them; recorded on 7.2,
  // real-kernel-iommufd edu-cdev), copied up to data_len with the rest zeroed; data_len answers 24.
  it('GET_HW_INFO of VT-d', () => {
    const t = new Iommufd();
    const dev = t.bind(EDU);
    const at = t.poisoned(32);
    const o = t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, data_len: 32, data_uptr: at, out_capabilities: 0xffn }));
    expect([o.k.num('out_data_type'), o.k.num('data_len'), o.k.get('out_capabilities')]).toEqual([1, 24, 0n]);
    expect(Buffer.from(t.read(at, 32)).toString('hex')).toBe('0100000000000000' + '060226228c00d200' + '4a0ff00000000000' + '00'.repeat(8));
    const short = t.poisoned(8);
    t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, data_len: 4, data_uptr: short }));
    expect(Buffer.from(t.read(short, 8)).toString('hex')).toBe('01000000aaaaaaaa');
    // 6.12 knows no flag
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, flags: 1 }));
    t.err(ENOENT, t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: 7 }));
  });

  // Rule: without intremap QEMU leaves ECAP.IR and ECAP.MHMV clear (recorded, intremap-off).
  it('GET_HW_INFO of VT-d without interrupt remapping', () => {
    const t = new Iommufd('6.12', 'qemu-q35-vtd', { intremap: 'off' });
    expect(t.kernel.sysfsWrite('/sys/module/iommufd/parameters/allow_unsafe_interrupts', 'Y')).toBe(1);
    const dev = t.bind(EDU);
    const at = t.poisoned(24);
    t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, data_len: 24, data_uptr: at }));
    expect(Buffer.from(t.read(at + 16n, 8)).toString('hex')).toBe('420f000000000000');
  });

  // Rule (6.17): IOMMU_HW_INFO_FLAG_INPUT_TYPE asks for in_data_type, which VT-d answers for
  // DEFAULT or INTEL_VTD only (-EOPNOTSUPP); without the flag the input is cleared to DEFAULT.
  // 7.2 reports IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED for a device without ATS.
  it('GET_HW_INFO input type and the ATS capability (7.2)', () => {
    const t = new Iommufd('7.2');
    const dev = t.bind(EDU);
    const vtd = t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, flags: 1, out_data_type: 1 }));
    expect([vtd.k.num('out_data_type'), vtd.k.num('data_len'), vtd.k.get('out_capabilities')]).toEqual([1, 24, 8n]);
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, flags: 1, out_data_type: 2 }));
    expect(t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, out_data_type: 2 })).k.num('out_data_type')).toBe(1);
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, flags: 2 }));
  });
});

describe('GET_HW_INFO of SMMUv3', () => {
  /** struct iommu_hw_info_arm_smmuv3 of QEMU 7.2's SMMUv3 (IDR0 with HTTU `httu`), as bytes. */
  const smmuv3Info = (idr0: string) => '00000000' + '00000000' + idr0 + '10007302' + '00000000' + '04140000' + '00000000' + '74000000' + '00000000' + '01000000';
  const smmuv3 = (era: string, httu = false) => {
    const base = findPreset('qemu-virt-smmuv3')!;
    const preset = httu ? { ...base, iommus: base.iommus.map((i) => ({ ...i, params: { ...i.params, httu: true } })) } : base;
    return new Iommufd(era, preset as never, { gic: 'v3' });
  };

  // Rule (6.13, arm_smmu_hw_info): type ARM_SMMUV3, data_len 40, the ID registers read raw as
  // QEMU 7.2 resets them (IDR0 0x0d40101a, IDR1 0x02730010, IDR3 0x1404, IDR5 0x74, AIDR 1;
  // read on QEMU 7.2.22 with the monitor's xp), copied up to data_len, the rest of it zeroed.
  it('ARM_SMMUV3 with the ID registers (7.2)', () => {
    const t = smmuv3('7.2');
    const dev = t.bind(EDU);
    const at = t.poisoned(56);
    const o = t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, data_len: 48, data_uptr: at }));
    expect([o.k.num('out_data_type'), o.k.num('data_len'), o.k.get('out_capabilities')]).toEqual([2, 40, 8n]);
    expect(Buffer.from(t.read(at, 56)).toString('hex')).toBe(smmuv3Info('1a10400d') + '00'.repeat(8) + 'aa'.repeat(8));
    const short = t.poisoned(16);
    t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, data_len: 12, data_uptr: short }));
    expect(Buffer.from(t.read(short, 16)).toString('hex')).toBe('00000000' + '00000000' + '1a10400d' + 'aaaaaaaa');
  });

  // Rule (6.17): a type other than DEFAULT or ARM_SMMUV3 goes to impl_ops->hw_info, which
  // QEMU's SMMU has none of: -EOPNOTSUPP (INTEL_VTD, TEGRA241_CMDQV); ARM_SMMUV3 asked by name answers.
  it('ARM_SMMUV3 by input type (7.2)', () => {
    const t = smmuv3('7.2');
    const dev = t.bind(EDU);
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, flags: 1, out_data_type: 1 }));
    t.err(EOPNOTSUPP, t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, flags: 1, out_data_type: 3 }));
    expect(t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, flags: 1, out_data_type: 2 })).k.num('data_len')).toBe(40);
  });

  // Rule: before 6.13 arm-smmu-v3's ops->hw_info is NULL: type NONE, data_len 0, and the user's
  // data_len bytes cleared (clear_user); 6.13 answers ARM_SMMUV3.
  it('NONE before 6.13', () => {
    const t = smmuv3('6.12');
    const dev = t.bind(EDU);
    const at = t.poisoned(24);
    const o = t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, data_len: 16, data_uptr: at, out_data_type: 5 }));
    expect([o.k.num('out_data_type'), o.k.num('data_len'), o.k.get('out_capabilities')]).toEqual([0, 0, 0n]);
    expect(Buffer.from(t.read(at, 24)).toString('hex')).toBe('00'.repeat(16) + 'aa'.repeat(8));
    const n = smmuv3('6.13');
    const o13 = n.ok(n.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: n.bind(EDU).id }));
    expect([o13.k.num('out_data_type'), o13.k.num('data_len')]).toEqual([2, 40]);
  });

  // Rule: one source of truth: IDR0.HTTU = 2 (httu) is what the info reports (IDR0 0x0d40109a)
  // and what gives IOMMU_CAP_DIRTY_TRACKING (arm_smmu_dbm_capable: FEAT_HD with COHACC).
  it('HTTU in IDR0 and the dirty-tracking capability', () => {
    const t = smmuv3('7.2', true);
    const dev = t.bind(EDU);
    const at = t.poisoned(40);
    const o = t.ok(t.cmd_('IOMMU_GET_HW_INFO', IOMMU_HW_INFO, { dev_id: dev.id, data_len: 40, data_uptr: at }));
    expect(o.k.get('out_capabilities')).toBe(9n);
    expect(Buffer.from(t.read(at, 40)).toString('hex')).toBe(smmuv3Info('9a10400d'));
  });
});

describe('IOMMU_OPTION', () => {
  const RLIMIT = 0;
  const HUGE = 1;
  const SET = 0;
  const GET = 1;
  // Rule: RLIMIT_MODE is the context's: 0 (per user) on /dev/iommu, 1 (per mm, as VFIO) on an
  // iommufd-served /dev/vfio/vfio; SET only while the context has no object (-EBUSY), values 0/1.
  it('RLIMIT_MODE', () => {
    const t = new Iommufd();
    expect(t.ok(t.option_(RLIMIT, GET, 0)).k.get('val64')).toBe(0n);
    t.err(EOPNOTSUPP, t.option_(RLIMIT, GET, 1));
    t.err(EINVAL, t.option_(RLIMIT, SET, 0, 2n));
    t.ok(t.option_(RLIMIT, SET, 0, 1n));
    expect(t.ok(t.option_(RLIMIT, GET, 0)).k.get('val64')).toBe(1n);
    t.ioas_alloc();
    t.err(EBUSY, t.option_(RLIMIT, SET, 0, 0n));
    const compat = new Iommufd('6.12', 'qemu-q35-vtd', {}, 'iommufd-compat', '/dev/vfio/vfio');
    expect(compat.ok(compat.option_(RLIMIT, GET, 0)).k.get('val64')).toBe(1n);
    // Without CAP_SYS_RESOURCE (the model's processes are root's; this one is not) SET is -EPERM.
    const user = new Iommufd();
    (user.ctx as IommufdContext).env.capSysResource = false;
    user.err(EPERM, user.option_(RLIMIT, SET, 0, 1n));
    expect(user.ok(user.option_(RLIMIT, GET, 0)).k.get('val64')).toBe(0n);
  });

  // Rule: HUGE_PAGES is per IOAS: 1 by default; turning it off is refused once a domain has
  // mappings (-EINVAL); unknown ops and options are -EOPNOTSUPP.
  it('HUGE_PAGES', () => {
    const t = new Iommufd();
    const ioas = t.ioas_alloc();
    expect(t.ok(t.option_(HUGE, GET, ioas)).k.get('val64')).toBe(1n);
    t.ok(t.option_(HUGE, SET, ioas, 0n));
    expect(t.ok(t.option_(HUGE, GET, ioas)).k.get('val64')).toBe(0n);
    // Large pages off: the IOVA alignment is PAGE_SIZE even without a domain.
    t.map_err(EINVAL, ioas, t.mmap(PAGE), 0x800n, 0x10000n, RW | FIXED);
    t.ok(t.option_(HUGE, SET, ioas, 1n));
    t.err(EINVAL, t.option_(HUGE, SET, ioas, 2n));
    t.err(ENOENT, t.option_(HUGE, GET, 9));
    t.err(EOPNOTSUPP, t.option_(HUGE, 2, ioas));
    t.err(EOPNOTSUPP, t.option_(7, GET, ioas));
    const dev = t.bind(EDU);
    t.map(ioas, t.mmap(PAGE), PAGE, 0x10000n, RW | FIXED);
    dev.attach(ioas);
    t.err(EINVAL, t.option_(HUGE, SET, ioas, 0n));
  });
});
