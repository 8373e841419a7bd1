// The VFIO ioctl requests (reference/abi.md §2.2). Every request is `_IO(';', 100 + n)`:
// no size or direction is encoded, so several requests share a number and the fd kind
// decides which one it is (0x3b70 is IOMMU_GET_INFO on a container, GET_PCI_HOT_RESET_INFO on
// a device). Short names resolve the same way.

import type { FileKind } from './fd-kind.js';
import {
  VFIO_CONTAINER_FD,
  VFIO_DEVICE_INFO,
  VFIO_GROUP_STATUS,
  VFIO_IOMMU_TYPE1_DMA_MAP,
  VFIO_IOMMU_TYPE1_DMA_UNMAP,
  VFIO_IOMMU_TYPE1_DIRTY_BITMAP,
  VFIO_IOMMU_TYPE1_INFO,
  VFIO_IRQ_INFO,
  VFIO_IRQ_SET,
  VFIO_DEVICE_IOEVENTFD,
  VFIO_DEVICE_FEATURE,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
  VFIO_PCI_HOT_RESET,
  VFIO_PCI_HOT_RESET_INFO,
  VFIO_REGION_INFO,
  VFIO_IOMMU_SPAPR_TCE_INFO,
  VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
  VFIO_IOMMU_SPAPR_TCE_CREATE,
  VFIO_IOMMU_SPAPR_TCE_REMOVE,
} from './structs.js';
import type { StructDef } from './struct.js';
import {
  IOMMUFD_CMDS,
  iommufdIO,
  IOMMU_DESTROY,
  IOMMU_HW_INFO,
  IOMMU_HWPT_ALLOC,
  IOMMU_HW_QUEUE_ALLOC,
  IOMMU_FAULT_ALLOC,
  IOMMU_IOAS_MAP_FILE,
  IOMMU_HWPT_GET_DIRTY_BITMAP,
  IOMMU_HWPT_INVALIDATE,
  IOMMU_HWPT_SET_DIRTY_TRACKING,
  IOMMU_IOAS_CHANGE_PROCESS,
  IOMMU_VDEVICE_ALLOC,
  IOMMU_VEVENTQ_ALLOC,
  IOMMU_VIOMMU_ALLOC,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_UNMAP,
  IOMMU_OPTION,
  IOMMU_VFIO_IOAS,
  type IommufdCmd,
} from './iommufd.js';

export const VFIO_TYPE = 0x3b; // ';'
export const VFIO_BASE = 100;
export const VFIO_API_VERSION = 0;

/** _IO(';', VFIO_BASE + n) */
export const vfioIO = (n: number): number => (VFIO_TYPE << 8) | (VFIO_BASE + n);

export type ArgKind =
  /** No argument (the value is ignored). */
  | 'none'
  /** An integer passed by value (CHECK_EXTENSION, SET_IOMMU). */
  | 'value'
  /** A pointer to a struct that starts with argsz (or a fixed-size struct). */
  | 'struct'
  /** A pointer to a NUL-terminated string (GROUP_GET_DEVICE_FD). */
  | 'string'
  /** A request the table does not know: an optional value, 0 when none is given. */
  | 'unknown';

export interface RequestDef {
  name: string;
  short: string;
  nr: number;
  fd: Extract<FileKind, 'container' | 'group' | 'device' | 'iommufd'>;
  arg: ArgKind;
  struct?: StructDef;
  /** The call returns a new fd (GROUP_GET_DEVICE_FD). */
  returnsFd?: boolean;
  /** A struct field the call writes a new fd into (IOMMU_FAULT_QUEUE_ALLOC's out_fault_fd), and its kind. */
  outFd?: { field: string; kind: FileKind };
  /**
   * For container requests a backend answers: which backend this meaning belongs to
   * ('type1', 'spapr'). One number means different requests per backend (112 is type1's
   * IOMMU_GET_INFO and spapr's SPAPR_TCE_GET_INFO; 117 is DIRTY_PAGES or REGISTER_MEMORY).
   * Absent: the request means the same whatever the backend.
   */
  backend?: string;
  /** Other short names it answers to on its kind of fd (and backend). */
  aliases?: string[];
}

