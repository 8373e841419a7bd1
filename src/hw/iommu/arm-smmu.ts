// ARM SMMU v1/v2 (MMU-401/500 class), as on AMD Seattle ("Overdrive") boards.
//
// Same software MSI window as SMMUv3 (arm-smmu.c MSI_IOVA_BASE/LENGTH), same lack of MSI
// isolation, and the same pre-4.11 claim of IOMMU_CAP_INTR_REMAP. Faults are reported per
// context bank: "Unhandled context fault: fsr=..., iova=..., fsynr=..., cbfrsynra=..., cb=N".
// The input address size and page sizes are modelled (48-bit, 4K granule), not measured.

import type { IommuCap, IommuDomainHw, IommuFault, IommuHw, ReservedRegion } from './iommu.js';
import { RangePageTable } from './page-table.js';
import { hex, requesterId } from './pci-rid.js';
import { ARM_SW_MSI_BASE, ARM_SW_MSI_LENGTH } from './smmuv3.js';

const ERANGE = 34;

/** FSR bits: TF translation fault, PF permission fault, SS stalled (arm-smmu.h ARM_SMMU_FSR_*). */
const FSR_TF = 1 << 1;
const FSR_PF = 1 << 3;
/** FSYNR0.WNR: the faulting access was a write. */
const FSYNR0_WNR = 1 << 4;

export interface ArmSmmuParams {
  name: string;
  /** MMIO base, for the device name the driver prints (`e0a00000.smmu`). */
  base?: bigint;
  ias?: number;
  pgsizeBitmap?: bigint;
}

export class ArmSmmu implements IommuHw {
  readonly model = 'ARM SMMU v2';
  readonly name: string;
  readonly pgsizeBitmap: bigint;
  readonly msiTranslated = true;
  readonly defaultDomainType = 'DMA';
  readonly legacyDriverClaims: IommuCap[] = ['intr-remap'];
  private readonly ias: number;
  private readonly devName: string;
  private contextBanks = 0;

  constructor(p: ArmSmmuParams) {
    this.name = p.name;
    this.ias = p.ias ?? 48;
    this.pgsizeBitmap = p.pgsizeBitmap ?? 0x4020_1000n;
    this.devName = `${(p.base ?? 0xe0a0_0000n).toString(16)}.smmu`;
  }

  capable(cap: IommuCap): boolean {
    return cap === 'cache-coherency' || cap === 'noexec';
  }

  reservedRegions(): ReservedRegion[] {
    return [{ start: ARM_SW_MSI_BASE, length: ARM_SW_MSI_LENGTH, type: 'sw-msi', why: 'software-managed MSI window (MSI_IOVA_BASE)' }];
  }

  allocDomain(): IommuDomainHw {
    this.contextBanks++;
    return new RangePageTable({
      pgsizeBitmap: this.pgsizeBitmap,
      aperture: { start: 0n, end: (1n << BigInt(this.ias)) - 1n },
      beyondApertureErrno: ERANGE,
    });
  }

  sourceId(bdf: string): string {
    return `cbfrsynra=${hex(requesterId(bdf))}`;
  }

  fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission'): IommuFault {
    const fsr = kind === 'translation' ? FSR_TF : FSR_PF;
    const fsynr = write ? FSYNR0_WNR : 0;
    const cb = Math.max(0, this.contextBanks - 1);
    return {
      iommu: this.name,
      type: kind === 'translation' ? 'context fault (TF)' : 'context fault (PF)',
      source: this.sourceId(bdf),
      iova,
      write,
      text: `arm-smmu ${this.devName}: Unhandled context fault: fsr=${hex(fsr)}, iova=${hex(iova)}, fsynr=${hex(fsynr)}, ${this.sourceId(bdf)}, cb=${cb}`,
    };
  }
}
