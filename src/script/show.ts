// `show WHAT`: the model's state at that point, read-only.

import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { RESV_TYPE_STRING } from '../hw/iommu/iommu.js';
import type { Word } from './ast.js';
import type { ScenarioContext } from './context.js';
import { doorbellMappingText, msiCookieText } from './explain/doorbells.js';
import { iommuStateLines } from './explain/iommu-state.js';
import { iommufdReservedLines } from './explain/reserved.js';
import { verdictLines } from './explain/verdict.js';
import { failAt } from './where.js';

const WHATS = ['mappings', 'groups', 'domains', 'doorbells', 'reserved', 'faults', 'dmesg', 'platform', 'verdict'] as const;
const h = (v: bigint) => `0x${v.toString(16)}`;

export function showState(w: Word, k: Kernel, r: ScenarioContext, proc?: Process): string[] {
  switch (w.text) {
    case 'mappings':
      return k.containers.filter((c) => c.alive).flatMap((c) => [`container ${c.id}:`, ...(c.iommu ? iommuStateLines(c.iommu.state()) : ['  no IOMMU backend set'])]);
    case 'groups':
      return k.groupList().map((g) => {
        const vg = k.vfioGroups.get(g.id);
        const devs = g.devices.map((d) => `${d.bdf}${d.driver ? ` (${d.driver})` : ''}`).join(', ');
        const state = vg ? (vg.container ? `in container ${vg.container.id}` : vg.file ? 'open' : 'vfio') : 'not bound to vfio';
        return `group ${g.id} [${g.iommu.name}]: ${devs} — ${state}`;
      });
    case 'domains':
      return [...k.iommu.domains].map((d) => {
        const groups = [...d.groups].map((g) => g.id).join(', ');
        const msi = d.msiCookie
          ? `, ${msiCookieText(d.msiCookie)}`
          : d.msiWindow
            ? `, MSI window ${h(d.msiWindow.start)}-${h(d.msiWindow.end)} (${d.msiWindow.pages.size} doorbell page(s))`
            : '';
        return `domain ${d.id} on ${d.iommu.name} (${d.iommu.model}): groups [${groups}], ${d.hw.mappedRanges} mapped range(s), aperture ${h(d.hw.aperture.start)}-${h(d.hw.aperture.end)}${msi}`;
      });
    case 'doorbells': {
      const lines = k.platform.msiControllers.map((c) => c.describe());
      if (k.doorbells) {
        lines.push(`msi-doorbell registry: ${k.doorbells.doorbells.length} doorbell(s), ${k.doorbells.unsafeCount} unsafe`);
        for (const d of k.doorbells.doorbells) {
          lines.push(`  ${h(d.base)} size ${d.size} ${d.perCpu ? 'per-CPU' : 'global'} ${d.isolating ? 'isolating' : 'NOT isolating'} (${d.owner.name})`);
        }
      }
      for (const [bdf, m] of k.msi) {
        for (const v of m.vectors) lines.push(`  ${bdf} ${v.kind} vector ${v.index}: writes 0x${v.msg.data.toString(16)} to ${h(v.msg.addr)} (doorbell ${h(v.doorbell)}; ${doorbellMappingText(v.mapping)})`);
      }
      return lines;
    }
    case 'reserved':
      // Reserved regions (iommu_get_resv_regions) and the software MSI window came in 4.11,
      // with their sysfs file: before, the kernel knows only the hardware's windows.
      if (!k.era.sysfsResvRegions) {
        return [
          `kernel ${k.era.name} has no reserved regions (iommu_get_resv_regions(), 4.11+); the hardware's fixed windows:`,
          ...k.groupList().flatMap((g) => {
            const hw = k.iommu.resvRegions(g).filter((x) => x.type !== 'sw-msi');
            return [`group ${g.id}:`, ...(hw.length ? hw.map((x) => `  ${h(x.start)}-${h(x.start + x.length - 1n)}${x.why ? ` — ${x.why}` : ''}`) : ['  none'])];
          }),
        ];
      }
      return [
        ...k.groupList().flatMap((g) => [
          `group ${g.id}:`,
          ...k.iommu.resvRegions(g).map((x) => `  ${h(x.start)}-${h(x.start + x.length - 1n)} ${RESV_TYPE_STRING[x.type]}${x.type === 'sw-msi' ? ' (software-managed)' : ''}${x.why ? ` — ${x.why}` : ''}`),
        ]),
        // The IOASes' own reservations, owner by owner (the process's iommufd contexts).
        ...iommufdReservedLines(proc),
      ];
    case 'faults':
      return r.faults.length ? r.faults.map((f) => f.text) : ['no IOMMU fault recorded'];
    case 'dmesg':
      return k.log.lines.map((l) => (l.level === 'debug' ? `${l.text} (debug: not printed without dynamic debug)` : l.text));
    case 'platform': {
      const p = k.platform;
      return [
        `${p.preset}${Object.entries(p.options).map(([a, b]) => ` ${a}=${b}`).join('')}: ${p.description}`,
        `kernel ${k.era.name}: ${k.era.summary}`,
        ...p.iommus.map((m) => `iommu ${m.name}: ${m.model}, pgsizes ${h(m.pgsizeBitmap)}, MSIs ${m.msiTranslated ? 'translated' : 'bypass translation'}, INTR_REMAP ${m.capable('intr-remap') ? 'yes' : 'no'}`),
        ...p.msiControllers.map((c) => `msi ${c.describe()}`),
        ...p.devices.map((d) => `device ${d.bdf}: group ${d.group}, behind ${d.iommu.name}, MSIs to ${d.msi.name}${d.hostDriver ? `, host driver ${d.hostDriver}` : ''}`),
      ];
    }
    case 'verdict':
      return verdictLines(k, undefined, undefined, proc);
    default:
      return failAt(w.pos, `show what? "${w.text}": expected one of ${WHATS.join(', ')}`);
  }
}
