// ixgbe's SR-IOV side (drivers/net/ethernet/intel/ixgbe/ixgbe_sriov.c, ixgbe_main.c): its
// sriov_configure, and what its probe and remove do to SR-IOV.
//
//   ixgbe_probe              pci_sriov_set_totalvfs(pdev, IXGBE_MAX_VFS_DRV_LIMIT): 63.
//   ixgbe_pci_sriov_enable   "SR-IOV enabled with %d VFs" (netdev_info, printed before the PCI
//                            core is asked), then pci_enable_sriov; failure: "Failed to enable
//                            PCI sriov: %d" and that error.
//   ixgbe_disable_sriov      refuses only while VFs are "assigned" (PCI_DEV_FLAGS_ASSIGNED,
//                            which vfio-pci never sets); ixgbe_remove calls it.
//
// Not modelled: ixgbe_sriov_reinit's queue/PHC lines (newer kernels, when the interface is up).

import type { PciDriverSriovOps, PciSriov, SriovPfApi } from '../../../pci/iov.js';
import type { Blocked } from '../../../would-block.js';
import { netdevInfo } from '../netdev.js';

/** IXGBE_MAX_VFS_DRV_LIMIT. */
const IXGBE_MAX_VFS_DRV_LIMIT = 63;

/** ixgbe_pci_sriov_configure(). */
function ixgbeSriovConfigure(pci: SriovPfApi, s: PciSriov, n: number): number | Blocked {
  // ixgbe_pci_sriov_disable() → ixgbe_disable_sriov(): refuses only while VFs are assigned
  // (PCI_DEV_FLAGS_ASSIGNED, which vfio-pci never sets).
  if (n === 0) return pci.disable(s);
  // ixgbe_pci_sriov_enable(): pre-existing VFs (unreachable from sysfs, which answers -EBUSY
  // first) are torn down.
  if (s.numVfs === n) return n;
  if (s.numVfs) {
    const r = pci.disable(s);
    if (r !== 0) return r;
  }
  // The TC/pool limit (63 with one TC and no macvlan offload) is never the binding one: the
  // PCI core's -ERANGE against driver_max_VFs (63) comes first.
  netdevInfo(pci.log, s.pf, `SR-IOV enabled with ${n} VFs`);
  const err = pci.enable(s, n);
  if (err) {
    pci.devWarn(s, `Failed to enable PCI sriov: ${err}`);
    return err;
  }
  return n;
}

/** ixgbe as the PCI core's SR-IOV sees it. */
export const IXGBE_SRIOV: PciDriverSriovOps = {
  sriovConfigure: ixgbeSriovConfigure,
  maxVfsAtProbe: IXGBE_MAX_VFS_DRV_LIMIT,
  disablesVfsOnRemove: true,
};
