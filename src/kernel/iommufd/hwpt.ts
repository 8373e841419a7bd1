// Paging HWPTs (drivers/iommu/iommufd/hw_pagetable.c): an IOMMU domain of the device's IOMMU
// model (IommuCore.allocDomain; the hardware model is the page table) filled from one IOAS.
// An attach to an IOAS makes one itself (auto_domain, destroyed with its last device);
// IOMMU_HWPT_ALLOC makes one the user owns (NEST_PARENT, DIRTY_TRACKING as the hardware allows).

import { EINVAL, ENOENT, EOPNOTSUPP } from '../../uapi/errno.js';
import { flagBit } from '../../uapi/struct.js';
import { HWPT_ALLOC_FLAGS, IOMMUFD_CMDS } from '../../uapi/iommufd.js';
import type { Era } from '../era.js';
import type { IommuDomain } from '../iommu/core.js';
import { IommufdObject, type IommufdContext } from './objects.js';
import { isIoas, type Ioas, type IoasHwpt } from './ioas.js';
import { isDevice, type IommufdDeviceObj } from './device-object.js';
import { respond, type Ucmd } from './ucmd.js';
import { isFault, type FaultQueue } from './fault.js';

export const NEST_PARENT = flagBit(HWPT_ALLOC_FLAGS, 'NEST_PARENT');
export const DIRTY_TRACKING = flagBit(HWPT_ALLOC_FLAGS, 'DIRTY_TRACKING');
export const FAULT_ID_VALID = flagBit(HWPT_ALLOC_FLAGS, 'FAULT_ID_VALID');
export const ALLOC_PASID = flagBit(HWPT_ALLOC_FLAGS, 'PASID');

export class HwptPaging extends IommufdObject implements IoasHwpt {
  readonly type = 'hwpt-paging' as const;
  autoDomain = false;
  /** hwpt->fault: the queue its domain's I/O page faults go to (IOMMU_HWPT_FAULT_ID_VALID). */
  fault?: FaultQueue;
  /** hwpt_paging->msi_cookie: iommu_get_msi_cookie() was called on the domain (≤6.14). */
  msiCookie = false;

  constructor(
    private readonly ictx: IommufdContext,
    readonly ioas: Ioas,
    readonly domain: IommuDomain,
    readonly nestParent: boolean,
  ) {
    super();
  }

  /** iommufd_hwpt_paging_destroy(): off the IOAS, the domain freed, the IOAS reference dropped. */
  destroy(): void {
    const at = this.ioas.hwptList.indexOf(this);
    if (at >= 0) this.ioas.hwptList.splice(at, 1);
    this.ioas.iopt.removeDomain(this.domain);
    this.ictx.env.iommu.freeDomain(this.domain);
    this.ioas.users--;
    // iommufd_hwpt_paging_destroy() → __iommufd_hwpt_destroy(): the fault queue's reference.
    if (this.fault) this.fault.users--;
  }
}

export const isHwptPaging = (o: IommufdObject): o is HwptPaging => o instanceof HwptPaging;

/** The era's command table reaches IOMMU_FAULT_QUEUE_ALLOC (6.11): HWPT_ALLOC has fault_id. */
export const hasFaultQueue = (era: Era): boolean =>
  era.iommufdLastCmd !== null && IOMMUFD_CMDS.indexOf(era.iommufdLastCmd) >= IOMMUFD_CMDS.indexOf('IOMMU_FAULT_QUEUE_ALLOC');

/** The flags a nested HWPT takes (iommufd_hwpt_nested_alloc): FAULT_ID_VALID (6.11), PASID (6.14). */
function nestedFlags(ictx: IommufdContext): bigint {
  const era = ictx.env.era;
  return (hasFaultQueue(era) ? FAULT_ID_VALID : 0n) | (era.iommufdHwptPasid ? ALLOC_PASID : 0n);
}

/** The flags HWPT_ALLOC takes in this era (6.6: none; 6.7: NEST_PARENT, DIRTY_TRACKING; 6.11: FAULT_ID_VALID; 6.14: PASID). */
function validFlags(ictx: IommufdContext): bigint {
  if (!ictx.env.era.iommufdDirty) return 0n;
  return NEST_PARENT | DIRTY_TRACKING | nestedFlags(ictx);
}

/** How an auto domain attaches the device before it is filled (immediate_attach). */
export interface ImmediateAttach {
  attach(hwpt: HwptPaging): number;
  detach(hwpt: HwptPaging): void;
}

/**
 * iommufd_hwpt_paging_alloc(): the id is taken first (a failure frees it again), then the
 * domain, the immediate attach, and the IOAS's areas mapped into it.
 */
export function hwptPagingAlloc(ictx: IommufdContext, ioas: Ioas, idev: IommufdDeviceObj, flags: bigint, immediate?: ImmediateAttach): HwptPaging | number {
  const iommu = idev.dev.iommu;
  if (flags & ~validFlags(ictx)) return -EOPNOTSUPP;
  if (flags & DIRTY_TRACKING && !iommu.capable('dirty-tracking')) return -EOPNOTSUPP;
  if (flags & FAULT_ID_VALID && flags & NEST_PARENT) return -EOPNOTSUPP;
  // The driver's domain_alloc_paging_flags(): nesting needs the hardware's nested translation.
  if (flags & NEST_PARENT && !iommu.capable('nest-parent')) return -EOPNOTSUPP;
  const domain = ictx.env.iommu.allocDomain(iommu, { dirtyTracking: (flags & DIRTY_TRACKING) !== 0n });
  const hwpt = new HwptPaging(ictx, ioas, domain, (flags & NEST_PARENT) !== 0n);
  const id = ictx.add(hwpt);
  ioas.users++;
  const abort = (rc: number): number => {
    hwpt.users = 1;
    ictx.remove(id);
    return rc;
  };
  if (immediate) {
    const rc = immediate.attach(hwpt);
    if (rc) return abort(rc);
  }
  const rc = ioas.iopt.addDomain(domain);
  if (rc) {
    if (immediate) immediate.detach(hwpt);
    return abort(rc);
  }
  ioas.hwptList.push(hwpt);
  return hwpt;
}

