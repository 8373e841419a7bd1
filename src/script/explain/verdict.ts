// Why an attach of a group is (or would be) allowed or refused, in the terms of the backend
// that decides: the kernel reports the facts (VfioIommuDriver.attachFacts) and decides with
// the same predicates used here; this file only puts them into words, for `show verdict` and
// for the note under a refused SET_IOMMU / SET_CONTAINER.

import type { MsiMapping, SafetyRule } from '../../kernel/era.js';
import { hex } from '../../lib/hex.js';
import { attachAllowed, deviceIsolated, interruptsIsolated, remappingControllers, type SafetyFacts } from '../../kernel/irq/isolation.js';
import type { IommuGroup } from '../../kernel/iommu/core.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { IommuAttachFacts, TceAttachFacts, Type1AttachFacts } from '../../kernel/vfio/iommu-driver.js';
import { tceAttachAllowed, tceMsiIsolated, tceOwnershipCompatible } from '../../kernel/vfio/spapr-tce.js';
import { IommufdFile } from '../../kernel/iommufd/main.js';
import { iommufdAttachFacts, type IommufdAttachFacts } from '../../kernel/iommufd/msi.js';
import type { Process } from '../../kernel/process.js';
import { viabilityLines } from './viability.js';

/** A decision and the facts behind it, as lines. */
interface Explanation {
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

const MSI_MAPPING_TEXT: Record<MsiMapping, string> = {
  none: 'nothing in this kernel maps them: MSIs through this IOMMU fault',
  'user-window': 'DOMAIN_ATTR_MSI_MAPPING: in the window the user registers',
  'sw-msi-cookie': 'by the kernel, in the IOMMU_RESV_SW_MSI region: iommu_get_msi_cookie()',
};

/** type1: the era's interrupt-safety rule, one line per fact it read. */
function safetyReasons(f: SafetyFacts, mapping: MsiMapping): string[] {
  const reasons: string[] = [];
  for (const m of f.iommus) {
    reasons.push(
      `${m.iommu.name} (${m.iommu.model}): ${m.intrRemap ? 'advertises' : 'does not advertise'} IOMMU_CAP_INTR_REMAP` +
        (m.intrRemap && !m.intrRemapBacked ? ' (a driver claim the hardware does not back: MSIs are not isolated)' : ''),
    );
    // Whether doorbells must be mapped is a separate question from whether MSIs are isolated:
    // it decides whether assignment works, not whether it is safe. Who maps them, and in which
    // terms, is the era's (Era.msiMapping): DOMAIN_ATTR_MSI_MAPPING is the series' attribute.
    reasons.push(
      m.msiTranslated
        ? `${m.iommu.name}: MSI writes are translated, so doorbells must be mapped in the domain (${MSI_MAPPING_TEXT[mapping]}); that says nothing about isolation`
        : `${m.iommu.name}: MSI writes bypass translation (fixed interrupt window); nothing to map`,
    );
  }
  switch (f.rule) {
    case 'intr-remap-cap':
      break;
    case 'doorbell-coarse':
    case 'doorbell-msi-resv':
      if (f.doorbells.length === 0) reasons.push('no MSI doorbell is registered (msi_doorbell_safe() is true)');
      for (const d of f.doorbells) {
        reasons.push(`doorbell ${hex(d.base)} (${d.owner.name}, ${d.owner.model}): ${d.isolating ? 'isolates MSIs' : 'does NOT isolate MSIs'}`);
      }
      if (f.rule === 'doorbell-msi-resv') {
        reasons.push(
          f.msiResvNeeded
            ? 'the container needs an MSI reserved window (vfio_msi_resv)'
            : 'no domain of the container needs an MSI reserved window (vfio_msi_resv() is false)',
        );
      }
      break;
    case 'msi-remap-global': {
      for (const c of f.controllers) {
        reasons.push(`${c.controller.describe()}: ${c.msiRemap ? 'its irq domain flags IRQ_DOMAIN_FLAG_MSI_REMAP' : 'no IRQ_DOMAIN_FLAG_MSI_REMAP'}`);
      }
      const remap = remappingControllers(f);
      if (remap.length > 0 && f.devices.some((d) => !d.msiRemap)) {
        reasons.push(
          `global check: ${remap.map((c) => c.controller.name).join(', ')} makes every group pass, including devices whose MSIs go elsewhere`,
        );
      }
      break;
    }
    case 'isolated-msi-group':
      for (const d of f.devices) {
        reasons.push(
          `${d.bdf}: MSIs to ${d.msi.name} (${d.msi.model}) ${deviceIsolated(d) ? 'are isolated' : 'are NOT isolated'}` +
            (d.msiRemap ? '' : d.intrRemap ? ' (interrupt remapping)' : ''),
        );
      }
      break;
  }
  if (!interruptsIsolated(f) && f.allowUnsafe) reasons.push('allow_unsafe_interrupts=Y overrides the refusal');
  return reasons;
}

function explainType1(f: Type1AttachFacts, mapping: MsiMapping): Explanation {
  return { allowed: attachAllowed(f), isolated: interruptsIsolated(f), rule: RULE_TEXT[f.rule], reasons: safetyReasons(f, mapping) };
}

/**
 * spapr_tce: tce_iommu_attach_group() makes no interrupt-safety decision; ownership of the
 * PE's table group decides, and MSI isolation is the PHB's, per PE.
 */
function explainTce(f: TceAttachFacts): Explanation {
  const reasons: string[] = [
    'backend vfio_iommu_spapr_tce: tce_iommu_attach_group() makes no interrupt-safety check (no allow_unsafe_interrupts)',
  ];
  for (const m of f.iommus) {
    reasons.push(`${m.iommu.name} (${m.iommu.model}): ${m.intrRemap ? 'advertises' : 'does not advertise'} IOMMU_CAP_INTR_REMAP`);
  }
  for (const d of f.devices) {
    reasons.push(`${d.bdf}: MSIs go to ${d.msi.name} (${d.msi.model}): ${d.isolating ? 'bound to the device\'s PE, the PHB rejects other PEs\' MSIs (isolated per group by hardware)' : 'not isolated'}`);
  }
  reasons.push(
    f.msixMappable
      ? 'vfio-pci lets the MSI-X BAR be mmapped whole (VFIO_REGION_INFO_CAP_MSIX_MAPPABLE)'
      : 'vfio-pci hides the MSI-X table from mmap (a SPARSE_MMAP hole around it)',
  );
  const v = { allowed: tceAttachAllowed(f), isolated: tceMsiIsolated(f) };
  if (!f.tableGroup) return { ...v, rule: 'tce_iommu_attach_group()', reasons: [...reasons, 'the group has no TCE table group: -ENODEV'] };
  if (!tceOwnershipCompatible(f)) {
    reasons.push('the IODA2 PE has the DDW ops (take/release ownership): only a SPAPR_TCE_v2 container may own it, so a v1 SET_IOMMU is -EPERM');
    return { ...v, rule: 'tce_iommu_attach_group(): IOMMU type compatibility', reasons };
  }
  return { ...v, rule: 'tce_iommu_attach_group(): the v2 container takes the PE over', reasons };
}

function explainAttach(f: IommuAttachFacts, mapping: MsiMapping): Explanation {
  switch (f.kind) {
    case 'type1':
      return explainType1(f, mapping);
    case 'spapr-tce':
      return explainTce(f);
  }
}

const range = (start: bigint, size: bigint): string => `${hex(start)}-${hex(start + size - 1n)}`;

/**
 * iommufd: iommufd_device_bind() decides isolation (6.3+: iommu_group_has_isolated_msi(), or
 * iommufd's own allow_unsafe_interrupts); where a doorbell gets its IOVA is the era's
 * (the MSI cookie until 6.14, sw_msi from 6.15, the user's window in the proposed series).
 */
function explainIommufd(f: IommufdAttachFacts): Explanation {
  const reasons: string[] = [];
  for (const d of f.safety.devices) {
    reasons.push(
      `${d.bdf}: MSIs to ${d.msi.name} (${d.msi.model}) ${deviceIsolated(d) ? 'are isolated' : 'are NOT isolated'}` +
        (d.msiRemap ? ' (its irq domain is IRQ_DOMAIN_FLAG_ISOLATED_MSI)' : d.intrRemap ? ' (interrupt remapping)' : ''),
    );
  }
  if (!interruptsIsolated(f.safety) && f.safety.allowUnsafe) {
    reasons.push('iommufd.allow_unsafe_interrupts=Y overrides the refusal (with a dev_warn at bind); vfio_iommu_type1\'s parameter plays no part');
  }
  if (f.devices.length === 0) reasons.push('no device of the group is bound to this iommufd yet: this is what iommufd_device_bind() will meet (VFIO_DEVICE_BIND_IOMMUFD, or the first open of a device of a group whose container is iommufd)');
  for (const d of f.devices) {
    const where = f.hwpt && d.attached ? `attached to HWPT ${f.hwpt.id}${f.hwpt.auto ? ` (the auto domain of IOAS ${f.hwpt.ioasId})` : ''}` : 'not attached';
    reasons.push(`${d.bdf}: iommufd device ${d.devId}, ${where}`);
  }
  const translated = f.safety.iommus.filter((m) => m.msiTranslated);
  if (!f.driverWindow || translated.length === 0) {
    reasons.push('MSI writes bypass translation (a hardware MSI window): a doorbell needs no IOVA');
    return { allowed: attachAllowed(f.safety), isolated: interruptsIsolated(f.safety), rule: IOMMUFD_RULE, reasons };
  }
  const user = f.devices.find((d) => d.userWindow)?.userWindow;
  const driver = `the driver's IOMMU_RESV_SW_MSI region ${range(f.driverWindow.start, f.driverWindow.size)}`;
  if (user) {
    reasons.push(`MSI window ${range(user.start, user.size)}: the device's IOMMU_OPTION_SW_MSI_START/SIZE, in place of ${driver} (proposed series), reserved in the IOAS at attach`);
  } else {
    reasons.push(
      `MSI window: ${driver}, reserved in the IOAS at attach (iopt_table_enforce_dev_resv_regions: IOVA_RANGES leaves it out)` +
        (f.swMsiOption ? '; IOMMU_OPTION_SW_MSI_START/SIZE are not both set, so the driver\'s window stands' : '; userspace cannot move it in this kernel'),
    );
  }
  reasons.push(
    f.placement === 'msi-cookie'
      ? 'doorbell IOVA: iommufd_group_setup_msi() gives the HWPT\'s domain an MSI cookie (iommu_get_msi_cookie); dma-iommu maps a doorbell page there when vectors are allocated, so an HWPT attached later starts without it (6.2–6.14)'
      : 'doorbell IOVA: iommufd_sw_msi() places each doorbell page at sw_msi_start + pgoff * PAGE_SIZE, kept per context, and iommufd_sw_msi_install() maps them in every paging HWPT the group attaches (6.15+)',
  );
  if (f.hwpt) {
    reasons.push(
      f.doorbells.length
        ? `domain ${f.hwpt.domainId} maps ${f.doorbells.map((d) => `doorbell ${hex(d.pa)} at IOVA ${hex(d.iova)}`).join(', ')}`
        : `domain ${f.hwpt.domainId} maps no doorbell page yet (no vector allocated through it)`,
    );
  }
  return { allowed: attachAllowed(f.safety), isolated: interruptsIsolated(f.safety), rule: IOMMUFD_RULE, reasons };
}

const IOMMUFD_RULE =
  'iommufd_device_bind(): iommu_group_has_isolated_msi(group) || iommufd.allow_unsafe_interrupts (6.3+: decided at bind, for every device of the group)';

/** The process's iommufd contexts (/dev/iommu, or /dev/vfio/vfio where iommufd serves it). */
function iommufdFiles(proc: Process | undefined): IommufdFile[] {
  if (!proc) return [];
  return proc.openFds().flatMap(([, f]) => (f.ops instanceof IommufdFile ? [f.ops] : []));
}

/** `group`'s iommufd facts: the context with a device of it bound, else (no container) the first context. */
function iommufdFactsFor(files: IommufdFile[], g: IommuGroup, inContainer: boolean): IommufdAttachFacts | undefined {
  for (const f of files) {
    const facts = iommufdAttachFacts(f.ictx, g);
    if (facts.devices.length) return facts;
  }
  return !inContainer && files.length ? iommufdAttachFacts(files[0].ictx, g) : undefined;
}

function verdictBlock(k: Kernel, g: IommuGroup, backend: string, v: Explanation, verb: string, notViable = false): string[] {
  const judged = v.isolated ? 'interrupts judged isolated' : 'interrupts judged NOT isolated';
  const outcome = notViable
    ? `${verb} refused all the same: the group is not viable (above)`
    : v.allowed
      ? v.isolated
        ? `${verb} allowed`
        : `${verb} allowed by allow_unsafe_interrupts`
      : `${verb} refused`;
  return [
    `group ${g.id} (${g.devices.map((d) => d.bdf).join(', ')}): ${judged} — ${outcome}`,
    `  rule (kernel ${k.era.name}, ${backend}): ${v.rule}`,
    ...v.reasons.map((x) => `  - ${x}`),
  ];
}

/** The iommufd verdict on `g` for a refused bind, or nothing when no iommufd of `proc` is in play. */
export function iommufdVerdictLines(k: Kernel, g: IommuGroup, proc: Process): string[] | undefined {
  const fd = iommufdFactsFor(iommufdFiles(proc), g, false);
  return fd ? verdictBlock(k, g, fd.vfioCompat ? 'iommufd serving /dev/vfio/vfio' : 'iommufd', explainIommufd(fd), 'bind') : undefined;
}

/**
 * Whether each group bound to VFIO (or the given ones) may be attached, and why, in the terms
 * of the backend that decides: the container's, or else the first registered backend that
 * takes `type` (the SET_IOMMU being explained) or any type.
 */
export function verdictLines(k: Kernel, only?: readonly IommuGroup[], type?: bigint, proc?: Process): string[] {
  const out: string[] = [];
  const groups = only ?? [...k.vfioGroups.values()].map((g) => g.iommuGroup);
  if (groups.length === 0) return ['no group is bound to vfio-pci'];
  const files = iommufdFiles(proc);
  for (const g of groups) {
    const container = k.vfioGroups.get(g.id)?.container;
    const fd = iommufdFactsFor(files, g, container !== undefined);
    if (fd) {
      out.push(...verdictBlock(k, g, fd.vfioCompat ? 'iommufd serving /dev/vfio/vfio' : 'iommufd', explainIommufd(fd), 'bind'));
      continue;
    }
    const driver =
      container?.driver ??
      k.vfioDrivers.find((d) => type === undefined || d.checkExtension(type) > 0) ??
      k.vfioDrivers[0];
    if (!driver) {
      out.push(`group ${g.id}: this kernel registers no VFIO IOMMU backend`);
      continue;
    }
    const v = explainAttach(container?.iommu ? container.iommu.attachFacts(g) : driver.attachFacts(g, type), k.era.msiMapping);
    // Viability is decided before interrupt safety, and on its own rule (viability.ts): since
    // 5.19 vfio_group_set_container() claims DMA ownership first, so a group a kernel driver
    // still uses is refused whatever the interrupt verdict; before, it attaches but gets no
    // device fd.
    const notViable = k.vfioGroups.get(g.id)?.viable === false;
    if (notViable) out.push(...viabilityLines(k, g));
    out.push(...verdictBlock(k, g, driver.name, v, 'attach', notViable && k.era.dmaOwnerClaim));
  }
  return out;
}