const R = (
  name: string,
  n: number,
  fd: RequestDef['fd'],
  arg: ArgKind,
  struct?: StructDef,
  extra: Partial<RequestDef> = {},
): RequestDef =>
  // Object.assign, not `...extra` in the literal: a literal that ends with a spread is built
  // property by property through the runtime, kilobytes per request at load.
  Object.assign<RequestDef, Partial<RequestDef>>(
    { name, short: name.replace(/^VFIO_(IOMMU_SPAPR_|IOMMU_|GROUP_|DEVICE_PCI_|DEVICE_)?/, ''), nr: vfioIO(n), fd, arg, struct },
    extra,
  );

/** An iommufd command on /dev/iommu (IOMMUFD_TYPE ';', from IOMMUFD_CMD_BASE 0x80). */
const I = (name: IommufdCmd, struct?: StructDef): RequestDef => {
  const def: RequestDef = { name, short: name.replace(/^IOMMU_/, ''), nr: iommufdIO(name), fd: 'iommufd', arg: struct ? 'struct' : 'unknown', struct };
  if (name === 'IOMMU_FAULT_QUEUE_ALLOC') def.outFd = { field: 'out_fault_fd', kind: 'fault' };
  return def;
};

/** The iommufd commands the model has structs for; the others by number, so they answer as the kernel does. */
const IOMMUFD_STRUCTS = new Map<IommufdCmd, StructDef>([
  ['IOMMU_DESTROY', IOMMU_DESTROY],
  ['IOMMU_IOAS_ALLOC', IOMMU_IOAS_ALLOC],
  ['IOMMU_IOAS_ALLOW_IOVAS', IOMMU_IOAS_ALLOW_IOVAS],
  ['IOMMU_IOAS_COPY', IOMMU_IOAS_COPY],
  ['IOMMU_IOAS_IOVA_RANGES', IOMMU_IOAS_IOVA_RANGES],
  ['IOMMU_IOAS_MAP', IOMMU_IOAS_MAP],
  ['IOMMU_IOAS_UNMAP', IOMMU_IOAS_UNMAP],
  ['IOMMU_OPTION', IOMMU_OPTION],
  ['IOMMU_VFIO_IOAS', IOMMU_VFIO_IOAS],
  ['IOMMU_HWPT_ALLOC', IOMMU_HWPT_ALLOC],
  ['IOMMU_GET_HW_INFO', IOMMU_HW_INFO],
  ['IOMMU_HWPT_SET_DIRTY_TRACKING', IOMMU_HWPT_SET_DIRTY_TRACKING],
  ['IOMMU_HWPT_GET_DIRTY_BITMAP', IOMMU_HWPT_GET_DIRTY_BITMAP],
  ['IOMMU_HWPT_INVALIDATE', IOMMU_HWPT_INVALIDATE],
  ['IOMMU_FAULT_QUEUE_ALLOC', IOMMU_FAULT_ALLOC],
  ['IOMMU_IOAS_MAP_FILE', IOMMU_IOAS_MAP_FILE],
  ['IOMMU_VIOMMU_ALLOC', IOMMU_VIOMMU_ALLOC],
  ['IOMMU_VDEVICE_ALLOC', IOMMU_VDEVICE_ALLOC],
  ['IOMMU_IOAS_CHANGE_PROCESS', IOMMU_IOAS_CHANGE_PROCESS],
  ['IOMMU_VEVENTQ_ALLOC', IOMMU_VEVENTQ_ALLOC],
  ['IOMMU_HW_QUEUE_ALLOC', IOMMU_HW_QUEUE_ALLOC],
]);