/** iommufd_hw_pagetable_put(): an auto domain goes with its last device; a user's HWPT stays. */
export function hwptPut(ictx: IommufdContext, hwpt: IommufdObject): void {
  hwpt.users--;
  if (isHwptPaging(hwpt) && hwpt.autoDomain && hwpt.users === 1) ictx.remove(hwpt.id);
}

/** iommufd_hwpt_alloc(): IOMMU_HWPT_ALLOC. */
export function hwptAlloc(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  if (cmd.get('__reserved')) return -EOPNOTSUPP;
  const dataType = cmd.get('data_type');
  const dataLen = cmd.get('data_len');
  if ((dataType === 0n && dataLen) || (dataType !== 0n && !dataLen)) return -EINVAL;
  const idev = ictx.get(cmd.num('dev_id'), isDevice);
  if (typeof idev === 'number') return idev;
  // 6.6 looked the pt up with iommufd_get_ioas (-ENOENT); the 6.7 nesting series ("iommufd:
  // Add a nested HW pagetable object", with NEST_PARENT and the dirty-tracking flags) takes
  // IOMMUFD_OBJ_ANY and answers its failure -EINVAL (recorded on 7.2).
  const pt = ictx.getAny(cmd.num('pt_id'));
  if (typeof pt === 'number') return ictx.env.era.iommufdDirty ? -EINVAL : pt;
  let hwpt: HwptPaging | number;
  const flags = cmd.get('flags');
  if (isIoas(pt)) {
    // A driver-specific paging domain (data_type) is not modelled: no IOMMU model has one.
    if (dataType !== 0n) return -EOPNOTSUPP;
    hwpt = hwptPagingAlloc(ictx, pt, idev, flags);
  } else if (isHwptPaging(pt)) {
    // iommufd_hwpt_nested_alloc(): flags beyond its own or no driver data are -EOPNOTSUPP
    // before the parent is judged (auto domain or not a nesting parent: -EINVAL); a nested
    // domain then needs the driver's stage-1 format, which the modelled IOMMUs offer none of.
    if (flags & ~nestedFlags(ictx) || !dataLen) return -EOPNOTSUPP;
    if (pt.autoDomain || !pt.nestParent) return -EINVAL;
    return -EOPNOTSUPP;
  } else {
    return -EINVAL;
  }
  if (typeof hwpt === 'number') return hwpt;
  // IOMMU_HWPT_FAULT_ID_VALID: iommufd_get_fault(fault_id) after the HWPT exists, which goes
  // again on failure (-ENOENT for no fault queue of that id); the HWPT then holds the queue.
  // Whether the device can take I/O page faults is the driver's question at attach (device.ts).
  if (flags & FAULT_ID_VALID) {
    const fault = ictx.get(cmd.num('fault_id'), isFault);
    if (typeof fault === 'number') {
      hwpt.users = 1;
      ictx.remove(hwpt.id);
      return fault;
    }
    hwpt.fault = fault;
    fault.users++;
  }
  cmd.set('out_hwpt_id', hwpt.id);
  const rc = respond(ucmd, cmd.def.size);
  if (rc) {
    hwpt.users = 1;
    ictx.remove(hwpt.id);
  }
  return rc;
}

/** IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX (hw_pagetable.c). */
const INVALIDATE_ENTRY_NUM_MAX = 1n << 19n;

/**
 * iommufd_hwpt_invalidate() (6.8): the user's invalidation array goes to a nested HWPT's
 * cache_invalidate_user or a vIOMMU's cache_invalidate. The modelled IOMMUs make neither (no
 * nested domain, no vIOMMU), so an existing object is the wrong kind: -EINVAL once the command
 * takes any object (Era.iommufdInvalidateAnyObject), before that -ENOENT (only a nested HWPT
 * is looked up). Whatever the outcome, entry_num is written back as the count done (0).
 */
export function hwptInvalidate(ucmd: Ucmd): number {
  const { cmd, ictx } = ucmd;
  const rc = ((): number => {
    if (cmd.get('__reserved')) return -EOPNOTSUPP;
    // [U] entry_len and entry_num bounds as in 7.2's source ("so a single call cannot pin the CPU").
    const num = cmd.get('entry_num');
    if (num && (!cmd.get('data_uptr') || !cmd.get('entry_len') || cmd.get('entry_len') > ictx.env.pageSize || num > INVALIDATE_ENTRY_NUM_MAX)) return -EINVAL;
    const obj = ictx.getAny(cmd.num('hwpt_id'));
    if (typeof obj === 'number') return obj;
    return ictx.env.era.iommufdInvalidateAnyObject ? -EINVAL : -ENOENT;
  })();
  cmd.set('entry_num', 0);
  const out = respond(ucmd, cmd.def.size);
  return out || rc;
}
