// Kernel eras as one feature table.
//
// Each modelled kernel is a row of switches; kernel code reads switches and never compares
// version strings. A version string maps to the newest modelled upstream era not after it
// (`6.2` → `6.1`); the posted series (`rfc-v10`, `rfc-v14`) are named explicitly. Rows are
// built by changing the previous row, so each row says only what that kernel changed.
//
// Version boundaries come from reference/abi.md; where it tags one [U], the row says so.

import type { AmdViFaultLog, FaultLogStyle, HwInfoDrivers } from '../hw/iommu/iommu.js';
import type { MapFlagBit2, Type1InfoCap, UapiLayout } from '../uapi/layout.js';
import type { IommufdCmd } from '../uapi/iommufd.js';
import type { WarnForm } from './log.js';

export type { MapFlagBit2, Type1InfoCap };

/** Which rule decides whether a group's interrupts are safe at attach (abi.md §1.5, §3.4). */
export type SafetyRule =
  /** 3.6–4.10: the IOMMU must advertise IOMMU_CAP_INTR_REMAP. */
  | 'intr-remap-cap'
  /** rfc-v10..v12: INTR_REMAP, or every registered MSI doorbell isolates (coarse, global). */
  | 'doorbell-coarse'
  /** rfc-v14: INTR_REMAP, or (an MSI reserved window is needed and every doorbell isolates). */
  | 'doorbell-msi-resv'
  /** 4.11–6.2: INTR_REMAP, or any irq domain in the system flags MSI_REMAP (global). */
  | 'msi-remap-global'
  /** 6.3+: every device of the group has isolated MSI (its MSI domain, or INTR_REMAP). */
  | 'isolated-msi-group';


/** How a doorbell gets an IOVA when MSI writes are translated by the IOMMU. */
export type MsiMapping =
  /** Nothing maps it: MSIs through a translating IOMMU fault (4.10 on ARM). */
  | 'none'
  /** The series' msi-iommu layer, inside the window the user registered (rfc eras). */
  | 'user-window'
  /** The software-MSI cookie in the SW_MSI reserved region (4.11+). */
  | 'sw-msi-cookie';

export interface Era extends UapiLayout {
  /** Upstream version as [major, minor], or null for a posted series. */
  version: [number, number] | null;
  summary: string;
  safety: SafetyRule;
  /** GET_INFO's minimum argsz: 16 upstream, 20 in the series (offsetofend cap_offset). */
  type1InfoMinsz: number;
  /**
   * How much of vfio_iommu_type1_info GET_INFO copies back:
   * 'legacy' = 16 bytes, or offsetofend(cap_offset) = 20 when argsz allows (≤6.5);
   * 'min-argsz' = min(argsz, sizeof) of a zeroed struct (6.6+, "vfio: align capability structures").
   */
  infoCopy: 'legacy' | 'min-argsz';
  /** Capabilities are padded to 8 bytes in the chain (6.6+). */
  capAlign8: boolean;
  /** UNMAP_DMA knows GET_DIRTY_BITMAP (5.8+). */
  dirtyBitmapFlag: boolean;
  /** VFIO_UNMAP_ALL and VFIO_UPDATE_VADDR (5.12+). */
  unmapAllVaddr: boolean;
  /** dma_entry_limit module parameter exists (5.1+); before, mappings are unlimited. */
  dmaEntryLimit: boolean;
  /** MAP_DMA checks the valid IOVA list (aperture minus reserved regions), 5.4+. */
  iovaList: boolean;
  msiMapping: MsiMapping;
  /** The series' msi-doorbell registry exists (doorbells registered by MSI controllers). */
  msiDoorbellRegistry: boolean;
  /** vfio-pci advertises MSIX_MAPPABLE on the MSI-X BAR (4.16+); before, a SPARSE_MMAP cap excludes the table. */
  msixMappable: boolean;
  /** vfio_device_info has a pad and is copied as min(argsz, 24) (6.6+). */
  deviceInfoPad: boolean;
  /** vfio-pci may grow MSI-X while enabled, where the MSI domain allows dynamic allocation (6.5+). */
  msixDynamic: boolean;
  /**
   * The type1 nesting IOMMU type exists: CHECK_EXTENSION(VFIO_TYPE1_NESTING_IOMMU) answers 1
   * and SET_IOMMU with it asks the IOMMU for nesting at attach. Without it (6.13, "vfio:
   * Remove VFIO_TYPE1_NESTING_IOMMU") the number is __VFIO_RESERVED_TYPE1_NESTING_IOMMU:
   * CHECK_EXTENSION answers 0 and vfio_iommu_type1_open() opens it as plain v2.
   */
  nestingExtension: boolean;
  /**
   * Drivers still advertise capabilities their hardware lacks (the ARM SMMU drivers'
   * IOMMU_CAP_INTR_REMAP, dropped by the MSI-passthrough work and upstream in 4.11).
   */
  legacyIommuClaims: boolean;

  // ---- vfio-pci details ([U]: the boundary is not confirmed; it sits in the first modelled
  // era at or after the change) ----
  /** DEVICE_GET_INFO writes cap_offset (= 0) once argsz reaches it (device-info caps, 5.10 [U]). */
  deviceInfoCapOffset: boolean;
  /** BAR accesses of 8 bytes ("vfio/pci: Support 8-byte PCI loads and stores"; 6.12 reads them, 6.1 does not). */
  io64: boolean;
  /** PME bits virtualised in the PM capability, BAR access refused in D3 (runtime PM, 5.19 [U]). */
  pmeVirt: boolean;
  /** MPS and MRRS virtualised in DEVCTL (4.15 [U]); before, only Initiate FLR is. */
  devctlMpsMrrs: boolean;
  /** HOT_RESET with count 0 only for cdev-opened devices (the iommufd cdev series, 6.6). */
  hotResetCdev: boolean;
  /** pci_enable_resources refuses IORESOURCE_UNSET BARs with "not assigned" (6.0 [U]). */
  enableUnsetText: boolean;
  /** vfio_bar_restore() logs with pci_info ("restoring BARs"), not pr_info (5.0 [U]). */
  barRestorePciInfo: boolean;
  /**
   * Where Linux itself assigned a device's INTx line (no firmware: arm64 DT), unbinding the
   * driver that probed it at boot leaves PCI_INTERRUPT_LINE reading 0. Observed on 6.12 arm64
   * (e1000e after its boot-time driver was unbound reads 0, edu keeps its line; 6.1 keeps
   * both); the mechanism and the first version are not identified [U].
   */
  unbindClearsIntxLine: boolean;
  /**
   * A driver's `bind` of a device that already has a driver: -EBUSY from
   * __driver_probe_device() since "driver core: Pull required checks into
   * driver_probe_device()" (204db60c83b6, 5.14); before, bind_store() itself required
   * dev->driver == NULL and answered -ENODEV.
   */
  bindStoreBusy: boolean;
  /** /sys/kernel/iommu_groups/N/reserved_regions exists (4.11, with reserved regions). */
  sysfsResvRegions: boolean;
  /** /sys/kernel/iommu_groups/N/type exists (default-domain type changes, 5.11 [U]). */
  sysfsGroupType: boolean;
  /**
   * VFIO_DMA_CC_IOMMU answers whether every domain enforces cache coherency (blocks no-snoop,
   * 5.19 [U]); before, whether every domain's IOMMU is cache coherent (IOMMU_CAP_CACHE_COHERENCY).
   */
  dmaCcEnforce: boolean;

