// The iommufd uapi (include/uapi/linux/iommufd.h) as struct tables. Every command is
// _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + n): like VFIO's, the number encodes no size; the struct
// starts with a u32 `size` that the kernel checks against the command's min_size
// (offsetofend of its last required field) and copy_struct_from_user()s (iommufd/main.c).
// Offsets are LP64; __aligned_u64 fields sit on 8-byte boundaries.

import { defineStruct, type FieldDef, type FlagTable, type StructDef } from './struct.js';
import { VFIO_DEVICE_BIND_IOMMUFD } from './structs.js';

const flags = (prefix: string, bits: [string, bigint][]): FlagTable => ({ prefix, bits });
// Object.assign, not a literal ending in `...extra`: that one is built through the runtime,
// property by property, a kilobyte or more a field at load.
const u32 = (name: string, off: number, extra?: Partial<FieldDef>): FieldDef => Object.assign<FieldDef, Partial<FieldDef> | undefined>({ name, off, type: 'u32' }, extra);
const u64 = (name: string, off: number, extra?: Partial<FieldDef>): FieldDef =>
  Object.assign<FieldDef, Partial<FieldDef> | undefined>({ name, off, type: 'u64', hex: true }, extra);
const pad = (name: string, off: number, type: FieldDef['type'] = 'u32'): FieldDef => ({ name, off, type, role: 'pad' });
/** Consecutive u32 fields from `off`. */
const u32s = (off: number, ...names: string[]): FieldDef[] => names.map((n, i) => u32(n, off + 4 * i));

export const IOMMUFD_TYPE = 0x3b; // ';'
export const IOMMUFD_CMD_BASE = 0x80;

/** enum iommufd_cmd, in order from IOMMUFD_CMD_BASE (7.2). */
export const IOMMUFD_CMDS = [
  'IOMMU_DESTROY',
  'IOMMU_IOAS_ALLOC',
  'IOMMU_IOAS_ALLOW_IOVAS',
  'IOMMU_IOAS_COPY',
  'IOMMU_IOAS_IOVA_RANGES',
  'IOMMU_IOAS_MAP',
  'IOMMU_IOAS_UNMAP',
  'IOMMU_OPTION',
  'IOMMU_VFIO_IOAS',
  'IOMMU_HWPT_ALLOC',
  'IOMMU_GET_HW_INFO',
  'IOMMU_HWPT_SET_DIRTY_TRACKING',
  'IOMMU_HWPT_GET_DIRTY_BITMAP',
  'IOMMU_HWPT_INVALIDATE',
  'IOMMU_FAULT_QUEUE_ALLOC',
  'IOMMU_IOAS_MAP_FILE',
  'IOMMU_VIOMMU_ALLOC',
  'IOMMU_VDEVICE_ALLOC',
  'IOMMU_IOAS_CHANGE_PROCESS',
  'IOMMU_VEVENTQ_ALLOC',
  'IOMMU_HW_QUEUE_ALLOC',
] as const;

export type IommufdCmd = (typeof IOMMUFD_CMDS)[number];

/** _IO(IOMMUFD_TYPE, IOMMUFD_CMD_x). */
export const iommufdIO = (name: IommufdCmd): number => (IOMMUFD_TYPE << 8) | (IOMMUFD_CMD_BASE + IOMMUFD_CMDS.indexOf(name));

// ---- flag and value tables ---------------------------------------------------------------------

export const IOAS_MAP_FLAGS = flags('IOMMU_IOAS_MAP_', [
  ['FIXED_IOVA', 1n << 0n],
  ['WRITEABLE', 1n << 1n],
  ['READABLE', 1n << 2n],
]);

export const OPTION_IDS = flags('IOMMU_OPTION_', [
  ['RLIMIT_MODE', 0n],
  ['HUGE_PAGES', 1n],
  // The proposed series (Nicolin Chen, "iommufd: Add IOMMU_OPTION_SW_MSI_START/SIZE", v2).
  ['SW_MSI_START', 2n],
  ['SW_MSI_SIZE', 3n],
]);

export const OPTION_OPS = flags('IOMMU_OPTION_OP_', [
  ['SET', 0n],
  ['GET', 1n],
]);

export const VFIO_IOAS_OPS = flags('IOMMU_VFIO_IOAS_', [
  ['GET', 0n],
  ['SET', 1n],
  ['CLEAR', 2n],
]);

export const HWPT_ALLOC_FLAGS = flags('IOMMU_HWPT_ALLOC_', [
  ['NEST_PARENT', 1n << 0n],
  ['DIRTY_TRACKING', 1n << 1n],
  ['FAULT_ID_VALID', 1n << 2n],
  ['PASID', 1n << 3n],
]);

