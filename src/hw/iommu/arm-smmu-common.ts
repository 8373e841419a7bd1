// What the ARM SMMU drivers (arm-smmu for v1/v2, arm-smmu-v3) have in common, as far as the
// kernel model can see: the software MSI window both report (MSI_IOVA_BASE 0x08000000,
// MSI_IOVA_LENGTH 0x100000), no MSI isolation of their own, the pre-4.11 claim of
// IOMMU_CAP_INTR_REMAP, and LPAE page tables over an input address size (an IOVA beyond it is
// io-pgtable's -ERANGE). The models differ in how they report faults.

import type { IommuCap, IommuDomainHw, IommuFault, IommuHw, ReservedRegion } from './iommu.js';
import { RangePageTable } from './page-table.js';
import { ERANGE } from '../../uapi/errno.js';


export const ARM_SW_MSI_BASE = 0x0800_0000n;
export const ARM_SW_MSI_LENGTH = 0x10_0000n;

export interface ArmSmmuCommonParams {
  name: string;
  /** Input address size in bits (48 on the modelled systems). */
  ias?: number;
  pgsizeBitmap?: bigint;
}

export abstract class ArmSmmuCommon implements IommuHw {
  abstract readonly model: string;
  readonly name: string;
  readonly pgsizeBitmap: bigint;
  readonly msiTranslated = true;
  readonly seriesMsiCookie = true;
  readonly defaultDomainType = 'DMA';
  readonly legacyDriverClaims: IommuCap[] = ['intr-remap'];
  protected readonly ias: number;
  /**
   * Whether the page tables record writes (IOMMU_CAP_DIRTY_TRACKING, dirty_ops): the model's
   * own registers say (SMMUv3 IDR0.HTTU); SMMU v1/v2 has no such thing.
   */
  protected abstract readonly hardwareDirty: boolean;

  constructor(p: ArmSmmuCommonParams) {
    this.name = p.name;
    this.ias = p.ias ?? 48;
    // 4K granule: 4K | 2M | 1G (0x40201000, as recorded on QEMU's SMMUv3).
    this.pgsizeBitmap = p.pgsizeBitmap ?? 0x4020_1000n;
  }

  capable(cap: IommuCap): boolean {
    // Coherent table walks; no interrupt isolation of their own.
    if (cap === 'dirty-tracking') return this.hardwareDirty;
    return cap === 'cache-coherency' || cap === 'noexec';
  }

  reservedRegions(): ReservedRegion[] {
    return [{ start: ARM_SW_MSI_BASE, length: ARM_SW_MSI_LENGTH, type: 'sw-msi', why: 'software-managed MSI window (MSI_IOVA_BASE)' }];
  }

  allocDomain(opts: { dirtyTracking?: boolean } = {}): IommuDomainHw {
    return new RangePageTable({
      pgsizeBitmap: this.pgsizeBitmap,
      aperture: { start: 0n, end: (1n << BigInt(this.ias)) - 1n },
      beyondApertureErrno: ERANGE,
      dirtyTracking: (opts.dirtyTracking ?? false) && this.hardwareDirty,
    });
  }

  abstract sourceId(bdf: string): string;
  abstract fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission'): IommuFault;
}