  // ---- SR-IOV and PCI log texts ----
  /**
   * How iommu_group_add_device / _remove_device log: 'pr-info' (≤4.x: "iommu: Adding device
   * %s to group %d", "iommu: Removing device %s from group %d"), 'dev-info' (5.0: "Adding to
   * iommu group %d", "Removing from iommu group %d" via dev_info), 'dev-info-add' (6.5: the
   * release path no longer goes through iommu_group_remove_device, so removal is silent).
   */
  iommuGroupLog: 'pr-info' | 'dev-info' | 'dev-info-add';
  /**
   * sriov_numvfs_store's -ENOENT messages: 'doesnt' (dev_info "Driver doesn't support SRIOV
   * configuration via sysfs", any cause), 'does-not' (4.18ish: "Driver does not support SRIOV
   * configuration via sysfs"), 'split' (5.14: "no driver bound to device; cannot configure
   * SR-IOV" and "driver does not support SR-IOV configuration via sysfs").
   */
  sriovNumvfsLog: 'doesnt' | 'does-not' | 'split';
  /** sriov_numvfs_store returns -EINVAL for every kstrtou16 failure (5.14), not its -ERANGE. */
  sriovNumvfsParseEinval: boolean;
  /** driver_max_VFs starts at TotalVFs and is reset when the PF driver unbinds (4.18). */
  sriovTotalvfsReset: boolean;
  /** vfio-pci has sriov_configure and the enable_sriov parameter (5.7). */
  vfioPciSriovConfigure: boolean;
  /**
   * vfio_pci_bus_notifier's BUS_NOTIFY_BOUND_DRIVER warning for a VF of a vfio-pci PF bound to
   * another driver ends "while PF bound to vfio-pci" (5.7), or "while PF bound to driver %s"
   * with the PF's driver (5.15, the vfio_pci_core split).
   */
  vfioPciVfBoundLine: 'pf-vfio-pci' | 'pf-driver';
  /**
   * pci_setup_device's "[%04x:%04x] type %02x class %#08x" line: at KERN_DEBUG ('debug'), at
   * KERN_INFO ('info'), or at KERN_INFO with the device type appended ('info-type', 6.8:
   * "... PCIe Endpoint").
   */
  pciEnumLog: 'debug' | 'info' | 'info-type';

