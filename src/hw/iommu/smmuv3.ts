// ARM SMMUv3 (as QEMU's virt machine models it with iommu=smmuv3): 48-bit input addresses
// (recorded IOVA ranges end at 0xffffffffffff), 4K/2M/1G pages, the software MSI window, no
// MSI isolation (see arm-smmu-common.ts). Faults are event records: F_TRANSLATION (0x10) for
// no mapping, F_PERMISSION (0x13), with the StreamID (the PCI requester id).

import { ArmSmmuCommon, type ArmSmmuCommonParams } from './arm-smmu-common.js';
import type { IommuFault } from './iommu.js';
import { requesterId } from './pci-rid.js';
import { hex } from '../../lib/hex.js';

export { ARM_SW_MSI_BASE, ARM_SW_MSI_LENGTH } from './arm-smmu-common.js';

export type SmmuV3Params = ArmSmmuCommonParams;

export class SmmuV3 extends ArmSmmuCommon {
  readonly model = 'SMMUv3';

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
