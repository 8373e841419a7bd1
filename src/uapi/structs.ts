// The VFIO uapi structs (include/uapi/linux/vfio.h; reference/abi.md §2.3), plus the posted
// series' MSI_GEOMETRY (rfc-v10, layout reconstructed: abi.md §0) and MSI_RESV (rfc-v14,
// abi.md §1.3). Offsets are LP64. Each struct is declared once; see struct.ts.

import { defineStruct, type FieldDef, type FlagTable, type StructDef } from './struct.js';

const flags = (prefix: string, bits: [string, bigint][]): FlagTable => ({ prefix, bits });
/** The fields of a struct embedded at `off` as member `prefix` (`bitmap.` for `struct vfio_bitmap bitmap`). */
const embed = (def: StructDef, prefix: string, off: number): FieldDef[] =>
  def.fields.map((f) => ({ ...f, name: prefix + f.name, off: off + f.off }));

// ---- flag and value tables -------------------------------------------------------------

export const GROUP_FLAGS = flags('VFIO_GROUP_FLAGS_', [
  ['VIABLE', 1n << 0n],
  ['CONTAINER_SET', 1n << 1n],
]);

export const DEVICE_FLAGS = flags('VFIO_DEVICE_FLAGS_', [
  ['RESET', 1n << 0n],
  ['PCI', 1n << 1n],
  ['PLATFORM', 1n << 2n],
  ['AMBA', 1n << 3n],
  ['CCW', 1n << 4n],
  ['AP', 1n << 5n],
  ['FSL_MC', 1n << 6n],
  ['CAPS', 1n << 7n],
  ['CDX', 1n << 8n],
]);

export const REGION_FLAGS = flags('VFIO_REGION_INFO_FLAG_', [
  ['READ', 1n << 0n],
  ['WRITE', 1n << 1n],
  ['MMAP', 1n << 2n],
  ['CAPS', 1n << 3n],
]);

/** vfio-pci region indexes (VFIO_PCI_*_REGION_INDEX). */
export const PCI_REGION_INDEX = flags('VFIO_PCI_', [
  ['BAR0', 0n],
  ['BAR1', 1n],
  ['BAR2', 2n],
  ['BAR3', 3n],
  ['BAR4', 4n],
  ['BAR5', 5n],
  ['ROM', 6n],
  ['CONFIG', 7n],
  ['VGA', 8n],
]);

export const IRQ_INFO_FLAGS = flags('VFIO_IRQ_INFO_', [
  ['EVENTFD', 1n << 0n],
  ['MASKABLE', 1n << 1n],
  ['AUTOMASKED', 1n << 2n],
  ['NORESIZE', 1n << 3n],
]);

/** vfio-pci IRQ indexes (VFIO_PCI_*_IRQ_INDEX). */
export const PCI_IRQ_INDEX = flags('VFIO_PCI_', [
  ['INTX', 0n],
  ['MSI', 1n],
  ['MSIX', 2n],
  ['ERR', 3n],
  ['REQ', 4n],
]);

export const IRQ_SET_FLAGS = flags('VFIO_IRQ_SET_', [
  ['DATA_NONE', 1n << 0n],
  ['DATA_BOOL', 1n << 1n],
  ['DATA_EVENTFD', 1n << 2n],
  ['ACTION_MASK', 1n << 3n],
  ['ACTION_UNMASK', 1n << 4n],
  ['ACTION_TRIGGER', 1n << 5n],
]);
export const IRQ_SET_DATA_TYPE_MASK = 0x7n;
export const IRQ_SET_ACTION_TYPE_MASK = 0x38n;

export const IOMMU_INFO_FLAGS = flags('VFIO_IOMMU_INFO_', [
  ['PGSIZES', 1n << 0n],
  ['CAPS', 1n << 1n],
]);

/**
 * DMA_MAP flags. Bit 2 is era-dependent: the series' reserved-MSI window (both spellings the
 * series used are accepted) or upstream's VADDR (5.12+). Display picks the era's name.
 */
