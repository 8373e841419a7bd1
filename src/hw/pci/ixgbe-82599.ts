// Intel 82599ES 10 GbE SFP+ controller, physical function (8086:10fb), along the same lines
// as x540.ts. Modelled from the 82599 datasheet and public lspci dumps, not measured:
//   revision 0x01, subsystem 8086:000c (X520-2 board);
//   BAR0 64-bit non-prefetchable 512 KiB (CSRs), BAR2 I/O 32 bytes (IOADDR/IODATA),
//   BAR4 64-bit non-prefetchable 16 KiB (MSI-X table at 0, PBA at 0x2000), 512 KiB ROM BAR
//   (blank); MSI 1 vector (64-bit, per-vector mask), MSI-X 64 vectors, FLR;
//   PCIe 5 GT/s x8 (LnkCap 0x0001cc82);
//   SR-IOV: InitialVFs 64, TotalVFs 64 (ixgbe lowers what it offers to 63 at probe: see
//   x540.ts), VF offset 0x80, stride 2, VF device 8086:10ed.

import { IxgbePf, type IxgbeParams, type IxgbeVariant } from './ixgbe-common.js';

export const IXGBE_82599_VARIANT: IxgbeVariant = {
  model: '82599es',
  deviceId: 0x10fb,
  revision: 0x01,
  subsystemId: 0x000c,
  csrSize: 512n << 10n,
  csrPrefetchable: false,
  ioBar: true,
  msixPrefetchable: false,
  romSize: 512n << 10n,
  lnkcap: 0x0001cc82,
  lnksta: 0x1082,
  vfDeviceId: 0x10ed,
  initialVfs: 64,
  totalVfs: 64,
  oui: [0x90, 0xe2, 0xba],
};

export function create82599(p: IxgbeParams): IxgbePf {
  return new IxgbePf(IXGBE_82599_VARIANT, p);
}
