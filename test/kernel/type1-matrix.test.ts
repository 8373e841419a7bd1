// The core vfio_iommu_type1 rules over every modelled era × every preset with a type1 backend.
// Expected values come from the era's switches (kernel/era.ts) and the platform's hardware
// facts listed below, through the kernel rule each stanza names, never from the model's own
// answers (type1.test.ts has the rules one by one, with their sources).

import { describe, expect, it } from 'vitest';
import { ERAS, type Era } from '../../src/kernel/era.js';
import { presets } from '../../src/hw/presets.js';
import { EEXIST, EINVAL, EPERM, errnoName } from '../../src/uapi/errno.js';
import { KStruct } from '../../src/uapi/struct.js';
import { VFIO_IOMMU_TYPE1_INFO } from '../../src/uapi/structs.js';
import { Machine, RW, UNMAP_ALL, hex } from './fixture.js';

const TYPE1v2 = 3;
const TYPE1 = 1;

/** A preset (with options) and the device used, with the hardware facts the safety rules read. */
interface Row {
  preset: string;
  options: Record<string, string>;
  bdf: string;
  /** The IOMMU driver's capable(IOMMU_CAP_INTR_REMAP) (VT-d / AMD-Vi with interrupt remapping). */
  intrRemap: boolean;
  /** An ARM SMMU driver: before 4.11 it claimed INTR_REMAP ("MSIs are just memory writes"). */
  armSmmu: boolean;
  /**
   * The IOMMU translates MSI writes, so registered doorbells need an IOVA window (the series'
   * DOMAIN_ATTR_MSI_RESV): the ARM SMMUs, and PAMU as the model extrapolates it.
   */
  msiWindow: boolean;
  /** The device's MSI domain isolates (GICv3 ITS: IRQ_DOMAIN_FLAG_MSI_REMAP / ISOLATED_MSI). */
  msiIsolated: boolean;
  /** Some MSI domain in the system isolates (the global MSI_REMAP test of 4.11–6.2). */
  anyIsolated: boolean;
  /** Every MSI doorbell the platform registers (the series' registry: ARM GICs) isolates. */
  doorbellsIsolate: boolean;
}

const x86 = (preset: string, intremap: 'on' | 'off'): Row => ({
  preset,
  options: { intremap },
  bdf: '0000:00:01.0',
  intrRemap: intremap === 'on',
  armSmmu: false,
  msiWindow: false,
  msiIsolated: false,
  anyIsolated: false,
  // The series registers ARM GIC doorbells only: none here.
  doorbellsIsolate: true,
});

const ROWS: Row[] = [
  x86('qemu-q35-vtd', 'on'),
  x86('qemu-q35-vtd', 'off'),
  x86('x86-amd-vi', 'on'),
  x86('x86-amd-vi', 'off'),
  // GICv3 ITS: isolates.
  { preset: 'qemu-virt-smmuv3', options: { gic: 'v3' }, bdf: '0000:00:01.0', intrRemap: false, armSmmu: true, msiWindow: true, msiIsolated: true, anyIsolated: true, doorbellsIsolate: true },
  // GICv2m: does not.
  { preset: 'qemu-virt-smmuv3', options: { gic: 'v2' }, bdf: '0000:00:01.0', intrRemap: false, armSmmu: true, msiWindow: true, msiIsolated: false, anyIsolated: false, doorbellsIsolate: false },
  { preset: 'amd-overdrive', options: {}, bdf: '0000:01:00.0', intrRemap: false, armSmmu: true, msiWindow: true, msiIsolated: false, anyIsolated: false, doorbellsIsolate: false },
  // An ITS and a v2m frame: edu's MSIs go through the ITS, e1000e's through the v2m frame.
  { preset: 'arm-its-plus-v2m', options: {}, bdf: '0000:00:01.0', intrRemap: false, armSmmu: true, msiWindow: true, msiIsolated: true, anyIsolated: true, doorbellsIsolate: false },
  { preset: 'arm-its-plus-v2m', options: {}, bdf: '0000:00:02.0', intrRemap: false, armSmmu: true, msiWindow: true, msiIsolated: false, anyIsolated: true, doorbellsIsolate: false },
  { preset: 'armada-7040', options: {}, bdf: '0000:01:00.0', intrRemap: false, armSmmu: true, msiWindow: true, msiIsolated: false, anyIsolated: false, doorbellsIsolate: false },
  // PAMU: fsl_pamu_capable() is CACHE_COHERENCY only; the MPIC MSI bank does not isolate. The
  // series never converted fsl_msi; the model registers its bank as the series' API would
  // have (hw/msi/fsl-msi.ts), so it counts as an unsafe doorbell.
  { preset: 'fsl-pamu', options: {}, bdf: '0000:01:00.0', intrRemap: false, armSmmu: false, msiWindow: true, msiIsolated: false, anyIsolated: false, doorbellsIsolate: false },
];

