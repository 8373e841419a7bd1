// ARM SMMUv3 (as QEMU's virt machine models it with iommu=smmuv3): 48-bit input addresses
// (recorded IOVA ranges end at 0xffffffffffff), 4K/2M/1G pages, the software MSI window, no
// MSI isolation (see arm-smmu-common.ts). Faults are event records: F_TRANSLATION (0x10) for
// no mapping, F_PERMISSION (0x13), with the StreamID (the PCI requester id).
//
// The driver prints an event it does not handle (arm_smmu_evtq_thread(), unchanged in form
// from 4.x to 6.12; arm_smmu_handle_evt() takes only stalled faults, which VFIO domains do not
// enable) as dev_info(smmu->dev, "event 0x%02x received:\n") and one "\t0x%016llx\n" per
// dword of the record (EVTQ_ENT_DWORDS = 4). The record's fields are where QEMU 7.2's
// smmuv3_record_event() puts them (hw/arm/smmuv3-internal.h EVT_SET_*): dword 0 the type
// (bits 7:0) and the StreamID (63:32); dword 1 RnW (bit 35: 1 for a read); dword 2 the input
// address; dword 3 the IPA, which QEMU leaves 0 for a stage-1 fault.

import { ArmSmmuCommon, type ArmSmmuCommonParams } from './arm-smmu-common.js';
import type { IommuFault } from './iommu.js';
import { requesterId } from './pci-rid.js';
import { hex } from '../../lib/hex.js';

export { ARM_SW_MSI_BASE, ARM_SW_MSI_LENGTH } from './arm-smmu-common.js';

export interface SmmuV3Params extends ArmSmmuCommonParams {
  /** MMIO base, for the device name the driver prints (QEMU virt's VIRT_SMMU: `9050000.smmuv3`). */
  base?: bigint;
}

/** Event record ids (arm-smmu-v3.h EVT_ID_*). */
const EVT_ID = { translation: 0x10, permission: 0x13 } as const;
const EVTQ_1_RNW = 1n << 35n;

const dword = (v: bigint) => `\t0x${v.toString(16).padStart(16, '0')}`;

export class SmmuV3 extends ArmSmmuCommon {
  readonly model = 'SMMUv3';
  private readonly devName: string;

  constructor(p: SmmuV3Params) {
    super(p);
    this.devName = `arm-smmu-v3 ${(p.base ?? 0x0905_0000n).toString(16)}.smmuv3`;
  }

  sourceId(bdf: string): string {
    return `sid=${hex(requesterId(bdf))}`;
  }

  fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission'): IommuFault {
    const type = kind === 'translation' ? 'F_TRANSLATION' : 'F_PERMISSION';
    const source = this.sourceId(bdf);
    const id = EVT_ID[kind];
    const record = [(BigInt(requesterId(bdf)) << 32n) | BigInt(id), write ? 0n : EVTQ_1_RNW, iova, 0n];
    const head = `${this.devName}: event 0x${id.toString(16).padStart(2, '0')} received:`;
    return {
      iommu: this.name,
      type,
      source,
      iova,
      write,
      text: `${this.name}: ${type} ${source} iova=${hex(iova)} ${write ? 'write' : 'read'}`,
      log: [head, ...record.map((d) => `${this.devName}: ${dword(d)}`)],
    };
  }
}
