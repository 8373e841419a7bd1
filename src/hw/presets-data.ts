// The shipped presets, as data. Each reproduces a real machine: the QEMU machines the
// real-kernel traces were recorded on (BDFs, groups, page sizes, apertures, reserved regions,
// firmware BAR assignments), and the boards of the seed posts.
//
// Every preset uses 4 KiB pages unless an option says otherwise.

import type { PresetData } from './preset-schema.js';

/**
 * QEMU q35's functions as the x86 traces recorded them: the host bridge (group 0), edu
 * (group 1) and e1000e (group 2) with SeaBIOS's placement and ACPI interrupt links, and the
 * ICH9 LPC/SATA/SMBus functions sharing group 3, each with its boot-time driver.
 */
function q35Devices(iommu: string): PresetData['devices'] {
  return [
    { bdf: '0000:00:00.0', model: 'q35-host-bridge', iommu, msi: 'apic', group: 0 },
    {
      bdf: '0000:00:01.0',
      model: 'edu',
      params: { firmware: 'x86' },
      iommu,
      msi: 'apic',
      group: 1,
      acpiIrqLink: { link: 'GSIF', irq: 21 },
    },
    {
      bdf: '0000:00:02.0',
      model: 'e1000e',
      params: { firmware: 'x86' },
      iommu,
      msi: 'apic',
      group: 2,
      hostDriver: 'e1000e',
      acpiIrqLink: { link: 'GSIG', irq: 22 },
    },
    { bdf: '0000:00:1f.0', model: 'ich9-lpc', iommu, msi: 'apic', group: 3, hostDriver: 'lpc_ich' },
    { bdf: '0000:00:1f.2', model: 'ich9-ahci', iommu, msi: 'apic', group: 3, hostDriver: 'ahci' },
    { bdf: '0000:00:1f.3', model: 'ich9-smbus', iommu, msi: 'apic', group: 3, hostDriver: 'i801_smbus' },
  ];
}

const QEMU_Q35_VTD: PresetData = {
  name: 'qemu-q35-vtd',
  description:
    'QEMU 7.2 q35 with intel-iommu (VT-d, aw-bits 39, 4 KiB pages): edu at 00:01.0 (group 1), e1000e at 00:02.0 (group 2), ' +
    'ICH9 LPC/SATA/SMBus at 00:1f.0/.2/.3 (group 3, with the ISA floppy direct-relaxable region)',
  arch: 'x86_64',
  pageSize: 4096,
  possibleCpus: 1,
  options: {
    intremap: { values: ['on', 'off'], default: 'on', doc: 'interrupt remapping (-device intel-iommu,intremap=on|off)' },
  },
  iommus: [
    { name: 'dmar0', model: 'vtd', params: { intremap: true, isaBridges: ['0000:00:1f.0'] }, when: { intremap: 'on' } },
    { name: 'dmar0', model: 'vtd', params: { intremap: false, isaBridges: ['0000:00:1f.0'] }, when: { intremap: 'off' } },
  ],
  msiControllers: [{ name: 'apic', model: 'x86-apic' }],
  devices: q35Devices('dmar0'),
  vfioIommuDrivers: ['type1'],
  // QEMU's SMBIOS for q35 (vendor "QEMU", product "Standard PC (Q35 + ICH9, 2009)") and Debian
  // bookworm's SeaBIOS 1.16.2 in QEMU 7.2, as the 7.2 recordings' WARN reports print it.
  hardwareName: 'QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014',
};

const QEMU_VIRT_SMMUV3: PresetData = {
  name: 'qemu-virt-smmuv3',
  linuxAssignsIntxLine: true,
  description:
    'QEMU 7.2 virt with iommu=smmuv3 (48-bit IAS, 4 KiB pages): edu at 00:01.0 (group 0), e1000e at 00:02.0 (group 1); ' +
    'from 6.15 groups 1 and 2 (the host bridge, not modelled, takes 0); MSIs through a GICv3 ITS (gic=v3) or a GICv2m frame (gic=v2)',
  arch: 'aarch64',
  pageSize: 4096,
  possibleCpus: 1,
  options: {
    gic: { values: ['v3', 'v2'], default: 'v3', doc: 'GIC version (-M virt,gic-version=3|2): ITS or v2m' },
  },
  iommus: [{ name: 'smmu0', model: 'smmuv3' }],
  msiControllers: [
    { name: 'its', model: 'gicv3-its', params: { base: '0x08080000' }, when: { gic: 'v3' } },
    { name: 'v2m', model: 'gicv2m', params: { base: '0x08020000' }, when: { gic: 'v2' } },
  ],
  devices: [
    { bdf: '0000:00:01.0', model: 'edu', params: { firmware: 'arm64' }, iommu: 'smmu0', msi: 'its', group: 0, groupAtScan: 1, when: { gic: 'v3' } },
    { bdf: '0000:00:01.0', model: 'edu', params: { firmware: 'arm64' }, iommu: 'smmu0', msi: 'v2m', group: 0, groupAtScan: 1, when: { gic: 'v2' } },
    {
      bdf: '0000:00:02.0',
      model: 'e1000e',
      params: { firmware: 'arm64' },
      iommu: 'smmu0',
      msi: 'its',
      group: 1,
      groupAtScan: 2,
      hostDriver: 'e1000e',
      when: { gic: 'v3' },
    },
    {
      bdf: '0000:00:02.0',
      model: 'e1000e',
      params: { firmware: 'arm64' },
      iommu: 'smmu0',
      msi: 'v2m',
      group: 1,
      groupAtScan: 2,
      hostDriver: 'e1000e',
      when: { gic: 'v2' },
    },
  ],
  vfioIommuDrivers: ['type1'],
};

