// The shipped presets, as data. Each reproduces a real machine: the QEMU machines the
// real-kernel traces were recorded on (BDFs, groups, page sizes, apertures, reserved regions,
// firmware BAR assignments), and the boards of the seed posts.
//
// Every preset uses 4 KiB pages unless an option says otherwise.

import type { PresetData } from './presets.js';

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
  devices: [
    { bdf: '0000:00:00.0', model: 'q35-host-bridge', iommu: 'dmar0', msi: 'apic', group: 0 },
    {
      bdf: '0000:00:01.0',
      model: 'edu',
      params: { firmware: 'x86' },
      iommu: 'dmar0',
      msi: 'apic',
      group: 1,
      acpiIrqLink: { link: 'GSIF', irq: 21 },
    },
    {
      bdf: '0000:00:02.0',
      model: 'e1000e',
      params: { firmware: 'x86' },
      iommu: 'dmar0',
      msi: 'apic',
      group: 2,
      hostDriver: 'e1000e',
      acpiIrqLink: { link: 'GSIG', irq: 22 },
    },
    { bdf: '0000:00:1f.0', model: 'ich9-lpc', iommu: 'dmar0', msi: 'apic', group: 3, hostDriver: 'lpc_ich' },
    { bdf: '0000:00:1f.2', model: 'ich9-ahci', iommu: 'dmar0', msi: 'apic', group: 3, hostDriver: 'ahci' },
    { bdf: '0000:00:1f.3', model: 'ich9-smbus', iommu: 'dmar0', msi: 'apic', group: 3, hostDriver: 'i801_smbus' },
  ],
  vfioIommuDrivers: ['type1'],
};

const QEMU_VIRT_SMMUV3: PresetData = {
  name: 'qemu-virt-smmuv3',
  linuxAssignsIntxLine: true,
  description:
    'QEMU 7.2 virt with iommu=smmuv3 (48-bit IAS, 4 KiB pages): edu at 00:01.0 (group 0), e1000e at 00:02.0 (group 1); ' +
    'MSIs through a GICv3 ITS (gic=v3) or a GICv2m frame (gic=v2)',
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
    { bdf: '0000:00:01.0', model: 'edu', params: { firmware: 'arm64' }, iommu: 'smmu0', msi: 'its', group: 0, when: { gic: 'v3' } },
    { bdf: '0000:00:01.0', model: 'edu', params: { firmware: 'arm64' }, iommu: 'smmu0', msi: 'v2m', group: 0, when: { gic: 'v2' } },
    {
      bdf: '0000:00:02.0',
      model: 'e1000e',
      params: { firmware: 'arm64' },
      iommu: 'smmu0',
      msi: 'its',
      group: 1,
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
  iommus: [{ name: 'smmu0', model: 'arm-smmu', params: { base: '0xe0a00000' } }],
  msiControllers: [{ name: 'v2m0', model: 'gicv2m', params: { base: '0xe1180000', spiBase: 64, spiCount: 256 } }],
  devices: [
    // BARs in the 64-bit PCIe window, as UEFI left them (modelled placement).
    {
      bdf: '0000:01:00.0',
      model: 'x540',
      params: { function: 0, bars: { 0: '0x8000000000', 4: '0x8000400000' }, command: 0x0006 },
      iommu: 'smmu0',
      msi: 'v2m0',
      group: 0,
      hostDriver: 'ixgbe',
    },
    {
      bdf: '0000:01:00.1',
      model: 'x540',
      params: { function: 1, bars: { 0: '0x8000200000', 4: '0x8000404000' }, command: 0x0006 },
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

export const PRESET_DATA: PresetData[] = [QEMU_Q35_VTD, QEMU_VIRT_SMMUV3, AMD_OVERDRIVE, ARM_ITS_PLUS_V2M, ARMADA_7040];
