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
import type { HwInfoDrivers, IommuFault } from './iommu.js';
import { requesterId } from './pci-rid.js';
import { hex } from '../../lib/hex.js';
import { EOPNOTSUPP } from '../../uapi/errno.js';
import { HW_INFO_TYPES, IOMMU_HW_INFO_ARM_SMMUV3 } from '../../uapi/iommufd.js';
import { KStruct, flagBit } from '../../uapi/struct.js';

export { ARM_SW_MSI_BASE, ARM_SW_MSI_LENGTH } from './arm-smmu-common.js';

export interface SmmuV3Params extends ArmSmmuCommonParams {
  /** MMIO base, for the device name the driver prints (QEMU virt's VIRT_SMMU: `9050000.smmuv3`). */
  base?: bigint;
  /**
   * Hardware translation table updates with dirty state: IDR0.HTTU = 2 (access and dirty)
   * instead of QEMU's 0. arm_smmu_device_hw_probe() sets ARM_SMMU_FEAT_HD from it, and with
   * COHACC that is IOMMU_CAP_DIRTY_TRACKING (arm_smmu_dbm_capable). QEMU's smmuv3 has none: off.
   */
  httu?: boolean;
}

/** A field of an ID register: bits [shift, shift + width), and the value it holds. */
const f = (shift: number, width: number, value: number): number => {
  if (value >= 2 ** width) throw new Error(`SMMUv3 ID field at ${shift}: ${value} needs more than ${width} bits`);
  return value * 2 ** shift;
};

/** SMMU_IDR0.HTTU (bits 7:6): 2 = access flag and dirty state. */
const IDR0_HTTU_SHIFT = 6;
const HTTU_ACCESS_DIRTY = 2;
const IDR0_COHACC = f(4, 1, 1);

/**
 * The ID registers (SMMUv3 spec 6.3.1-6.3.6; arm-smmu-v3.h ARM_SMMU_IDR0..AIDR), as QEMU 7.2's
 * smmuv3_init_regs() (hw/arm/smmuv3.c) resets them: read on the harness's QEMU 7.2.22 with the
 * monitor's `xp /1wx` at VIRT_SMMU 0x09050000 + offset (IDR0 0x0d40101a, IDR1 0x02730010, IDR3
 * 0x00001404, IDR5 0x00000074, AIDR 1, the others 0). One table, from which the driver's view
 * (features, dirty tracking) and IOMMU_GET_HW_INFO's copy are both taken.
 */
const ID_REGS = [
  {
    name: 'IDR0',
    off: 0x00,
    value: (p) =>
      f(1, 1, 1) + // S1P: stage 1
      f(2, 2, 2) + // TTF: AArch64 tables only
      IDR0_COHACC + // COHACC: coherent table walks
      f(IDR0_HTTU_SHIFT, 2, p.httu ? HTTU_ACCESS_DIRTY : 0) + // HTTU
      f(12, 1, 1) + // ASID16
      f(21, 2, 2) + // TTENDIAN: little-endian
      f(24, 2, 1) + // STALL_MODEL: no stall
      f(26, 1, 1) + // TERM_MODEL: terminated transactions abort
      f(27, 2, 1), // ST_LEVEL: 2-level stream table
  },
  // SIDSIZE 16 (SMMU_IDR1_SIDSIZE), EVENTQS and CMDQS 19 (SMMU_EVENTQS, SMMU_CMDQS).
  { name: 'IDR1', off: 0x04, value: () => f(0, 6, 16) + f(16, 5, 19) + f(21, 5, 19) },
  { name: 'IDR2', off: 0x08, value: () => 0 },
  // HAD, RIL (range invalidation), BBML 2.
  { name: 'IDR3', off: 0x0c, value: () => f(2, 1, 1) + f(10, 1, 1) + f(11, 2, 2) },
  { name: 'IDR4', off: 0x10, value: () => 0 },
  // OAS 4 (44 bits), GRAN4K, GRAN16K, GRAN64K.
  { name: 'IDR5', off: 0x14, value: () => f(0, 3, 4) + f(4, 1, 1) + f(5, 1, 1) + f(6, 1, 1) },
  { name: 'IIDR', off: 0x18, value: () => 0 },
  // SMMUv3.1.
  { name: 'AIDR', off: 0x1c, value: () => 1 },
] as const satisfies readonly { name: string; off: number; value: (p: { httu: boolean }) => number }[];