/** enum iommu_hw_info_type as 7.2's uapi header has it (DEFAULT is NONE's value, 0). */
export const HW_INFO_TYPES = flags('IOMMU_HW_INFO_TYPE_', [
  ['NONE', 0n],
  ['INTEL_VTD', 1n],
  ['ARM_SMMUV3', 2n],
  ['TEGRA241_CMDQV', 3n],
  ['AMD', 4n],
]);

export const HW_CAPS = flags('IOMMU_HW_CAP_', [
  ['DIRTY_TRACKING', 1n << 0n],
  ['PCI_PASID_EXEC', 1n << 1n],
  ['PCI_PASID_PRIV', 1n << 2n],
  ['PCI_ATS_NOT_SUPPORTED', 1n << 3n],
]);

export const HW_INFO_FLAGS = flags('IOMMU_HW_INFO_FLAG_', [['INPUT_TYPE', 1n << 0n]]);

export const DIRTY_TRACKING_FLAGS = flags('IOMMU_HWPT_DIRTY_TRACKING_', [['ENABLE', 1n]]);
export const GET_DIRTY_BITMAP_FLAGS = flags('IOMMU_HWPT_GET_DIRTY_BITMAP_', [['NO_CLEAR', 1n]]);

// ---- structs -----------------------------------------------------------------------------------

export const IOMMU_DESTROY = defineStruct('iommu_destroy', 8, [u32('size', 0), u32('id', 4)]);

export const IOMMU_IOAS_ALLOC = defineStruct('iommu_ioas_alloc', 12, [u32('size', 0), u32('flags', 4), u32('out_ioas_id', 8)]);

export const IOMMU_IOVA_RANGE = defineStruct('iommu_iova_range', 16, [u64('start', 0), u64('last', 8)]);

export const IOMMU_IOAS_IOVA_RANGES = defineStruct('iommu_ioas_iova_ranges', 32, [
  u32('size', 0),
  u32('ioas_id', 4),
  u32('num_iovas', 8),
  pad('__reserved', 12),
  u64('allowed_iovas', 16, { role: 'uaddr' }),
  u64('out_iova_alignment', 24),
]);

export const IOMMU_IOAS_ALLOW_IOVAS = defineStruct('iommu_ioas_allow_iovas', 24, [
  u32('size', 0),
  u32('ioas_id', 4),
  u32('num_iovas', 8),
  pad('__reserved', 12),
  u64('allowed_iovas', 16, { role: 'uaddr' }),
]);

export const IOMMU_IOAS_MAP = defineStruct('iommu_ioas_map', 40, [
  u32('size', 0),
  u32('flags', 4, { flags: IOAS_MAP_FLAGS }),
  u32('ioas_id', 8),
  pad('__reserved', 12),
  u64('user_va', 16, { role: 'uaddr' }),
  u64('length', 24),
  u64('iova', 32),
]);

/** struct iommu_ioas_map_file (6.13): `length` bytes of the file `fd` from byte `start`. */
export const IOMMU_IOAS_MAP_FILE = defineStruct('iommu_ioas_map_file', 40, [
  u32('size', 0),
  u32('flags', 4, { flags: IOAS_MAP_FLAGS }),
  u32('ioas_id', 8),
  { name: 'fd', off: 12, type: 's32', role: 'fd' },
  u64('start', 16),
  u64('length', 24),
  u64('iova', 32),
]);

/** struct iommu_fault_alloc (6.11): the fault queue's object id and its fd come back. */
export const IOMMU_FAULT_ALLOC = defineStruct('iommu_fault_alloc', 16, [...u32s(0, 'size', 'flags', 'out_fault_id', 'out_fault_fd')]);

/** struct iommu_hwpt_pgfault: one record read from a fault queue's fd. */
export const IOMMU_HWPT_PGFAULT_SIZE = 40;
/** struct iommu_hwpt_page_response: one response written to it (cookie, code). */
export const IOMMU_HWPT_PAGE_RESPONSE_SIZE = 8;

export const IOMMU_IOAS_COPY = defineStruct('iommu_ioas_copy', 40, [
  u32('size', 0),
  u32('flags', 4, { flags: IOAS_MAP_FLAGS }),
  u32('dst_ioas_id', 8),
  u32('src_ioas_id', 12),
  u64('length', 16),
  u64('dst_iova', 24),
  u64('src_iova', 32),
]);

export const IOMMU_IOAS_UNMAP = defineStruct('iommu_ioas_unmap', 24, [u32('size', 0), u32('ioas_id', 4), u64('iova', 8), u64('length', 16)]);

