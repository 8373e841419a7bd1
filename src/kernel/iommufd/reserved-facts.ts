// The IOVA reservations of each IOAS of a context, as facts for `show reserved` (the script
// layer words them): what iopt->reserved_itree holds and who owns each range, the allowed
// ranges (iopt->allowed_itree, IOMMU_IOAS_ALLOW_IOVAS), and the devices' own MSI windows of
// the proposed IOMMU_OPTION_SW_MSI_START/SIZE.
//
// Owners, as drivers/iommu/iommufd/io_pagetable.c has them:
// - a device (iopt_table_enforce_dev_resv_regions, at attach): its driver's reserved regions,
//   the SW_MSI window among them (or, in the proposed series, the user's window instead);
// - a domain (iopt_table_add_domain): the IOVA outside its aperture.

import type { ResvType } from '../../hw/iommu/iommu.js';
import { deviceReservations, IommufdDeviceObj, isDevice } from './device-object.js';
import { isHwptPaging } from './hwpt.js';
import { isIoas } from './ioas.js';
import type { IovaRange } from './io-pagetable.js';
import type { IommufdContext } from './objects.js';

export type ReservationOwner =
  | { kind: 'device'; devId: number; bdf: string; region: ResvType; why?: string; userWindow: boolean }
  | { kind: 'domain'; domainId: number; hwptIds: number[]; side: 'below' | 'above' };

export interface IoasReservedFacts {
  ioasId: number;
  reserved: { start: bigint; last: bigint; owner: ReservationOwner }[];
  /** IOMMU_IOAS_ALLOW_IOVAS's ranges; empty: every IOVA may be allocated. */
  allowed: readonly IovaRange[];
}

/** A device's IOMMU_OPTION_SW_MSI_START/SIZE as set so far (the proposed series). */
export interface UserMsiWindowFacts {
  devId: number;
  bdf: string;
  start?: bigint;
  size?: bigint;
  attached: boolean;
}

export interface IommufdReservedFacts {
  ioases: IoasReservedFacts[];
  userWindows: UserMsiWindowFacts[];
}

function deviceOwner(idev: IommufdDeviceObj, start: bigint): ReservationOwner {
  const r = deviceReservations(idev).find((x) => x.start === start);
  return { kind: 'device', devId: idev.id, bdf: idev.dev.bdf, region: r?.region.type ?? 'reserved', ...(r?.region.why ? { why: r.region.why } : {}), userWindow: r?.userWindow ?? false };
}

/** The reservations of every IOAS of `ictx`, by IOAS id, and the devices' user MSI windows. */
export function iommufdReservedFacts(ictx: IommufdContext): IommufdReservedFacts {
  const objects = ictx.all();
  const hwpts = objects.filter(isHwptPaging);
  const ioases = objects.filter(isIoas).map((ioas): IoasReservedFacts => ({
    ioasId: ioas.id,
    reserved: ioas.iopt.reservations.flatMap((r) => {
      const o = r.owner;
      if (o instanceof IommufdDeviceObj) return [{ start: r.start, last: r.last, owner: deviceOwner(o, r.start) }];
      const holders = hwpts.filter((h) => h.domain === o);
      const [first] = holders;
      if (!first) return [];
      const owner: ReservationOwner = { kind: 'domain', domainId: first.domain.id, hwptIds: holders.map((h) => h.id), side: r.start === 0n ? 'below' : 'above' };
      return [{ start: r.start, last: r.last, owner }];
    }),
    allowed: ioas.iopt.allowed,
  }));
  const userWindows = objects
    .filter(isDevice)
    .filter((d) => d.swMsiStart !== undefined || d.swMsiSize !== undefined)
    .map((d) => ({ devId: d.id, bdf: d.dev.bdf, ...(d.swMsiStart !== undefined ? { start: d.swMsiStart } : {}), ...(d.swMsiSize !== undefined ? { size: d.swMsiSize } : {}), attached: d.attached }));
  return { ioases, userWindows };
}
