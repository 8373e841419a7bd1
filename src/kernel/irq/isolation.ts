// Interrupt safety at VFIO attach: may this group be given to a user without letting its
// devices forge other devices' MSIs? Each era answers with its own rule (abi.md §1.5, §3.4);
// this file evaluates the era's rule and explains the answer in that rule's terms, for the
// attach path (EPERM + warning) and for `show verdict`.

import type { SafetyRule } from '../era.js';
import type { IommuCore, IommuGroup, KDevice } from '../iommu/core.js';
import type { MsiController } from '../../hw/msi/msi-controller.js';
import type { MsiDoorbellRegistry } from './msi-doorbell.js';

export interface SafetyInputs {
  rule: SafetyRule;
  iommuCore: IommuCore;
  /** Every MSI controller in the system (irq_domain_check_msi_remap looks at all of them). */
  controllers: readonly MsiController[];
  /** The series' doorbell registry (rfc eras), else undefined. */
  doorbells?: MsiDoorbellRegistry;
  /** rfc-v14: some domain of the container needs an MSI reserved window (vfio_msi_resv). */
  msiResvNeeded: boolean;
  allowUnsafe: boolean;
}

export interface Verdict {
  /** The attach may proceed. */
  allowed: boolean;
  /** Interrupts are isolated (whatever allow_unsafe_interrupts says). */
  isolated: boolean;
  /** The kernel rule applied, named as the kernel code names it. */
  rule: string;
  /** One line per fact the rule looked at. */
  reasons: string[];
}

const RULE_TEXT: Record<SafetyRule, string> = {
  'intr-remap-cap': 'iommu_capable(bus, IOMMU_CAP_INTR_REMAP) (≤4.10)',
  'doorbell-coarse': 'IOMMU_CAP_INTR_REMAP || msi_doorbell_safe() (series v10: coarse, any unsafe doorbell makes every group unsafe)',
  'doorbell-msi-resv': 'IOMMU_CAP_INTR_REMAP || (vfio_msi_resv() && iommu_msi_doorbell_safe()) (series v14)',
  'msi-remap-global': 'irq_domain_check_msi_remap() || IOMMU_CAP_INTR_REMAP (4.11–6.2: global, any MSI_REMAP irq domain)',
  'isolated-msi-group': 'iommu_group_has_isolated_msi(group) (6.3+: every device of the group)',
};

/** What type1's rules read: the irq domain's flag, not the hardware fact behind it. */
const flagged = (c: MsiController): boolean => c.irqDomainIsolated ?? c.isolating;

function intrRemap(core: IommuCore, devs: readonly KDevice[]): boolean {
  return devs.length > 0 && devs.every((d) => core.capable(d.iommu, 'intr-remap'));
}

export function evaluateSafety(group: IommuGroup, inp: SafetyInputs): Verdict {
  const core = inp.iommuCore;
  const devs = group.devices;
  const iommus = [...new Set(devs.map((d) => d.iommu))];
  const reasons: string[] = [];
  const ir = intrRemap(core, devs);
  for (const m of iommus) {
    const claimed = core.capable(m, 'intr-remap');
    const real = m.capable('intr-remap');
    reasons.push(
      `${m.name} (${m.model}): ${claimed ? 'advertises' : 'does not advertise'} IOMMU_CAP_INTR_REMAP` +
        (claimed && !real ? ' (a driver claim the hardware does not back: MSIs are not isolated)' : ''),
    );
    // Whether doorbells must be mapped (DOMAIN_ATTR_MSI_MAPPING) is a separate question from
    // whether MSIs are isolated: it decides whether assignment works, not whether it is safe.
    reasons.push(
      m.msiTranslated
        ? `${m.name}: MSI writes are translated, so doorbells must be mapped in the domain (DOMAIN_ATTR_MSI_MAPPING); that says nothing about isolation`
        : `${m.name}: MSI writes bypass translation (fixed interrupt window); nothing to map`,
    );
  }

  let isolated: boolean;
  switch (inp.rule) {
    case 'intr-remap-cap':
      isolated = ir;
      break;
    case 'doorbell-coarse':
    case 'doorbell-msi-resv': {
      const reg = inp.doorbells;
      const dbs = reg?.doorbells ?? [];
      if (dbs.length === 0) reasons.push('no MSI doorbell is registered (msi_doorbell_safe() is true)');
      for (const d of dbs) {
        reasons.push(
          `doorbell 0x${d.base.toString(16)} (${d.owner.name}, ${d.owner.model}): ${d.isolating ? 'isolates MSIs' : 'does NOT isolate MSIs'}`,
        );
      }
      const safeDoorbells = reg ? reg.safe() : true;
      if (inp.rule === 'doorbell-coarse') {
        isolated = ir || safeDoorbells;
      } else {
        reasons.push(
          inp.msiResvNeeded
            ? 'the container needs an MSI reserved window (vfio_msi_resv)'
            : 'no domain of the container needs an MSI reserved window (vfio_msi_resv() is false)',
        );
        isolated = ir || (inp.msiResvNeeded && safeDoorbells);
      }
      break;
    }
    case 'msi-remap-global': {
      const remap = inp.controllers.filter(flagged);
      for (const c of inp.controllers) {
        reasons.push(`${c.describe()}: ${flagged(c) ? 'its irq domain flags IRQ_DOMAIN_FLAG_MSI_REMAP' : 'no IRQ_DOMAIN_FLAG_MSI_REMAP'}`);
      }
      if (remap.length > 0 && devs.some((d) => !flagged(d.msi))) {
        reasons.push(
          `global check: ${remap.map((c) => c.name).join(', ')} makes every group pass, including devices whose MSIs go elsewhere`,
        );
      }
      isolated = ir || remap.length > 0;
      break;
    }
    case 'isolated-msi-group': {
      isolated = devs.length > 0;
      for (const d of devs) {
        const ok = flagged(d.msi) || core.capable(d.iommu, 'intr-remap');
        reasons.push(
          `${d.bdf}: MSIs to ${d.msi.name} (${d.msi.model}) ${ok ? 'are isolated' : 'are NOT isolated'}` +
            (flagged(d.msi) ? '' : core.capable(d.iommu, 'intr-remap') ? ' (interrupt remapping)' : ''),
        );
        isolated &&= ok;
      }
      break;
    }
  }
  if (!isolated && inp.allowUnsafe) reasons.push('allow_unsafe_interrupts=Y overrides the refusal');
  return { allowed: isolated || inp.allowUnsafe, isolated, rule: RULE_TEXT[inp.rule], reasons };
}

/** The exact warning vfio_iommu_type1_attach_group prints (pr_warn, `%s` = __func__). */
export const UNSAFE_INTERRUPTS_WARNING =
  'vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "allow_unsafe_interrupts" to enable VFIO IOMMU support on this platform';
