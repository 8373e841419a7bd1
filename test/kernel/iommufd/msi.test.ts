// The MSI window in iommufd, by era, on QEMU's virt machine with SMMUv3 and a GICv3 ITS:
// - 6.2–6.14: the SW_MSI region is reserved in the IOAS and the HWPT gets dma-iommu's MSI
//   cookie there (iommufd_group_setup_msi → iommu_get_msi_cookie): a doorbell is mapped in the
//   domain the device was on when its vectors were set up; an HWPT attached later starts empty.
// - 6.15 (sw_msi): the context's doorbell pages sit at sw_msi_start + pgoff * PAGE_SIZE and are
//   installed in every paging HWPT the group attaches, so the MSI still lands after a replace.
// - the proposed IOMMU_OPTION_SW_MSI_START/SIZE (sw-msi-v2): the user's window, per device,
//   replaces the driver's, and the doorbell is mapped there.

import { describe, expect, it } from 'vitest';
import { EADDRINUSE, EBUSY, EINVAL, EOPNOTSUPP, EOVERFLOW } from '../../../src/uapi/errno.js';
import { Iommufd, U64_MAX } from './fixture.js';
import { ERAS } from '../../../src/kernel/era.js';
import { iommufdAttachFacts } from '../../../src/kernel/iommufd/msi.js';
import { IommufdFile } from '../../../src/kernel/iommufd/main.js';

const EDU = '0000:00:01.0';
const SW_MSI = 0x0800_0000n;
const SW_MSI_START = 2;
const SW_MSI_SIZE = 3;
const SET = 0;
const GET = 1;
const M = 0x10_0000n;

const smmu = (era: string): Iommufd => new Iommufd(era, 'qemu-virt-smmuv3', { gic: 'v3' });

/** Enables one MSI vector (as vfio-pci's SET_IRQS does) and answers its message and doorbell. */
function msiVector(t: Iommufd): { addr: bigint; doorbell: bigint } {
  const irq = t.kernel.msi.get(EDU)!;
  expect(irq.enable('msi', 1)).toBe(0);
  return { addr: irq.vectors[0].msg.addr, doorbell: irq.vectors[0].doorbell };
}

const page = (a: bigint): bigint => a & ~0xfffn;

/** edu bound at sw-msi-v2 with a 2 MiB window at 256 MiB chosen, not attached yet. */
function withUserWindow() {
  const t = smmu('sw-msi-v2');
  const ioas = t.ioas_alloc();
  const dev = t.bind(EDU);
  t.ok(t.option_(SW_MSI_START, SET, dev.id, 0x1000_0000n));
  t.ok(t.option_(SW_MSI_SIZE, SET, dev.id, 2n));
  return { t, ioas, dev };
}

/** edu bound, attached to a new IOAS's auto domain, with one MSI vector set up. */
function attachedWithVector(era: string) {
  const t = smmu(era);
  const ioas = t.ioas_alloc();
  const dev = t.bind(EDU);
  dev.attach(ioas);
  return { t, ioas, dev, v: msiVector(t) };
}

describe('SW_MSI reservation and the MSI cookie (6.2–6.14)', () => {
  // Rule: the attach reserves the SW_MSI window: IOVA_RANGES has a hole there.
  it('the window is reserved', () => {
    const t = smmu('6.12');
    const ioas = t.ioas_alloc();
    const dev = t.bind(EDU);
    expect(dev.attach(ioas).ret).toBe(0);
    expect(t.iova_ranges_(ioas, 4).ranges).toEqual([
      [0n, SW_MSI - 1n],
      [SW_MSI + M, (1n << 48n) - 1n],
    ]);
  });

  // Rule: the doorbell is mapped at the cookie's base in the attached domain; a replacement
  // HWPT has its own cookie and nothing mapped: the programmed IOVA faults there.
  it('a replaced HWPT loses the doorbell', () => {
    const t = smmu('6.12');
    const ioas = t.ioas_alloc();
    const dev = t.bind(EDU);
    expect(dev.attach(ioas)).toEqual({ ret: 0, ptId: 3 });
    const v = msiVector(t);
    expect(page(v.addr)).toBe(SW_MSI);
    const first = t.kernel.devices.get(EDU)!.group.domain!;
    expect(first.hw.translate(v.addr)?.pa).toBe(v.doorbell);
    const hwpt = t.ok(t.hwpt_alloc_(dev.id, ioas)).k.num('out_hwpt_id');
    expect(dev.replace(hwpt)).toEqual({ ret: 0, ptId: hwpt });
    const second = t.kernel.devices.get(EDU)!.group.domain!;
    expect(second).not.toBe(first);
    expect(second.hw.translate(v.addr)).toBe(undefined);
  });
});

