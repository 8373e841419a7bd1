// The AMD-Vi model (src/hw/iommu/amd-vi.ts): one stanza per driver rule, exact values.

import { describe, expect, it } from 'vitest';
import { AMD_IOMMU_PGSIZES, AmdVi } from '../../src/hw/iommu/amd-vi.js';
import { buildPlatform, findPreset } from '../../src/hw/presets.js';
import { EINVAL } from '../../src/uapi/errno.js';

const RW = { read: true, write: true };
const DEV = '0000:00:02.0';

const amd = (intremap = true, firstDomainId?: number) => new AmdVi({ name: 'ivhd0', intremap, firstDomainId });

describe('AMD-Vi', () => {
  // AMD_IOMMU_PGSIZES = (~0xFFFUL) & ~(2ULL << 38): all sizes from 4 KiB but 512 GiB.
  it('pgsize_bitmap', () => {
    expect(AMD_IOMMU_PGSIZES).toBe(0xffff_ff7f_ffff_f000n);
    expect(amd().pgsizeBitmap).toBe(0xffff_ff7f_ffff_f000n);
  });

  // amd_iommu_capable: CACHE_COHERENCY; INTR_REMAP only with interrupt remapping; no NOEXEC.
  it('capabilities', () => {
    expect(amd(true).capable('intr-remap')).toBe(true);
    expect(amd(false).capable('intr-remap')).toBe(false);
    expect(amd().capable('cache-coherency')).toBe(true);
    expect(amd().capable('noexec')).toBe(false);
  });

  // amd_iommu_get_resv_regions: MSI_RANGE as IOMMU_RESV_MSI, HT_RANGE as IOMMU_RESV_RESERVED.
  it('reserved regions', () => {
    expect(amd().reservedRegions().map((r) => [r.start, r.length, r.type])).toEqual([
      [0xfee0_0000n, 0x10_0000n, 'msi'],
      [0xfd_0000_0000n, 0x3_0000_0000n, 'reserved'],
    ]);
    expect(amd().msiTranslated).toBe(false);
  });

  // amd_iommu_domain_alloc: aperture 0 .. ~0ULL; a HATS-limited kernel is apertureBits.
  it('aperture', () => {
    expect(amd().allocDomain().aperture).toEqual({ start: 0n, end: 0xffff_ffff_ffff_ffffn });
    expect(new AmdVi({ name: 'i', intremap: true, apertureBits: 48 }).allocDomain().aperture.end).toBe(0xffff_ffff_ffffn);
  });

  // iommu_map through the v1 table: any 4 KiB-aligned range, up to the top of the address space.
  it('map', () => {
    const d = amd().allocDomain();
    expect(d.map(0xffff_ffff_ffff_f000n, 0x1000n, 0x1000n, RW)).toBe(0);
    expect(d.translate(0xffff_ffff_ffff_f010n)).toEqual({ pa: 0x1010n, prot: RW });
    expect(d.map(0x800n, 0x1000n, 0x1000n, RW)).toBe(-EINVAL);
  });

  // amd_iommu_report_page_fault: pci_err "Event logged [IO_PAGE_FAULT domain= address= flags=]";
  // the record is what follows the device's prefix, which the kernel adds.
  it('IO_PAGE_FAULT record', () => {
    const a = amd(true, 5);
    a.allocDomain();
    const w = a.fault(DEV, 0xfd_0000_0000n, true, 'translation');
    expect(w).toEqual({
      iommu: 'ivhd0',
      type: 'IO_PAGE_FAULT',
      source: 'device=00:02.0',
      iova: 0xfd_0000_0000n,
      write: true,
      text: 'AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0005 address=0xfd00000000 flags=0x0020]',
      devicePrefix: true,
    });
    expect(a.fault(DEV, 0x1234n, false, 'translation').text).toBe(
      'AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0005 address=0x1234 flags=0x0000]',
    );
    // A permission fault: PR (0x10) | PE (0x40) | RW (0x20).
    expect(a.fault(DEV, 0x2000n, true, 'permission').text).toBe(
      'AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0005 address=0x2000 flags=0x0070]',
    );
  });

  // domain_id_alloc: ids after the boot's default domains, one per allocation.
  it('domain ids', () => {
    const a = amd(true, 5);
    a.allocDomain();
    a.allocDomain();
    expect(a.fault(DEV, 0n, false, 'translation').text).toBe('AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0006 address=0x0 flags=0x0000]');
  });
});

describe('x86-amd-vi preset', () => {
  // intremap=on|off picks the IOMMU row; q35 layout; the x86 APIC takes MSIs.
  it('builds', () => {
    const on = buildPlatform(findPreset('x86-amd-vi')!, {});
    expect(on.iommus.map((i) => [i.name, i.model, i.capable('intr-remap')])).toEqual([['ivhd0', 'AMD-Vi', true]]);
    expect(on.devices.map((d) => [d.bdf, d.group])).toEqual([
      ['0000:00:00.0', 0],
      ['0000:00:01.0', 1],
      ['0000:00:02.0', 2],
      ['0000:00:1f.0', 3],
      ['0000:00:1f.2', 3],
      ['0000:00:1f.3', 3],
    ]);
    expect(on.msiControllers.map((c) => c.model)).toEqual(['x86 local APIC MSI window']);
    const off = buildPlatform(findPreset('x86-amd-vi')!, { intremap: 'off' });
    expect(off.iommus[0].capable('intr-remap')).toBe(false);
  });
});
