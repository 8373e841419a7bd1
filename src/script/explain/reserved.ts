// `show reserved`'s iommufd part: each IOAS's own reservations (the reserved tree and who
// reserved each range), its allowed ranges, and the devices' user MSI windows of the proposed
// series, from the kernel's facts (kernel/iommufd/reserved-facts.ts).

import { hex } from '../../lib/hex.js';
import { RESV_TYPE_STRING } from '../../hw/iommu/iommu.js';
import type { Process } from '../../kernel/process.js';
import { IommufdFile } from '../../kernel/iommufd/main.js';
import { iommufdReservedFacts, type ReservationOwner, type UserMsiWindowFacts } from '../../kernel/iommufd/reserved-facts.js';

const range = (start: bigint, last: bigint): string => `${hex(start)}-${hex(last)}`;

function ownerText(o: ReservationOwner): string {
  if (o.kind === 'domain') {
    // iopt_table_add_domain(): what the domain cannot translate.
    const hwpts = o.hwptIds.map((id) => `HWPT ${id}`).join(', ');
    return `domain ${o.domainId} (${hwpts}): ${o.side === 'below' ? 'below' : 'beyond'} its aperture`;
  }
  const type = `${RESV_TYPE_STRING[o.region]}${o.region === 'sw-msi' ? ' (software-managed)' : ''}`;
  const why = o.userWindow
    ? `the device's IOMMU_OPTION_SW_MSI_START/SIZE window, in place of the driver's${o.why ? ` (${o.why})` : ''}`
    : (o.why ?? '');
  return `device ${o.devId} (${o.bdf}): ${type}${why ? ` — ${why}` : ''}`;
}

function userWindowText(w: UserMsiWindowFacts): string {
  const start = w.start !== undefined ? `SW_MSI_START ${hex(w.start)}` : 'SW_MSI_START not set';
  // SW_MSI_SIZE is set in MiB (the proposed option's unit).
  const size = w.size !== undefined ? `SW_MSI_SIZE ${w.size >> 20n} (MiB)` : 'SW_MSI_SIZE not set';
  const state =
    w.start === undefined || w.size === undefined
      ? "the driver's SW_MSI window stays until both are set"
      : w.attached
        ? 'reserved in the IOAS it is attached to'
        : 'replaces the SW_MSI window when it attaches';
  return `device ${w.devId} (${w.bdf}): ${start}, ${size}: ${state}`;
}

/** The lines for each iommufd context `proc` has open, none when it has none. */
export function iommufdReservedLines(proc: Process | undefined): string[] {
  if (!proc) return [];
  return proc.openFds().flatMap(([fd, f]) => {
    if (!(f.ops instanceof IommufdFile)) return [];
    const facts = iommufdReservedFacts(f.ops.ictx);
    const what = f.ops.kind === 'container' ? 'iommufd serving /dev/vfio/vfio' : 'iommufd';
    return [
      ...facts.ioases.flatMap((a) => [
        `${what} (fd ${fd}), IOAS ${a.ioasId}:`,
        ...(a.reserved.length ? a.reserved.map((r) => `  ${range(r.start, r.last)} by ${ownerText(r.owner)}`) : ['  nothing reserved']),
        a.allowed.length
          ? `  allowed (IOMMU_IOAS_ALLOW_IOVAS): ${a.allowed.map((x) => range(x.start, x.last)).join(', ')}`
          : '  allowed: any IOVA (no IOMMU_IOAS_ALLOW_IOVAS)',
      ]),
      ...facts.userWindows.map((w) => `${what} (fd ${fd}), ${userWindowText(w)}`),
    ];
  });
}