/** Whether SET_IOMMU finds the group's interrupts safe, by the era's rule (abi.md §1.5, §3.4). */
function safe(era: Era, r: Row): boolean {
  if (r.intrRemap) return true;
  switch (era.safety) {
    case 'intr-remap-cap':
      return era.legacyIommuClaims && r.armSmmu;
    case 'doorbell-coarse':
      return r.doorbellsIsolate;
    case 'doorbell-msi-resv':
      // vfio_msi_resv() walks iommu->domain_list before the new domain joins it: for the
      // first group no domain needs an MSI window, so only INTR_REMAP makes it safe.
      return false;
    case 'msi-remap-global':
      return r.anyIsolated;
    case 'isolated-msi-group':
      return r.msiIsolated;
  }
}

/** The capability ids GET_INFO chains, in the era's order (type1InfoCaps). */
function capIds(era: Era, r: Row): number[] {
  return era.type1InfoCaps.flatMap((c) => {
    switch (c) {
      case 'migration':
        return [2];
      case 'dma-avail':
        return [3];
      case 'iova-range': // there is an IOVA list once a domain is attached
      case 'msi-geometry': // rfc-v10: always
        return [1];
      case 'msi-resv': // rfc-v14: when a domain needs an MSI window
        return r.msiWindow ? [1] : [];
    }
  });
}

function machine(era: Era, r: Row, type = TYPE1v2): Machine {
  const m = new Machine(era.name, r.preset, r.options);
  // The MAP/UNMAP/GET_INFO stanzas run on unsafe platforms too.
  m.param('allow_unsafe_interrupts', 'Y');
  m.setup(r.bdf, type);
  return m;
}

const u32 = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset).getUint32(off, true);

/** The smallest IOMMU page (lowest bit of iova_pgsizes), from a GET_INFO of 24 bytes. */
function minPage(m: Machine): bigint {
  const o = m.get_info_(24, 24);
  expect(errnoName(o.errno)).toBe(errnoName(0));
  const p = KStruct.fromUser(VFIO_IOMMU_TYPE1_INFO, o.buf, 16)!.get('iova_pgsizes');
  return p & -p;
}

/** An anonymous buffer of `len` bytes aligned to `align`. */
function aligned(m: Machine, len: bigint, align: bigint): bigint {
  const a = m.mmap(len + align);
  return (a + align - 1n) & ~(align - 1n);
}

const TYPE1_PRESETS = [...new Set(ROWS.map((r) => r.preset))].sort();

// Rule: the rows cover every preset but the spapr-only PowerNV.
it('covers every preset with a type1 backend', () => {
  expect(presets().map((p) => p.name).filter((n) => !TYPE1_PRESETS.includes(n))).toEqual(['powernv']);
});

