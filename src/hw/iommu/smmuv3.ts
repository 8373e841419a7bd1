// ARM SMMUv3 (as QEMU's virt machine models it with iommu=smmuv3).
//
// - Page sizes 4K | 2M | 1G with a 4K granule (pgsize_bitmap 0x40201000, as recorded).
// - 48-bit input addresses: the domain aperture is [0, 2^48 - 1] (recorded IOVA ranges end at
//   0xffffffffffff).
// - MSIs are ordinary writes and go through translation; the driver reports the software
//   MSI window MSI_IOVA_BASE 0x08000000, MSI_IOVA_LENGTH 0x100000 (arm-smmu-v3.c) as SW_MSI.
// - The hardware does not isolate MSIs. Drivers before 4.11 nevertheless advertised
//   IOMMU_CAP_INTR_REMAP (the series removed it: "iommu/arm-smmu: do not advertise
//   IOMMU_CAP_INTR_REMAP").
// - Faults are event records: F_TRANSLATION (0x10) for no mapping, F_PERMISSION (0x13).

import type { IommuCap, IommuDomainHw, IommuFault, IommuHw, ReservedRegion } from './iommu.js';
import { RangePageTable } from './page-table.js';
import { hex, requesterId } from './pci-rid.js';

const ERANGE = 34;

export const ARM_SW_MSI_BASE = 0x0800_0000n;
export const ARM_SW_MSI_LENGTH = 0x10_0000n;

export interface SmmuV3Params {
  name: string;
  /** Input address size in bits (48 on QEMU virt). */
  ias?: number;
  pgsizeBitmap?: bigint;
}

export class SmmuV3 implements IommuHw {
  readonly model = 'SMMUv3';
  readonly name: string;
  readonly pgsizeBitmap: bigint;
  readonly msiTranslated = true;
  readonly defaultDomainType = 'DMA';
  readonly legacyDriverClaims: IommuCap[] = ['intr-remap'];
  private readonly ias: number;

  constructor(p: SmmuV3Params) {
    this.name = p.name;
    this.ias = p.ias ?? 48;
    this.pgsizeBitmap = p.pgsizeBitmap ?? 0x4020_1000n;
  }

  capable(cap: IommuCap): boolean {
    // Coherent table walks on QEMU's model; no interrupt isolation of its own.
    return cap === 'cache-coherency' || cap === 'noexec';
  }

  reservedRegions(): ReservedRegion[] {
    return [{ start: ARM_SW_MSI_BASE, length: ARM_SW_MSI_LENGTH, type: 'sw-msi', why: 'software-managed MSI window (MSI_IOVA_BASE)' }];
  }

  allocDomain(): IommuDomainHw {
    return new RangePageTable({
      pgsizeBitmap: this.pgsizeBitmap,
      aperture: { start: 0n, end: (1n << BigInt(this.ias)) - 1n },
      beyondApertureErrno: ERANGE,
    });
  }

  sourceId(bdf: string): string {
    return `sid=${hex(requesterId(bdf))}`;
  }

  fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission'): IommuFault {
    const type = kind === 'translation' ? 'F_TRANSLATION' : 'F_PERMISSION';
    const source = this.sourceId(bdf);
    return {
      iommu: this.name,
      type,
      source,
      iova,
      write,
      text: `${this.name}: ${type} ${source} iova=${hex(iova)} ${write ? 'write' : 'read'}`,
    };
  }
}
