// A system call the real kernel would not return from until something else happens: a VF
// removal waiting for its VFIO user to close the device, an attach waiting for invalidated
// vaddrs to be updated. One process cannot wait on itself, so the handler does not sleep: it
// returns this fact, having changed nothing, and the syscall passes it up (SysResult.blocked).
// The script layer says what it means.

/** What a blocked call waits for. */
export type Blocked =
  /**
   * Removing a VF whose VFIO device is open: vfio_del_group_dev (vfio_unregister_group_dev in
   * later kernels) waits until the user releases the device.
   */
  | { waits: 'vf-release'; device: string }
  /**
   * Attaching a group to a type1 container with invalidated vaddrs (5.12): vfio_iommu_replay()
   * waits in vfio_wait_all_valid() until every one is updated or the container closes.
   */
  | { waits: 'vaddr-update' };

/** A handler's answer that is a Blocked fact rather than a value or -errno. */
export const isBlocked = (r: number | Blocked): r is Blocked => typeof r !== 'number';