type IdRegName = (typeof ID_REGS)[number]['name'];

const HW_INFO_TYPE_DEFAULT = Number(flagBit(HW_INFO_TYPES, 'NONE'));
const HW_INFO_TYPE_ARM_SMMUV3 = Number(flagBit(HW_INFO_TYPES, 'ARM_SMMUV3'));

/** Event record ids (arm-smmu-v3.h EVT_ID_*). */
const EVT_ID = { translation: 0x10, permission: 0x13 } as const;
const EVTQ_1_RNW = 1n << 35n;

const dword = (v: bigint) => `\t0x${v.toString(16).padStart(16, '0')}`;

export class SmmuV3 extends ArmSmmuCommon {
  readonly model = 'SMMUv3';
  private readonly devName: string;
  /** The ID registers' values, by name (ID_REGS). */
  private readonly idRegs: ReadonlyMap<IdRegName, number>;

  constructor(p: SmmuV3Params) {
    super(p);
    this.devName = `arm-smmu-v3 ${(p.base ?? 0x0905_0000n).toString(16)}.smmuv3`;
    const opts = { httu: p.httu ?? false };
    this.idRegs = new Map(ID_REGS.map((r) => [r.name, r.value(opts)] as const));
  }

  /** The ID register `name` (ID_REGS), as the driver's readl_relaxed() sees it. */
  idReg(name: IdRegName): number {
    return this.idRegs.get(name) ?? 0;
  }

  /**
   * arm_smmu_device_hw_probe(): IDR0.HTTU = 2 gives ARM_SMMU_FEAT_HD, and arm_smmu_dbm_capable()
   * wants it with ARM_SMMU_FEAT_COHERENCY (IDR0.COHACC).
   */
  protected get hardwareDirty(): boolean {
    const idr0 = this.idReg('IDR0');
    return ((idr0 >>> IDR0_HTTU_SHIFT) & 3) === HTTU_ACCESS_DIRTY && (idr0 & IDR0_COHACC) !== 0;
  }

  /**
   * arm_smmu_hw_info() (drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-iommufd.c; 6.13, "iommu/arm-
   * smmu-v3: Support IOMMU_GET_HW_INFO via struct arm_smmu_hw_info", Jason Gunthorpe's "Initial
   * support for SMMUv3 nested translation"; CONFIG_ARM_SMMU_V3_IOMMUFD): struct
   * iommu_hw_info_arm_smmuv3 with IDR0..5, IIDR and AIDR read raw (readl_relaxed), nothing
   * masked: the uapi comment tells the VMM which fields it may use. From 6.17 a type other
   * than DEFAULT or ARM_SMMUV3 goes to the implementation's impl_ops->hw_info (tegra241-cmdqv),
   * which QEMU's SMMU lacks: -EOPNOTSUPP. Before 6.13 the driver has no hw_info.
   */
  hwInfo(inType: number, drivers: HwInfoDrivers): number | { type: number; data: Uint8Array } | undefined {
    if (!drivers.armSmmuV3) return undefined;
    if (inType !== HW_INFO_TYPE_DEFAULT && inType !== HW_INFO_TYPE_ARM_SMMUV3) return -EOPNOTSUPP;
    const info = KStruct.zeroed(IOMMU_HW_INFO_ARM_SMMUV3);
    for (const r of ID_REGS) info.set(r.name.toLowerCase(), this.idReg(r.name));
    return { type: HW_INFO_TYPE_ARM_SMMUV3, data: info.bytes };
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
