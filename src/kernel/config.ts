// The Kconfig choices that change what a VFIO user sees. The era says what a kernel version
// can do; the configuration says what this build of it has, and distributions differ: Debian
// builds 7.2 without CONFIG_IOMMUFD, other builds serve /dev/vfio/vfio from iommufd
// (CONFIG_IOMMUFD_VFIO_CONTAINER, which Kconfig makes exclusive with CONFIG_VFIO_CONTAINER).

import type { Era } from './era.js';

export interface KernelConfig {
  /** CONFIG_IOMMUFD: /dev/iommu exists. */
  iommufd: boolean;
  /**
   * Who serves /dev/vfio/vfio: the legacy container with its type1/spapr backends
   * (CONFIG_VFIO_CONTAINER), or iommufd's compat layer (CONFIG_IOMMUFD_VFIO_CONTAINER).
   */
  vfioContainer: 'legacy' | 'iommufd';
  /** CONFIG_VFIO_DEVICE_CDEV: /dev/vfio/devices/vfioN. */
  deviceCdev: boolean;
}

/** The configuration every era before iommufd has, and Debian's kernels keep. */
export const LEGACY_CONFIG: KernelConfig = { iommufd: false, vfioContainer: 'legacy', deviceCdev: false };

/** The named configurations a scenario's `kernel ERA config=NAME` (or --kernel) chooses from. */
export const KERNEL_CONFIGS: ReadonlyMap<string, { config: KernelConfig; kconfig: string }> = new Map([
  ['legacy', { config: LEGACY_CONFIG, kconfig: 'CONFIG_VFIO_CONTAINER=y, CONFIG_IOMMUFD unset (Debian)' }],
  [
    'iommufd',
    {
      config: { iommufd: true, vfioContainer: 'legacy', deviceCdev: true },
      kconfig: 'CONFIG_IOMMUFD=y, CONFIG_VFIO_DEVICE_CDEV=y (6.6+), CONFIG_VFIO_CONTAINER=y',
    },
  ],
  [
    'iommufd-compat',
    {
      config: { iommufd: true, vfioContainer: 'iommufd', deviceCdev: true },
      kconfig: 'CONFIG_IOMMUFD=y, CONFIG_IOMMUFD_VFIO_CONTAINER=y, CONFIG_VFIO_DEVICE_CDEV=y (6.6+), CONFIG_VFIO_CONTAINER unset',
    },
  ],
]);

export const DEFAULT_CONFIG_NAME = 'legacy';

/**
 * Why `name` is no configuration `era` can be built with, or nothing. `asked` is the kernel as
 * the user wrote it (6.2 runs as the 6.1 row, which has no iommufd).
 */
export function configProblem(name: string, era: Era, asked = era.name): string | undefined {
  const c = KERNEL_CONFIGS.get(name);
  if (!c) return `unknown kernel configuration "${name}": expected one of ${[...KERNEL_CONFIGS.keys()].join(', ')}`;
  if (c.config.iommufd && !era.iommufd) {
    const as = asked === era.name ? '' : ` (modelled as ${era.name})`;
    return `kernel ${asked}${as} has no iommufd: config=${name} needs a modelled era with CONFIG_IOMMUFD (iommufd came in 6.2; 6.3 is the first modelled era with it)`;
  }
  return undefined;
}

/**
 * The configuration `name` as `era` builds it (the device cdev only where the era has it), or
 * the default (Debian's, legacy) when no name is given. The name must have passed configProblem.
 */
export function resolveConfig(name: string | undefined, era: Era): KernelConfig {
  const c = KERNEL_CONFIGS.get(name ?? DEFAULT_CONFIG_NAME)?.config ?? LEGACY_CONFIG;
  // Object.assign, not `{ ...c, deviceCdev }`: every boot runs this (hw/pci/device.ts setup).
  return Object.assign({}, c, { deviceCdev: c.deviceCdev && era.vfioDeviceCdev });
}

/** The name of a configuration (what config= would choose it by). */
export function configName(c: KernelConfig): string {
  for (const [name, v] of KERNEL_CONFIGS) if (v.config.iommufd === c.iommufd && v.config.vfioContainer === c.vfioContainer) return name;
  return DEFAULT_CONFIG_NAME;
}
