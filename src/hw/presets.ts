// Platform presets: machines as plain data, validated with zod, instantiated through the model
// tables (models.ts, pci/registry.ts). Options (`gic=v2`, `intremap=off`) pick rows with
// `when`. The kernel model receives the built Platform and never the preset's name.

import * as z from 'zod/mini';
import { ModelConfigError } from './model-error.js';
import { IOMMU_MODELS, MSI_MODELS } from './models.js';
import type { Arch, Platform, PlatformDevice } from './platform.js';
import type { IommuHw } from './iommu/iommu.js';
import type { MsiController } from './msi/msi-controller.js';
import { layoutScope } from './pci/config-space.js';
import type { PciDeviceModel } from './pci/device.js';
import { createPciDevice, pciModelRow, type PciModelRow } from './pci/registry.js';
import { PRESET_DATA } from './presets-data.js';
import { presetSchema, type PresetData } from './preset-schema.js';

export { presetSchema, type PresetData };

type ComponentData = PresetData['iommus'][number];

/** uname -m and the user address-space layout of each architecture. */
const ARCH: Record<Arch, { machine: string; taskSize: bigint; mmapBase: bigint }> = {
  // x86_64: TASK_SIZE_MAX = (1 << 47) - PAGE_SIZE; mmap_base below the stack gap.
  x86_64: { machine: 'x86_64', taskSize: 0x7fff_ffff_f000n, mmapBase: 0x7f00_0000_0000n },
  // arm64 with 48-bit VA: TASK_SIZE = 1 << 48.
  aarch64: { machine: 'aarch64', taskSize: 0x1_0000_0000_0000n, mmapBase: 0xffff_8000_0000n },
  ppc64le: { machine: 'ppc64le', taskSize: 0x10_0000_0000_0000n, mmapBase: 0x7fff_8000_0000n },
};

/**
 * The shipped presets. They are typed data, checked against presetSchema by the test suite
 * (test/hw/presets.test.ts); a preset from outside the program goes through parsePreset().
 */
export function presets(): PresetData[] {
  return PRESET_DATA;
}

export function findPreset(name: string): PresetData | undefined {
  return PRESET_DATA.find((x) => x.name === name);
}

/** A preset from outside the program (JSON), validated: the first problem, in the user's terms. */
export function parsePreset(data: unknown): PresetData | string {
  const r = presetSchema().safeParse(data);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  return `${i?.path.map(String).join('.') ?? ''}: ${i?.message ?? 'not a preset'}`;
}

const matches = (when: Record<string, string> | undefined, opts: Record<string, string>): boolean =>
  !when || Object.entries(when).every(([k, v]) => opts[k] === v);

/**
 * An option a preset does not take, or a value it does not allow: a fact about the preset,
 * worded by whoever asked (the machine layer, the scenario runner).
 */
export type OptionProblem =
  | { kind: 'no-such-option'; preset: string; option: string; known: string[] }
  | { kind: 'bad-value'; preset: string; option: string; value: string; values: string[] };

/**
 * A preset that cannot be built: an option problem (the fact in `option`), or preset data
 * that does not hold together (a model it does not know, parameters a model rejects).
 */
export class PresetError extends Error {
  constructor(
    message: string,
    readonly option?: OptionProblem,
  ) {
    super(message);
    this.name = 'PresetError';
  }
}

/** Whether `key=value` is an option of the preset and one of its values. Option names come from users: own properties only. */
export function optionProblem(p: PresetData, key: string, value: string): OptionProblem | undefined {
  if (!Object.hasOwn(p.options, key)) return { kind: 'no-such-option', preset: p.name, option: key, known: Object.keys(p.options) };
  const values = p.options[key]!.values;
  if (!values.includes(value)) return { kind: 'bad-value', preset: p.name, option: key, value, values };
  return undefined;
}

/** The first option of `given` the preset does not take as given, in the order given. */
export function firstOptionProblem(p: PresetData, given: Record<string, string>): OptionProblem | undefined {
  for (const [k, v] of Object.entries(given)) {
    const problem = optionProblem(p, k, v);
    if (problem) return problem;
  }
  return undefined;
}

/** The preset's options with `given` over the defaults; a PresetError for an option it does not take. */
export function resolveOptions(p: PresetData, given: Record<string, string>): Record<string, string> {
  const problem = firstOptionProblem(p, given);
  if (problem) throw new PresetError(`preset ${p.name}: option ${problem.option} refused (${problem.kind})`, problem);
  const out: Record<string, string> = {};
  for (const [k, o] of Object.entries(p.options)) out[k] = o.default;
  for (const [k, v] of Object.entries(given)) out[k] = v;
  return out;
}

/** A model's refusal of its parameters (hw/model-error.ts): preset data that does not build, in the model's words. */
function modelBuild<T>(build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof ModelConfigError) throw new PresetError(e.message);
    throw e;
  }
}

