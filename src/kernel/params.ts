// Module parameters, as /sys/module/MODULE/parameters/NAME shows and takes them. Values are
// parsed the way the kernel's param_ops parse them (bool: y/Y/1/n/N/0; uint: decimal/hex).

import type { Era } from './era.js';
import { EINVAL } from '../uapi/errno.js';

type ParamType = 'bool' | 'uint';

/** What a write must look like, by type, for a user who got it wrong. */
const EXPECTS: Record<ParamType, string> = {
  bool: 'a bool: Y, N, 1 or 0 (also y, n, on, off)',
  uint: 'a number from 0 to 4294967295 (decimal or 0x hex)',
};

interface ParamDef {
  module: string;
  name: string;
  type: ParamType;
  default: bigint | boolean;
  perm: number;
  description: string;
  /** The era switch the parameter needs (it did not exist before). */
  since?: 'dmaEntryLimit' | 'vfioPciSriovConfigure' | 'iommufd';
}

/** vfio_iommu_type1.c module_param()s (abi.md §3.6); descriptions verbatim, typo included. */
const PARAMS: ParamDef[] = [
  {
    module: 'vfio_iommu_type1',
    name: 'allow_unsafe_interrupts',
    type: 'bool',
    default: false,
    perm: 0o644,
    description: 'Enable VFIO IOMMU support for on platforms without interrupt remapping support.',
  },
  {
    module: 'vfio_iommu_type1',
    name: 'disable_hugepages',
    type: 'bool',
    default: false,
    perm: 0o644,
    description: 'Disable VFIO IOMMU support for IOMMU hugepages.',
  },
  {
    module: 'vfio_iommu_type1',
    name: 'dma_entry_limit',
    type: 'uint',
    default: 65535n,
    perm: 0o644,
    description: 'Maximum number of user DMA mappings per container (65535).',
    since: 'dmaEntryLimit',
  },
  {
    // vfio_pci.c (5.7+); the two spaces after the first sentence are the kernel's.
    module: 'vfio_pci',
    name: 'enable_sriov',
    since: 'vfioPciSriovConfigure',
    type: 'bool',
    default: false,
    perm: 0o644,
    description:
      'Enable support for SR-IOV configuration.  Enabling SR-IOV on a PF typically requires support of the userspace PF driver, enabling VFs without such support may result in non-functional VFs or PF.',
  },
  {
    // drivers/iommu/iommufd/device.c: module_param(allow_unsafe_interrupts, bool, S_IRUGO | S_IWUSR).
    module: 'iommufd',
    name: 'allow_unsafe_interrupts',
    since: 'iommufd',
    type: 'bool',
    default: false,
    perm: 0o644,
    description: 'Allow IOMMUFD to bind to devices even if the platform cannot isolate the MSI interrupt window. Enabling this is a security weakness.',
  },
];

export class ModuleParams {
  private readonly values = new Map<string, bigint | boolean>();

  /**
   * The parameters of the loaded modules, as this era has them. Without arguments, every
   * parameter the model knows (for tests of the parameter table itself).
   */
  constructor(modules?: readonly string[], era?: Era) {
    for (const p of PARAMS) {
      if (modules && !modules.includes(p.module)) continue;
      if (era && p.since && !era[p.since]) continue;
      this.values.set(`${p.module}.${p.name}`, p.default);
    }
  }

  static known(): string[] {
    return PARAMS.map((p) => `${p.module}.${p.name}`);
  }

  /** The parameters this kernel has (module.name). */
  keys(): string[] {
    return [...this.values.keys()];
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  bool(key: string): boolean {
    return this.values.get(key) === true;
  }

  uint(key: string): bigint {
    const v = this.values.get(key);
    if (typeof v === 'bigint') return v;
    // A parameter this kernel does not have reads as its default.
    const def = PARAMS.find((p) => `${p.module}.${p.name}` === key);
    return typeof def?.default === 'bigint' ? def.default : 0n;
  }

  /** Writes a value as text (a sysfs write). 0 or -EINVAL (-ENOENT for an unknown key is the caller's). */
  set(key: string, text: string): number {
    const def = PARAMS.find((p) => `${p.module}.${p.name}` === key);
    if (!def || !this.values.has(key)) return -EINVAL;
    const t = text.trim();
    if (def.type === 'bool') {
      // param_set_bool → kstrtobool: first character y/Y/1 or n/N/0 (also "on"/"off").
      if (/^(y|Y|1|on)/.test(t)) this.values.set(key, true);
      else if (/^(n|N|0|of)/.test(t)) this.values.set(key, false);
      else return -EINVAL;
      return 0;
    }
    if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) return -EINVAL;
    const v = BigInt(t);
    if (v > 0xffff_ffffn) return -EINVAL;
    this.values.set(key, v);
    return 0;
  }

  /** What a write of the parameter must look like (for error messages). */
  expects(key: string): string | undefined {
    const def = PARAMS.find((p) => `${p.module}.${p.name}` === key);
    return def && EXPECTS[def.type];
  }

  /** The text a read of the sysfs file returns. */
  text(key: string): string | undefined {
    const v = this.values.get(key);
    if (v === undefined) return undefined;
    return typeof v === 'boolean' ? (v ? 'Y\n' : 'N\n') : `${v}\n`;
  }
}

export const ALLOW_UNSAFE = 'vfio_iommu_type1.allow_unsafe_interrupts';
export const DMA_ENTRY_LIMIT = 'vfio_iommu_type1.dma_entry_limit';
export const DISABLE_HUGEPAGES = 'vfio_iommu_type1.disable_hugepages';