describe('sw_msi (6.15) and the proposed window option', () => {
  // Rule: the context's doorbell map is installed in each HWPT the group attaches.
  it('the doorbell follows the device to a new HWPT', () => {
    const { t, ioas, dev, v } = attachedWithVector('6.15');
    expect(page(v.addr)).toBe(SW_MSI);
    const hwpt = t.ok(t.hwpt_alloc_(dev.id, ioas)).k.num('out_hwpt_id');
    expect(dev.replace(hwpt).ret).toBe(0);
    expect(t.kernel.devices.get(EDU)!.group.domain!.hw.translate(v.addr)?.pa).toBe(v.doorbell);
  });

  // Rule: SW_MSI_START (1 MiB aligned) and SW_MSI_SIZE (in MiB) of a device replace the
  // driver's window at the next attach; the doorbell is mapped there.
  it("the user's window replaces the driver's", () => {
    const { t, ioas, dev } = withUserWindow();
    expect(t.ok(t.option_(SW_MSI_START, GET, dev.id)).k.get('val64')).toBe(0x1000_0000n);
    expect(t.ok(t.option_(SW_MSI_SIZE, GET, dev.id)).k.get('val64')).toBe(2n);
    expect(dev.attach(ioas).ret).toBe(0);
    expect(t.iova_ranges_(ioas, 4).ranges).toEqual([
      [0n, 0x0fff_ffffn],
      [0x1020_0000n, (1n << 48n) - 1n],
    ]);
    const v = msiVector(t);
    expect(page(v.addr)).toBe(0x1000_0000n);
    expect(t.kernel.devices.get(EDU)!.group.domain!.hw.translate(v.addr)?.pa).toBe(v.doorbell);
    // Refused once attached.
    t.err(EBUSY, t.option_(SW_MSI_START, SET, dev.id, 0x2000_0000n));
  });

  // Rule: unaligned start or size 0: -EINVAL; a window past 2^64: -EOVERFLOW; a window over
  // another reserved region of the device (VT-d's interrupt window): -EADDRINUSE.
  it('option errors', () => {
    const t = smmu('sw-msi-v2');
    const dev = t.bind(EDU);
    t.err(EINVAL, t.option_(SW_MSI_START, SET, dev.id, 0x1008_0000n));
    t.err(EINVAL, t.option_(SW_MSI_SIZE, SET, dev.id, 0n));
    t.ok(t.option_(SW_MSI_START, SET, dev.id, U64_MAX & ~(M - 1n)));
    t.err(EOVERFLOW, t.option_(SW_MSI_SIZE, SET, dev.id, 2n));
    const x86 = new Iommufd('sw-msi-v2');
    const d = x86.bind(EDU);
    x86.ok(x86.option_(SW_MSI_SIZE, SET, d.id, 2n));
    x86.err(EADDRINUSE, x86.option_(SW_MSI_START, SET, d.id, 0xfed0_0000n));
    x86.ok(x86.option_(SW_MSI_START, SET, d.id, 0xfe00_0000n));
    // Not an option before the series.
    const old = smmu('6.12');
    old.err(EOPNOTSUPP, old.option_(SW_MSI_START, SET, old.bind(EDU).id, 0x1000_0000n));
  });
});

describe('the era rows', () => {
  // Rule: the proposal is posted against 7.x: its row is 7.2 with the option, nothing else.
  it('sw-msi-v2 is 7.2 plus IOMMU_OPTION_SW_MSI_START/SIZE', () => {
    const { name, summary, version, iommufdSwMsiOption, ...v2 } = ERAS.get('sw-msi-v2')!;
    const { name: n72, summary: s72, version: ver72, iommufdSwMsiOption: o72, ...e72 } = ERAS.get('7.2')!;
    expect([name, version, iommufdSwMsiOption, n72, ver72, o72]).toEqual(['sw-msi-v2', null, true, '7.2', [7, 2], false]);
    expect(v2).toEqual(e72);
    expect(summary === s72).toBe(false);
  });

  // Rule: native sw_msi from 6.15 ("iommufd: Implement sw_msi support natively"), not in 6.13.
  it('sw_msi starts at 6.15', () => {
    expect(['6.12', '6.13', '6.15', '6.17', '7.2'].map((e) => ERAS.get(e)!.iommufdSwMsi)).toEqual([false, false, true, true, true]);
  });
});

describe('attach facts (what show verdict explains)', () => {
  const facts = (t: Iommufd) => {
    const f = t.proc.file(t.fd)!.ops as IommufdFile;
    return iommufdAttachFacts(f.ictx, t.kernel.devices.get(EDU)!.group);
  };

  // Rule: 6.2–6.14 place the doorbell with the MSI cookie; the attached domain maps its page.
  it('6.12: cookie placement, the driver window, the doorbell page mapped', () => {
    const { t, dev, v } = attachedWithVector('6.12');
    const f = facts(t);
    expect([f.placement, f.swMsiOption, f.driverWindow, f.swMsiStart, f.hwpt?.id, f.hwpt?.auto]).toEqual(['msi-cookie', false, { start: SW_MSI, size: M }, SW_MSI, 3, true]);
    expect(f.doorbells).toEqual([{ pa: page(v.doorbell), iova: SW_MSI }]);
    expect(f.devices).toEqual([{ bdf: EDU, devId: dev.id, attached: true }]);
  });

  // Rule: the proposed option: the user's window is reported per device and used.
  it("sw-msi-v2: sw_msi placement and the user's window", () => {
    const { t, ioas, dev } = withUserWindow();
    dev.attach(ioas);
    const v = msiVector(t);
    const f = facts(t);
    expect([f.placement, f.swMsiOption, f.swMsiStart]).toEqual(['sw-msi', true, 0x1000_0000n]);
    expect(f.devices).toEqual([{ bdf: EDU, devId: dev.id, attached: true, userWindow: { start: 0x1000_0000n, size: 2n * M } }]);
    expect(f.doorbells).toEqual([{ pa: page(v.doorbell), iova: 0x1000_0000n }]);
  });
});
