// The IOMMU core (drivers/iommu/iommu.c), reduced to what VFIO reaches: groups and their
// devices, DMA ownership, reserved regions, capabilities, and UNMANAGED domains with the
// software-MSI cookie (dma-iommu.c).

import { mapNoAccessWarnSite } from './generic-pt.js';
import type { Era } from '../era.js';
import type { KernelLog } from '../log.js';
import { EBUSY, EEXIST, EINVAL, EPERM } from '../../uapi/errno.js';
import type { FaultLogStyle, IommuCap, IommuDomainHw, IommuHw, ReservedRegion } from '../../hw/iommu/iommu.js';
import { RESV_TYPE_STRING } from '../../hw/iommu/iommu.js';
import type { MsiController } from '../../hw/msi/msi-controller.js';
import type { PciDeviceModel } from '../../hw/pci/device.js';

/** A PCI device as the kernel tracks it: the hardware plus its place in the system. */
export interface KDevice {
  bdf: string;
  readonly hw: PciDeviceModel;
  /** False when the function has no SR-IOV capability (PlatformDevice.sriovCapable); undefined: look. */
  sriovCapable?: boolean;
  iommu: IommuHw;
  /** The MSI controller its MSI domain targets. */
  msi: MsiController;
  group: IommuGroup;
  /** The bound driver's name, or undefined. */
  driver?: string;
  /** The bound driver uses the DMA API, so it owns the group's DMA (iommu_device_use_default_domain). */
  driverUsesDma: boolean;
  /** pci_dev->driver_override: the only driver that may bind the device, or undefined. */
  driverOverride?: string;
}

/** enum iommu_resv_type order. */
const RESV_ORDER: Record<ReservedRegion['type'], number> = {
  direct: 0,
  'direct-relaxable': 1,
  reserved: 2,
  msi: 3,
  'sw-msi': 4,
};

export class IommuGroup {
  readonly devices: KDevice[] = [];
  /** The domain the group is attached to, other than its default one. */
  domain?: IommuDomain;
  /** DMA ownership claimed by a user (VFIO) with iommu_group_claim_dma_owner(). */
  owner?: object;

  constructor(
    readonly id: number,
    readonly iommu: IommuHw,
    /** How the IOMMU driver its devices sit behind prints faults in this kernel (Era.faultLog). */
    readonly faultLog?: FaultLogStyle,
    /** Its blocking domain is the driver's own (Era.driverBlockingDomain). */
    readonly driverBlockingDomain = false,
  ) {}

  /** owner_cnt: kernel drivers using the DMA API, plus a claimed user owner. */
  get ownerCount(): number {
    return this.devices.filter((d) => d.driverUsesDma).length + (this.owner ? 1 : 0);
  }
}

/**
 * Who keeps a domain's doorbell map: dma-iommu's MSI cookie (iommu_get_msi_cookie, 4.11+;
 * VFIO type1, and iommufd until 6.14), or iommufd's sw_msi list of the context (6.15+,
 * iommufd_sw_msi), shared by every paging HWPT of it.
 */
export type MsiCookieOwner = 'dma-iommu' | 'iommufd';

/** The software-MSI cookie of a domain: where doorbells get IOVAs (iommu_get_msi_cookie). */
export interface MsiCookie {
  owner: MsiCookieOwner;
  base: bigint;
  /** Bump allocator: the next IOVA handed out (dma-iommu's cookie->msi_iova). */
  next: bigint;
  /** Doorbell page PA → IOVA, mapped once each and kept until the domain goes. */
  pages: Map<bigint, bigint>;
}

/**
 * The series' MSI window on a domain (msi-iommu's iommu_msi_set_aperture): the IOVA range the
 * user registered with the reserved-MSI flag, where doorbells get refcounted mappings.
 */
export interface MsiWindow {
  start: bigint;
  /** Inclusive. */
  end: bigint;
  /** Doorbell granule PA → { iova, refs } (IOVAs allocated top-down, as alloc_iova does). */
  pages: Map<bigint, { iova: bigint; refs: number }>;
}

export class IommuDomain {
  /** Groups attached to this domain. */
  readonly groups = new Set<IommuGroup>();
  msiCookie?: MsiCookie;
  msiWindow?: MsiWindow;

  constructor(
    readonly iommu: IommuHw,
    readonly hw: IommuDomainHw,
    readonly id: number,
  ) {}

  get pgsizeBitmap(): bigint {
    return this.iommu.pgsizeBitmap;
  }
}

export class IommuCore {
  readonly groups = new Map<number, IommuGroup>();
  private nextDomainId = 1;
  readonly domains = new Set<IommuDomain>();

  constructor(
    private readonly era: Era,
    private readonly log: KernelLog,
  ) {}

  group(id: number, iommu: IommuHw): IommuGroup {
    let g = this.groups.get(id);
    if (g) return g;
    // Object.assign, not `{ ...a, b }`, on paths every machine takes (hw/pci/device.ts setup).
    const faultLog = Object.assign({}, this.era.faultLog, { amdVi: this.era.amdViFaultLog });
    this.groups.set(id, (g = new IommuGroup(id, iommu, faultLog, this.era.driverBlockingDomain)));
    return g;
  }

  /** The lowest group number not in use (iommu_group_alloc's ida). */
  freeGroupId(): number {
    let id = 0;
    while (this.groups.has(id)) id++;
    return id;
  }

