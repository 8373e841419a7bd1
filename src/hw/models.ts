// Hardware models by name, as presets refer to them: a preset says `model: "smmuv3"` and
// gives parameters; the table here builds the instance. Adding a model is adding a row.
// Parameters are plain data (JSON-able): addresses are hex strings, validated here.

import * as z from 'zod/mini';
import type { IommuHw } from './iommu/iommu.js';
import { AmdVi } from './iommu/amd-vi.js';
import { ArmSmmu } from './iommu/arm-smmu.js';
import { FslPamu } from './iommu/fsl-pamu.js';
import { SmmuV3 } from './iommu/smmuv3.js';
import { Vtd } from './iommu/vtd.js';
import { IodaPhb } from './iommu/ioda-phb.js';
import type { MsiController } from './msi/msi-controller.js';
import { FslMsi } from './msi/fsl-msi.js';
import { GicV2m } from './msi/gicv2m.js';
import { GicV3Its } from './msi/gicv3-its.js';
import { X86Apic } from './msi/x86-apic.js';
import { PhbMsi } from './msi/phb-msi.js';

const hexAddr = (): z.ZodMiniString => z.string().check(z.regex(/^0x[0-9a-fA-F]{1,16}$/, 'expected a hex address such as "0x08020000"'));

interface ModelRow<T> {
  doc: string;
  /** The parameters' schema, built when a preset uses the model. */
  params: () => z.ZodMiniType;
  build: (name: string, params: Record<string, unknown>) => T;
}

export const IOMMU_MODELS: Record<string, ModelRow<IommuHw>> = {
  smmuv3: {
    doc: 'ARM SMMUv3: 48-bit IAS, 4K/2M/1G pages, SW_MSI window 0x08000000+1M, no MSI isolation',
    // httu: hardware dirty-state updates (IDR0.HTTU), which QEMU's smmuv3 lacks.
    params: () => z.object({ base: z.optional(hexAddr()), ias: z.optional(z.number()), httu: z.optional(z.boolean()) }),
    build: (name, p) =>
      new SmmuV3({ name, base: p.base ? BigInt(p.base as string) : undefined, ias: p.ias as number | undefined, httu: p.httu as boolean | undefined }),
  },
  'arm-smmu': {
    doc: 'ARM SMMU v2 (MMU-401/500): context-bank faults, SW_MSI window 0x08000000+1M, no MSI isolation',
    params: () => z.object({ base: z.optional(hexAddr()), ias: z.optional(z.number()) }),
    build: (name, p) =>
      new ArmSmmu({ name, base: p.base ? BigInt(p.base as string) : undefined, ias: p.ias as number | undefined }),
  },
  vtd: {
    doc: 'Intel VT-d: 39-bit address width, MSI window 0xfee00000 not translated, INTR_REMAP with intremap=on',
    params: () => z.object({
      intremap: z.boolean(),
      awBits: z.optional(z.number()),
      isaBridges: z.optional(z.array(z.string())),
      // ssads: second-stage A/D bits (ECAP.SSADS), which QEMU's intel-iommu lacks.
      ssads: z.optional(z.boolean()),
    }),
    build: (name, p) =>
      new Vtd({
        name,
        intremap: p.intremap as boolean,
        awBits: p.awBits as number | undefined,
        isaBridges: p.isaBridges as string[] | undefined,
        ssads: p.ssads as boolean | undefined,
      }),
  },
  'amd-vi': {
    doc: 'AMD-Vi: 64-bit aperture, MSI window 0xfee00000 not translated, HyperTransport range 0xfd00000000-0xffffffffff reserved, INTR_REMAP with intremap=on',
    params: () => z.object({
      intremap: z.boolean(),
      apertureBits: z.optional(z.number()),
      firstDomainId: z.optional(z.number()),
    }),
    build: (name, p) =>
      new AmdVi({
        name,
        intremap: p.intremap as boolean,
        apertureBits: p.apertureBits as number | undefined,
        firstDomainId: p.firstDomainId as number | undefined,
      }),
  },
  'fsl-pamu': {
    doc: 'Freescale PAMU: no page tables; the aperture split into power-of-two windows, one contiguous mapping each; MSIs checked like DMA; no INTR_REMAP',
    params: () => z.object({
      liodn: z.number(),
      apertureStart: z.optional(hexAddr()),
      apertureSize: z.optional(hexAddr()),
      windows: z.optional(z.number()),
    }),
    build: (name, p) =>
      new FslPamu({
        name,
        liodn: p.liodn as number,
        apertureStart: p.apertureStart ? BigInt(p.apertureStart as string) : undefined,
        apertureSize: p.apertureSize ? BigInt(p.apertureSize as string) : undefined,
        windows: p.windows as number | undefined,
      }),
  },
  'ioda2-phb': {
    doc: 'IBM PHB3 (POWER8 IODA2): TCE tables per PE, DMA32 window 0..M32 base (2 GiB), 64-bit window at 1<<59, no reserved regions, MSIs not translated, no INTR_REMAP',
    params: () => z.object({
      domain: z.number(),
      m32PciBase: z.optional(hexAddr()),
      tceSizes: z.optional(hexAddr()),
      pes: z.optional(z.record(z.string(), z.number())),
      eeh: z.optional(z.boolean()),
    }),
    build: (name, p) =>
      new IodaPhb({
        name,
        domain: p.domain as number,
        m32PciBase: p.m32PciBase ? BigInt(p.m32PciBase as string) : undefined,
        tceSizes: p.tceSizes ? BigInt(p.tceSizes as string) : undefined,
        pes: p.pes as Record<string, number> | undefined,
        eeh: p.eeh as boolean | undefined,
      }),
  },
};

