// PCI device models by name, as platform presets refer to them: a preset says
// `model: "e1000e"` with a BDF and parameters, and `createPciDevice` builds the function.
// Adding a model is adding a row.
//
// Parameters are plain data (JSON-able); every model takes the placement ones:
//
//   firmware?:      "x86" | "arm64"   (edu, e1000e) start from the placement measured in the
//                                     real-kernel traces: q35 + SeaBIOS, or virt with Linux
//                                     assigning resources itself
//   bars?:          { "0": "0xfebc0000", ... }  BAR base addresses given at boot, by BAR index;
//                                     a BAR left out stays unassigned (or keeps `firmware`'s)
//   rom?:           "0xfeb00000"      the ROM's address (the kernel's resource)
//   romProgrammed?: boolean           whether that address is in the ROM BAR register
//                                     (firmware writes it; Linux leaves a disabled ROM BAR 0)
//   command?:       number            PCI_COMMAND as firmware left it (SeaBIOS: 0x0103)
//   interruptLine?: number            PCI_INTERRUPT_LINE as firmware or the booting kernel
//                                     wrote it (on arm64, Linux writes its IRQ number there)
//   hostDriver?:    string            the driver bound at boot
//   vfBars?:        { "0": "0x...", "3": "0x..." }  (x540, 82599es) where boot put the VF
//                                     BARs (the SR-IOV capability's VF BAR registers)
//
// Addresses are bigints, non-negative integers, or "0x..." strings. Explicit values override
// `firmware`'s; `bars` merge by index. Unknown keys are an error (a typo would otherwise be
// silently ignored). In TypeScript a preset may write `{ bars: { 0: 0xfebc0000n } }`.

import * as z from 'zod/mini';
import { lazy } from '../../lib/lazy.js';
import { E1000e, E1000E_FIRMWARE } from './e1000e.js';
import { Edu, EDU_FIRMWARE } from './edu.js';
import type { PciDeviceModel, PciPlacement } from './device.js';
import { parseBdf } from '../iommu/pci-rid.js';
import { create82599 } from './ixgbe-82599.js';
import type { IxgbeParams } from './ixgbe-common.js';
import { Q35_FUNCTIONS, SimpleFunction } from './q35.js';
import { createX540 } from './x540.js';

/** The parameter schemas, built on first use (see lib/lazy.ts). */
const schemas = lazy(() => {
  const Addr = z.union([
    z.bigint().check(z.nonnegative()),
    z.number().check(z.int(), z.nonnegative()),
    z.string().check(z.regex(/^0x[0-9a-fA-F]{1,16}$/, 'expected a hex address such as "0xfebc0000"')),
  ]);
  const U8 = z.number().check(z.int(), z.minimum(0), z.maximum(0xff));
  const U16 = z.number().check(z.int(), z.minimum(0), z.maximum(0xffff));
  const BarIndex = z.string().check(z.regex(/^[0-5]$/, 'expected a BAR index 0..5'));
  const Mac = z.string().check(z.regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'expected a MAC address such as "52:54:00:12:34:56"'));

  const placementShape = {
    bars: z.optional(z.record(BarIndex, Addr)),
    rom: z.optional(Addr),
    romProgrammed: z.optional(z.boolean()),
    command: z.optional(U16),
    interruptLine: z.optional(U8),
    hostDriver: z.optional(z.string()),
  };
  const firmwareShape = { firmware: z.optional(z.enum(['x86', 'arm64'])) };

  const edu = z.strictObject({ ...placementShape, ...firmwareShape });
  const e1000e = z.strictObject({ ...placementShape, ...firmwareShape, mac: z.optional(Mac) });
  const ixgbe = z.strictObject({
    ...placementShape,
    function: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(1))),
    totalVfs: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(64))),
    mac: z.optional(Mac),
    vfBars: z.optional(z.record(z.string().check(z.regex(/^[03]$/, 'expected a VF BAR index 0 or 3')), Addr)),
  });
  const simple = z.strictObject(placementShape);
  return { edu, e1000e, ixgbe, simple };
});
type Schemas = ReturnType<typeof schemas>;


/** The parameters any model accepts (each model accepts a subset of these keys). */
export interface PciDeviceParams {
  firmware?: 'x86' | 'arm64';
  bars?: Record<string, bigint | number | string>;
  rom?: bigint | number | string;
  romProgrammed?: boolean;
  command?: number;
  interruptLine?: number;
  hostDriver?: string;
  /** e1000e, x540, 82599es. */
  mac?: string;
  /** x540, 82599es: the port (function) of a dual-port controller; default the BDF's function. */
  function?: number;
  /** x540, 82599es: SR-IOV TotalVFs to declare. */
  totalVfs?: number;
  /**
   * x540, 82599es: where boot put the VF BARs (the PF's IOV resources), by VF BAR index
   * (0: CSRs, 3: MSI-X; each 16 KiB × TotalVFs). Left out: unassigned, and enabling VFs fails
   * with "not enough MMIO resources for SR-IOV".
   */
  vfBars?: Record<string, bigint | number | string>;
}

const toBig = (a: bigint | number | string): bigint => (typeof a === 'bigint' ? a : BigInt(a));

/** VF BAR placement (x540, 82599es): by VF BAR index. */
function vfBarsOf(v: Record<string, bigint | number | string> | undefined): Partial<Record<number, bigint>> | undefined {
  if (!v) return undefined;
  return Object.fromEntries(Object.entries(v).map(([k, a]) => [Number(k), toBig(a)]));
}