export const DMA_MAP_FLAGS = flags('VFIO_DMA_MAP_FLAG_', [
  ['READ', 1n << 0n],
  ['WRITE', 1n << 1n],
  ['VADDR', 1n << 2n],
]);
export const DMA_MAP_FLAGS_RFC = flags('VFIO_DMA_MAP_FLAG_', [
  ['READ', 1n << 0n],
  ['WRITE', 1n << 1n],
  ['RESERVED_MSI_IOVA', 1n << 2n],
  ['MSI_RESERVED_IOVA', 1n << 2n],
]);

export const DMA_UNMAP_FLAGS = flags('VFIO_DMA_UNMAP_FLAG_', [
  ['GET_DIRTY_BITMAP', 1n << 0n],
  ['ALL', 1n << 1n],
  ['VADDR', 1n << 2n],
]);

export const MSI_GEOMETRY_FLAGS = flags('VFIO_IOMMU_MSI_GEOMETRY_', [['RESERVED', 1n << 0n]]);

export const HOT_RESET_FLAGS = flags('VFIO_PCI_HOT_RESET_FLAG_', [['DEV_ID', 1n << 0n], ['DEV_ID_OWNED', 1n << 1n]]);

// ---- structs ---------------------------------------------------------------------------

export const VFIO_INFO_CAP_HEADER = defineStruct('vfio_info_cap_header', 8, [
  { name: 'id', off: 0, type: 'u16' },
  { name: 'version', off: 2, type: 'u16' },
  { name: 'next', off: 4, type: 'u32' },
]);

export const VFIO_GROUP_STATUS = defineStruct('vfio_group_status', 8, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: GROUP_FLAGS },
]);

/** 24 bytes with the 2023 pad; before it the struct ended at cap_offset (20). */
export const VFIO_DEVICE_INFO = defineStruct(
  'vfio_device_info',
  24,
  [
    { name: 'argsz', off: 0, type: 'u32' },
    { name: 'flags', off: 4, type: 'u32', flags: DEVICE_FLAGS },
    { name: 'num_regions', off: 8, type: 'u32' },
    { name: 'num_irqs', off: 12, type: 'u32' },
    { name: 'cap_offset', off: 16, type: 'u32' },
    { name: 'pad', off: 20, type: 'u32', role: 'pad' },
  ],
  'caps',
);

export const VFIO_REGION_INFO = defineStruct(
  'vfio_region_info',
  32,
  [
    { name: 'argsz', off: 0, type: 'u32' },
    { name: 'flags', off: 4, type: 'u32', flags: REGION_FLAGS },
    { name: 'index', off: 8, type: 'u32', values: PCI_REGION_INDEX },
    { name: 'cap_offset', off: 12, type: 'u32' },
    { name: 'size', off: 16, type: 'u64', hex: true },
    { name: 'offset', off: 24, type: 'u64', hex: true },
  ],
  'caps',
);

export const VFIO_IRQ_INFO = defineStruct('vfio_irq_info', 16, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: IRQ_INFO_FLAGS },
  { name: 'index', off: 8, type: 'u32', values: PCI_IRQ_INDEX },
  { name: 'count', off: 12, type: 'u32' },
]);

export const VFIO_IRQ_SET = defineStruct(
  'vfio_irq_set',
  20,
  [
    { name: 'argsz', off: 0, type: 'u32' },
    { name: 'flags', off: 4, type: 'u32', flags: IRQ_SET_FLAGS },
    { name: 'index', off: 8, type: 'u32', values: PCI_IRQ_INDEX },
    { name: 'start', off: 12, type: 'u32' },
    { name: 'count', off: 16, type: 'u32' },
  ],
  'irq-data',
);

/**
 * vfio_iommu_type1_info. 24 bytes once it has cap_offset (series and 5.4+); 4.10's struct
 * ends at iova_pgsizes (16). `pad` is the 2023 name of the tail word (`__resv` in rfc-v14).
 */
export const VFIO_IOMMU_TYPE1_INFO = defineStruct(
  'vfio_iommu_type1_info',
  24,
  [
    { name: 'argsz', off: 0, type: 'u32' },
    { name: 'flags', off: 4, type: 'u32', flags: IOMMU_INFO_FLAGS },
    { name: 'iova_pgsizes', off: 8, type: 'u64', hex: true },
    { name: 'cap_offset', off: 16, type: 'u32' },
    { name: 'pad', off: 20, type: 'u32', role: 'pad' },
  ],
  'caps',
);