const AMD_OVERDRIVE: PresetData = {
  name: 'amd-overdrive',
  linuxAssignsIntxLine: true,
  description:
    'AMD Seattle "Overdrive" (arm64, 4 KiB pages): ARM SMMU v2 (MMU-401), one GICv2m frame, Intel X540-T2 PFs ' +
    '0000:01:00.0 (group 0) and 0000:01:00.1 (group 1)',
  arch: 'aarch64',
  pageSize: 4096,
  possibleCpus: 8,
  options: {},
  // Seattle's root port above bus 01 (lspci on Overdrive boards: "00:02.1 PCI bridge: AMD
  // Device 1a02"; not recorded here [U]).
  pciBridges: [{ bdf: '0000:00:02.1', secondaryBus: 1 }],
  iommus: [{ name: 'smmu0', model: 'arm-smmu', params: { base: '0xe0a00000' } }],
  msiControllers: [{ name: 'v2m0', model: 'gicv2m', params: { base: '0xe1180000', spiBase: 64, spiCount: 256 } }],
  devices: [
    // BARs in the 64-bit PCIe window, as UEFI left them (modelled placement).
    {
      bdf: '0000:01:00.0',
      model: 'x540',
      // VF BARs in the same window (modelled: the firmware's real assignment was not recorded).
      params: {
        function: 0,
        bars: { 0: '0x8000000000', 4: '0x8000400000' },
        vfBars: { 0: '0x8100000000', 3: '0x8100100000' },
        command: 0x0006,
      },
      iommu: 'smmu0',
      msi: 'v2m0',
      group: 0,
      hostDriver: 'ixgbe',
    },
    {
      bdf: '0000:01:00.1',
      model: 'x540',
      params: {
        function: 1,
        bars: { 0: '0x8000200000', 4: '0x8000404000' },
        vfBars: { 0: '0x8100200000', 3: '0x8100300000' },
        command: 0x0006,
      },
      iommu: 'smmu0',
      msi: 'v2m0',
      group: 1,
      hostDriver: 'ixgbe',
    },
  ],
  vfioIommuDrivers: ['type1'],
};

const ARM_ITS_PLUS_V2M: PresetData = {
  name: 'arm-its-plus-v2m',
  linuxAssignsIntxLine: true,
  description:
    'The mixed machine of the DOMAIN_ATTR_MSI_MAPPING thread (Robin Murphy, 2016-04): an SMMUv3, a GICv3 ITS and a ' +
    'GICv2m-like MMIO-to-SPI bridge. 0000:00:01.0 (edu) takes its MSIs through the ITS, group 0; 0000:00:02.0 (e1000e) ' +
    'through the bridge, group 1. QEMU virt addresses (ITS 0x08080000, bridge frame 0x08020000), 4 KiB pages. Modelled: no ' +
    'such board was measured',
  arch: 'aarch64',
  pageSize: 4096,
  possibleCpus: 4,
  options: {},
  iommus: [{ name: 'smmu0', model: 'smmuv3' }],
  msiControllers: [
    { name: 'its0', model: 'gicv3-its', params: { base: '0x08080000' } },
    { name: 'spi-bridge', model: 'gicv2m', params: { base: '0x08020000' } },
  ],
  devices: [
    { bdf: '0000:00:01.0', model: 'edu', params: { firmware: 'arm64' }, iommu: 'smmu0', msi: 'its0', group: 0 },
    {
      bdf: '0000:00:02.0',
      model: 'e1000e',
      params: { firmware: 'arm64' },
      iommu: 'smmu0',
      msi: 'spi-bridge',
      group: 1,
      hostDriver: 'e1000e',
    },
  ],
  vfioIommuDrivers: ['type1'],
};