  // ---- container/group and type1 details that changed between versions ----
  /**
   * GROUP_SET_CONTAINER's checks, in order:
   * 'legacy' (≤6.0): fd < 0 → EINVAL, already in a container → EINVAL, no file → EBADF,
   *   not a container → EINVAL;
   * 'fold' (6.1, "vfio: Fold VFIO_GROUP_SET_CONTAINER into vfio_group_set_container()"):
   *   no file → EBADF, already in a container → EINVAL, not a container → EINVAL;
   * 'iommufd' (6.2+): no file → EBADF, already → EINVAL, neither a container nor an iommufd
   *   → EBADFD.
   */
  setContainerChecks: 'legacy' | 'fold' | 'iommufd';
  /**
   * DMA ownership is claimed by VFIO (iommu_group_claim_dma_owner, 5.19): SET_CONTAINER of a
   * group with a kernel driver is -EPERM and VIABLE follows ownership. Before, viability is
   * vfio_group_viable() (every device bound to a VFIO driver or to none), checked by
   * GET_DEVICE_FD (-EINVAL) before it looks the device name up.
   */
  dmaOwnerClaim: boolean;
  /**
   * 5.12's first VADDR design: CHECK_EXTENSION(UPDATE_VADDR) answers 1 even before SET_IOMMU,
   * and an attach that needs a replay waits (vfio_wait_all_valid) instead of -EBUSY. Later
   * kernels (and Debian's 6.1, by backport) answer 0 before SET_IOMMU and refuse with -EBUSY.
   */
  vaddrWaits: boolean;
  /**
   * UNMAP_DMA's wrap check: 'none' (the series' base and 4.10 [U]: a wrapping range falls
   * through and unmaps nothing), 'strict' (`iova + size < iova`: a range ending at 2^64 is
   * -EINVAL, 4.16 [U]), 'minus1' (`iova + size - 1 < iova`, 5.0 [U]: a range ending at 2^64
   * passes and meets the find_first wrap), 'eoverflow' (6.18, "vfio/type1: handle DMA
   * map/unmap up to the addressable limit": after the alignment checks,
   * check_add_overflow(iova, size - 1, &iova_end) gives -EOVERFLOW, and every lookup uses the
   * inclusive iova_end, so a range ending exactly at 2^64 unmaps what it covers).
   */
  unmapWrapCheck: 'none' | 'strict' | 'minus1' | 'eoverflow';
  /**
   * MAP_DMA's wrap check: 'einval' (`iova + size - 1 < iova || vaddr + size - 1 < vaddr`
   * after the flag and alignment checks, -EINVAL), 'eoverflow' (6.18: right after the size-0
   * check, check_add_overflow() on both ranges, -EOVERFLOW, before the READ/WRITE/VADDR flag
   * check and the alignment check). See the 'eoverflow' UNMAP check above for the series.
   */
  mapWrapCheck: 'einval' | 'eoverflow';
  /** The series v14 sets the MSI window only on domains with DOMAIN_ATTR_MSI_RESV (others skipped). */
  msiWindowSkipsUntranslated: boolean;
  /**
   * 'user-window' with no window registered, when MSIs are allocated for a device whose IOMMU
   * driver took the series' msi-iommu cookie (IommuHw.seriesMsiCookie): 'fails' (v8–v11:
   * msi_domain_alloc_irqs maps the doorbell, "[PATCH 42/57] genirq/msi: map/unmap the MSI
   * doorbells on msi_domain_alloc/free_irqs", and iommu_msi_get_doorbell_iova() answers
   * -EINVAL while no aperture is set, so pci_enable_msi/msix fail and SET_IRQS with them; the
   * physical address is never programmed, as compose's iommu_msi_msg_pa_to_va() is -EINVAL
   * without a binding and msi_domain_activate BUG_ONs on a failed compose) or 'physical'
   * (v12+: the window is a dma-iommu MSI cookie, and with none iommu_dma_map_msi_msg() leaves
   * the physical address [U]).
   */
  msiWindowMissing: 'fails' | 'physical';
  /**
   * When the software-MSI doorbell is mapped: at compose ('compose', 4.11–5.2: a failure is a
   * WARN and a message of ~0) or when the vectors are allocated ('prepare', 5.3+: a failure
   * fails the allocation with -ENOMEM).
   */
  msiCookieMapAt: 'compose' | 'prepare';
  /**
   * The source line of iommu_dma_map_msi_msg()'s `WARN_ON(!msi_page)` in
   * drivers/iommu/dma-iommu.c, which a 'compose' era's WARN report names (0: no such WARN).
   * Read in kernel trees: 4.11 812 (a 4.11.0 and a 4.11-rc8 tree agree byte for byte);
   * 4.16 886 (read in 4.16.13 [U: 4.16.0 not seen]); 4.17 888 (a 4.17.0 tree, differing from
   * 4.16.13 only by 4.17's IORT-MSI and PCI-window reservation changes); 5.1 914 [U: the
   * base blob 77aabe637a60 of two series posted 2019-04-30/05-01, during 5.1-rc7].
   */
  mapMsiMsgWarnLine: number;
  /**
   * How __warn() opens a WARN report (kernel/log.ts WarnForm): 'cpu-pid', "WARNING: CPU: %d
   * PID: %d at %s:%d %pS" (v4.11 kernel/panic.c), or 'site-first', "WARNING: %s:%d at %pS,
   * CPU#%d: %s/%d" (as the 7.2.13 recordings print it; set from the 6.19 row, the first with a
   * modelled WARN of that form [U: the release that changed it is not pinned]).
   */
  warnForm: WarnForm;
  /** vfio-pci's VFIO_DEVICE_IOEVENTFD (4.17); before, the ioctl is unknown (-ENOTTY). */
  deviceIoeventfd: boolean;
  /**
   * VFIO_DEVICE_FEATURE exists (5.7 [U], "vfio: Introduce VFIO_DEVICE_FEATURE ioctl and first
   * user", the VF token): argsz and flag checks, then the feature; decoded by the VFIO core
   * (vfio_ioctl_device_feature) from 5.18. Before: ENOTTY like any unknown request.
   */
  deviceFeature: boolean;
  /** vfio-pci's LOW_POWER_ENTRY, LOW_POWER_ENTRY_WITH_WAKEUP and LOW_POWER_EXIT features (6.0 [U]). */
  lowPowerFeatures: boolean;