/**
 * A shipped preset's device row on one machine, its function built on first use. A class and
 * not an object literal with a `get hw()`: V8 gives every literal with its own getter closure
 * a hidden class of its own, which lives in the old generation and holds the closure, so each
 * boot's machine stayed reachable through young-generation collections until the next full
 * one (a `check` over many files spent most of its GC time copying dead machines).
 */
class LazyFunction implements PlatformDevice {
  readonly bdf: string;
  readonly sriovCapable: boolean;
  readonly group: number;
  readonly groupAtScan?: number;
  readonly hostDriver?: string;
  readonly acpiIrqLink?: { link: string; irq: number };
  private built?: PciDeviceModel;

  constructor(
    private readonly data: PresetData['devices'][number],
    private readonly row: PciModelRow,
    readonly iommu: IommuHw,
    readonly msi: MsiController,
  ) {
    this.bdf = data.bdf;
    this.sriovCapable = row.sriov === true;
    this.group = data.group;
    this.groupAtScan = data.groupAtScan;
    this.hostDriver = data.hostDriver;
    this.acpiIrqLink = data.acpiIrqLink;
  }

  get hw(): PciDeviceModel {
    // Its config-space layout (reset image, masks) is made once per device row and shared by
    // every machine's function of that row (config-space.ts layoutScope).
    return (this.built ??= modelBuild(() => layoutScope(this.data, () => this.row.build(this.data.bdf, this.data.params ?? {}))));
  }
}

/**
 * Builds the machine: every component whose `when` matches the options. The parameters of a
 * shipped preset are checked by the test suite (test/hw/presets.test.ts, with `validate`), so
 * they are not validated again on every run; anything else is.
 */
export function buildPlatform(p: PresetData, given: Record<string, string>, validate = !PRESET_DATA.includes(p)): Platform {
  const options = resolveOptions(p, given);
  const trusted = !validate;
  const build = <T>(rows: Record<string, { params: () => z.ZodMiniType; build: (n: string, q: Record<string, unknown>) => T }>, c: ComponentData): T => {
    const row = Object.hasOwn(rows, c.model) ? rows[c.model] : undefined;
    if (!row) throw new PresetError(`preset ${p.name}: unknown model "${c.model}" for ${c.name}`);
    if (trusted) return modelBuild(() => row.build(c.name, c.params ?? {}));
    const params = row.params().safeParse(c.params ?? {});
    if (!params.success) throw new PresetError(`preset ${p.name}: ${c.name}: ${params.error.issues[0]?.message ?? 'bad parameters'}`);
    return modelBuild(() => row.build(c.name, params.data as Record<string, unknown>));
  };
  const iommus = new Map(p.iommus.filter((c) => matches(c.when, options)).map((c) => [c.name, build(IOMMU_MODELS, c)]));
  const msis = new Map(p.msiControllers.filter((c) => matches(c.when, options)).map((c) => [c.name, build(MSI_MODELS, c)]));
  const devices: PlatformDevice[] = p.devices
    .filter((d) => matches(d.when, options))
    .map((d) => {
      const iommu = iommus.get(d.iommu);
      const msi = msis.get(d.msi);
      if (!iommu || !msi) throw new PresetError(`preset ${p.name}: device ${d.bdf} names a missing IOMMU or MSI controller`);
      if (!trusted) {
        const hw = createPciDevice(d.model, d.bdf, d.params ?? {});
        if (typeof hw === 'string') throw new PresetError(`preset ${p.name}: device ${d.bdf}: ${hw}`);
        return { bdf: d.bdf, hw, iommu, msi, group: d.group, groupAtScan: d.groupAtScan, hostDriver: d.hostDriver, acpiIrqLink: d.acpiIrqLink };
      }
      // A shipped preset's function is built when something first touches it: a scenario
      // uses one or two functions of a machine, and building the others (config spaces, MAC
      // and PHY register files, option ROMs) was most of a boot. A model builds the same
      // function whenever it is built, and knows nothing of the kernel or of other functions,
      // so when it is built does not change what anyone sees. A model that may be an SR-IOV
      // PF says so, for the PCI core's enumeration (pci/registry.ts).
      const row = pciModelRow(d.model, d.bdf);
      if (typeof row === 'string') throw new PresetError(`preset ${p.name}: device ${d.bdf}: ${row}`);
      return new LazyFunction(d, row, iommu, msi);
    });
  const arch = ARCH[p.arch];
  return {
    preset: p.name,
    options,
    description: p.description,
    arch: p.arch,
    machine: arch.machine,
    pageSize: BigInt(p.pageSize),
    possibleCpus: p.possibleCpus,
    taskSize: arch.taskSize,
    mmapBase: arch.mmapBase,
    iommus: [...iommus.values()],
    msiControllers: [...msis.values()],
    devices,
    vfioIommuDrivers: p.vfioIommuDrivers,
    linuxAssignsIntxLine: p.linuxAssignsIntxLine ?? false,
    ...(p.hardwareName !== undefined ? { hardwareName: p.hardwareName } : {}),
    pciBridges: p.pciBridges ?? [],
  };
}
