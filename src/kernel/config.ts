// The Kconfig choices that change what a VFIO user sees. The era says what a kernel version
// can do; the configuration says what this build of it has, and distributions differ: Debian
// builds 7.2 without CONFIG_IOMMUFD, other builds serve /dev/vfio/vfio from iommufd
// (CONFIG_IOMMUFD_VFIO_CONTAINER, which Kconfig makes exclusive with CONFIG_VFIO_CONTAINER).

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
