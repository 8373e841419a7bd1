// Binding a device to iommufd and attaching it (drivers/iommu/iommufd/device.c):
// iommufd_device_bind, iommufd_device_attach/replace/detach and the auto-domain search, with
// each attached device's reserved regions in its IOAS and the MSI set-up of the HWPT the group
// lands on (the MSI cookie until 6.14; iommufd's own sw_msi from 6.15).

import { EINVAL, EPERM } from '../../uapi/errno.js';
import type { IommuGroup, KDevice } from '../iommu/core.js';
import { interruptsIsolated } from '../irq/isolation.js';
import { bindSafetyFacts, IOMMUFD_ALLOW_UNSAFE } from './msi.js';
import type { IommufdContext } from './objects.js';
import { isIoas, type Ioas } from './ioas.js';
import { hwptPagingAlloc, hwptPut, isHwptPaging, type HwptPaging } from './hwpt.js';
import { deviceReservations, IommufdDeviceObj, type AttachedHwpt, type IommufdGroup } from './device-object.js';

export { IOMMUFD_ALLOW_UNSAFE };

/** The warning iommufd_device_bind() prints through dev_warn() when allow_unsafe_interrupts lets an unisolated device in. */
export const IOMMUFD_UNSAFE_MSI_WARNING =
  'MSI interrupts are not secure, they cannot be isolated by the platform. Check that platform features like interrupt remapping are enabled. Use the "allow_unsafe_interrupts" module parameter to override';

/** The per-context iommufd_group table (ictx->groups). */
const igroups = new WeakMap<IommufdContext, Map<number, IommufdGroup>>();

function getIgroup(ictx: IommufdContext, group: IommuGroup): IommufdGroup {
  let m = igroups.get(ictx);
  if (!m) igroups.set(ictx, (m = new Map()));
  let g = m.get(group.id);
  if (!g) m.set(group.id, (g = { group, attached: [], bound: 0 }));
  return g;
}

function putIgroup(ictx: IommufdContext, ig: IommufdGroup): void {
  if (ig.bound === 0) igroups.get(ictx)?.delete(ig.group.id);
}

/** The igroups of a context (for `show`). */
export function contextGroups(ictx: IommufdContext): IommufdGroup[] {
  return [...(igroups.get(ictx)?.values() ?? [])];
}

/**
 * iommufd_device_bind(): the IOMMU must be cache coherent (-EINVAL), the group's MSIs isolated
 * unless iommufd.allow_unsafe_interrupts (-EPERM; allowed with a dev_warn), then the DMA
 * ownership is claimed for the context (-EPERM while a kernel driver or another owner has it).
 * The device object is held by the binding driver as well as the xarray.
 */
export function deviceBind(ictx: IommufdContext, dev: KDevice): IommufdDeviceObj | number {
  const { env } = ictx;
  if (!env.iommu.capable(dev.iommu, 'cache-coherency')) return -EINVAL;
  const igroup = getIgroup(ictx, dev.group);
  // iommu_group_has_isolated_msi() (6.3: the check moved here from attach).
  const facts = bindSafetyFacts(env, dev.group);
  if (!interruptsIsolated(facts)) {
    if (!facts.allowUnsafe) {
      putIgroup(ictx, igroup);
      return -EPERM;
    }
    env.log.warn(`${dev.driver ?? 'pci'} ${dev.bdf}: ${IOMMUFD_UNSAFE_MSI_WARNING}`);
  }
  // iommu_device_claim_dma_owner(): the first device of the group claims it; more of the same
  // owner share the claim (owner_cnt).
  if (igroup.bound === 0) {
    const rc = env.iommu.claimDmaOwner(dev.group, ictx);
    if (rc) {
      putIgroup(ictx, igroup);
      return rc;
    }
  }
  igroup.bound++;
  const idev = new IommufdDeviceObj(ictx, dev, igroup, env.iommu.capable(dev.iommu, 'enforce-cache-coherency'), (d) => {
    d.igroup.bound--;
    if (d.igroup.bound === 0) {
      env.iommu.releaseDmaOwner(d.dev.group);
      putIgroup(ictx, d.igroup);
    }
    ictx.put();
  });
  ictx.add(idev);
  ictx.hold();
  // The calling driver is a user until iommufd_device_unbind().
  idev.users++;
  return idev;
}

// ---- reserved regions and MSI ---------------------------------------------------------------------

/**
 * iopt_table_enforce_dev_resv_regions(): every reserved region of the device but the relaxable
 * direct ones is reserved in the IOAS, owned by the device (-EADDRINUSE over a mapping or an
 * allowed range). The SW_MSI region's start is what the MSI set-up uses; the proposed
 * SW_MSI_START/SIZE options replace that region with the user's window.
 */