  // ---- iommufd (drivers/iommu/iommufd/) ----
  /**
   * iommufd exists and can be configured (CONFIG_IOMMUFD; merged in 6.2, "iommufd: File
   * descriptor, context, kconfig and makefiles"): /dev/iommu, IOAS, auto domains.
   */
  iommufd: boolean;
  /**
   * The last command of iommufd_ioctl_ops[] (a number past it goes to iommufd_vfio_ioctl and is
   * ENOTTY): IOMMU_VFIO_IOAS in 6.2, IOMMU_GET_HW_INFO in 6.6, IOMMU_FAULT_QUEUE_ALLOC in 6.11,
   * IOMMU_VDEVICE_ALLOC in 6.13 ... IOMMU_HW_QUEUE_ALLOC in 6.17.
   */
  iommufdLastCmd: IommufdCmd | null;
  /**
   * IOMMU_HWPT_ALLOC and IOMMU_GET_HW_INFO (6.6: "iommufd: Add IOMMU_HWPT_ALLOC",
   * "iommufd: Add IOMMU_GET_HW_INFO"); NEST_PARENT, data_type (6.7).
   */
  iommufdHwpt: boolean;
  /**
   * Dirty tracking (6.7: "iommufd: Add IOMMU_HWPT_SET_DIRTY_TRACKING",
   * "iommufd: Add IOMMU_HWPT_GET_DIRTY_BITMAP", IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
   * out_capabilities in GET_HW_INFO).
   */
  iommufdDirty: boolean;
  /**
   * iommufd maps the MSI doorbell itself in every paging HWPT a group attaches, at
   * sw_msi_start + pgoff * PAGE_SIZE (6.15: "iommufd: Implement sw_msi support natively").
   * Before, dma-iommu's MSI cookie did it in the attached domain only.
   */
  iommufdSwMsi: boolean;
  /**
   * IOMMU_OPTION_SW_MSI_START/SIZE per device (Nicolin Chen, "iommufd: Add
   * IOMMU_OPTION_SW_MSI_START/SIZE", v2, Oct 2025; not merged).
   */
  iommufdSwMsiOption: boolean;
  /**
   * IOMMU_GET_HW_INFO takes IOMMU_HW_INFO_FLAG_INPUT_TYPE: in_data_type (a union with
   * out_data_type) asks the driver for one type; without the flag the kernel asks for DEFAULT
   * (6.17, Nicolin Chen's "iommufd: Add iommufd_hw_info input type" for tegra241-cmdqv);
   * before, any flag is -EOPNOTSUPP.
   */
  iommufdHwInfoInputType: boolean;
  /**
   * IOMMU_HWPT_ALLOC_PASID: a HWPT that may be attached to a PASID (hwpt->pasid_compat; 6.14,
   * Yi Liu's "iommufd: Enforce pasid compatible domain" series); before, the flag is -EOPNOTSUPP.
   */
  iommufdHwptPasid: boolean;
  /**
   * IOMMU_GET_HW_INFO reports IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED when the IOMMU says
   * !IOMMU_CAP_PCI_ATS_SUPPORTED for the device (iommufd_get_hw_info, seen on 7.2).
   */
  iommufdHwCapAtsNotSupported: boolean;
  /**
   * Which IOMMU drivers answer IOMMU_GET_HW_INFO with their own struct (iommu_ops->hw_info);
   * the others leave it NULL, and iommufd_get_hw_info() answers IOMMU_HW_INFO_TYPE_NONE with
   * data_len 0 (its else branch, unchanged from 6.6 to 7.2). VT-d has it wherever the ioctl is.
   */
  hwInfoDrivers: HwInfoDrivers;
  /**
   * IOMMU_HWPT_INVALIDATE looks its id up as any object (a nested HWPT or a vIOMMU; any other
   * kind is -EINVAL); before, only a nested HWPT (anything else -ENOENT). [U]: 6.14, Nicolin
   * Chen's "iommufd/viommu: Allow hwpt_id to carry viommu_id for IOMMU_HWPT_INVALIDATE".
   */
  iommufdInvalidateAnyObject: boolean;
  /**
   * IOMMU_IOAS_MAP_FILE looks its fd up inside iopt_map_file_pages(), after the length checks
   * and a dma_buf_get() (217725f0b2c3 "iommufd: Have iopt_map_file_pages convert the fd to a
   * file", Jason Gunthorpe's DMABUF series, 6.19): a bad fd with length 0 is -EINVAL. Before,
   * iommufd_ioas_map_file() fget()s it right after the IOAS lookup (6.13): -EBADF first.
   */
  iommufdMapFileLateFget: boolean;
  // ---- the VFIO device cdev (drivers/vfio/device_cdev.c) ----
  /**
   * Every vfio_device is a class device of "vfio-dev" under its parent, so
   * /sys/bus/pci/devices/BDF/vfio-dev/vfioN exists whether or not the kernel has the cdev
   * (6.1: "vfio: Add struct device to vfio_device", vfio_main.c vfio_init_device/device_add).
   */
  vfioDeviceSysfs: boolean;
  /**
   * The device cdev and its ioctls (6.6: "vfio: Add cdev for vfio_device", "vfio: Add
   * VFIO_DEVICE_BIND_IOMMUFD", "vfio: Add VFIO_DEVICE_[AT|DE]TACH_IOMMUFD_PT"), where the
   * build has CONFIG_VFIO_DEVICE_CDEV (kernel/config.ts).
   */
  vfioDeviceCdev: boolean;
  /**
   * ATTACH/DETACH_IOMMUFD_PT take VFIO_DEVICE_[AT|DE]TACH_PASID and a pasid field (6.15,
   * ad744ed5dd8b "vfio: VFIO_DEVICE_[AT|DE]TACH_IOMMUFD_PT support pasid"); before, any flag
   * is -EINVAL.
   */
  vfioAttachPasid: boolean;
  /**
   * BIND_IOMMUFD takes VFIO_DEVICE_BIND_FLAG_TOKEN and token_uuid_ptr, reads the struct with
   * copy_struct_from_user (a non-zero tail is -E2BIG) and checks the VF token (6.17,
   * 86624ba3b522 "vfio/pci: Do vf_token checks for VFIO_DEVICE_BIND_IOMMUFD"); before, flags
   * must be 0.
   */
  vfioBindToken: boolean;
  // ---- how drivers print (kernel log fidelity) ----
  /** The form of the IOMMU drivers' fault lines (FaultLogStyle: VT-d's dmar_fault_do_one by era). */
  faultLog: Omit<FaultLogStyle, 'amdVi'>;
  /** amd_iommu's IO_PAGE_FAULT lines and their rate limits (AmdViFaultLog, hw/iommu/iommu.ts). */
  amdViFaultLog: AmdViFaultLog;
  /**
   * A group whose DMA a user owns and that has no domain attached sits in its blocking domain
   * (iommu.c __iommu_take_dma_ownership → group->blocking_domain). From Lu Baolu's "iommu/vt-d:
   * Add blocking domain support" (the "Retire detach_dev" series, 6.2 [U]: the first modelled
   * row after it is 6.3) VT-d's is the driver's own, which clears the context entry
   * (IommuHw.blockedFault); before, the core fell back to an empty UNMANAGED domain, whose
   * requests fault at the PTE.
   */
  driverBlockingDomain: boolean;

  // ---- after 6.12 (each confirmed on Debian's 7.2.13; see the rows) ----
  /**
   * pci_dev_save_and_disable() / pci_dev_restore() warn "resetting" and "reset done" when the
   * bound driver has no reset_prepare/reset_done error handlers (vfio-pci has none), i.e. on
   * every pci_try_reset_function() of a vfio-pci device (6.13, "PCI: Warn if a running device
   * is unaware of reset").
   */
  pciResetWarn: boolean;
  /**
   * What vfio-pci's irq-bypass registration-failure line names: 'token' ("irq bypass producer
   * (token %p) registration fails: %d") or 'eventfd' (6.17, when irq_bypass_register_producer()
   * took the eventfd and the IRQ: "irq bypass producer (eventfd %p) registration fails: %d").
   */
  irqBypassLogNames: 'token' | 'eventfd';
  /**
   * The IOMMU core probes every device as it is added to its bus, device-tree platforms
   * included (6.15, "iommu: Get DT/ACPI parsing into the proper probe path"): on QEMU virt the
   * functions get groups at boot in bus order, host bridge first (PlatformDevice.groupAtScan),
   * not when vfio-pci binds them, and binding no longer logs "Adding to iommu group".
   */
  iommuProbeAtScan: boolean;
  /** vfio-pci's VFIO_DEVICE_FEATURE_DMA_BUF (11): dma-buf export of BAR ranges (6.19). */
  dmaBufFeature: boolean;
  /**
   * The core decodes VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 (12): -EINVAL for a device
   * without PRE_COPY migration before any flag check (vfio_main.c; 7.2 [U]).
   */
  migPrecopyInfoV2: boolean;
  /**
   * The VT-d and AMD drivers' paging domains are generic_pt page tables
   * (drivers/iommu/generic_pt/iommu_pt.h, kernel/iommu/generic-pt.ts): a map with neither
   * IOMMU_READ nor IOMMU_WRITE (iommufd's VFIO compat MAP_DMA with flags 0 passes one) trips
   * map_range()'s WARN_ON(!(prot & (IOMMU_READ | IOMMU_WRITE))) before its -EINVAL. The value
   * is that WARN_ON's line in iommu_pt.h, which the report prints; undefined before the
   * conversion, when the driver's own map refused such a prot silently (VT-d __domain_mapping()).
   */
  genericPtMapWarnLine: number | undefined;
  /**
   * iopt_unmap_iova_range() starts from rc = 0 ("If there are no mapped entries then
   * success"): unmapping a range with nothing mapped answers 0 with size 0, not -ENOENT
   * (7.2 [U]: recorded on 7.2.13, compat UNMAP_DMA; earlier rows keep -ENOENT).
   */
  iommufdUnmapEmptyOk: boolean;
}

