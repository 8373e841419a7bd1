// The PCI function of Intel's 10 GbE controllers driven by ixgbe (82599, X540): the layout
// both datasheets share, parametrised by the variant. x540.ts and ixgbe-82599.ts give the
// values.
//
// Everything here is modelled from public datasheets and lspci dumps, not measured: no trace
// of these devices exists. Capability order and offsets are the datasheets' ([40] PM v3,
// [50] MSI 1 vector 64-bit maskable, [70] MSI-X 64 entries in BAR4, [a0] PCIe v2 endpoint
// with FLR; extended [100] AER, [140] DSN, [150] ARI, [160] SR-IOV). The VPD capability at
// [e0] is left out (the model has no VPD contents) and the chain ends at the PCIe capability.
//
// CSR behaviour is a register file: writes are stored and read back, STATUS is read-only
// (LAN ID = function number), CTRL.RST (bit 26) and CTRL.LRST (bit 3) self-clear, RST resets
// the function's registers. Real reset values of the other registers are not modelled (0).
//
// SR-IOV: the capability is declared with the variant's numbers. Setting VF Enable brings up
// NumVFs virtual functions (ixgbe-vf.ts) at the routing IDs First VF Offset and VF Stride give
// (PF + 0x80 + 2n: 01:00.0 → 01:10.0, 01:10.2, ...; 01:00.1 → 01:10.1, 01:10.3, ...); clearing
// it (or resetting the PF) removes them. `vfBars` is where the boot-time resource assignment put
// the VF BARs (the VF BAR registers of the capability); left out, they stay 0 (unassigned).

import { InterruptCauses } from './ixgbe-intr.js';
import {
  aerExtCap,
  ariExtCap,
  dsnExtCap,
  msiCap,
  msixCap,
  pcieCap,
  pmCap,
  sriovExtCap,
  type ExtCapDef,
} from './config-space.js';
import { PciFunction, RegisterFile, type BarSpec, type PciDeviceModel, type PciPlacement } from './device.js';
import { parseBdf, requesterId, ridToBdf, virtfnRid } from '../iommu/pci-rid.js';
import { IXGBE_VF_BARS, IxgbeVf } from './ixgbe-vf.js';
import { mmioContainer, type MmioOps } from './mmio.js';
import {
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_COMMAND_PARITY,
  PCI_COMMAND_SERR,
  PCI_EXP_DEVCTL_PHANTOM,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_PM_CTRL_PME_ENABLE,
  PCI_PM_CTRL_PME_STATUS,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_CTRL_DATA_SEL_MASK,
  PCI_SRIOV_BAR,
  PCI_SRIOV_CTRL,
  PCI_SRIOV_CTRL_VFE,
  PCI_SRIOV_NUM_VF,
  PCI_SRIOV_TOTAL_VF,
  PCI_SRIOV_VF_OFFSET,
  PCI_SRIOV_VF_STRIDE,
} from './regs.js';

const KiB = 1024n;
const MiB = 1024n * KiB;

export interface IxgbeVariant {
  model: string;
  deviceId: number;
  revision: number;
  subsystemId: number;
  /** BAR0 (64-bit) CSR window. */
  csrSize: bigint;
  csrPrefetchable: boolean;
  /** 82599 has a 32-byte I/O BAR at BAR2; X540 has none. */
  ioBar: boolean;
  msixPrefetchable: boolean;
  romSize: bigint;
  /** PCIe Link Capabilities / Status. */
  lnkcap: number;
  lnksta: number;
  vfDeviceId: number;
  initialVfs: number;
  totalVfs: number;
  /** The first three bytes of the MAC (Intel OUI used on the boards): also in the DSN. */
  oui: readonly [number, number, number];
}

export interface IxgbeParams {
  bdf: string;
  placement: PciPlacement;
  hostDriver?: string;
  /** Port (function) number of a dual-port controller: 0 or 1. */
  function: number;
  /** SR-IOV TotalVFs to declare (defaults to the variant's). */
  totalVfs?: number;
  mac?: Uint8Array;
  /** VF BAR base addresses (the PF's IOV resources) by VF BAR index (0 and 3), as assigned at boot. */
  vfBars?: Partial<Record<number, bigint>>;
}

const CTRL = 0x00000;
const STATUS = 0x00008;
const CTRL_LRST = 1 << 3;
const CTRL_RST = 1 << 26;

/** DevCap: MPS 512 B, L0s acceptable latency <512 ns, L1 <64 us, role-based errors, FLR. */
const DEVCAP = 0x2 | (3 << 6) | (6 << 9) | (1 << 15) | (1 << 28);
/** DevCap2: completion timeout ranges A-D and timeout disable. */
const DEVCAP2 = 0x0000001f;

