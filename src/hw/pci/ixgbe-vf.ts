// The SR-IOV virtual function of the ixgbe controllers (X540 VF 8086:1515, 82599 VF
// 8086:10ed), as its physical function (ixgbe-common.ts) instantiates it when software sets
// VF Enable in the PF's SR-IOV capability. A VF exists only while VF Enable is set: the PF
// drops its VFs when VF Enable clears (or the PF resets) and builds fresh ones (power-on
// state) the next time.
//
// What the SR-IOV specification (rev 1.1, §3.4 "PCI configuration space for VFs") fixes, and
// the model follows:
//   - Vendor ID and Device ID read 0xffff. The kernel never reads them: pci_iov_add_virtfn()
//     takes the vendor from the PF and the device from the PF's VF Device ID register, and
//     those are this model's `vendorId`/`deviceId`. lspci shows them from sysfs (`vendor`,
//     `device`); its hex dump of config space shows ffff ffff. vfio-pci virtualises both
//     registers for a VF (vfio_config_init: pdev->is_virtfn), so a config read through
//     vfio-pci returns 8086:1515.
//   - BARs in the header read 0 (read-only): a VF's BAR n is the PF's VF BAR n plus
//     n_VF × the VF BAR size (pci_iov_add_virtfn's resource arithmetic does the same). Memory
//     decode is the PF's VF MSE bit (with VF Enable), not the VF's command register, whose I/O
//     and Memory Space Enable bits are read-only 0 (vfio-pci virtualises Memory for a VF).
//   - No INTx: Interrupt Pin 0, Interrupt Disable read-only 0. MSI-X only.
//   - No expansion ROM, no PM capability.
//
// Modelled from the 82599 / X540 datasheets' VF configuration-space chapters and public lspci
// dumps, not measured (no trace of a VF exists): revision as the PF (lspci shows "(rev 01)"),
// subsystem IDs as the PF's (the VF's come from the NVM; unknown for the X540-T2), class
// 020000; capabilities [70] MSI-X 3 vectors (table BAR3 + 0, PBA BAR3 + 0x2000: ixgbevf uses
// 2 queue vectors + 1 mailbox vector), [a0] PCIe v2 endpoint with FLR (DevCtl: only Initiate
// FLR is writable, the rest is RsvdP in a VF), link registers as the PF's; extended [100] AER
// v2, [150] ARI. BAR0 16 KiB (CSRs), BAR3 16 KiB (MSI-X), both 64-bit prefetchable, as the
// PF's VF BARs declare them.
//
// CSR behaviour is a register file as for the PF: writes are stored and read back, VFSTATUS
// is read-only (0), VFCTRL.RST (bit 26) self-clears and resets the VF's registers. The
// mailbox to the PF is not modelled (a VF driver's reset request is never acknowledged).

import { InterruptCauses } from './ixgbe-intr.js';
import { aerExtCap, ariExtCap, msixCap, pcieCap } from './config-space.js';
import { PciFunction, RegisterFile, type BarSpec, type PciBar, type PciDeviceModel } from './device.js';
import { mmioContainer, mmioRead, mmioWrite, type AccessSize, type MmioOps } from './mmio.js';
import {
  PCI_COMMAND_MASTER,
  PCI_COMMAND_PARITY,
  PCI_COMMAND_SERR,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_SRIOV_BAR,
  PCI_SRIOV_CTRL,
  PCI_SRIOV_CTRL_MSE,
  PCI_SRIOV_CTRL_VFE,
} from './regs.js';

const KiB = 1024n;

/** A VF BAR as the PF's SR-IOV capability declares it (the size of one VF's BAR). */
export interface VfBarDef {
  index: number;
  size: bigint;
  kind: 'mem64';
  prefetchable: boolean;
}

/** The VF BARs of 82599 and X540: BAR0 CSRs, BAR3 MSI-X, 16 KiB each. */
export const IXGBE_VF_BARS: readonly VfBarDef[] = [
  { index: 0, size: 16n * KiB, kind: 'mem64', prefetchable: true },
  { index: 3, size: 16n * KiB, kind: 'mem64', prefetchable: true },
];

/** MSI-X vectors of a VF (82599/X540 datasheets: Table Size 2). */
export const IXGBE_VF_MSIX_VECTORS = 3;

/** What a VF takes over from its PF's variant. */
export interface IxgbeVfIdentity {
  /** Model name, e.g. `x540-vf`. */
  model: string;
  vendorId: number;
  /** The PF's VF Device ID register. */
  deviceId: number;
  revision: number;
  subsystemVendorId: number;
  subsystemId: number;
  lnkcap: number;
  lnksta: number;
}

export interface IxgbeVfParams {
  bdf: string;
  /** The physical function; its SR-IOV capability holds the VF BARs and VF Enable / VF MSE. */
  physfn: PciDeviceModel;
  /** Offset of the PF's SR-IOV capability. */
  sriovPos: number;
  /** The VF's number (0-based: VF n of the PF). */
  index: number;
}

const VFCTRL = 0x00000;
const VFSTATUS = 0x00008;
const VFCTRL_RST = 1 << 26;

/** DevCap: MPS 512 B, L0s <512 ns, L1 <64 us, role-based errors, FLR (as the PF). */
const VF_DEVCAP = 0x2 | (3 << 6) | (6 << 9) | (1 << 15) | (1 << 28);