export const MSI_MODELS: Record<string, ModelRow<MsiController>> = {
  gicv2m: {
    doc: 'GICv2m MMIO-to-SPI frame: doorbell at frame + 0x40, does not isolate MSIs',
    params: () => z.object({ base: hexAddr(), spiBase: z.optional(z.number()), spiCount: z.optional(z.number()) }),
    build: (name, p) =>
      new GicV2m({
        name,
        base: BigInt(p.base as string),
        spiBase: p.spiBase as number | undefined,
        spiCount: p.spiCount as number | undefined,
      }),
  },
  'gicv3-its': {
    doc: 'GICv3 ITS: doorbell GITS_TRANSLATER (base + 0x10040), isolates MSIs by DeviceID',
    params: () => z.object({ base: hexAddr() }),
    build: (name, p) => new GicV3Its({ name, base: BigInt(p.base as string) }),
  },
  'fsl-msi': {
    doc: 'Freescale MPIC MSI bank: the interrupt number written to MSIIR (bank + 0x140) or MSIIR1 (MPIC v4.3), shared, does not isolate MSIs',
    params: () => z.object({ base: hexAddr(), msiir: z.optional(hexAddr()), msiir1: z.optional(z.boolean()) }),
    build: (name, p) =>
      new FslMsi({
        name,
        base: BigInt(p.base as string),
        msiir: p.msiir ? BigInt(p.msiir as string) : undefined,
        msiir1: p.msiir1 as boolean | undefined,
      }),
  },
  'x86-apic': {
    doc: 'x86 local APIC MSI window 0xfee00000 (isolation only through interrupt remapping)',
    params: () => z.object({}),
    build: (name) => new X86Apic(name),
  },
  'phb3-msi': {
    doc: 'PHB3 MSI windows (0xffff0000, 1<<60), decoded before TCE translation; each IVE bound to a PE and the requester PE checked: isolates MSIs',
    params: () => z.object({ domain: z.number(), pes: z.optional(z.record(z.string(), z.number())) }),
    build: (name, p) => new PhbMsi({ name, domain: p.domain as number, pes: p.pes as Record<string, number> | undefined }),
  },
};