/** Offset of the SR-IOV capability in both controllers. */
const SRIOV_POS = 0x160;

export class IxgbePf extends PciFunction {
  private readonly csr = new RegisterFile();
  /** The extended interrupt cause registers (ixgbe-intr.ts). */
  private readonly causes = new InterruptCauses({ eicr: 0x00800, eics: 0x00808, eiac: 0x00810, eimsSet: 0x00880, eimsClear: 0x00888, ivarMisc: 0x00a00 }, 16, this.interruptPaths(), this.csr);
  private readonly fn: number;
  private readonly variant: IxgbeVariant;
  /** The VFs present while VF Enable is set. */
  private vfs: IxgbeVf[] = [];

  constructor(v: IxgbeVariant, p: IxgbeParams) {
    super();
    this.fn = p.function;
    this.variant = v;
    this.resetRegisters();
    const mac = p.mac ?? new Uint8Array([v.oui[0], v.oui[1], v.oui[2], 0x00, 0x00, p.function]);
    const msix = mmioContainer([
      { off: 0n, size: 64n * 16n, ops: this.msixTableOps() },
      { off: 0x2000n, size: 8n, ops: this.msixPbaOps() },
    ]);
    const bars: BarSpec[] = [{ index: 0, size: v.csrSize, kind: 'mem64', prefetchable: v.csrPrefetchable, ops: this.csr.dwordOps((off, value) => this.csrWrite(off, value)) }];
    if (v.ioBar) bars.push({ index: 2, size: 32n, kind: 'io', prefetchable: false, ops: this.ioOps() });
    bars.push({ index: 4, size: 16n * KiB, kind: 'mem64', prefetchable: v.msixPrefetchable, ops: msix });
    const dsn =
      (BigInt(mac[5]!) | (BigInt(mac[4]!) << 8n) | (BigInt(mac[3]!) << 16n) | (0xffffn << 24n) | (BigInt(mac[2]!) << 40n) | (BigInt(mac[1]!) << 48n) | (BigInt(mac[0]!) << 56n));
    const ext: ExtCapDef[] = [
      aerExtCap({ off: 0x100, version: 2, uncorSeverity: 0x00062030, corMask: 0x00002000, cap: 0x000000a0 }),
      dsnExtCap(0x140, dsn),
      ariExtCap(0x150, p.function === 0 ? 1 : 0),
      sriovExtCap({
        off: SRIOV_POS,
        initialVfs: v.initialVfs,
        totalVfs: p.totalVfs ?? v.totalVfs,
        vfOffset: 0x80,
        vfStride: 2,
        vfDeviceId: v.vfDeviceId,
        supportedPageSizes: 0x553,
        vfBars: IXGBE_VF_BARS,
        onControlWrite: (val, old) => this.onSriovControl(val, old),
      }),
    ];
    this.setup({
      model: v.model,
      bdf: p.bdf,
      header: {
        vendorId: 0x8086,
        deviceId: v.deviceId,
        revision: v.revision,
        classCode: 0x020000,
        subsystemVendorId: 0x8086,
        subsystemId: v.subsystemId,
        interruptPin: p.function === 0 ? 1 : 2,
        // Both ports are functions of one device: header type bit 7 on each.
        multiFunction: true,
        commandWmask: PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
      },
      bars,
      rom: { size: v.romSize, image: new Uint8Array(0) },
      configSize: 4096,
      caps: [
        pmCap({
          off: 0x40,
          // Version 3 (PM 1.2), D3cold/D3hot/D0 PME, 0 aux current.
          pmc: 0xc803,
          pmcsr: 0x0000,
          pmcsrWmask: PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_DATA_SEL_MASK,
          pmcsrW1c: PCI_PM_CTRL_PME_STATUS,
          onPmcsrWrite: (val, old) => this.onPmcsrWrite(val, old),
        }),
        msiCap({ off: 0x50, vectors: 1, addr64: true, perVectorMask: true }),
        msixCap({ off: 0x70, tableSize: 64, tableBar: 4, tableOffset: 0, pbaBar: 4, pbaOffset: 0x2000 }),
        pcieCap({
          off: 0xa0,
          version: 2,
          type: PCI_EXP_TYPE_ENDPOINT,
          devcap: DEVCAP,
          devctl: 0x2810,
          devctlWmask: 0xffff & ~PCI_EXP_DEVCTL_PHANTOM,
          lnkcap: v.lnkcap,
          lnkctlWmask: 0x01c3,
          lnksta: v.lnksta,
          devcap2: DEVCAP2,
          devctl2Wmask: 0x001f,
          onDevctlWrite: (val) => this.onDevctlWrite(val),
        }),
      ],
      extCaps: ext,
      placement: p.placement,
      hostDriver: p.hostDriver,
      pmSoftReset: true,
      d3StopsDecode: true,
      unclaimedWritable: false,
    });
    this.sriov = { offset: SRIOV_POS, totalVfs: p.totalVfs ?? v.totalVfs, initialVfs: v.initialVfs, vfDeviceId: v.vfDeviceId, vfOffset: 0x80, vfStride: 2 };
    // The boot-time assignment of the IOV resources, in the VF BAR registers.
    for (const [i, base] of Object.entries(p.vfBars ?? {})) {
      if (base === undefined) continue;
      const off = SRIOV_POS + PCI_SRIOV_BAR + 4 * Number(i);
      this.config.write(off, 4, Number(base & 0xffff_ffffn));
      this.config.write(off + 4, 4, Number((base >> 32n) & 0xffff_ffffn));
    }
  }