export const VFIO_IOMMU_TYPE1_DMA_MAP = defineStruct('vfio_iommu_type1_dma_map', 32, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: DMA_MAP_FLAGS },
  { name: 'vaddr', off: 8, type: 'u64', role: 'uaddr', hex: true },
  { name: 'iova', off: 16, type: 'u64', hex: true },
  { name: 'size', off: 24, type: 'u64', hex: true },
]);

export const VFIO_BITMAP = defineStruct('vfio_bitmap', 24, [
  { name: 'pgsize', off: 0, type: 'u64', hex: true },
  { name: 'size', off: 8, type: 'u64', hex: true },
  { name: 'data', off: 16, type: 'u64', role: 'uaddr', hex: true },
]);

export const VFIO_IOMMU_TYPE1_DMA_UNMAP = defineStruct(
  'vfio_iommu_type1_dma_unmap',
  24,
  [
    { name: 'argsz', off: 0, type: 'u32' },
    { name: 'flags', off: 4, type: 'u32', flags: DMA_UNMAP_FLAGS },
    { name: 'iova', off: 8, type: 'u64', hex: true },
    { name: 'size', off: 16, type: 'u64', hex: true },
  ],
  'bitmap',
  { def: VFIO_BITMAP, prefix: 'bitmap.' },
);

export const DIRTY_PAGES_FLAGS = flags('VFIO_IOMMU_DIRTY_PAGES_FLAG_', [
  ['START', 1n << 0n],
  ['STOP', 1n << 1n],
  ['GET_BITMAP', 1n << 2n],
]);

/** The GET_BITMAP payload after vfio_iommu_type1_dirty_bitmap: a range and its vfio_bitmap. */
export const VFIO_DIRTY_BITMAP_GET = defineStruct('vfio_iommu_type1_dirty_bitmap_get', 40, [
  { name: 'iova', off: 0, type: 'u64', hex: true },
  { name: 'size', off: 8, type: 'u64', hex: true },
  ...embed(VFIO_BITMAP, 'bitmap.', 16),
]);

/** VFIO_IOMMU_DIRTY_PAGES (5.8+): start/stop dirty tracking, or get a range's bitmap (data[]). */
export const VFIO_IOMMU_TYPE1_DIRTY_BITMAP = defineStruct(
  'vfio_iommu_type1_dirty_bitmap',
  8,
  [
    { name: 'argsz', off: 0, type: 'u32' },
    { name: 'flags', off: 4, type: 'u32', flags: DIRTY_PAGES_FLAGS },
  ],
  'bitmap',
  { def: VFIO_DIRTY_BITMAP_GET, prefix: '' },
);



export const VFIO_PCI_HOT_RESET_INFO = defineStruct('vfio_pci_hot_reset_info', 12, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: HOT_RESET_FLAGS },
  { name: 'count', off: 8, type: 'u32' },
]);

/**
 * struct vfio_pci_dependent_device, 8 bytes: one entry of the hot-reset info's devices[]
 * tail, `count` of them after vfio_pci_hot_reset_info. `group_id` shares its word with the
 * cdev's `devid` (6.6+); group-opened devices report the group.
 */
export const VFIO_PCI_DEPENDENT_DEVICE = defineStruct('vfio_pci_dependent_device', 8, [
  { name: 'group_id', off: 0, type: 'u32' },
  { name: 'segment', off: 4, type: 'u16', hex: true },
  { name: 'bus', off: 6, type: 'u8', hex: true },
  { name: 'devfn', off: 7, type: 'u8', hex: true },
]);

/** VFIO_DEVICE_PCI_HOT_RESET: the group fds (or, 6.6+, none for cdev users) follow as __s32[]. */
export const VFIO_PCI_HOT_RESET = defineStruct(
  'vfio_pci_hot_reset',
  12,
  [
    { name: 'argsz', off: 0, type: 'u32' },
    { name: 'flags', off: 4, type: 'u32' },
    { name: 'count', off: 8, type: 'u32' },
  ],
  'fd-array',
);

