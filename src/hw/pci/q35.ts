// The q35 chipset functions QEMU 7.2 puts on the root bus besides the devices under test:
// the MCH host bridge (00:00.0) and the ICH9 LPC, AHCI and SMBus functions (00:1f.0/.2/.3,
// one IOMMU group on VT-d). The traces only bind them to vfio-pci (the x86 conflict probe);
// no config space or BAR of theirs was read. So these models carry identity and geometry
// (IDs, class, BARs, interrupt pin) from QEMU 7.2's sources and nothing more: registers read
// back what was written, and their chipset functions (PAM, PMBASE, AHCI ports) are not
// modelled. All values are modelled, not measured.

import { msiCap, type CapDef } from './config-space.js';
import { PciFunction, RegisterFile, type BarSpec, type PciPlacement } from './device.js';
import type { MmioOps } from './mmio.js';

export interface SimpleFunctionSpec {
  model: string;
  vendorId: number;
  deviceId: number;
  revision: number;
  classCode: number;
  interruptPin: number;
  bars: { index: number; size: bigint; kind: 'mem32' | 'io' }[];
  caps: CapDef[];
  multifunction: boolean;
}

/** A function whose BARs are plain register files. */
export class SimpleFunction extends PciFunction {
  private readonly files = new Map<number, RegisterFile>();

  constructor(s: SimpleFunctionSpec, p: { bdf: string; placement: PciPlacement; hostDriver?: string }) {
    super();
    const bars: BarSpec[] = s.bars.map((b) => ({ index: b.index, size: b.size, kind: b.kind, prefetchable: false, ops: this.fileOps(b.index) }));
    this.setup({
      model: s.model,
      bdf: p.bdf,
      header: {
        vendorId: s.vendorId,
        deviceId: s.deviceId,
        revision: s.revision,
        classCode: s.classCode,
        subsystemVendorId: 0x1af4,
        subsystemId: 0x1100,
        interruptPin: s.interruptPin,
      },
      bars,
      configSize: 256,
      caps: s.caps,
      placement: p.placement,
      hostDriver: p.hostDriver,
      pmSoftReset: false,
      d3StopsDecode: false,
      unclaimedWritable: true,
    });
    // The multi-function bit of the header type (ICH9 functions share device 1f).
    if (s.multifunction) this.config.set(0x0e, 1, 0x80);
  }

  private fileOps(index: number): MmioOps {
    const f = new RegisterFile();
    this.files.set(index, f);
    return {
      read: (off) => BigInt(f.get(Number(off))),
      write: (off, _s, v) => f.set(Number(off), Number(v & 0xffff_ffffn)),
      impl: { min: 4, max: 4 },
    };
  }

  protected resetRegisters(): void {
    for (const f of this.files.values()) f.clear();
  }
}

export const Q35_FUNCTIONS: Record<string, SimpleFunctionSpec> = {
  'q35-host-bridge': {
    model: 'q35-host-bridge',
    vendorId: 0x8086,
    deviceId: 0x29c0,
    revision: 0x00,
    classCode: 0x060000,
    interruptPin: 0,
    bars: [],
    caps: [],
    multifunction: false,
  },
  'ich9-lpc': {
    model: 'ich9-lpc',
    vendorId: 0x8086,
    deviceId: 0x2918,
    revision: 0x02,
    classCode: 0x060100,
    interruptPin: 0,
    bars: [],
    caps: [],
    multifunction: true,
  },
  'ich9-ahci': {
    model: 'ich9-ahci',
    vendorId: 0x8086,
    deviceId: 0x2922,
    revision: 0x02,
    classCode: 0x010601,
    interruptPin: 1,
    bars: [
      { index: 4, size: 32n, kind: 'io' },
      { index: 5, size: 0x1000n, kind: 'mem32' },
    ],
    caps: [msiCap({ off: 0x80, vectors: 1, addr64: false, perVectorMask: false })],
    multifunction: true,
  },
  'ich9-smbus': {
    model: 'ich9-smbus',
    vendorId: 0x8086,
    deviceId: 0x2930,
    revision: 0x02,
    classCode: 0x0c0500,
    interruptPin: 1,
    bars: [{ index: 4, size: 64n, kind: 'io' }],
    caps: [],
    multifunction: true,
  },
};