export const REQUESTS: readonly RequestDef[] = [
  R('VFIO_GET_API_VERSION', 0, 'container', 'none'),
  R('VFIO_CHECK_EXTENSION', 1, 'container', 'value'),
  R('VFIO_SET_IOMMU', 2, 'container', 'value'),
  R('VFIO_GROUP_GET_STATUS', 3, 'group', 'struct', VFIO_GROUP_STATUS),
  R('VFIO_GROUP_SET_CONTAINER', 4, 'group', 'struct', VFIO_CONTAINER_FD),
  R('VFIO_GROUP_UNSET_CONTAINER', 5, 'group', 'none'),
  R('VFIO_GROUP_GET_DEVICE_FD', 6, 'group', 'string', undefined, { returnsFd: true }),
  R('VFIO_DEVICE_GET_INFO', 7, 'device', 'struct', VFIO_DEVICE_INFO),
  R('VFIO_DEVICE_GET_REGION_INFO', 8, 'device', 'struct', VFIO_REGION_INFO),
  R('VFIO_DEVICE_GET_IRQ_INFO', 9, 'device', 'struct', VFIO_IRQ_INFO),
  R('VFIO_DEVICE_SET_IRQS', 10, 'device', 'struct', VFIO_IRQ_SET),
  R('VFIO_DEVICE_RESET', 11, 'device', 'none'),
  R('VFIO_IOMMU_GET_INFO', 12, 'container', 'struct', VFIO_IOMMU_TYPE1_INFO, { backend: 'type1' }),
  R('VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', 12, 'device', 'struct', VFIO_PCI_HOT_RESET_INFO),
  R('VFIO_IOMMU_MAP_DMA', 13, 'container', 'struct', VFIO_IOMMU_TYPE1_DMA_MAP),
  R('VFIO_IOMMU_UNMAP_DMA', 14, 'container', 'struct', VFIO_IOMMU_TYPE1_DMA_UNMAP),
  R('VFIO_IOMMU_DIRTY_PAGES', 17, 'container', 'struct', VFIO_IOMMU_TYPE1_DIRTY_BITMAP, { backend: 'type1' }),
  R('VFIO_IOMMU_ENABLE', 15, 'container', 'none', undefined, { backend: 'spapr' }),
  R('VFIO_IOMMU_DISABLE', 16, 'container', 'none', undefined, { backend: 'spapr' }),
  R('VFIO_DEVICE_PCI_HOT_RESET', 13, 'device', 'struct', VFIO_PCI_HOT_RESET),
  R('VFIO_DEVICE_IOEVENTFD', 16, 'device', 'struct', VFIO_DEVICE_IOEVENTFD),
  R('VFIO_DEVICE_FEATURE', 17, 'device', 'struct', VFIO_DEVICE_FEATURE),
  // The device cdev's (6.6): on a group-opened device fd they reach the core too (BIND answers
  // -EINVAL there; ATTACH/DETACH go to the driver, -ENOTTY).
  R('VFIO_DEVICE_BIND_IOMMUFD', 18, 'device', 'struct', VFIO_DEVICE_BIND_IOMMUFD),
  R('VFIO_DEVICE_ATTACH_IOMMUFD_PT', 19, 'device', 'struct', VFIO_DEVICE_ATTACH_IOMMUFD_PT),
  R('VFIO_DEVICE_DETACH_IOMMUFD_PT', 20, 'device', 'struct', VFIO_DEVICE_DETACH_IOMMUFD_PT),
  // On a spapr container, GET_INFO is this one (the same number as type1's IOMMU_GET_INFO).
  R('VFIO_IOMMU_SPAPR_TCE_GET_INFO', 12, 'container', 'struct', VFIO_IOMMU_SPAPR_TCE_INFO, { backend: 'spapr', aliases: ['GET_INFO'] }),
  R('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', 17, 'container', 'struct', VFIO_IOMMU_SPAPR_REGISTER_MEMORY, { backend: 'spapr' }),
  R('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', 18, 'container', 'struct', VFIO_IOMMU_SPAPR_REGISTER_MEMORY, { backend: 'spapr' }),
  R('VFIO_IOMMU_SPAPR_TCE_CREATE', 19, 'container', 'struct', VFIO_IOMMU_SPAPR_TCE_CREATE, { backend: 'spapr' }),
  R('VFIO_IOMMU_SPAPR_TCE_REMOVE', 20, 'container', 'struct', VFIO_IOMMU_SPAPR_TCE_REMOVE, { backend: 'spapr' }),
  ...IOMMUFD_CMDS.map((c) => I(c, IOMMUFD_STRUCTS.get(c))),
];

/** The number of a request by its full name (for handlers' switch statements). */
export function requestNr(name: string): number {
  const r = REQUESTS.find((x) => x.name === name);
  if (!r) throw new Error(`no request ${name}`);
  return r.nr;
}

export function shortName(def: RequestDef): string {
  return def.short;
}

/** The backend whose names a container without one yet answers to. */
export const DEFAULT_BACKEND = 'type1';

/** The backends container requests are spelled for (`decode --backend`). */
export const BACKENDS: readonly string[] = [...new Set([DEFAULT_BACKEND, ...REQUESTS.flatMap((r) => (r.backend ? [r.backend] : []))])];