function enforceResvRegions(ioas: Ioas, idev: IommufdDeviceObj, record: boolean): number {
  let swMsiStart: bigint | undefined;
  for (const { region: r, start, length } of deviceReservations(idev)) {
    if (r.type === 'sw-msi') swMsiStart = start;
    const rc = ioas.iopt.reserve(start, start + length - 1n, idev);
    if (rc) {
      ioas.iopt.removeReserved(idev);
      return rc;
    }
  }
  if (record && swMsiStart !== undefined) idev.igroup.swMsiStart = swMsiStart;
  return 0;
}

/**
 * iommufd_group_setup_msi(). Until 6.14 it asks dma-iommu for an MSI cookie on the domain
 * (once per HWPT): a freshly attached HWPT starts with no doorbell mapped, so a device's MSIs
 * already programmed with an IOVA of the old domain fault in the new one. From 6.15
 * (iommufd_sw_msi) the context keeps one map of doorbell pages, sw_msi_start + pgoff *
 * PAGE_SIZE, and installs every page of it in each paging HWPT the group attaches.
 */
function setupMsi(ictx: IommufdContext, igroup: IommufdGroup, hwpt: HwptPaging): number {
  const start = igroup.swMsiStart;
  if (start === undefined) return 0;
  if (!ictx.env.era.iommufdSwMsi) {
    if (hwpt.msiCookie) return 0;
    const rc = ictx.env.iommu.getMsiCookie(hwpt.domain, start);
    if (rc) return rc;
    hwpt.msiCookie = true;
    return 0;
  }
  const cookie = ictx.swMsiCookie(start);
  if (hwpt.domain.msiCookie !== cookie) {
    hwpt.domain.msiCookie = cookie;
    const page = ictx.env.pageSize;
    for (const [pa, iova] of cookie.pages) {
      if (hwpt.domain.hw.translate(iova)) continue;
      const rc = hwpt.domain.hw.map(iova, pa, page, { read: false, write: true, mmio: true });
      if (rc) return rc;
    }
  }
  return 0;
}

// ---- attach, replace, detach ------------------------------------------------------------------------

/**
 * The driver's IOPF set-up when the domain has an iopf_handler (an HWPT with a fault queue):
 * iopf_for_domain_replace() inside VT-d's attach (7.2; 6.11–6.15 iommufd's own
 * iommufd_fault_iopf_enable() → iommu_dev_enable_feature(IOPF), the same -ENODEV on VT-d).
 * No modelled device has PRI or stall, so this is the driver's answer for one without.
 */
function iopfEnable(hwpt: AttachedHwpt, idev: IommufdDeviceObj): number {
  return isHwptPaging(hwpt) && hwpt.fault ? (idev.dev.iommu.iopfWithoutPri ?? 0) : 0;
}

/** iommufd_hw_pagetable_attach(): the group's first device attaches the group to the domain. */
function hwptAttach(hwpt: AttachedHwpt, idev: IommufdDeviceObj): number {
  const { igroup, ictx } = idev;
  if (igroup.hwpt !== undefined && igroup.hwpt !== hwpt) return -EINVAL;
  const paging = isHwptPaging(hwpt) ? hwpt : undefined;
  if (paging) {
    // iommufd_device_attach_reserved_iova()
    let rc = enforceResvRegions(paging.ioas, idev, true);
    if (rc) return rc;
    if (igroup.attached.length === 0) {
      rc = setupMsi(ictx, igroup, paging);
      if (rc) {
        paging.ioas.iopt.removeReserved(idev);
        return rc;
      }
    }
  }
  if (igroup.attached.length === 0) {
    const rc = iopfEnable(hwpt, idev) || ictx.env.iommu.attachGroup(hwpt.domain, igroup.group);
    if (rc) {
      paging?.ioas.iopt.removeReserved(idev);
      return rc;
    }
    igroup.hwpt = hwpt;
  }
  hwpt.users++;
  igroup.attached.push(idev);
  return 0;
}

/** iommufd_hw_pagetable_detach(): the last device out detaches the group. The HWPT, for the caller to put. */
function hwptDetach(idev: IommufdDeviceObj): AttachedHwpt | undefined {
  const { igroup, ictx } = idev;
  const hwpt = igroup.hwpt;
  if (!hwpt) return undefined;
  const at = igroup.attached.indexOf(idev);
  if (at >= 0) igroup.attached.splice(at, 1);
  if (igroup.attached.length === 0) {
    ictx.env.iommu.detachGroup(hwpt.domain, igroup.group);
    igroup.hwpt = undefined;
  }
  if (isHwptPaging(hwpt)) hwpt.ioas.iopt.removeReserved(idev);
  return hwpt;
}