type EraChange = Partial<Era> & { name: string; version: Era['version']; summary: string };

const BASE: Era = {
  name: '4.10',
  version: [4, 10],
  summary: 'upstream before reserved regions: INTR_REMAP decides safety; nothing maps MSI doorbells on ARM',
  safety: 'intr-remap-cap',
  type1InfoCaps: [],
  type1InfoHasCapOffset: false,
  type1InfoMinsz: 16,
  infoCopy: 'legacy',
  capAlign8: false,
  mapFlagBit2: 'none',
  dirtyBitmapFlag: false,
  unmapAllVaddr: false,
  dmaEntryLimit: false,
  iovaList: false,
  msiMapping: 'none',
  msiDoorbellRegistry: false,
  msixMappable: false,
  deviceInfoPad: false,
  msixDynamic: false,
  nestingExtension: true,
  legacyIommuClaims: true,
  deviceInfoCapOffset: false,
  io64: false,
  pmeVirt: false,
  devctlMpsMrrs: false,
  hotResetCdev: false,
  enableUnsetText: false,
  barRestorePciInfo: false,
  unbindClearsIntxLine: false,
  bindStoreBusy: false,
  sysfsResvRegions: false,
  sysfsGroupType: false,
  dmaCcEnforce: false,
  iommuGroupLog: 'pr-info',
  sriovNumvfsLog: 'doesnt',
  sriovNumvfsParseEinval: false,
  sriovTotalvfsReset: false,
  vfioPciSriovConfigure: false,
  vfioPciVfBoundLine: 'pf-vfio-pci',
  pciEnumLog: 'debug',
  setContainerChecks: 'legacy',
  dmaOwnerClaim: false,
  vaddrWaits: false,
  unmapWrapCheck: 'none',
  msiWindowSkipsUntranslated: false,
  msiWindowMissing: 'physical',
  msiCookieMapAt: 'compose',
  mapMsiMsgWarnLine: 0,
  warnForm: 'cpu-pid',
  amdViFaultLog: 'split',
  deviceIoeventfd: false,
  deviceFeature: false,
  faultLog: { dmar: 'plain', armSmmu: 'cb' },
  driverBlockingDomain: false,
  lowPowerFeatures: false,
  iommufd: false,
  iommufdLastCmd: null,
  iommufdHwpt: false,
  iommufdDirty: false,
  iommufdSwMsi: false,
  iommufdSwMsiOption: false,
  iommufdHwInfoInputType: false,
  iommufdHwptPasid: false,
  iommufdHwCapAtsNotSupported: false,
  hwInfoDrivers: { armSmmuV3: false },
  iommufdInvalidateAnyObject: false,
  iommufdMapFileLateFget: false,
  vfioDeviceSysfs: false,
  vfioDeviceCdev: false,
  mapWrapCheck: 'einval',
  pciResetWarn: false,
  iommuProbeAtScan: false,
  irqBypassLogNames: 'token',
  dmaBufFeature: false,
  migPrecopyInfoV2: false,
  genericPtMapWarnLine: undefined,
  iommufdUnmapEmptyOk: false,
  vfioAttachPasid: false,
  vfioBindToken: false,
};