/** A request means something for this backend (`undefined`: the container has none yet). */
const forBackend = (r: RequestDef, backend?: string): boolean => !r.backend || r.backend === (backend ?? DEFAULT_BACKEND);

/**
 * Requests by name, upper-cased: each full name, and every other name a request answers to
 * (its short name, its name without VFIO_, its aliases), which several may share. Built on
 * the first lookup, so a start-up that resolves no request builds none (issue 8: a Map for
 * request names, and no tables at load that the first line does not need).
 */
interface RequestNames {
  full: ReadonlyMap<string, RequestDef>;
  other: ReadonlyMap<string, readonly RequestDef[]>;
}
let namesByCase: RequestNames | undefined;

function namesOf(): RequestNames {
  if (namesByCase) return namesByCase;
  const full = new Map<string, RequestDef>();
  const other = new Map<string, RequestDef[]>();
  for (const r of REQUESTS) {
    full.set(r.name.toUpperCase(), r);
    for (const n of new Set([r.short, r.name.toUpperCase().replace(/^VFIO_/, ''), ...(r.aliases ?? [])])) {
      const list = other.get(n);
      if (list) list.push(r);
      else other.set(n, [r]);
    }
  }
  return (namesByCase = { full, other });
}

/**
 * A request by full name (`VFIO_IOMMU_GET_INFO`), or by short name for a kind of fd
 * (`GET_INFO`) and, on a container, its backend.
 */
export function resolveRequest(name: string, fd?: FileKind, backend?: string): RequestDef | undefined {
  const upper = name.toUpperCase();
  const { full, other } = namesOf();
  const exact = full.get(upper);
  if (exact) return exact;
  let found: RequestDef | undefined;
  for (const r of other.get(upper) ?? []) {
    if ((fd && r.fd !== fd) || (fd === 'container' && !forBackend(r, backend))) continue;
    if (found) return undefined; // ambiguous
    found = r;
  }
  return found;
}

/** The request a number means on a kind of fd (the kernel's own dispatch by fd type and backend). */
export function requestByNr(nr: number, fd: FileKind, backend?: string): RequestDef | undefined {
  return REQUESTS.find((r) => r.nr === nr && r.fd === fd && (fd !== 'container' || forBackend(r, backend)));
}

export function requestNames(fd?: FileKind, backend?: string): string[] {
  return REQUESTS.filter((r) => (!fd || r.fd === fd) && (fd !== 'container' || forBackend(r, backend))).map((r) => r.name);
}

// ---- extensions (CHECK_EXTENSION / SET_IOMMU arguments) -------------------------------------

export const EXTENSIONS = {
  prefix: 'VFIO_',
  bits: [
    ['TYPE1_IOMMU', 1n],
    ['SPAPR_TCE_IOMMU', 2n],
    ['TYPE1v2_IOMMU', 3n],
    ['DMA_CC_IOMMU', 4n],
    ['EEH', 5n],
    ['TYPE1_NESTING_IOMMU', 6n],
    ['SPAPR_TCE_v2_IOMMU', 7n],
    ['NOIOMMU_IOMMU', 8n],
    ['UNMAP_ALL', 9n],
    ['UPDATE_VADDR', 10n],
  ],
} as const;

export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_SPAPR_TCE_IOMMU = 2;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_DMA_CC_IOMMU = 4;
export const VFIO_EEH = 5;
export const VFIO_TYPE1_NESTING_IOMMU = 6;
export const VFIO_SPAPR_TCE_v2_IOMMU = 7;
export const VFIO_NOIOMMU_IOMMU = 8;
export const VFIO_UNMAP_ALL = 9;
export const VFIO_UPDATE_VADDR = 10;

/** `TYPE1v2`, `TYPE1v2_IOMMU`, `VFIO_TYPE1v2_IOMMU` or a number → the extension id. */
export function resolveExtension(text: string): number | undefined {
  const t = text.toUpperCase().replace(/^VFIO_/, '');
  for (const [name, v] of EXTENSIONS.bits) {
    const n = name.toUpperCase();
    if (t === n || `${t}_IOMMU` === n) return Number(v);
  }
  return undefined;
}

export function extensionName(id: number): string {
  const e = EXTENSIONS.bits.find(([, v]) => Number(v) === id);
  return e ? `VFIO_${e[0]}` : String(id);
}
