// The preset schema: what a platform preset may say, as plain data validated with zod. The
// shipped presets (presets-data.ts) are typed by it; presets.ts builds machines from it.

import * as z from 'zod/mini';
import { lazy } from '../lib/lazy.js';

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
    groupAtScan: z.optional(z.number().check(z.int(), z.nonnegative())),
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
    /** The firmware's machine description as Linux prints it after "Hardware name:" (x86: DMI vendor, product, BIOS version and date). */
    hardwareName: z.optional(z.string()),
    /** Bridges (root ports) above secondary buses, for the sysfs paths below them. */
    pciBridges: z.optional(
      z.array(
        z.object({
          bdf: z.string().check(z.regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, 'expected a BDF such as 0000:00:1c.0')),
          secondaryBus: z.number().check(z.int(), z.nonnegative(), z.maximum(255)),
        }),
      ),
    ),
  });
});

export type PresetData = z.infer<ReturnType<typeof presetSchema>>;