for (const era of ERAS.values()) {
  describe(`era ${era.name}`, () => {
    for (const r of ROWS) {
      const where = `${r.preset}${Object.entries(r.options).map(([k, v]) => ` ${k}=${v}`).join('')} ${r.bdf}`;
      describe(where, () => {
        // vfio_iommu_type1_attach_group() / SET_IOMMU: unsafe interrupts are -EPERM unless
        // allow_unsafe_interrupts; the rule deciding "unsafe" is the era's.
        it('attach safety', () => {
          const m = new Machine(era.name, r.preset, r.options);
          m.group_open(r.bdf);
          m.set_iommu_err(safe(era, r) ? 0 : EPERM);
        });

        // vfio_dma_do_map(): argsz < offsetofend(size), flags outside READ|WRITE(|VADDR) or
        // neither, size 0 and an iova off the smallest IOMMU page are -EINVAL; a good map
        // succeeds, and mapping it again is -EEXIST (vfio_find_dma).
        it('MAP_DMA checks', () => {
          const m = machine(era, r);
          const pg = minPage(m);
          const vaddr = aligned(m, pg, pg);
          const iova = 16n * pg;
          m.map_dma_err(EINVAL, vaddr, iova, pg, RW, 31);
          m.map_dma_err(EINVAL, vaddr, iova, pg, 0n);
          m.map_dma_err(EINVAL, vaddr, iova, pg, RW | 8n);
          m.map_dma_err(EINVAL, vaddr, iova, 0n);
          m.map_dma_err(EINVAL, vaddr, iova + pg / 2n, pg);
          m.map_dma(vaddr, iova, pg);
          m.map_dma_err(EEXIST, vaddr, iova, pg);
        });

        // vfio_dma_do_unmap(): argsz < offsetofend(size) and unknown flags are -EINVAL; a mapped
        // range comes back with its size; UNMAP_ALL exists from 5.12 (before, flag 2 is
        // unknown); a range ending at 2^64 is -EINVAL only under the strict wrap check.
        it('UNMAP_DMA checks', () => {
          const m = machine(era, r);
          const pg = minPage(m);
          const iova = 16n * pg;
          m.map_dma(aligned(m, pg, pg), iova, pg);
          m.unmap_dma_err(EINVAL, iova, pg, 0n, 23);
          m.unmap_dma_err(EINVAL, iova, pg, 8n);
          expect(m.unmap_dma(iova, pg)).toBe(pg);
          m.map_dma(aligned(m, pg, pg), iova, pg);
          const all = m.unmap_dma_(0n, 0n, UNMAP_ALL);
          expect(errnoName(all.errno)).toBe(errnoName(era.unmapAllVaddr ? 0 : EINVAL));
          if (era.unmapAllVaddr) expect(all.size).toBe(pg);
          const top = (1n << 64n) - pg;
          const wrap = m.unmap_dma_(top, pg);
          expect(errnoName(wrap.errno)).toBe(errnoName(era.unmapWrapCheck === 'strict' ? EINVAL : 0));
          if (era.unmapWrapCheck !== 'strict') expect(wrap.size).toBe(0n);
        });

        // vfio_iommu_type1_get_info(): argsz below minsz is -EINVAL; how much of the struct
        // comes back at argsz 24 is the era's (16 bytes before cap_offset existed; 20 with it,
        // cap_offset 0 when argsz reaches it; 6.6+ min(argsz, 24) of a zeroed struct); the
        // chain in a big buffer holds the era's capabilities in its order.
        it('GET_INFO shape', () => {
          const m = machine(era, r);
          expect(errnoName(m.get_info_(16, 24).errno)).toBe(errnoName(era.type1InfoMinsz > 16 ? EINVAL : 0));

          const o = m.get_info_(24, 24);
          expect(errnoName(o.errno)).toBe(errnoName(0));
          const ids = capIds(era, r);
          const flags = 1 | (ids.length ? 2 : 0); // VFIO_IOMMU_INFO_PGSIZES | _CAPS
          expect(u32(o.buf, 4)).toBe(flags);
          const copied = !era.type1InfoHasCapOffset ? 16 : era.infoCopy === 'min-argsz' ? 24 : 20;
          expect(hex(o.buf.subarray(copied))).toBe('aa'.repeat(24 - copied));
          if (era.type1InfoHasCapOffset && era.type1InfoMinsz === 16) expect(u32(o.buf, 16)).toBe(0);
          if (copied === 24) expect(u32(o.buf, 20)).toBe(0);

          const big = m.get_info_(4096).buf;
          const chain: number[] = [];
          // cap_offset means something only with VFIO_IOMMU_INFO_CAPS (the series copies back
          // the user's cap_offset when there is no chain).
          const hasChain = era.type1InfoHasCapOffset && (u32(big, 4) & 2) !== 0;
          for (let off = hasChain ? u32(big, 16) : 0; off; off = u32(big, off + 4)) chain.push(u32(big, off) & 0xffff);
          expect(chain).toEqual(ids);
        });

        // type1 (v1) attaches like v2 (the same safety rule): MAP works there too.
        it('type1 (v1) maps', () => {
          const m = machine(era, r, TYPE1);
          const pg = minPage(m);
          m.map_dma(aligned(m, pg, pg), 16n * pg, pg);
        });
      });
    }
  });
}