const ARMADA_7040: PresetData = {
  name: 'armada-7040',
  linuxAssignsIntxLine: true,
  description:
    'Marvell Armada 7040 (arm64, 4 KiB pages), as the series was tested on it with an Intel 82599ES: ARM SMMU v2 ' +
    '(MMU-500), a GICv2m-style MSI frame, the 82599ES at 0000:01:00.0 (group 0). Addresses modelled, not measured',
  arch: 'aarch64',
  pageSize: 4096,
  possibleCpus: 4,
  options: {},
  // The DesignWare controller's root port is function 00:00.0 of its root bus (modelled).
  pciBridges: [{ bdf: '0000:00:00.0', secondaryBus: 1 }],
  iommus: [{ name: 'smmu0', model: 'arm-smmu', params: { base: '0xfc000000' } }],
  msiControllers: [{ name: 'gicp', model: 'gicv2m', params: { base: '0xf03f0000', spiBase: 160, spiCount: 64 } }],
  devices: [
    {
      bdf: '0000:01:00.0',
      model: '82599es',
      params: { function: 0, bars: { 0: '0xc0000000', 2: '0x1000', 4: '0xc0200000' }, command: 0x0007 },
      iommu: 'smmu0',
      msi: 'gicp',
      group: 0,
      hostDriver: 'ixgbe',
    },
  ],
  vfioIommuDrivers: ['type1'],
};

// A QorIQ T4240-class board for seed 004 (Freescale's side of MSI passthrough). Addresses from
// the T4240 device trees and u-boot: CCSR at 0xffe000000 (t4240qds), PAMU at CCSR + 0x20000
// (t4240si-post.dtsi), msi0 at CCSR + 0x41600 with MSIIR1 at CCSR + 0x44148
// (qoriq-mpic4.3.dtsi), PCIe controller 1's LIODN 148 (u-boot t4240_ids.c). Modelled, not
// measured: the domain geometry and window count (what a PAMU-aware VFIO backend would set with
// DOMAIN_ATTR_GEOMETRY / DOMAIN_ATTR_WINDOWS; type1 cannot), the 82599ES in the slot, 4 KiB
// pages. The real part runs big-endian ppc64; the model's host is ppc64le.
const FSL_PAMU: PresetData = {
  name: 'fsl-pamu',
  description:
    'Freescale QorIQ T4240QDS-class board (T4240: 12 e6500 cores, PAMU, MPIC v4.3): an Intel 82599ES port at 0000:01:00.0 ' +
    'behind PCIe controller 1 (LIODN 148, group 0), its MSIs to MSI bank msi0 (MSIIR1 at 0xffe044148). PAMU domain geometry ' +
    '[0, 4 GiB) split into 256 windows of 16 MiB (option windows=16: 256 MiB, windows=1: one 4 GiB window). Honest limitations: ' +
    'the real QorIQ parts run big-endian (ppc64); the emulator lays out structs little-endian as on every other modelled host ' +
    '(ppc64le), and upstream type1 never drove PAMU (the model gives PAMU a window-granular map, see fsl-pamu.ts)',
  arch: 'ppc64le',
  pageSize: 4096,
  possibleCpus: 24,
  // The QorIQ PCIe controller shows itself as the bridge 00:00.0 above bus 01 (fsl_pci; modelled).
  pciBridges: [{ bdf: '0000:00:00.0', secondaryBus: 1 }],
  options: {
    windows: {
      values: ['256', '16', '1'],
      default: '256',
      doc: 'DOMAIN_ATTR_WINDOWS of every PAMU domain (window size = 4 GiB / windows)',
    },
  },
  iommus: [
    { name: 'pamu0', model: 'fsl-pamu', params: { liodn: 148, apertureSize: '0x100000000', windows: 256 }, when: { windows: '256' } },
    { name: 'pamu0', model: 'fsl-pamu', params: { liodn: 148, apertureSize: '0x100000000', windows: 16 }, when: { windows: '16' } },
    { name: 'pamu0', model: 'fsl-pamu', params: { liodn: 148, apertureSize: '0x100000000', windows: 1 }, when: { windows: '1' } },
  ],
  msiControllers: [{ name: 'msi0', model: 'fsl-msi', params: { base: '0xffe041600', msiir: '0xffe044148', msiir1: true } }],
  devices: [
    {
      bdf: '0000:01:00.0',
      model: '82599es',
      // PCIe bus addresses Linux would assign from the controller's memory window (t4240qds:
      // PCI 0xe0000000, 512 MiB) and I/O window, largest alignment first. Modelled.
      params: { function: 0, bars: { 0: '0xe0000000', 2: '0x1000', 4: '0xe0100000' }, rom: '0xe0080000' },
      iommu: 'pamu0',
      msi: 'msi0',
      group: 0,
      hostDriver: 'ixgbe',
    },
  ],
  vfioIommuDrivers: ['type1'],
};