export const IOMMU_OPTION = defineStruct('iommu_option', 24, [
  u32('size', 0),
  u32('option_id', 4, { values: OPTION_IDS }),
  { name: 'op', off: 8, type: 'u16', values: OPTION_OPS },
  pad('__reserved', 10, 'u16'),
  u32('object_id', 12),
  u64('val64', 16),
]);

export const IOMMU_VFIO_IOAS = defineStruct('iommu_vfio_ioas', 12, [
  u32('size', 0),
  u32('ioas_id', 4),
  { name: 'op', off: 8, type: 'u16', values: VFIO_IOAS_OPS },
  pad('__reserved', 10, 'u16'),
]);

/** struct iommu_hwpt_alloc as of 6.11 (fault_id); 6.6 ended at __reserved (24), 6.7 at data_uptr (40). */
export const IOMMU_HWPT_ALLOC = defineStruct('iommu_hwpt_alloc', 48, [
  u32('size', 0),
  u32('flags', 4, { flags: HWPT_ALLOC_FLAGS }),
  u32('dev_id', 8),
  u32('pt_id', 12),
  u32('out_hwpt_id', 16),
  pad('__reserved', 20),
  u32('data_type', 24),
  u32('data_len', 28),
  u64('data_uptr', 32, { role: 'uaddr' }),
  u32('fault_id', 40),
  pad('__reserved2', 44),
]);

/**
 * struct iommu_hw_info as of 6.13 (out_max_pasid_log2 carved out of __reserved; 6.17 made
 * out_data_type a union with in_data_type). 6.6 ended at __reserved (32); 6.7 added
 * out_capabilities.
 */
export const IOMMU_HW_INFO = defineStruct('iommu_hw_info', 40, [
  u32('size', 0),
  u32('flags', 4),
  u32('dev_id', 8),
  u32('data_len', 12),
  u64('data_uptr', 16, { role: 'uaddr' }),
  u32('out_data_type', 24, { values: HW_INFO_TYPES }),
  { name: 'out_max_pasid_log2', off: 28, type: 'u8' },
  { name: '__reserved', off: 29, type: 'u8', role: 'pad' },
  { name: '__reserved1', off: 30, type: 'u16', role: 'pad' },
  u64('out_capabilities', 32, { flags: HW_CAPS }),
]);

/** struct iommu_hw_info_vtd: the VT-d capability and extended capability registers. */
export const IOMMU_HW_INFO_VTD = defineStruct('iommu_hw_info_vtd', 24, [u32('flags', 0), pad('__reserved', 4), u64('cap_reg', 8), u64('ecap_reg', 16)]);

/**
 * struct iommu_hw_info_arm_smmuv3: IDR0..5, IIDR, AIDR (40 bytes; the offsets checked against
 * 7.2's include/uapi/linux/iommufd.h with offsetof: __reserved 4, idr 8, iidr 32, aidr 36).
 */
export const IOMMU_HW_INFO_ARM_SMMUV3 = defineStruct('iommu_hw_info_arm_smmuv3', 40, [
  u32('flags', 0),
  pad('__reserved', 4),
  ...[0, 1, 2, 3, 4, 5].map((i) => u32(`idr${i}`, 8 + 4 * i, { hex: true })),
  u32('iidr', 32, { hex: true }),
  u32('aidr', 36, { hex: true }),
]);

export const IOMMU_HWPT_SET_DIRTY_TRACKING = defineStruct('iommu_hwpt_set_dirty_tracking', 16, [
  u32('size', 0),
  u32('flags', 4, { flags: DIRTY_TRACKING_FLAGS }),
  u32('hwpt_id', 8),
  pad('__reserved', 12),
]);

export const IOMMU_HWPT_GET_DIRTY_BITMAP = defineStruct('iommu_hwpt_get_dirty_bitmap', 48, [
  u32('size', 0),
  u32('hwpt_id', 4),
  u32('flags', 8, { flags: GET_DIRTY_BITMAP_FLAGS }),
  pad('__reserved', 12),
  u64('iova', 16),
  u64('length', 24),
  u64('page_size', 32),
  u64('data', 40, { role: 'uaddr' }),
]);

/** struct iommu_hwpt_invalidate (6.8): an array of driver-specific invalidation entries. */
export const IOMMU_HWPT_INVALIDATE = defineStruct('iommu_hwpt_invalidate', 32, [
  ...u32s(0, 'size', 'hwpt_id'),
  u64('data_uptr', 8, { role: 'uaddr' }),
  ...u32s(16, 'data_type', 'entry_len', 'entry_num'),
  pad('__reserved', 28),
]);

/** struct iommu_viommu_alloc (6.13, 24 bytes; data_len, __reserved, data_uptr in 6.17). */
export const IOMMU_VIOMMU_ALLOC = defineStruct('iommu_viommu_alloc', 40, [
  ...u32s(0, 'size', 'flags', 'type', 'dev_id', 'hwpt_id', 'out_viommu_id', 'data_len'),
  pad('__reserved', 28),
  u64('data_uptr', 32, { role: 'uaddr' }),
]);