// The rows, oldest first. The series' rows derive from 4.10 (the series was posted against
// 4.7–4.9 and never merged); upstream rows derive from the previous upstream row.
const CHANGES: { base: string; change: EraChange }[] = [
  {
    base: '4.10',
    change: {
      name: 'rfc-v10',
      version: null,
      summary:
        'posted series v10 (2016-06): MSI_GEOMETRY cap, reserved-MSI DMA_MAP flag, coarse doorbell-safety rule',
      safety: 'doorbell-coarse',
      type1InfoCaps: ['msi-geometry'],
      type1InfoHasCapOffset: true,
      type1InfoMinsz: 20,
      mapFlagBit2: 'reserved-msi',
      msiMapping: 'user-window',
      msiWindowMissing: 'fails',
      msiDoorbellRegistry: true,
      legacyIommuClaims: false,
    },
  },
  {
    base: 'rfc-v10',
    change: {
      name: 'rfc-v14',
      version: null,
      summary: 'posted series v14 (2016-10): MSI_RESV cap {size, alignment}; safety needs an MSI window and safe doorbells',
      safety: 'doorbell-msi-resv',
      type1InfoCaps: ['msi-resv'],
      msiWindowSkipsUntranslated: true,
      msiWindowMissing: 'physical',
    },
  },
  {
    base: '4.10',
    change: {
      name: '4.11',
      version: [4, 11],
      summary: 'reserved regions and the software-MSI cookie; IRQ_DOMAIN_FLAG_MSI_REMAP decides safety (global)',
      safety: 'msi-remap-global',
      msiMapping: 'sw-msi-cookie',
      legacyIommuClaims: false,
      sysfsResvRegions: true,
      mapMsiMsgWarnLine: 812,
    },
  },
  {
    base: '4.11',
    change: {
      name: '4.16',
      version: [4, 16],
      summary: 'vfio-pci: the MSI-X BAR may be mmapped whole (MSIX_MAPPABLE cap); MPS/MRRS virtualised',
      msixMappable: true,
      devctlMpsMrrs: true,
      unmapWrapCheck: 'strict', // [U]
      mapMsiMsgWarnLine: 886, // [U] read in 4.16.13
      amdViFaultLog: 'dev-err', // [U] read in 4.16.13
    },
  },
  {
    base: '4.16',
    change: {
      name: '4.17',
      version: [4, 17],
      summary: 'vfio-pci: VFIO_DEVICE_IOEVENTFD (a BAR write per eventfd signal)',
      deviceIoeventfd: true,
      mapMsiMsgWarnLine: 888,
    },
  },
  {
    base: '4.17',
    change: {
      name: '5.1',
      version: [5, 1],
      summary: 'the dma_entry_limit module parameter (65535 mappings per container; ENOSPC past it)',
      dmaEntryLimit: true,
      unmapWrapCheck: 'minus1', // 5.0 [U]
      iommuGroupLog: 'dev-info', // 5.0 [U]
      barRestorePciInfo: true,
      mapMsiMsgWarnLine: 914, // [U] the 5.1-rc7 base blob
      amdViFaultLog: 'dev-fmt', // 780da9e4f5bf
    },
  },
  {
    base: '5.1',
    change: {
      name: '5.4',
      version: [5, 4],
      summary: 'the valid IOVA list and the IOVA_RANGE cap (cap_offset in type1 info); MSI doorbells mapped at vector allocation',
      type1InfoCaps: ['iova-range'],
      type1InfoHasCapOffset: true,
      iovaList: true,
      msiCookieMapAt: 'prepare', // 5.3
      mapMsiMsgWarnLine: 0,
      faultLog: { dmar: 'plain', armSmmu: 'cbfrsynra' }, // arm-smmu 5.2
      sriovNumvfsLog: 'does-not',
      sriovTotalvfsReset: true, // 4.18 [U]
    },
  },
  {
    base: '5.4',
    change: {
      name: '5.8',
      version: [5, 8],
      summary: 'dirty-page tracking: the MIGRATION cap and UNMAP_DMA GET_DIRTY_BITMAP',
      type1InfoCaps: ['migration', 'iova-range'],
      dirtyBitmapFlag: true,
      vfioPciSriovConfigure: true, // 5.7
      deviceFeature: true, // 5.7 [U]
      faultLog: { dmar: 'pasid', armSmmu: 'cbfrsynra' }, // 5.5
    },
  },
  {
    base: '5.8',
    change: {
      name: '5.10',
      version: [5, 10],
      summary: 'the DMA_AVAIL cap; device-info capability chain (cap_offset)',
      type1InfoCaps: ['migration', 'dma-avail', 'iova-range'],
      deviceInfoCapOffset: true,
    },
  },
  {
    base: '5.10',
    change: {
      name: '5.12',
      version: [5, 12],
      summary: 'UNMAP_ALL and VADDR (flag bit 2 of DMA_MAP becomes VFIO_DMA_MAP_FLAG_VADDR)',
      unmapAllVaddr: true,
      mapFlagBit2: 'vaddr',
      vaddrWaits: true,
      sysfsGroupType: true,
    },
  },
  {
    base: '5.12',
    change: {
      name: '6.1',
      version: [6, 1],
      summary: 'as recorded on Debian 6.1: unaligned caps (IOVA_RANGE at 68), 116-byte GET_INFO; vfio-pci runtime PM',
      pmeVirt: true,
      enableUnsetText: true,
      dmaCcEnforce: true,
      setContainerChecks: 'fold',
      dmaOwnerClaim: true, // 5.19
      vaddrWaits: false, // as recorded on Debian 6.1 (the later EBUSY design, backported)
      sriovNumvfsLog: 'split', // 5.14
      bindStoreBusy: true, // 5.14
      vfioPciVfBoundLine: 'pf-driver', // 5.15
      sriovNumvfsParseEinval: true, // 5.14/5.15 [U]
      pciEnumLog: 'info', // [U]
      lowPowerFeatures: true, // 6.0 [U]
      vfioDeviceSysfs: true,
      faultLog: { dmar: 'no-pasid', armSmmu: 'cbfrsynra' }, // 5.14, without 5.14's "0x" in the device (5.15)
      amdViFaultLog: 'dev-fmt-quiet', // "iommu/amd: Fix I/O page fault logging ratelimit test" (2021) [U: release]
    },
  },
  {
    base: '6.1',
    change: {
      name: '6.3',
      version: [6, 3],
      summary: 'isolated MSI is decided per group (iommu_group_has_isolated_msi); iommufd-aware SET_CONTAINER',
      safety: 'isolated-msi-group',
      driverBlockingDomain: true, // 6.2 [U]
      setContainerChecks: 'iommufd', // 6.2
      iommufd: true, // 6.2
      iommufdLastCmd: 'IOMMU_VFIO_IOAS', // 6.2
    },
  },
  {
    base: '6.3',
    change: {
      name: '6.5',
      version: [6, 5],
      summary: 'vfio-pci: dynamic MSI-X allocation where the MSI domain supports it (NORESIZE dropped)',
      msixDynamic: true,
      iommuGroupLog: 'dev-info-add', // [U]
    },
  },
  {
    base: '6.5',
    change: {
      name: '6.6',
      version: [6, 6],
      summary: 'capabilities 8-byte aligned, pads in info structs, min(argsz, sizeof) copies',
      infoCopy: 'min-argsz',
      capAlign8: true,
      deviceInfoPad: true,
      hotResetCdev: true,
      iommufdHwpt: true,
      iommufdLastCmd: 'IOMMU_GET_HW_INFO',
      vfioDeviceCdev: true,
    },
  },
  {
    base: '6.6',
    change: {
      name: '6.12',
      version: [6, 12],
      summary: 'as recorded on Debian 6.12: 120-byte GET_INFO, IOVA_RANGE at 72; 8-byte BAR accesses',
      io64: true,
      unbindClearsIntxLine: true,
      pciEnumLog: 'info-type', // 6.8
      faultLog: { dmar: 'no-pasid', armSmmu: 'regs' },
      iommufdDirty: true, // 6.7
      iommufdLastCmd: 'IOMMU_FAULT_QUEUE_ALLOC', // 6.11
    },
  },
  // ---- after 6.12: each change was seen on Debian's 7.2.13 (test/fixtures/real-kernel-7.2*)
  // and is pinned to the release whose source first has it ----
  {
    base: '6.12',
    change: {
      name: '6.13',
      version: [6, 13],
      summary: 'type1 nesting removed (CHECK_EXTENSION 0, so SET_IOMMU of it is ENODEV); PCI core warns on resets a driver cannot see',
      // 35890f85573c "vfio: Remove VFIO_TYPE1_NESTING_IOMMU" (Jason Gunthorpe; iommufd tree, 6.13)
      nestingExtension: false,
      // a3151e6daaec "PCI: Warn if a running device is unaware of reset" (Keith Busch, 6.13;
      // drivers/pci/pci.c, pci_dev_save_and_disable and pci_dev_restore)
      pciResetWarn: true,
      // include/uapi/linux/iommufd.h in 6.13 ends its command list with IOMMUFD_CMD_IOAS_MAP_FILE,
      // IOMMUFD_CMD_VIOMMU_ALLOC and IOMMUFD_CMD_VDEVICE_ALLOC (Steve Sistare's "iommufd: File
      // mappings for mdev" series; Nicolin Chen's "iommufd: Add IOMMU_VIOMMU_ALLOC ioctl" and
      // "iommufd: Add IOMMU_VDEVICE_ALLOC ioctl")
      iommufdLastCmd: 'IOMMU_VDEVICE_ALLOC',
      // "iommu/arm-smmu-v3: Support IOMMU_GET_HW_INFO via struct arm_smmu_hw_info" (Jason
      // Gunthorpe, 6.13, the same "Initial support for SMMUv3 nested translation" series as
      // 35890f85573c; arm-smmu-v3-iommufd.c arm_smmu_hw_info, with CONFIG_ARM_SMMU_V3_IOMMUFD):
      // IOMMU_HW_INFO_TYPE_ARM_SMMUV3. Before, SMMUv3's ops->hw_info is NULL (type NONE).
      hwInfoDrivers: { armSmmuV3: true },
    },
  },
  {
    base: '6.13',
    change: {
      name: '6.15',
      version: [6, 15],
      summary: 'the IOMMU probes devices as the bus adds them, device-tree platforms too (groups at boot, in bus order)',
      // bcb81ac6ae3c "iommu: Get DT/ACPI parsing into the proper probe path" (Robin Murphy, 6.15)
      iommuProbeAtScan: true,
      // "iommufd: Implement sw_msi support natively" (Jason Gunthorpe / Nicolin Chen, 6.15,
      // drivers/iommu/iommufd/device.c iommufd_sw_msi, iommufd_sw_msi_install)
      iommufdSwMsi: true,
      // 6.14 added IOMMUFD_CMD_IOAS_CHANGE_PROCESS ("iommufd: Add IOMMU_IOAS_CHANGE_PROCESS",
      // Steve Sistare; no 6.14 row is modelled), 6.15 IOMMUFD_CMD_VEVENTQ_ALLOC ("iommufd: Add
      // IOMMUFD_OBJ_VEVENTQ and IOMMUFD_CMD_VEVENTQ_ALLOC", e36ba5ab808e, Nicolin Chen)
      iommufdLastCmd: 'IOMMU_VEVENTQ_ALLOC',
      // ad744ed5dd8b "vfio: VFIO_DEVICE_[AT|DE]TACH_IOMMUFD_PT support pasid" (Yi Liu, 6.15)
      vfioAttachPasid: true,
      iommufdHwptPasid: true, // 6.14 (no 6.14 row): IOMMU_HWPT_ALLOC_PASID
      iommufdInvalidateAnyObject: true, // [U] 6.14 (no 6.14 row): a vIOMMU id in hwpt_id
    },
  },
  {
    base: '6.15',
    change: {
      name: '6.17',
      version: [6, 17],
      summary: 'irq bypass producers are registered with their eventfd: the failure line names it',
      // Sean Christopherson's irqbypass series (6.17, ending in 23b54381cee2 "irqbypass: Require
      // producers to pass in Linux IRQ number during registration"): producers register with
      // their eventfd, and vfio_msi_set_vector_signal()'s line prints it
      irqBypassLogNames: 'eventfd',
      // IOMMUFD_CMD_HW_QUEUE_ALLOC ("iommufd: Add IOMMUFD_CMD_HW_QUEUE_ALLOC ioctl", Nicolin
      // Chen, 6.17)
      iommufdLastCmd: 'IOMMU_HW_QUEUE_ALLOC',
      // 86624ba3b522 "vfio/pci: Do vf_token checks for VFIO_DEVICE_BIND_IOMMUFD" (Jason
      // Gunthorpe, 6.17)
      vfioBindToken: true,
      iommufdHwInfoInputType: true, // the iommu_hw_info in_data_type union (6.17)
    },
  },
  {
    base: '6.17',
    change: {
      name: '6.18',
      version: [6, 18],
      summary: 'type1 MAP/UNMAP up to the addressable limit (-EOVERFLOW, inclusive ends)',
      // Alex Mastro's series, merged for 6.18-rc4 (vfio-v6.18-rc4): 6012379ede6a "vfio/type1:
      // sanitize for overflow using check_*_overflow()" and ef270ec44637 "vfio/type1: handle
      // DMA map/unmap up to the addressable limit" (vfio_dma_do_map, vfio_dma_do_unmap).
      // Recorded on Debian's 6.18.15 as on 7.2.13.
      mapWrapCheck: 'eoverflow',
      unmapWrapCheck: 'eoverflow',
    },
  },
  {
    base: '6.18',
    change: {
      name: '6.19',
      version: [6, 19],
      summary: 'vfio-pci dma-buf export (VFIO_DEVICE_FEATURE_DMA_BUF)',
      // 5d74781ebc86 "vfio/pci: Add dma-buf export support for MMIO regions" (Leon Romanovsky, 6.19)
      dmaBufFeature: true,
      // 217725f0b2c3 "iommufd: Have iopt_map_file_pages convert the fd to a file" (the same
      // DMABUF series, 6.19): MAP_FILE's fd is taken after the length checks
      iommufdMapFileLateFget: true,
      // d373449d8e97 "iommu/vt-d: Use the generic iommu page table" (Jason Gunthorpe; AMD's
      // 789a5913b29c "iommu/amd: Use the generic iommu page table" with it), merged for 6.19:
      // Debian's 6.19.14 image holds iommu_pt.h's bug-table entries and the vtdss/amdv1
      // formats, 6.18.15's neither. Line 864 is map_range()'s WARN_ON in 6.19.14 (its bug table).
      genericPtMapWarnLine: 864,
      warnForm: 'site-first', // [U: version]
    },
  },
  {
    base: '6.19',
    change: {
      name: '7.2',
      version: [7, 2],
      summary: 'as recorded on Debian 7.2.13: the core decodes MIG_PRECOPY_INFOv2; arm64 keeps an unbound INTx line',
      migPrecopyInfoV2: true, // [U]: first seen here
      genericPtMapWarnLine: 947, // iommu_pt.h of 7.2.13, as the compat MAP_DMA flags 0 recordings print it
      // dmar_fault_do_one() prints iommu->segment before the bus (7.1 or 7.2 [U]: Debian's
      // 6.18.x and the 7.0 tree still print [%02x:%02x.%d]; recorded on 7.2.13, edu-dma)
      faultLog: { dmar: 'segment', armSmmu: 'regs' },
      iommufdUnmapEmptyOk: true, // [U]: compat UNMAP_DMA of an unmapped range answers 0
      iommufdHwCapAtsNotSupported: true, // [U]: first seen here (real-kernel-iommufd, GET_HW_INFO)
      // [U]: recorded on arm64 7.2.13, e1000e reads PCI_INTERRUPT_LINE 0x15 as on 6.1 (6.12 read 0)
      unbindClearsIntxLine: false,
    },
  },
  {
    // The proposal (Nicolin Chen, "iommufd: Add IOMMU_OPTION_SW_MSI_START/SIZE", v2, 2025-10,
    // posted against 7.x and not merged) sits on 6.15's native sw_msi: derived from the newest
    // modelled upstream row, it differs from 7.2 only by the option.
    base: '7.2',
    change: {
      name: 'sw-msi-v2',
      version: null,
      summary: 'proposed series (2025-10, on 7.x): IOMMU_OPTION_SW_MSI_START/SIZE give userspace the MSI window per device',
      iommufdSwMsiOption: true,
    },
  },
];