  /** VF `index` (0-based), while VF Enable is set. */
  virtfn(index: number): PciDeviceModel | undefined {
    return this.vfs[index];
  }

  /** The VFs present now. */
  get virtfns(): readonly PciDeviceModel[] {
    return this.vfs;
  }

  protected resetRegisters(): void {
    this.csr.clear();
    // STATUS: LAN ID (bits 3:2) is the port.
    this.csr.set(STATUS, (this.fn & 3) << 2);
  }

  /** SR-IOV control written: VF Enable brings NumVFs VFs up, clearing it takes them away. */
  protected onSriovControl(value: number, old: number): void {
    const on = !!(value & PCI_SRIOV_CTRL_VFE);
    if (on && !(old & PCI_SRIOV_CTRL_VFE)) this.createVfs();
    else if (!on) this.vfs = [];
  }

  /** A PF reset clears VF Enable (the capability is back at its reset values): the VFs go. */
  protected override functionReset(): void {
    super.functionReset();
    if (!(this.config.read(SRIOV_POS + PCI_SRIOV_CTRL, 2) & PCI_SRIOV_CTRL_VFE)) this.vfs = [];
  }

  private createVfs(): void {
    const total = this.config.read(SRIOV_POS + PCI_SRIOV_TOTAL_VF, 2);
    const num = Math.min(this.config.read(SRIOV_POS + PCI_SRIOV_NUM_VF, 2), total);
    const offset = this.config.read(SRIOV_POS + PCI_SRIOV_VF_OFFSET, 2);
    const stride = this.config.read(SRIOV_POS + PCI_SRIOV_VF_STRIDE, 2);
    const domain = parseBdf(this.bdf)!.domain;
    const rid = requesterId(this.bdf);
    const v = this.variant;
    const id = {
      model: `${v.model}-vf`,
      vendorId: 0x8086,
      deviceId: v.vfDeviceId,
      revision: v.revision,
      subsystemVendorId: 0x8086,
      subsystemId: v.subsystemId,
      lnkcap: v.lnkcap,
      lnksta: v.lnksta,
    };
    this.vfs = Array.from(
      { length: num },
      (_, i) => new IxgbeVf(id, { bdf: ridToBdf(domain, virtfnRid(rid, offset, stride, i)), physfn: this, sriovPos: SRIOV_POS, index: i }),
    );
  }

  private csrWrite(off: number, value: number): void {
    switch (off & ~3) {
      case STATUS:
        return;
      case CTRL:
        if (value & CTRL_RST) {
          this.resetRegisters();
          return;
        }
        this.csr.set(CTRL, value & ~(CTRL_RST | CTRL_LRST));
        return;
      default:
        if (!this.causes.write(off & ~3, value)) this.csr.set(off, value);
    }
  }


  /** IOADDR/IODATA window onto the CSRs (82599 datasheet §9.3.2). */
  private ioaddr = 0;
  private ioOps(): MmioOps {
    return {
      read: (off) => (off === 0n ? BigInt(this.ioaddr) : off === 4n ? BigInt(this.csr.get(this.ioaddr)) : 0n),
      write: (off, _s, value) => {
        const v = Number(value & 0xffff_ffffn);
        if (off === 0n) this.ioaddr = v & 0x7fffc;
        else if (off === 4n) this.csrWrite(this.ioaddr, v);
      },
      valid: { min: 4, max: 4 },
      impl: { min: 4, max: 4 },
    };
  }
}

export { MiB };