/** struct iommu_vdevice_alloc (6.13). */
export const IOMMU_VDEVICE_ALLOC = defineStruct('iommu_vdevice_alloc', 24, [...u32s(0, 'size', 'viommu_id', 'dev_id', 'out_vdevice_id'), u64('virt_id', 16)]);

/** struct iommu_ioas_change_process (6.14). */
export const IOMMU_IOAS_CHANGE_PROCESS = defineStruct('iommu_ioas_change_process', 8, [u32('size', 0), pad('__reserved', 4)]);

/** struct iommu_veventq_alloc (6.15). */
export const IOMMU_VEVENTQ_ALLOC = defineStruct('iommu_veventq_alloc', 32, [
  ...u32s(0, 'size', 'flags', 'viommu_id', 'type', 'veventq_depth', 'out_veventq_id', 'out_veventq_fd'),
  pad('__reserved', 28),
]);

/** struct iommu_hw_queue_alloc (6.17). */
export const IOMMU_HW_QUEUE_ALLOC = defineStruct('iommu_hw_queue_alloc', 40, [
  ...u32s(0, 'size', 'flags', 'viommu_id', 'type', 'index', 'out_hw_queue_id'),
  u64('nesting_parent_iova', 24),
  u64('length', 32),
]);

// ---- user buffers behind pointer fields -------------------------------------------------------

/**
 * Memory a command reaches through a pointer field, besides its struct: `ptr` the field, `bytes`
 * its size from the struct's fields (`get` reads one), and `dir` whether the kernel reads it
 * (`in`), writes it (`out`) or both. exec copies these ranges between the program and the model
 * around the call (docs/exec.md, "ioctl arguments"). IOAS_MAP's user_va is not here: it is
 * pinned memory (MAPMEM), not copied.
 */
export interface UserBufferDecl {
  struct: StructDef;
  ptr: string;
  bytes: (get: (field: string) => bigint) => bigint;
  dir: 'in' | 'out' | 'inout';
}

const RANGE = BigInt(IOMMU_IOVA_RANGE.size);

export const IOMMUFD_USER_BUFFERS: readonly UserBufferDecl[] = [
  // iommufd_get_hw_info(): copy_to_user(data_uptr, data, min(data_len, the driver's length)),
  // then clear_user() of the rest of data_len.
  { struct: IOMMU_HW_INFO, ptr: 'data_uptr', bytes: (get) => get('data_len'), dir: 'out' },
  // iommufd_ioas_iova_ranges(): copy_to_user() of each allowed range while num_iovas has room.
  { struct: IOMMU_IOAS_IOVA_RANGES, ptr: 'allowed_iovas', bytes: (get) => get('num_iovas') * RANGE, dir: 'out' },
  // iommufd_ioas_allow_iovas(): copy_from_user() of each range.
  { struct: IOMMU_IOAS_ALLOW_IOVAS, ptr: 'allowed_iovas', bytes: (get) => get('num_iovas') * RANGE, dir: 'in' },
  // iommufd_hwpt_alloc(): the driver's data for a nested domain (iommu_copy_struct_from_user).
  { struct: IOMMU_HWPT_ALLOC, ptr: 'data_uptr', bytes: (get) => get('data_len'), dir: 'in' },
  // iommufd_check_iova_range() and iova_bitmap: one bit per page_size of [iova, iova+length), in
  // u64 words, read and written back (bits are set, never cleared).
  {
    struct: IOMMU_HWPT_GET_DIRTY_BITMAP,
    ptr: 'data',
    bytes: (get) => {
      const pg = get('page_size');
      if (!pg) return 0n;
      const units = (BigInt.asUintN(64, get('length') - 1n) + 1n + pg - 1n) / pg;
      return ((units + 63n) / 64n) * 8n;
    },
    dir: 'inout',
  },
  // vfio_df_ioctl_bind_iommufd() (6.17+, with VFIO_DEVICE_BIND_FLAG_TOKEN): copy_from_user() of
  // the 16-byte VF token UUID at token_uuid_ptr, for the driver's match_token_uuid.
  { struct: VFIO_DEVICE_BIND_IOMMUFD, ptr: 'token_uuid_ptr', bytes: (get) => ((get('flags') & 1n) !== 0n ? 16n : 0n), dir: 'in' },
];

/** The pointer fields of a struct, as exec copies them. */
export const userBuffersOf = (def: StructDef | undefined): readonly UserBufferDecl[] => IOMMUFD_USER_BUFFERS.filter((d) => d.struct === def);
