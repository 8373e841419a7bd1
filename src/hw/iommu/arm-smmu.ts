// ARM SMMU v1/v2 (MMU-401/500 class), as on AMD Seattle ("Overdrive") boards.
//
// Same software MSI window as SMMUv3 (arm-smmu.c MSI_IOVA_BASE/LENGTH), same lack of MSI
// isolation, and the same pre-4.11 claim of IOMMU_CAP_INTR_REMAP. Faults are reported per
// context bank: arm_smmu_context_fault()'s dev_err "Unhandled context fault: fsr=0x%x,
// iova=0x%08lx, fsynr=0x%x, cbfrsynra=0x%x, cb=%d".
// The input address size and page sizes are modelled (48-bit, 4K granule), not measured.

import { ArmSmmuCommon, type ArmSmmuCommonParams } from './arm-smmu-common.js';
import { FAULT_LOG_NEWEST, type FaultLogStyle, type IommuDomainHw, type IommuFault } from './iommu.js';
import { requesterId } from './pci-rid.js';
import { hex } from '../../lib/hex.js';

/** FSR bits: TF translation fault, PF permission fault, SS stalled (arm-smmu.h ARM_SMMU_FSR_*). */
const FSR_TF = 1 << 1;
const FSR_PF = 1 << 3;
/** FSYNR0.WNR: the faulting access was a write. */
const FSYNR0_WNR = 1 << 4;

/**
 * arm_smmu_print_context_fault_info()'s decoding (6.12): the FSR and FSYNR0 flags in its order
 * (arm-smmu.h ARM_SMMU_CB_FSR_*, ARM_SMMU_CB_FSYNR0_*), each printed with a leading space when
 * set; MULTI and SS (bits 31, 30), printed before Format, are never set by the model.
 */
const FSR_FLAGS: readonly [number, string][] = [
  [1 << 8, 'UUT'], [1 << 7, 'ASF'], [1 << 6, 'TLBLKF'], [1 << 5, 'TLBMCF'], [1 << 4, 'EF'], [FSR_PF, 'PF'], [1 << 2, 'AFF'], [FSR_TF, 'TF'],
];
const FSYNR0_FLAGS: readonly [number, string][] = [
  [1 << 11, 'AFR'], [1 << 10, 'PTWF'], [1 << 8, 'NSATTR'], [1 << 6, 'IND'], [1 << 5, 'PNU'], [FSYNR0_WNR, 'WNR'],
];
const hex8 = (v: number) => v.toString(16).padStart(8, '0');

export interface ArmSmmuParams extends ArmSmmuCommonParams {
  /** MMIO base, for the device name the driver prints (`e0a00000.smmu`). */
  base?: bigint;
}

export class ArmSmmu extends ArmSmmuCommon {
  readonly model = 'ARM SMMU v2';
  /** No hardware dirty-state updates before SMMUv3's HTTU. */
  protected readonly hardwareDirty = false;
  private readonly devName: string;
  /** Context banks handed out, for the `cb=` of fault reports. */
  private contextBanks = 0;

  constructor(p: ArmSmmuParams) {
    super(p);
    this.devName = `${(p.base ?? 0xe0a0_0000n).toString(16)}.smmu`;
  }

  override allocDomain(opts?: { dirtyTracking?: boolean }): IommuDomainHw {
    this.contextBanks++;
    return super.allocDomain(opts);
  }

  sourceId(bdf: string): string {
    return `cbfrsynra=${hex(requesterId(bdf))}`;
  }

  fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission', style: FaultLogStyle = FAULT_LOG_NEWEST): IommuFault {
    const fsr = kind === 'translation' ? FSR_TF : FSR_PF;
    const fsynr = write ? FSYNR0_WNR : 0;
    const cb = Math.max(0, this.contextBanks - 1);
    const rid = requesterId(bdf);
    const dev = `arm-smmu ${this.devName}: `;
    const syn = style.armSmmu === 'cb' ? '' : ` ${this.sourceId(bdf)},`;
    const text = `${dev}Unhandled context fault: fsr=${hex(fsr)}, iova=0x${iova.toString(16).padStart(8, '0')}, fsynr=${hex(fsynr)},${syn} cb=${cb}`;
    const flags = (table: readonly [number, string][], v: number) => table.filter(([bit]) => v & bit).map(([, n]) => ` ${n}`).join('');
    return {
      iommu: this.name,
      type: kind === 'translation' ? 'context fault (TF)' : 'context fault (PF)',
      source: this.sourceId(bdf),
      iova,
      write,
      text,
      log:
        style.armSmmu === 'regs'
          ? [
              text,
              // Format (FSR[10:9]) 0, no MULTI/SS; S1CBNDX (FSYNR0[23:16]) and PLVL ([1:0]) as the
              // modelled record leaves them, 0.
              `${dev}FSR    = ${hex8(fsr)} [Format=0${flags(FSR_FLAGS, fsr)}], SID=${hex(rid)}`,
              `${dev}FSYNR0 = ${hex8(fsynr)} [S1CBNDX=0${flags(FSYNR0_FLAGS, fsynr)} PLVL=0]`,
            ]
          : undefined,
    };
  }
}