/** The changes from BASE to the row `name`, newest first; undefined for a name not in the table. */
function changesTo(name: string): EraChange[] | undefined {
  const chain: EraChange[] = [];
  for (let n = name; n !== BASE.name; ) {
    const row = CHANGES.find((c) => c.change.name === n);
    if (!row) {
      if (chain.length) throw new Error(`era table: ${chain[chain.length - 1]!.name} derives from unknown ${n}`);
      return undefined;
    }
    chain.push(row.change);
    n = row.base;
  }
  return chain;
}

/**
 * The rows by name, each built when first asked for. A row is BASE with the changes of the
 * rows it derives from applied oldest first, which is the previous row with its own changes
 * applied, without building the rows in between: a run asks for one era, and every row is
 * some eighty switches, so building all of them at load was most of what loading the kernel
 * model allocated.
 */
class EraTable implements ReadonlyMap<string, Era> {
  readonly #built = new Map<string, Era>([[BASE.name, BASE]]);

  get size(): number {
    return CHANGES.length + 1;
  }

  has(name: string): boolean {
    return name === BASE.name || CHANGES.some((c) => c.change.name === name);
  }

  get(name: string): Era | undefined {
    const built = this.#built.get(name);
    if (built) return built;
    const chain = changesTo(name);
    if (!chain) return undefined;
    const row: Era = { ...BASE };
    for (let i = chain.length - 1; i >= 0; i--) Object.assign(row, chain[i]);
    this.#built.set(name, row);
    return row;
  }