export const IOEVENTFD_FLAGS = flags('VFIO_DEVICE_', [
  ['IOEVENTFD_8', 1n << 0n],
  ['IOEVENTFD_16', 1n << 1n],
  ['IOEVENTFD_32', 1n << 2n],
  ['IOEVENTFD_64', 1n << 3n],
]);

/** VFIO_DEVICE_IOEVENTFD (4.17+): a write of `data` at `offset` each time eventfd `fd` fires. */
export const VFIO_DEVICE_IOEVENTFD = defineStruct('vfio_device_ioeventfd', 32, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: IOEVENTFD_FLAGS },
  { name: 'offset', off: 8, type: 'u64', hex: true },
  { name: 'data', off: 16, type: 'u64', hex: true },
  { name: 'fd', off: 24, type: 's32', role: 'fd' },
  { name: 'reserved', off: 28, type: 'u32', role: 'pad' },
]);

/** vfio_device_feature.flags above the feature number (VFIO_DEVICE_FEATURE_MASK, bits 0-15). */
export const DEVICE_FEATURE_FLAGS = flags('VFIO_DEVICE_FEATURE_', [
  ['GET', 1n << 16n],
  ['SET', 1n << 17n],
  ['PROBE', 1n << 18n],
]);

/** The feature numbers (include/uapi/linux/vfio.h, VFIO_DEVICE_FEATURE_*). */
export const DEVICE_FEATURES = flags('VFIO_DEVICE_FEATURE_', [
  ['PCI_VF_TOKEN', 0n],
  ['MIGRATION', 1n],
  ['MIG_DEVICE_STATE', 2n],
  ['LOW_POWER_ENTRY', 3n],
  ['LOW_POWER_ENTRY_WITH_WAKEUP', 4n],
  ['LOW_POWER_EXIT', 5n],
  ['DMA_LOGGING_START', 6n],
  ['DMA_LOGGING_STOP', 7n],
  ['DMA_LOGGING_REPORT', 8n],
  ['MIG_DATA_SIZE', 9n],
]);

/**
 * struct vfio_device_feature: argsz, flags (the feature number in bits 0-15, GET/SET/PROBE
 * above), then the feature's data[] (its own struct, argsz - 8 bytes).
 */
export const VFIO_DEVICE_FEATURE = defineStruct('vfio_device_feature', 8, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: DEVICE_FEATURE_FLAGS, hex: true },
]);

/** struct vfio_device_low_power_entry_with_wakeup: LOW_POWER_ENTRY_WITH_WAKEUP's data (6.0). */
export const VFIO_DEVICE_LOW_POWER_ENTRY_WITH_WAKEUP = defineStruct('vfio_device_low_power_entry_with_wakeup', 8, [
  { name: 'wakeup_eventfd', off: 0, type: 's32', role: 'fd' },
  { name: 'reserved', off: 4, type: 'u32', role: 'pad' },
]);

// ---- the device cdev's requests (include/uapi/linux/vfio.h, 6.6+) ---------------------------

export const BIND_IOMMUFD_FLAGS = flags('VFIO_DEVICE_BIND_FLAG_', [['TOKEN', 1n << 0n]]);

/**
 * struct vfio_device_bind_iommufd: the iommufd to bind to, the device id iommufd gave back
 * (out_devid), and (6.17) a pointer to the VF token's 16-byte UUID.
 */
export const VFIO_DEVICE_BIND_IOMMUFD = defineStruct('vfio_device_bind_iommufd', 24, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: BIND_IOMMUFD_FLAGS },
  { name: 'iommufd', off: 8, type: 's32', role: 'fd' },
  { name: 'out_devid', off: 12, type: 'u32' },
  { name: 'token_uuid_ptr', off: 16, type: 'u64', role: 'uaddr', hex: true },
]);

export const ATTACH_IOMMUFD_PT_FLAGS = flags('VFIO_DEVICE_ATTACH_', [['PASID', 1n << 0n]]);
export const DETACH_IOMMUFD_PT_FLAGS = flags('VFIO_DEVICE_DETACH_', [['PASID', 1n << 0n]]);

