// ixgbevf (drivers/net/ethernet/intel/ixgbevf): the VF driver the modelled kernels autoprobe
// on the X540's and 82599's VFs. It uses the DMA API, so a VF it drives has a kernel DMA owner
// until the VF is bound to vfio-pci. Its probe lines ("enabling device", the random MAC
// address, "Intel(R) X540 Virtual Function") are not modelled.

/** ixgbevf_pci_tbl: the X540 VF and the 82599 VF. */
export const IXGBEVF_IDS: readonly string[] = ['8086:1515', '8086:10ed'];