  /**
   * A device added after boot (BUS_NOTIFY_ADD_DEVICE → iommu_probe_device): pci_device_group()
   * gives it a group of its own (the modelled boards' root ports have ACS, and a VF is not
   * multifunction), numbered by iommu_group_alloc's ida, and iommu_group_add_device logs it
   * as the era does. The device, in its group.
   */
  addDevice(dev: Omit<KDevice, 'group'>): KDevice {
    const group = this.group(this.freeGroupId(), dev.iommu);
    const kd: KDevice = Object.assign({}, dev, { group });
    group.devices.push(kd);
    if (this.era.iommuGroupLog === 'pr-info') this.log.info(`iommu: Adding device ${kd.bdf} to group ${group.id}`);
    else this.log.info(`pci ${kd.bdf}: Adding to iommu group ${group.id}`);
    return kd;
  }

  /**
   * A device going away (BUS_NOTIFY_REMOVED_DEVICE → iommu_release_device →
   * iommu_group_remove_device), logged as the era does. iommu_group_release(): the number goes
   * back to the ida once nothing holds the group; `held` says another reference does (a VFIO
   * group's).
   */
  removeDevice(dev: KDevice, held: boolean): void {
    const group = dev.group;
    if (this.era.iommuGroupLog === 'pr-info') this.log.info(`iommu: Removing device ${dev.bdf} from group ${group.id}`);
    else if (this.era.iommuGroupLog === 'dev-info') this.log.info(`pci ${dev.bdf}: Removing from iommu group ${group.id}`);
    const at = group.devices.indexOf(dev);
    if (at >= 0) group.devices.splice(at, 1);
    if (group.devices.length === 0 && !held && this.groups.get(group.id) === group) this.groups.delete(group.id);
  }

  /**
   * iommu_capable() as this era's drivers answer it: the hardware's capabilities, plus the
   * claims older drivers made without the hardware backing them.
   */
  capable(iommu: IommuHw, cap: IommuCap): boolean {
    if (iommu.capable(cap)) return true;
    return this.era.legacyIommuClaims && (iommu.legacyDriverClaims ?? []).includes(cap);
  }

  /**
   * iommu_get_group_resv_regions(): the regions of every device in the group, inserted in
   * order of start and then of type (enum iommu_resv_type: direct, direct-relaxable, reserved,
   * msi, sw-msi), each merged with an earlier region of the same type that it overlaps or
   * touches (iommu_insert_resv_region).
   */
  resvRegions(group: IommuGroup): ReservedRegion[] {
    const all = group.devices.flatMap((d) => d.iommu.reservedRegions(d.bdf));
    const out: ReservedRegion[] = [];
    for (const r of all) {
      const same = out.find((x) => x.type === r.type && r.start <= x.start + x.length && x.start <= r.start + r.length);
      if (same) {
        const start = same.start < r.start ? same.start : r.start;
        const end = same.start + same.length > r.start + r.length ? same.start + same.length : r.start + r.length;
        same.start = start;
        same.length = end - start;
      } else {
        out.push({ ...r });
      }
    }
    return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : RESV_ORDER[a.type] - RESV_ORDER[b.type]));
  }

  /** /sys/kernel/iommu_groups/N/reserved_regions: `0x%016llx 0x%016llx %s\n`, end inclusive. */
  resvRegionsText(group: IommuGroup): string {
    const h = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;
    return this.resvRegions(group)
      .map((r) => `${h(r.start)} ${h(r.start + r.length - 1n)} ${RESV_TYPE_STRING[r.type]}\n`)
      .join('');
  }

  /** iommu_group_claim_dma_owner(): -EPERM when a kernel driver or another user owns it. */
  claimDmaOwner(group: IommuGroup, owner: object): number {
    if (group.ownerCount > 0) return -EPERM;
    group.owner = owner;
    return 0;
  }

  releaseDmaOwner(group: IommuGroup): void {
    group.owner = undefined;
  }

  /** iommu_domain_alloc() for the group's IOMMU (with dirty_ops when asked for dirty tracking). */
  allocDomain(iommu: IommuHw, opts?: { dirtyTracking?: boolean }): IommuDomain {
    // A generic_pt map refusing a prot without READ or WRITE WARNs first (generic-pt.ts).
    const site = mapNoAccessWarnSite(this.era, iommu);
    const warnNoAccess = site ? () => void this.log.warnOn(site, this.era.warnForm) : undefined;
    const d = new IommuDomain(iommu, iommu.allocDomain(Object.assign({}, opts, { print: (line: string) => this.log.log('err', line), warnNoAccess })), this.nextDomainId++);
    this.domains.add(d);
    return d;
  }

  freeDomain(d: IommuDomain): void {
    this.domains.delete(d);
  }

  /** iommu_attach_group(): a group behind another IOMMU instance cannot join (-EINVAL). */
  attachGroup(domain: IommuDomain, group: IommuGroup): number {
    if (group.domain) return -EBUSY;
    if (group.iommu !== domain.iommu) return -EINVAL;
    group.domain = domain;
    domain.groups.add(group);
    return 0;
  }

  detachGroup(domain: IommuDomain, group: IommuGroup): void {
    domain.groups.delete(group);
    if (group.domain === domain) group.domain = undefined;
  }

  /** iommu_get_msi_cookie(): -EEXIST if the domain has one already. */
  getMsiCookie(domain: IommuDomain, base: bigint): number {
    if (domain.msiCookie) return -EEXIST;
    domain.msiCookie = { owner: 'dma-iommu', base, next: base, pages: new Map() };
    return 0;
  }
}