/** struct vfio_device_attach_iommufd_pt: pt_id in (an IOAS or HWPT id) and out (the HWPT); pasid from 6.15. */
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT = defineStruct('vfio_device_attach_iommufd_pt', 16, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: ATTACH_IOMMUFD_PT_FLAGS },
  { name: 'pt_id', off: 8, type: 'u32' },
  { name: 'pasid', off: 12, type: 'u32' },
]);

/** struct vfio_device_detach_iommufd_pt: pasid from 6.15. */
export const VFIO_DEVICE_DETACH_IOMMUFD_PT = defineStruct('vfio_device_detach_iommufd_pt', 12, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: DETACH_IOMMUFD_PT_FLAGS },
  { name: 'pasid', off: 8, type: 'u32' },
]);

/** GROUP_SET_CONTAINER's argument: a pointer to the container fd. */
export const VFIO_CONTAINER_FD = defineStruct('__s32 container_fd', 4, [
  { name: 'fd', off: 0, type: 's32', role: 'fd' },
]);

// ---- capability bodies -------------------------------------------------------------------
// Each capability struct starts with vfio_info_cap_header (id, version, next).

const capHeader = [
  { name: 'id', off: 0, type: 'u16' as const },
  { name: 'version', off: 2, type: 'u16' as const },
  { name: 'next', off: 4, type: 'u32' as const },
];

/** VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE (id 1): 16 + 16·nr_iovas bytes. */
export const CAP_IOVA_RANGE = defineStruct('vfio_iommu_type1_info_cap_iova_range', 16, [
  ...capHeader,
  { name: 'nr_iovas', off: 8, type: 'u32' },
  { name: 'reserved', off: 12, type: 'u32', role: 'pad' },
]);
export const IOVA_RANGE_ENTRY = defineStruct('vfio_iova_range', 16, [
  { name: 'start', off: 0, type: 'u64', hex: true },
  { name: 'end', off: 8, type: 'u64', hex: true },
]);

/** VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION (id 2). */
export const CAP_MIGRATION = defineStruct('vfio_iommu_type1_info_cap_migration', 32, [
  ...capHeader,
  { name: 'flags', off: 8, type: 'u32' },
  { name: 'pgsize_bitmap', off: 16, type: 'u64', hex: true },
  { name: 'max_dirty_bitmap_size', off: 24, type: 'u64', hex: true },
]);

/** VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL (id 3): 12 bytes, padded to 16 in 8-byte-aligned chains. */
export const CAP_DMA_AVAIL = defineStruct('vfio_iommu_type1_info_dma_avail', 12, [
  ...capHeader,
  { name: 'avail', off: 8, type: 'u32' },
]);

/**
 * rfc-v10 VFIO_IOMMU_TYPE1_INFO_CAP_MSI_GEOMETRY (id 1, version 1), 40 bytes. Reconstructed
 * from the v10 changelog and the v12 code (abi.md §0): the exact v10 layout was never found.
 */
export const CAP_MSI_GEOMETRY = defineStruct('vfio_iommu_type1_info_cap_msi_geometry', 40, [
  ...capHeader,
  { name: 'flags', off: 8, type: 'u32', flags: MSI_GEOMETRY_FLAGS },
  { name: 'order', off: 12, type: 'u32' },
  { name: 'size', off: 16, type: 'u64', hex: true },
  { name: 'aperture_start', off: 24, type: 'u64', hex: true },
  { name: 'aperture_end', off: 32, type: 'u64', hex: true },
]);

/** rfc-v14 VFIO_IOMMU_TYPE1_INFO_CAP_MSI_RESV (id 1, version 1), 24 bytes (abi.md §1.3). */
export const CAP_MSI_RESV = defineStruct('vfio_iommu_type1_info_cap_msi_resv', 24, [
  ...capHeader,
  { name: 'size', off: 8, type: 'u64', hex: true },
  { name: 'alignment', off: 16, type: 'u64', hex: true },
]);