export class IxgbeVf extends PciFunction {
  private readonly csr = new RegisterFile();
  /** The extended interrupt cause registers (ixgbe-intr.ts). */
  private readonly causes = new InterruptCauses({ eicr: 0x00100, eics: 0x00104, eimsSet: 0x00108, eimsClear: 0x0010c, eiac: 0x00110 }, 3, this.interruptPaths(), this.csr);
  /** The VF's number under its PF. */
  readonly index: number;
  private readonly sriovPos: number;
  private readonly pf: PciDeviceModel;

  constructor(id: IxgbeVfIdentity, p: IxgbeVfParams) {
    super();
    this.index = p.index;
    this.sriovPos = p.sriovPos;
    this.pf = p.physfn;
    const msix = mmioContainer([
      { off: 0n, size: BigInt(IXGBE_VF_MSIX_VECTORS) * 16n, ops: this.msixTableOps() },
      { off: 0x2000n, size: 8n, ops: this.msixPbaOps() },
    ]);
    const bars: BarSpec[] = [
      { index: 0, size: IXGBE_VF_BARS[0]!.size, kind: 'mem64', prefetchable: true, ops: this.csr.dwordOps((off, value) => this.csrWrite(off, value)) },
      { index: 3, size: IXGBE_VF_BARS[1]!.size, kind: 'mem64', prefetchable: true, ops: msix },
    ];
    this.setup({
      model: id.model,
      bdf: p.bdf,
      header: {
        // A VF's ID registers read all ones; the IDs the kernel uses are set below.
        vendorId: 0xffff,
        deviceId: 0xffff,
        revision: id.revision,
        classCode: 0x020000,
        subsystemVendorId: id.subsystemVendorId,
        subsystemId: id.subsystemId,
        interruptPin: 0,
        commandWmask: PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR,
      },
      // The header's BARs are read-only zero in a VF: none are declared there.
      bars: [],
      configSize: 4096,
      caps: [
        msixCap({ off: 0x70, tableSize: IXGBE_VF_MSIX_VECTORS, tableBar: 3, tableOffset: 0, pbaBar: 3, pbaOffset: 0x2000 }),
        pcieCap({
          off: 0xa0,
          version: 2,
          type: PCI_EXP_TYPE_ENDPOINT,
          devcap: VF_DEVCAP,
          devctl: 0,
          devctlWmask: PCI_EXP_DEVCTL_BCR_FLR,
          lnkcap: id.lnkcap,
          lnkctlWmask: 0,
          lnksta: id.lnksta,
          devcap2: 0x0000001f,
          devctl2Wmask: 0,
          onDevctlWrite: (val) => this.onDevctlWrite(val),
        }),
      ],
      extCaps: [
        aerExtCap({ off: 0x100, version: 2, uncorSeverity: 0x00062030, corMask: 0x00002000, cap: 0x000000a0 }),
        ariExtCap(0x150, 0),
      ],
      placement: {},
      pmSoftReset: false,
      d3StopsDecode: false,
      unclaimedWritable: false,
    });
    this.vendorId = id.vendorId;
    this.deviceId = id.deviceId;
    this.physfn = p.physfn;
    // The BARs the kernel knows (struct resource): the PF's VF BAR + index × size.
    this.bars = bars.map((b) => ({ index: b.index, size: b.size, kind: b.kind, prefetchable: b.prefetchable, base: this.vfBarBase(b), ops: b.ops }));
    this.resetRegisters();
  }

  /** VF Enable and VF MSE in the PF's SR-IOV control register. */
  private vfDecodes(): boolean {
    const ctrl = this.pf.config.read(this.sriovPos + PCI_SRIOV_CTRL, 2);
    return (ctrl & (PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE)) === (PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
  }

  /** Where this VF's BAR sits: the PF's VF BAR register, plus index × size; undefined when 0. */
  private vfBarBase(b: { index: number; size: bigint }): bigint | undefined {
    const off = this.sriovPos + PCI_SRIOV_BAR + 4 * b.index;
    const lo = BigInt(this.pf.config.read(off, 4));
    const hi = BigInt(this.pf.config.read(off + 4, 4));
    const base = ((hi << 32n) | lo) & ~0xfn;
    return base === 0n ? undefined : base + b.size * BigInt(this.index);
  }

  /** The address a BAR decodes now: from the PF's registers (the VF's own read 0). */
  override barAddress(b: PciBar): bigint {
    return this.vfBarBase(b) ?? 0n;
  }

  private findVfBar(space: 'mem' | 'io', addr: bigint): { bar: PciBar; off: bigint } | undefined {
    if (space !== 'mem' || !this.vfDecodes()) return undefined;
    for (const b of this.bars) {
      const base = this.vfBarBase(b);
      if (base !== undefined && addr >= base && addr < base + b.size) return { bar: b, off: addr - base };
    }
    return undefined;
  }

  override busRead(space: 'mem' | 'io', addr: bigint, size: AccessSize): bigint | undefined {
    const hit = this.findVfBar(space, addr);
    return hit ? mmioRead(hit.bar.ops, hit.off, size) : undefined;
  }

  override busWrite(space: 'mem' | 'io', addr: bigint, size: AccessSize, value: bigint): boolean {
    const hit = this.findVfBar(space, addr);
    if (!hit) return false;
    mmioWrite(hit.bar.ops, hit.off, size, value);
    return true;
  }

  protected override resetRegisters(): void {
    this.csr.clear();
  }

  private csrWrite(off: number, value: number): void {
    switch (off & ~3) {
      case VFSTATUS:
        return;
      case VFCTRL:
        if (value & VFCTRL_RST) {
          this.resetRegisters();
          return;
        }
        this.csr.set(VFCTRL, value & ~VFCTRL_RST);
        return;
      default:
        if (!this.causes.write(off & ~3, value)) this.csr.set(off, value);
    }
  }
}
