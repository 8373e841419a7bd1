// Platform presets: machines as plain data, validated with zod, instantiated through the model
// tables (models.ts, pci/registry.ts). Options (`gic=v2`, `intremap=off`) pick rows with
// `when`. The kernel model receives the built Platform and never the preset's name.

import * as z from 'zod/mini';
import { UserError } from '../lib/user-error.js';
import { lazy } from '../lib/lazy.js';
import { ModelConfigError } from './model-error.js';
import { IOMMU_MODELS, MSI_MODELS } from './models.js';
import type { Arch, Platform, PlatformDevice } from './platform.js';
import { createPciDevice } from './pci/registry.js';
import { PRESET_DATA } from './presets-data.js';

/** The preset schema, built on first use (see lib/lazy.ts). */
export const presetSchema = lazy(() => {
  const Name = z.string().check(z.regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected a lower-case name'));
  const When = z.optional(z.record(z.string(), z.string()));
  const Params = z.optional(z.record(z.string(), z.unknown()));

  const Component = z.object({ name: Name, model: z.string(), params: Params, when: When });

  const Device = z.object({
    bdf: z.string().check(z.regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, 'expected a BDF such as 0000:00:01.0')),
    model: z.string(),
    params: Params,
    iommu: Name,
    msi: Name,
    group: z.number().check(z.int(), z.nonnegative()),
    hostDriver: z.optional(z.string()),
    acpiIrqLink: z.optional(z.object({ link: z.string(), irq: z.number() })),
    when: When,
  });

  return z.object({
    name: Name,
    description: z.string(),
    arch: z.enum(['x86_64', 'aarch64', 'ppc64le']),
    pageSize: z.number(),
    possibleCpus: z.number(),
    options: z.record(z.string(), z.object({ values: z.array(z.string()), default: z.string(), doc: z.string() })),
    iommus: z.array(Component),
    msiControllers: z.array(Component),
    devices: z.array(Device),
    vfioIommuDrivers: z.array(z.string()),
    /** No firmware assigns PCI INTx lines: Linux writes its own IRQ numbers (arm64 DT). */
    linuxAssignsIntxLine: z.optional(z.boolean()),
  });
});

export type PresetData = z.infer<ReturnType<typeof presetSchema>>;
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

/** Resolves options against the preset's table; a wrong name or value is the user's mistake. */
export function resolveOptions(p: PresetData, given: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, o] of Object.entries(p.options)) out[k] = o.default;
  for (const [k, v] of Object.entries(given)) {
    const o = p.options[k];
    if (!o) {
      const known = Object.keys(p.options);
      throw new UserError(
        `platform ${p.name} has no option "${k}"` + (known.length ? ` (options: ${known.join(', ')})` : ' (it takes no options)'),
      );
    }
    if (!o.values.includes(v)) throw new UserError(`option ${k}="${v}" of ${p.name}: expected one of ${o.values.join(', ')}`);
    out[k] = v;
  }
  return out;
}

/** A model's refusal of its parameters (hw/model-error.ts) is the user's mistake: the same text. */
function modelBuild<T>(build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof ModelConfigError) throw new UserError(e.message);
    throw e;
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
    const row = rows[c.model];
    if (!row) throw new UserError(`preset ${p.name}: unknown model "${c.model}" for ${c.name}`);
    if (trusted) return modelBuild(() => row.build(c.name, c.params ?? {}));
    const params = row.params().safeParse(c.params ?? {});
    if (!params.success) throw new UserError(`preset ${p.name}: ${c.name}: ${params.error.issues[0]?.message ?? 'bad parameters'}`);
    return modelBuild(() => row.build(c.name, params.data as Record<string, unknown>));
  };
  const iommus = new Map(p.iommus.filter((c) => matches(c.when, options)).map((c) => [c.name, build(IOMMU_MODELS, c)]));
  const msis = new Map(p.msiControllers.filter((c) => matches(c.when, options)).map((c) => [c.name, build(MSI_MODELS, c)]));
  const devices: PlatformDevice[] = p.devices
    .filter((d) => matches(d.when, options))
    .map((d) => {
      const iommu = iommus.get(d.iommu);
      const msi = msis.get(d.msi);
      if (!iommu || !msi) throw new UserError(`preset ${p.name}: device ${d.bdf} names a missing IOMMU or MSI controller`);
      const hw = createPciDevice(d.model, d.bdf, d.params ?? {}, trusted);
      if (typeof hw === 'string') throw new UserError(`preset ${p.name}: device ${d.bdf}: ${hw}`);
      return { bdf: d.bdf, hw, iommu, msi, group: d.group, hostDriver: d.hostDriver, acpiIrqLink: d.acpiIrqLink };
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
  };
}
