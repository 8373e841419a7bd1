// ARM SMMU v1/v2 (MMU-401/500 class), as on AMD Seattle ("Overdrive") boards.
//
// Same software MSI window as SMMUv3 (arm-smmu.c MSI_IOVA_BASE/LENGTH), same lack of MSI
// isolation, and the same pre-4.11 claim of IOMMU_CAP_INTR_REMAP. Faults are reported per
// context bank: arm_smmu_context_fault()'s dev_err "Unhandled context fault: fsr=0x%x,
// iova=0x%08lx, fsynr=0x%x, cbfrsynra=0x%x, cb=%d".
// The input address size and page sizes are modelled (48-bit, 4K granule), not measured.

import { ArmSmmuCommon, type ArmSmmuCommonParams } from './arm-smmu-common.js';
import type { IommuDomainHw, IommuFault } from './iommu.js';
import { requesterId } from './pci-rid.js';
import { hex } from '../../lib/hex.js';

/** FSR bits: TF translation fault, PF permission fault, SS stalled (arm-smmu.h ARM_SMMU_FSR_*). */
const FSR_TF = 1 << 1;
const FSR_PF = 1 << 3;
/** FSYNR0.WNR: the faulting access was a write. */
const FSYNR0_WNR = 1 << 4;

export interface ArmSmmuParams extends ArmSmmuCommonParams {
  /** MMIO base, for the device name the driver prints (`e0a00000.smmu`). */
  base?: bigint;
}

export class ArmSmmu extends ArmSmmuCommon {
  readonly model = 'ARM SMMU v2';
  private readonly devName: string;
  /** Context banks handed out, for the `cb=` of fault reports. */
  private contextBanks = 0;

  constructor(p: ArmSmmuParams) {
    super(p);
    this.devName = `${(p.base ?? 0xe0a0_0000n).toString(16)}.smmu`;
  }

  override allocDomain(): IommuDomainHw {
    this.contextBanks++;
    return super.allocDomain();
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
      text: `arm-smmu ${this.devName}: Unhandled context fault: fsr=${hex(fsr)}, iova=0x${iova.toString(16).padStart(8, '0')}, fsynr=${hex(fsynr)}, ${this.sourceId(bdf)}, cb=${cb}`,
    };
  }
}