/** VFIO_REGION_INFO_CAP_SPARSE_MMAP (id 1): 16 + 16·nr_areas bytes. */
export const CAP_SPARSE_MMAP = defineStruct('vfio_region_info_cap_sparse_mmap', 16, [
  ...capHeader,
  { name: 'nr_areas', off: 8, type: 'u32' },
  { name: 'reserved', off: 12, type: 'u32', role: 'pad' },
]);
export const SPARSE_MMAP_AREA = defineStruct('vfio_region_sparse_mmap_area', 16, [
  { name: 'offset', off: 0, type: 'u64', hex: true },
  { name: 'size', off: 8, type: 'u64', hex: true },
]);

/** VFIO_REGION_INFO_CAP_TYPE (id 2). */
export const CAP_REGION_TYPE = defineStruct('vfio_region_info_cap_type', 16, [
  ...capHeader,
  { name: 'type', off: 8, type: 'u32' },
  { name: 'subtype', off: 12, type: 'u32' },
]);

/** VFIO_REGION_INFO_CAP_MSIX_MAPPABLE (id 3): the header alone. */
export const CAP_MSIX_MAPPABLE = defineStruct('vfio_region_info_cap_msix_mappable', 8, [...capHeader]);

// ---- sPAPR TCE (vfio_iommu_spapr_tce, PowerPC) ---------------------------------------------
// include/uapi/linux/vfio.h. The container requests share numbers with type1's (112 is
// SPAPR_TCE_GET_INFO here, IOMMU_GET_INFO there; 117 REGISTER_MEMORY vs DIRTY_PAGES); MAP_DMA
// and UNMAP_DMA reuse vfio_iommu_type1_dma_map / _dma_unmap.

export const SPAPR_TCE_INFO_FLAGS = flags('VFIO_IOMMU_SPAPR_INFO_', [['DDW', 1n << 0n]]);

/**
 * vfio_iommu_spapr_tce_info, 32 bytes: the DMA32 window, then the embedded
 * vfio_iommu_spapr_tce_ddw_info (its fields are named `ddw.*` as C spells them).
 */
export const VFIO_IOMMU_SPAPR_TCE_INFO = defineStruct('vfio_iommu_spapr_tce_info', 32, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32', flags: SPAPR_TCE_INFO_FLAGS },
  { name: 'dma32_window_start', off: 8, type: 'u32', hex: true },
  { name: 'dma32_window_size', off: 12, type: 'u32', hex: true },
  { name: 'ddw.pgsizes', off: 16, type: 'u64', hex: true },
  { name: 'ddw.max_dynamic_windows_supported', off: 24, type: 'u32' },
  { name: 'ddw.levels', off: 28, type: 'u32' },
]);

/** vfio_iommu_spapr_register_memory (REGISTER_MEMORY and UNREGISTER_MEMORY), 24 bytes. */
export const VFIO_IOMMU_SPAPR_REGISTER_MEMORY = defineStruct('vfio_iommu_spapr_register_memory', 24, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32' },
  { name: 'vaddr', off: 8, type: 'u64', role: 'uaddr', hex: true },
  { name: 'size', off: 16, type: 'u64', hex: true },
]);

/** vfio_iommu_spapr_tce_create, 40 bytes; start_addr is written back. */
export const VFIO_IOMMU_SPAPR_TCE_CREATE = defineStruct('vfio_iommu_spapr_tce_create', 40, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32' },
  { name: 'page_shift', off: 8, type: 'u32' },
  { name: '__resv1', off: 12, type: 'u32', role: 'pad' },
  { name: 'window_size', off: 16, type: 'u64', hex: true },
  { name: 'levels', off: 24, type: 'u32' },
  { name: '__resv2', off: 28, type: 'u32', role: 'pad' },
  { name: 'start_addr', off: 32, type: 'u64', hex: true },
]);

/** vfio_iommu_spapr_tce_remove, 16 bytes. */
export const VFIO_IOMMU_SPAPR_TCE_REMOVE = defineStruct('vfio_iommu_spapr_tce_remove', 16, [
  { name: 'argsz', off: 0, type: 'u32' },
  { name: 'flags', off: 4, type: 'u32' },
  { name: 'start_addr', off: 8, type: 'u64', hex: true },
]);
