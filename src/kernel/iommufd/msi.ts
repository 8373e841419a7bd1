// The MSI side of a group bound to iommufd, as facts for `show verdict` and a refused bind
// (the script layer writes the English, script/explain/verdict.ts):
// - whose rule decides isolation: iommufd_device_bind() (drivers/iommu/iommufd/device.c),
//   iommu_group_has_isolated_msi(group) or iommufd's own allow_unsafe_interrupts, checked at
//   bind (6.3; VFIO's container checks its own parameter at attach instead);
// - where a doorbell gets its IOVA: dma-iommu's MSI cookie on the attached HWPT's domain
//   (iommufd_group_setup_msi → iommu_get_msi_cookie, 6.2–6.14), iommufd's own sw_msi map
//   installed in every paging HWPT (iommufd_sw_msi / iommufd_sw_msi_install, 6.15), or the
//   window the user chose per device (the proposed IOMMU_OPTION_SW_MSI_START/SIZE).

import { safetyFacts, type SafetyFacts } from '../irq/isolation.js';
import type { IommuGroup } from '../iommu/core.js';
import { isDevice, type IommufdDeviceObj } from './device-object.js';
import { isHwptPaging } from './hwpt.js';
import type { IommufdContext, IommufdEnv } from './objects.js';

/** iommufd's own module parameter (drivers/iommu/iommufd/device.c allow_unsafe_interrupts). */
export const IOMMUFD_ALLOW_UNSAFE = 'iommufd.allow_unsafe_interrupts';

/** What iommufd_device_bind() reads to decide whether `group`'s MSIs are isolated. */
export function bindSafetyFacts(env: IommufdEnv, group: IommuGroup): SafetyFacts {
  return safetyFacts(group, {
    rule: 'isolated-msi-group',
    iommuCore: env.iommu,
    controllers: [],
    msiResvNeeded: false,
    allowUnsafe: env.params.bool(IOMMUFD_ALLOW_UNSAFE),
  });
}

/** How this kernel gives a doorbell its IOVA in an iommufd HWPT. */
export type IommufdMsiPlacement =
  /** 6.2–6.14: iommu_get_msi_cookie() on the domain attached when the group first attached. */
  | 'msi-cookie'
  /** 6.15+: the context's sw_msi map, installed in every paging HWPT the group attaches. */
  | 'sw-msi';

/** One device of the group as iommufd holds it. */
export interface IommufdDeviceMsiFacts {
  bdf: string;
  /** The iommufd object id (out_devid). */
  devId: number;
  attached: boolean;
  /** The device's IOMMU_OPTION_SW_MSI_START/SIZE, once both are set (the proposed series). */
  userWindow?: { start: bigint; size: bigint };
}

/** The facts of a group in one iommufd context (bound, or about to be). */
export interface IommufdAttachFacts {
  kind: 'iommufd';
  group: IommuGroup;
  safety: SafetyFacts;
  /** The context is the compat container serving /dev/vfio/vfio. */
  vfioCompat: boolean;
  /** Devices of the group bound to this context (none: the facts of a bind to come). */
  devices: IommufdDeviceMsiFacts[];
  /** The HWPT the group is attached to (igroup->hwpt). */
  hwpt?: { id: number; auto: boolean; ioasId: number; domainId: number };
  placement: IommufdMsiPlacement;
  /** The era has IOMMU_OPTION_SW_MSI_START/SIZE. */
  swMsiOption: boolean;
  /** The IOMMU translates MSI writes, so a doorbell needs an IOVA (a SW_MSI region exists). */
  driverWindow?: { start: bigint; size: bigint };
  /** igroup->sw_msi_start: the window's start the attach used. */
  swMsiStart?: bigint;
  /** The doorbell pages mapped in the attached domain, as doorbell PA → IOVA. */
  doorbells: { pa: bigint; iova: bigint }[];
}

function deviceFacts(d: IommufdDeviceObj): IommufdDeviceMsiFacts {
  const userWindow = d.swMsiStart !== undefined && d.swMsiSize !== undefined ? { start: d.swMsiStart, size: d.swMsiSize } : undefined;
  return { bdf: d.dev.bdf, devId: d.id, attached: d.attached, ...(userWindow ? { userWindow } : {}) };
}

/** The facts of `group` in `ictx`: what is bound and attached, and where its doorbells sit. */
export function iommufdAttachFacts(ictx: IommufdContext, group: IommuGroup): IommufdAttachFacts {
  const { env } = ictx;
  const bound = ictx
    .all()
    .filter(isDevice)
    .filter((d) => d.dev.group === group);
  const devices = bound.map(deviceFacts);
  const igroup = bound[0]?.igroup;
  const sw = env.iommu.resvRegions(group).find((r) => r.type === 'sw-msi');
  const hwpt = igroup?.hwpt;
  const paging = hwpt && isHwptPaging(hwpt) ? hwpt : undefined;
  const cookie = hwpt?.domain.msiCookie;
  const mapped = cookie && hwpt ? [...cookie.pages].filter(([, iova]) => hwpt.domain.hw.translate(iova) !== undefined) : [];
  return {
    kind: 'iommufd',
    group,
    safety: bindSafetyFacts(env, group),
    vfioCompat: ictx.vfioCompat,
    devices,
    ...(hwpt ? { hwpt: { id: hwpt.id, auto: paging?.autoDomain ?? false, ioasId: paging?.ioas.id ?? 0, domainId: hwpt.domain.id } } : {}),
    placement: env.era.iommufdSwMsi ? 'sw-msi' : 'msi-cookie',
    swMsiOption: env.era.iommufdSwMsiOption,
    ...(sw ? { driverWindow: { start: sw.start, size: sw.length } } : {}),
    ...(igroup?.swMsiStart !== undefined ? { swMsiStart: igroup.swMsiStart } : {}),
    doorbells: mapped.map(([pa, iova]) => ({ pa, iova })),
  };
}