// An AMD-Vi host laid out like QEMU q35 (the same functions, placement and groups as
// qemu-q35-vtd) with -device amd-iommu instead of intel-iommu. Modelled, not recorded: no
// AMD trace exists. Domain ids 1-4 go to the default domains of groups 0-3 at boot, so VFIO's
// first domain is 5.
const X86_AMD_VI: PresetData = {
  name: 'x86-amd-vi',
  description:
    'x86 host with an AMD-Vi IOMMU, q35 layout (modelled, not recorded): edu at 00:01.0 (group 1), e1000e at 00:02.0 (group 2), ' +
    'ICH9 LPC/SATA/SMBus at 00:1f.0/.2/.3 (group 3). Reserved regions: MSI 0xfee00000-0xfeefffff, HyperTransport ' +
    '0xfd00000000-0xffffffffff; 64-bit domain aperture; IOMMU_CAP_INTR_REMAP with intremap=on',
  arch: 'x86_64',
  pageSize: 4096,
  possibleCpus: 1,
  options: {
    intremap: { values: ['on', 'off'], default: 'on', doc: 'AMD-Vi interrupt remapping (off: the kernel\'s intremap=off, or QEMU -device amd-iommu,intremap=off)' },
  },
  iommus: [
    { name: 'ivhd0', model: 'amd-vi', params: { intremap: true, firstDomainId: 5 }, when: { intremap: 'on' } },
    { name: 'ivhd0', model: 'amd-vi', params: { intremap: false, firstDomainId: 5 }, when: { intremap: 'off' } },
  ],
  msiControllers: [{ name: 'apic', model: 'x86-apic' }],
  devices: q35Devices('ivhd0'),
  vfioIommuDrivers: ['type1'],
};

// An IBM POWER8 host running PowerNV (OPAL firmware, Linux on bare metal) for seed 003. PCI
// domain 0001 is PHB3 #1 (the domain number is the OPAL PHB id, hose->global_number); its
// root port is 0001:00:00.0 and the adapter sits on bus 01, in one bus PE, which is IOMMU group
// 0. The X540 is a single-port X540-T1 so the PE holds one function. Modelled, not measured:
// the PE number (the bus number), the BAR addresses (64-bit prefetchable BARs in the PHB's M64
// window, PCI address = CPU address on PHB3), 160 possible CPUs (2 sockets x 10 cores x SMT8).
// Only vfio_iommu_spapr_tce is built: CONFIG_VFIO_IOMMU_TYPE1 does not apply to PowerNV.
const POWERNV: PresetData = {
  name: 'powernv',
  description:
    'IBM POWER8 PowerNV host (ppc64le, 64 KiB pages): PHB3 (IODA2) at PCI domain 0001 with an Intel X540-T1 PF at ' +
    '0001:01:00.0 (group 0, PE#1); TCE DMA32 window 0..2 GiB (4 KiB IOMMU pages), DDW at 1<<59; MSIs through the PHB ' +
    'MSI window, bound to the PE; no IOMMU_CAP_INTR_REMAP; VFIO backend vfio_iommu_spapr_tce only',
  arch: 'ppc64le',
  pageSize: 65536,
  possibleCpus: 160,
  options: {},
  pciBridges: [{ bdf: '0001:00:00.0', secondaryBus: 1 }],
  iommus: [{ name: 'phb1', model: 'ioda2-phb', params: { domain: 1 } }],
  msiControllers: [{ name: 'phb1-msi', model: 'phb3-msi', params: { domain: 1 } }],
  devices: [
    {
      bdf: '0001:01:00.0',
      model: 'x540',
      params: { function: 0, bars: { '0': '0x3fe080000000', '4': '0x3fe080200000' } },
      iommu: 'phb1',
      msi: 'phb1-msi',
      group: 0,
      hostDriver: 'ixgbe',
    },
  ],
  vfioIommuDrivers: ['spapr'],
};

export const PRESET_DATA: PresetData[] = [QEMU_Q35_VTD, QEMU_VIRT_SMMUV3, AMD_OVERDRIVE, ARM_ITS_PLUS_V2M, ARMADA_7040, FSL_PAMU, X86_AMD_VI, POWERNV];
