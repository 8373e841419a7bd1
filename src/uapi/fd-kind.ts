// The kinds of file a VFIO user holds: they decide what a request number means (abi.md §2.2:
// the ioctl number encodes no size, so 0x3b70 is IOMMU_GET_INFO on a container and
// GET_PCI_HOT_RESET_INFO on a device).

// 'iommufd' is /dev/iommu (include/uapi/linux/iommufd.h: IOMMUFD_TYPE is also ';', from 0x80 up);
// 'fault' an iommufd fault queue's fd (anon_inode:[iommufd-pgfault], IOMMU_FAULT_QUEUE_ALLOC);
// 'memfd' a memfd_create(2) file (shmem: what IOMMU_IOAS_MAP_FILE pins).
export type FileKind = 'container' | 'group' | 'device' | 'eventfd' | 'sysfs' | 'iommufd' | 'fault' | 'memfd';