  *keys(): MapIterator<string> {
    yield BASE.name;
    for (const c of CHANGES) yield c.change.name;
  }

  *values(): MapIterator<Era> {
    for (const name of this.keys()) yield this.get(name)!;
  }

  *entries(): MapIterator<[string, Era]> {
    for (const name of this.keys()) yield [name, this.get(name)!];
  }

  [Symbol.iterator](): MapIterator<[string, Era]> {
    return this.entries();
  }

  forEach(fn: (era: Era, name: string, map: ReadonlyMap<string, Era>) => void, thisArg?: unknown): void {
    for (const [name, era] of this.entries()) fn.call(thisArg, era, name, this);
  }
}

export const ERAS: ReadonlyMap<string, Era> = new EraTable();

/** Each row's name and version, oldest first, without building the rows. */
function* rowVersions(): Generator<{ name: string; version: Era['version'] }> {
  yield BASE;
  for (const c of CHANGES) yield c.change;
}

/** The newest modelled upstream era: the default when a scenario names none. */
export const DEFAULT_ERA = '7.2';

function parseVersion(s: string): [number, number] | null {
  // Accept `6.1`, `6.1.0-56-amd64`, `6.12.95`, `v5.4`, `4.11-rc1`.
  const m = /^v?(\d+)\.(\d+)(?:[.\-+~].*)?$/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function cmpVersion(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** A version newer than the newest modelled upstream era (which then runs in its place). */
export function newerThanModelled(name: string): boolean {
  const v = parseVersion(name);
  const newest = changesTo(DEFAULT_ERA)![0]!.version!;
  return !ERAS.has(name.trim().toLowerCase()) && v !== null && cmpVersion(v, newest) > 0;
}

/**
 * The era a kernel name selects: a series name exactly, or the newest modelled upstream
 * era not after the version. Returns undefined for a name that is neither, or a version
 * older than the oldest modelled era.
 */
export function resolveEra(name: string): Era | undefined {
  const exact = ERAS.get(name.trim().toLowerCase());
  if (exact) return exact;
  const v = parseVersion(name);
  if (!v) return undefined;
  let best: { name: string; version: [number, number] } | undefined;
  for (const { name: row, version } of rowVersions()) {
    if (!version || cmpVersion(version, v) > 0) continue;
    if (!best || cmpVersion(version, best.version) > 0) best = { name: row, version };
  }
  return best && ERAS.get(best.name);
}