function placementOf(p: z.infer<Schemas['simple']>, base?: PciPlacement): PciPlacement {
  const bars: Partial<Record<number, bigint>> = { ...(base?.bars ?? {}) };
  for (const [k, v] of Object.entries(p.bars ?? {})) bars[Number(k)] = toBig(v);
  return {
    bars,
    rom: p.rom !== undefined ? toBig(p.rom) : base?.rom,
    romProgrammed: p.romProgrammed ?? base?.romProgrammed,
    command: p.command ?? base?.command,
    interruptLine: p.interruptLine ?? base?.interruptLine,
    unassignedMem: base?.unassignedMem,
  };
}

const macBytes = (s: string | undefined): Uint8Array | undefined =>
  s === undefined ? undefined : new Uint8Array(s.split(':').map((h) => parseInt(h, 16)));

export interface PciModelRow {
  doc: string;
  /**
   * The model can declare an SR-IOV capability: a physical function, whose config space the
   * PCI core's sriov_init() reads at enumeration. The others declare none, so a machine need
   * not build them before something touches them (presets.ts builds devices on first use).
   */
  sriov?: true;
  /** The parameters' schema, built when a preset uses the model. */
  params: () => z.ZodMiniType;
  build(bdf: string, params: Record<string, unknown>): PciDeviceModel;
}

/** The build of an ixgbe PF (X540 or 82599): the variant's constructor over the shared parameters. */
function ixgbeBuild(create: (p: IxgbeParams) => PciDeviceModel): PciModelRow['build'] {
  return (bdf, raw) => {
    const p = raw as z.infer<Schemas['ixgbe']>;
    return create({
      bdf,
      placement: placementOf(p),
      hostDriver: p.hostDriver,
      function: p.function ?? parseBdf(bdf)?.fn ?? 0,
      totalVfs: p.totalVfs,
      mac: macBytes(p.mac),
      vfBars: vfBarsOf(p.vfBars),
    });
  };
}

export const PCI_MODELS: Record<string, PciModelRow> = {
  edu: {
    doc: "QEMU 7.2 edu (1234:11e8): 1 MiB BAR0, MSI 1 vector, INTA#, no reset method",
    params: () => schemas().edu,
    build: (bdf, raw) => {
      const p = raw as z.infer<Schemas['edu']>;
      return new Edu({ bdf, placement: placementOf(p, p.firmware && EDU_FIRMWARE[p.firmware]), hostDriver: p.hostDriver });
    },
  },
  e1000e: {
    doc: 'QEMU 7.2 e1000e (8086:10d3): BAR0/1 128K, BAR2 I/O 32, BAR3 16K MSI-X (5), ROM 256K, PM reset',
    params: () => schemas().e1000e,
    build: (bdf, raw) => {
      const p = raw as z.infer<Schemas['e1000e']>;
      return new E1000e({
        bdf,
        placement: placementOf(p, p.firmware && E1000E_FIRMWARE[p.firmware]),
        hostDriver: p.hostDriver,
        mac: macBytes(p.mac),
      });
    },
  },
  x540: {
    doc: 'Intel X540 10GBASE-T PF (8086:1528): MSI + MSI-X 64, FLR, SR-IOV (VF 8086:1515); modelled from the datasheet',
    params: () => schemas().ixgbe,
    sriov: true,
    build: ixgbeBuild(createX540),
  },
  '82599es': {
    doc: 'Intel 82599ES 10GbE SFP+ PF (8086:10fb): MSI + MSI-X 64, FLR, SR-IOV (VF 8086:10ed); modelled from the datasheet',
    params: () => schemas().ixgbe,
    sriov: true,
    build: ixgbeBuild(create82599),
  },
  ...Object.fromEntries(
    Object.entries(Q35_FUNCTIONS).map(([name, spec]): [string, PciModelRow] => [
      name,
      {
        doc: `QEMU 7.2 q35 ${name} (${spec.vendorId.toString(16)}:${spec.deviceId.toString(16)}): identity and BARs only`,
        params: () => schemas().simple,
        build: (bdf, raw) => {
          const p = raw as z.infer<Schemas['simple']>;
          return new SimpleFunction(spec, { bdf, placement: placementOf(p), hostDriver: p.hostDriver });
        },
      },
    ]),
  ),
};

/** The first problem zod found, in the user's terms. */
function firstIssue(err: z.core.$ZodError): string {
  const i = err.issues[0];
  if (!i) return 'bad parameters';
  const where = i.path.length ? `${i.path.map(String).join('.')}: ` : '';
  return `${where}${i.message}`;
}

/** The row of model `model` for a function at `bdf`, or what is wrong with the two (unknown model, bad BDF). */
export function pciModelRow(model: string, bdf: string): PciModelRow | string {
  const row = Object.hasOwn(PCI_MODELS, model) ? PCI_MODELS[model] : undefined;
  if (!row) return `unknown PCI device model "${model}" (models: ${Object.keys(PCI_MODELS).join(', ')})`;
  if (!parseBdf(bdf, true)) return `bad BDF "${bdf}" (expected e.g. 0000:00:01.0)`;
  return row;
}

/**
 * Builds model `model` at `bdf` from plain parameters. Returns the device, or a message
 * saying what is wrong (unknown model, bad BDF, bad parameter).
 */
export function createPciDevice(
  model: string,
  bdf: string,
  params: Record<string, unknown> = {},
  /** The parameters were checked already (a shipped preset, validated by the test suite). */
  trusted = false,
): PciDeviceModel | string {
  const row = pciModelRow(model, bdf);
  if (typeof row === 'string') return row;
  if (trusted) return row.build(bdf, params);
  const parsed = row.params().safeParse(params);
  if (!parsed.success) return `${model}: ${firstIssue(parsed.error)}`;
  return row.build(bdf, parsed.data as Record<string, unknown>);
}
