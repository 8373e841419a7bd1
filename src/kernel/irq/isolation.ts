// Interrupt safety at VFIO attach: may this group be given to a user without letting its
// devices forge other devices' MSIs? Each era answers with its own rule (abi.md §1.5, §3.4).
// The kernel gathers the facts the rules read into one record; each era's rule is a predicate
// over that record. The attach path asks only for the boolean; `show verdict` and refused
// attaches explain the same record in the script layer (script/explain/verdict.ts).

import type { SafetyRule } from '../era.js';
import type { IommuCore, IommuGroup } from '../iommu/core.js';
import type { IommuHw } from '../../hw/iommu/iommu.js';
import type { MsiController } from '../../hw/msi/msi-controller.js';
import type { DoorbellRegistration, MsiDoorbellRegistry } from './msi-doorbell.js';

/** One device of the group: where its MSIs go and what could isolate them. */
export interface DeviceMsiFacts {
  bdf: string;
  /** The controller its MSIs are written to. */
  msi: MsiController;
  /** That controller's irq domain flags IRQ_DOMAIN_FLAG_MSI_REMAP / ISOLATED_MSI. */
  msiRemap: boolean;
  /** Its IOMMU answers iommu_capable(IOMMU_CAP_INTR_REMAP) (as this era's driver does). */
  intrRemap: boolean;
}

/** One IOMMU behind the group's devices. */
export interface IommuMsiFacts {
  iommu: IommuHw;
  /** iommu_capable(IOMMU_CAP_INTR_REMAP) as this era's driver answers it. */
  intrRemap: boolean;
  /** The hardware backs that answer (older ARM SMMU drivers claimed it without). */
  intrRemapBacked: boolean;
  /** MSI writes are translated (doorbells must be mapped: DOMAIN_ATTR_MSI_MAPPING). */
  msiTranslated: boolean;
}

/** One MSI controller of the system (irq_domain_check_msi_remap() looks at all of them). */
export interface ControllerMsiFacts {
  controller: MsiController;
  /** Its irq domain flags IRQ_DOMAIN_FLAG_MSI_REMAP. */
  msiRemap: boolean;
}

/** Everything the era's rule may read about attaching one group. */
export interface SafetyFacts {
  rule: SafetyRule;
  devices: readonly DeviceMsiFacts[];
  /** The group's IOMMUs, each once, in device order. */
  iommus: readonly IommuMsiFacts[];
  controllers: readonly ControllerMsiFacts[];
  /** The series' doorbell registry (rfc eras); empty where there is none. */
  doorbells: readonly DoorbellRegistration[];
  /** rfc-v14: some domain of the container needs an MSI reserved window (vfio_msi_resv). */
  msiResvNeeded: boolean;
  /** vfio_iommu_type1.allow_unsafe_interrupts. */
  allowUnsafe: boolean;
}

/** Where the facts come from. */
export interface SafetySources {
  rule: SafetyRule;
  iommuCore: IommuCore;
  controllers: readonly MsiController[];
  doorbells?: MsiDoorbellRegistry;
  msiResvNeeded: boolean;
  allowUnsafe: boolean;
}

/** What type1's rules read: the irq domain's flag, not the hardware fact behind it. */
const flagged = (c: MsiController): boolean => c.irqDomainIsolated ?? c.isolating;

/** The facts of attaching `group` now. */
export function safetyFacts(group: IommuGroup, src: SafetySources): SafetyFacts {
  const core = src.iommuCore;
  const devs = group.devices;
  return {
    rule: src.rule,
    devices: devs.map((d) => ({ bdf: d.bdf, msi: d.msi, msiRemap: flagged(d.msi), intrRemap: core.capable(d.iommu, 'intr-remap') })),
    iommus: [...new Set(devs.map((d) => d.iommu))].map((m) => ({
      iommu: m,
      intrRemap: core.capable(m, 'intr-remap'),
      intrRemapBacked: m.capable('intr-remap'),
      msiTranslated: m.msiTranslated,
    })),
    controllers: src.controllers.map((c) => ({ controller: c, msiRemap: flagged(c) })),
    doorbells: src.doorbells?.doorbells ?? [],
    msiResvNeeded: src.msiResvNeeded,
    allowUnsafe: src.allowUnsafe,
  };
}

/** IOMMU_CAP_INTR_REMAP for the group: every device's IOMMU (and at least one device). */
export const groupIntrRemap = (f: SafetyFacts): boolean => f.devices.length > 0 && f.devices.every((d) => d.intrRemap);

/** msi_doorbell_safe(): no registered doorbell fails to isolate (also when none is registered). */
export const doorbellsSafe = (f: SafetyFacts): boolean => f.doorbells.every((d) => d.isolating);

/** The irq domains that flag MSI_REMAP (irq_domain_check_msi_remap() is true if any does). */
export const remappingControllers = (f: SafetyFacts): readonly ControllerMsiFacts[] => f.controllers.filter((c) => c.msiRemap);

/** iommu_group_has_isolated_msi(): per device, its irq domain or its IOMMU's interrupt remapping. */
export const deviceIsolated = (d: DeviceMsiFacts): boolean => d.msiRemap || d.intrRemap;

/** Each era's rule: are the group's interrupts isolated? */
export const SAFETY_RULES: Record<SafetyRule, (f: SafetyFacts) => boolean> = {
  // ≤4.10: iommu_capable(bus, IOMMU_CAP_INTR_REMAP).
  'intr-remap-cap': groupIntrRemap,
  // Series v10: coarse, any unsafe doorbell makes every group unsafe.
  'doorbell-coarse': (f) => groupIntrRemap(f) || doorbellsSafe(f),
  // Series v14: doorbells count only when the container needs an MSI window.
  'doorbell-msi-resv': (f) => groupIntrRemap(f) || (f.msiResvNeeded && doorbellsSafe(f)),
  // 4.11–6.2: global, any MSI_REMAP irq domain passes every group.
  'msi-remap-global': (f) => groupIntrRemap(f) || remappingControllers(f).length > 0,
  // 6.3+: every device of the group.
  'isolated-msi-group': (f) => f.devices.length > 0 && f.devices.every(deviceIsolated),
};

/** Interrupts are isolated by the era's rule (whatever allow_unsafe_interrupts says). */
export const interruptsIsolated = (f: SafetyFacts): boolean => SAFETY_RULES[f.rule](f);

/** vfio_iommu_type1_attach_group() proceeds: isolated, or allow_unsafe_interrupts=Y. */
export const attachAllowed = (f: SafetyFacts): boolean => interruptsIsolated(f) || f.allowUnsafe;

/** The exact warning vfio_iommu_type1_attach_group prints (pr_warn, `%s` = __func__). */
export const UNSAFE_INTERRUPTS_WARNING =
  'vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "allow_unsafe_interrupts" to enable VFIO IOMMU support on this platform';
