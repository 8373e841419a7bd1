// The part of a kernel era that decides a uapi layout: which capabilities a type1 info chain
// may hold, whether vfio_iommu_type1_info has cap_offset, and what DMA_MAP flag bit 2 is
// called. Decoding, encoding and display need these and nothing else of the kernel model;
// kernel/era.ts builds every era row on top of them.

/** The capabilities VFIO_IOMMU_GET_INFO builds, in chain order. */
export type Type1InfoCap = 'msi-geometry' | 'msi-resv' | 'migration' | 'dma-avail' | 'iova-range';

/** What DMA_MAP flag bit 2 (value 4) means. */
export type MapFlagBit2 = 'none' | 'reserved-msi' | 'vaddr';

export interface UapiLayout {
  name: string;
  type1InfoCaps: Type1InfoCap[];
  /** struct vfio_iommu_type1_info has cap_offset (and is 24 bytes). */
  type1InfoHasCapOffset: boolean;
  mapFlagBit2: MapFlagBit2;
}
