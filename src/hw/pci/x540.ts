// Intel X540 10GBASE-T controller, physical function (8086:1528), as the ixgbe datasheet
// layout in ixgbe-common.ts describes it. Modelled from the X540 datasheet and public lspci
// dumps, not measured (no trace of this device exists):
//   revision 0x01, subsystem 8086:0002 (X540-T2 board);
//   BAR0 64-bit prefetchable 2 MiB (CSRs), BAR4 64-bit prefetchable 16 KiB (MSI-X table at 0,
//   PBA at 0x2000), no I/O BAR, 512 KiB ROM BAR (blank: no option ROM image);
//   MSI 1 vector (64-bit, per-vector mask), MSI-X 64 vectors, FLR (DevCap bit 28);
//   PCIe 5 GT/s x8 (LnkCap 0x0001cc82: ASPM L0s/L1, exit latencies <1 us / <8 us);
//   SR-IOV: InitialVFs 64, TotalVFs 64, VF offset 0x80, stride 2, VF device 8086:1515,
//   VF BAR0/BAR3 16 KiB 64-bit prefetchable. (lspci on real X540s reports TotalVFs 64; 63 is
//   what ixgbe can enable, which it sets with pci_sriov_set_totalvfs() at probe.)

import { IxgbePf, type IxgbeParams, type IxgbeVariant } from './ixgbe-common.js';

export const X540_VARIANT: IxgbeVariant = {
  model: 'x540',
  deviceId: 0x1528,
  revision: 0x01,
  subsystemId: 0x0002,
  csrSize: 2n << 20n,
  csrPrefetchable: true,
  ioBar: false,
  msixPrefetchable: true,
  romSize: 512n << 10n,
  lnkcap: 0x0001cc82,
  lnksta: 0x1082,
  vfDeviceId: 0x1515,
  initialVfs: 64,
  totalVfs: 64,
  oui: [0xa0, 0x36, 0x9f],
};

export function createX540(p: IxgbeParams): IxgbePf {
  return new IxgbePf(X540_VARIANT, p);
}