/** iommufd_device_do_replace(): the whole group moves; the old HWPT is returned for the caller to put. */
function doReplace(hwpt: AttachedHwpt, idev: IommufdDeviceObj): AttachedHwpt | undefined | number {
  const { igroup, ictx } = idev;
  const old = igroup.hwpt;
  if (!old) return -EINVAL;
  if (!idev.attached) return -EINVAL;
  if (hwpt === old) return undefined;
  const paging = isHwptPaging(hwpt) ? hwpt : undefined;
  const oldPaging = isHwptPaging(old) ? old : undefined;
  const newIoas = paging !== undefined && (!oldPaging || oldPaging.ioas !== paging.ioas);
  const unresv = () => {
    if (paging) for (const d of igroup.attached) paging.ioas.iopt.removeReserved(d);
  };
  if (paging) {
    // iommufd_group_do_replace_reserved_iova()
    if (newIoas) {
      for (const d of igroup.attached) {
        const rc = enforceResvRegions(paging.ioas, d, false);
        if (rc) {
          unresv();
          return rc;
        }
      }
    }
    const rc = setupMsi(ictx, igroup, paging);
    if (rc) {
      if (newIoas) unresv();
      return rc;
    }
  }
  // iommu_replace_group_handle(): the group's domain changes in one step.
  const core = ictx.env.iommu;
  const iopf = iopfEnable(hwpt, idev);
  if (iopf) {
    if (newIoas) unresv();
    return iopf;
  }
  core.detachGroup(old.domain, igroup.group);
  const rc = core.attachGroup(hwpt.domain, igroup.group);
  if (rc) {
    core.attachGroup(old.domain, igroup.group);
    if (newIoas) unresv();
    return rc;
  }
  if (oldPaging && (!paging || paging.ioas !== oldPaging.ioas)) for (const d of igroup.attached) oldPaging.ioas.iopt.removeReserved(d);
  igroup.hwpt = hwpt;
  const n = igroup.attached.length;
  hwpt.users += n;
  old.users -= n - 1;
  return old;
}

type AttachFn = (hwpt: AttachedHwpt, idev: IommufdDeviceObj) => AttachedHwpt | undefined | number;

const doAttach: AttachFn = (hwpt, idev) => {
  const rc = hwptAttach(hwpt, idev);
  return rc ? rc : undefined;
};

/**
 * iommufd_device_auto_get_domain(): any auto domain of the IOAS willing to take the device
 * (-EINVAL from one means incompatible: try the next), else a new one, attached before it is
 * filled when attaching (immediate_attach).
 */
function autoGetDomain(idev: IommufdDeviceObj, ioas: Ioas, fn: AttachFn): { destroy: AttachedHwpt | undefined | number; ptId: number } {
  for (const h of [...ioas.hwptList]) {
    if (!h.autoDomain || !isHwptPaging(h)) continue;
    const r = fn(h, idev);
    if (r === -EINVAL) continue;
    return { destroy: r, ptId: h.id };
  }
  const immediate = fn === doAttach;
  const hwpt = hwptPagingAlloc(idev.ictx, ioas, idev, 0n, immediate ? { attach: (h) => hwptAttach(h, idev), detach: () => hwptDetach(idev) } : undefined);
  if (typeof hwpt === 'number') return { destroy: hwpt, ptId: 0 };
  let destroy: AttachedHwpt | undefined | number;
  if (!immediate) {
    destroy = fn(hwpt, idev);
    if (typeof destroy === 'number') {
      hwpt.users = 1;
      idev.ictx.remove(hwpt.id);
      return { destroy, ptId: 0 };
    }
  }
  hwpt.autoDomain = true;
  return { destroy, ptId: hwpt.id };
}

/** iommufd_device_change_pt(): an HWPT by id, or an IOAS through its auto domains. */
function changePt(idev: IommufdDeviceObj, ptId: number, fn: AttachFn): { ret: number; ptId: number } {
  const { ictx } = idev;
  const pt = ictx.getAny(ptId);
  if (typeof pt === 'number') return { ret: pt, ptId };
  let destroy: AttachedHwpt | undefined | number;
  if (isHwptPaging(pt)) {
    destroy = fn(pt, idev);
  } else if (isIoas(pt)) {
    const r = autoGetDomain(idev, pt, fn);
    destroy = r.destroy;
    if (typeof destroy !== 'number') ptId = r.ptId;
  } else {
    return { ret: -EINVAL, ptId };
  }
  if (typeof destroy === 'number') return { ret: destroy, ptId };
  if (destroy) hwptPut(ictx, destroy);
  return { ret: 0, ptId };
}

/** iommufd_device_attach(): the device holds itself while attached. */
export function deviceAttach(idev: IommufdDeviceObj, ptId: number): { ret: number; ptId: number } {
  const r = changePt(idev, ptId, doAttach);
  if (r.ret === 0) idev.users++;
  return r;
}

/** iommufd_device_replace(). */
export function deviceReplace(idev: IommufdDeviceObj, ptId: number): { ret: number; ptId: number } {
  return changePt(idev, ptId, doReplace);
}

/** iommufd_device_detach(). */
export function deviceDetach(idev: IommufdDeviceObj): void {
  const hwpt = hwptDetach(idev);
  if (hwpt) hwptPut(idev.ictx, hwpt);
  idev.users--;
}

/** iommufd_device_unbind(): what is attached is detached, then the driver's reference goes with the object. */
export function deviceUnbind(idev: IommufdDeviceObj): void {
  if (idev.attached) deviceDetach(idev);
  idev.ictx.remove(idev.id, true);
}
