// The era switches vfio-pci reads. Most come straight from src/kernel/era.ts; a few that
// era.ts does not have yet are derived here from the era's version, as a stopgap until they
// become rows there (kernel code otherwise never compares versions). Each says where the
// boundary comes from; [U] marks a boundary that is not confirmed.

import type { Era } from '../era.js';

export interface VfioPciEra {
  /** MSIX_MAPPABLE on the MSI-X BAR (4.16+); before, SPARSE_MMAP around the table. */
  msixMappable: boolean;
  /** vfio_device_info copied as min(argsz, 24) of a zeroed struct (6.6+). */
  deviceInfoPad: boolean;
  /** Dynamic MSI-X and no interrupt-context counter (6.5+). */
  msixDynamic: boolean;
  /**
   * DEVICE_GET_INFO writes cap_offset (= 0) when argsz reaches offsetofend(cap_offset) (the
   * device-info capability chain, 5.10 [U]); before, only 16 bytes are copied back.
   */
  deviceInfoCapOffset: boolean;
  /** BAR accesses of 8 bytes (vfio/pci: "Support 8-byte PCI loads and stores"; the 6.12 trace has them, 6.1's not). */
  io64: boolean;
  /**
   * PME bits virtualised in the PM capability, and BAR access refused while the function is
   * in D3 (the runtime-PM series, 5.19 [U]).
   */
  pmeVirt: boolean;
  /** MPS and MRRS virtualised in DEVCTL (4.15 [U]); before, only Initiate FLR is. */
  devctlMpsMrrs: boolean;
  /** HOT_RESET with count 0 is only for cdev-opened devices (the iommufd cdev series, 6.6). */
  hotResetCdev: boolean;
  /** pci_enable_resources refuses IORESOURCE_UNSET BARs with "not assigned" (6.x text [U]). */
  enableUnsetText: boolean;
  /** vfio_bar_restore() logs with pci_info ("restoring BARs"); before, pr_info with the name ([U] 5.x). */
  barRestorePciInfo: boolean;
}

const atLeast = (era: Era, major: number, minor: number): boolean =>
  era.version !== null && (era.version[0] > major || (era.version[0] === major && era.version[1] >= minor));

export function vfioPciEra(era: Era): VfioPciEra {
  return {
    msixMappable: era.msixMappable,
    deviceInfoPad: era.deviceInfoPad,
    msixDynamic: era.msixDynamic,
    deviceInfoCapOffset: atLeast(era, 5, 10),
    io64: atLeast(era, 6, 12),
    pmeVirt: atLeast(era, 5, 19),
    devctlMpsMrrs: atLeast(era, 4, 15),
    hotResetCdev: atLeast(era, 6, 6),
    enableUnsetText: atLeast(era, 6, 0),
    barRestorePciInfo: atLeast(era, 5, 0),
  };
}
