// PCI configuration registers and bits (PCI Local Bus 3.0, PCI Express Base 4.0; the same
// names as include/uapi/linux/pci_regs.h). The hardware models and the kernel model both use
// these: they are the bus specification, not anybody's implementation.

// ---- type 0 header ----------------------------------------------------------------------
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_SPECIAL = 0x8;
export const PCI_COMMAND_INVALIDATE = 0x10;
export const PCI_COMMAND_VGA_PALETTE = 0x20;
export const PCI_COMMAND_PARITY = 0x40;
export const PCI_COMMAND_SERR = 0x100;
export const PCI_COMMAND_FAST_BACK = 0x200;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_STATUS = 0x06;
export const PCI_STATUS_INTERRUPT = 0x08;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_STATUS_SIG_TARGET_ABORT = 0x800;
export const PCI_STATUS_REC_TARGET_ABORT = 0x1000;
export const PCI_STATUS_REC_MASTER_ABORT = 0x2000;
export const PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000;
export const PCI_STATUS_DETECTED_PARITY = 0x8000;
export const PCI_STATUS_PARITY = 0x100;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_HEADER_TYPE_NORMAL = 0;
/** Header type bit 7: the device has more functions than function 0. */
export const PCI_HEADER_TYPE_MFD = 0x80;
export const PCI_BIST = 0x0f;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_BASE_ADDRESS_5 = 0x24;
export const PCI_BASE_ADDRESS_SPACE_IO = 0x1;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x8;
export const PCI_BASE_ADDRESS_MEM_MASK = 0xfffffff0;
export const PCI_BASE_ADDRESS_IO_MASK = 0xfffffffc;
export const PCI_CARDBUS_CIS = 0x28;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_ROM_ADDRESS_ENABLE = 0x1;
export const PCI_ROM_ADDRESS_MASK = 0xfffff800;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
export const PCI_MIN_GNT = 0x3e;
export const PCI_MAX_LAT = 0x3f;
/** Size of the type 0 header (PCI_STD_HEADER_SIZEOF). */
export const PCI_STD_HEADER_SIZEOF = 0x40;
export const PCI_STD_NUM_BARS = 6;
export const PCI_ROM_RESOURCE = 6;
/** Conventional config space; PCI Express adds extended space up to 4 KiB. */
export const PCI_CFG_SPACE_SIZE = 0x100;
export const PCI_CFG_SPACE_EXP_SIZE = 0x1000;

// ---- capability list --------------------------------------------------------------------
export const PCI_CAP_LIST_ID = 0;
export const PCI_CAP_LIST_NEXT = 1;
export const PCI_CAP_FLAGS = 2;
export const PCI_CAP_SIZEOF = 4;

export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_AGP = 0x02;
export const PCI_CAP_ID_VPD = 0x03;
export const PCI_CAP_ID_SLOTID = 0x04;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_CHSWP = 0x06;
export const PCI_CAP_ID_PCIX = 0x07;
export const PCI_CAP_ID_HT = 0x08;
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_DBG = 0x0a;
export const PCI_CAP_ID_CCRC = 0x0b;
export const PCI_CAP_ID_SHPC = 0x0c;
export const PCI_CAP_ID_SSVID = 0x0d;
export const PCI_CAP_ID_AGP3 = 0x0e;
export const PCI_CAP_ID_SECDEV = 0x0f;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;
export const PCI_CAP_ID_SATA = 0x12;
export const PCI_CAP_ID_AF = 0x13;
export const PCI_CAP_ID_EA = 0x14;
export const PCI_CAP_ID_MAX = PCI_CAP_ID_EA;

// Power management (PCI PM 1.2)
export const PCI_PM_PMC = 2;
export const PCI_PM_CAP_VER_MASK = 0x0007;
export const PCI_PM_CAP_DSI = 0x0020;
export const PCI_PM_CAP_D1 = 0x0200;
export const PCI_PM_CAP_D2 = 0x0400;
export const PCI_PM_CAP_PME_MASK = 0xf800;
export const PCI_PM_CTRL = 4;
export const PCI_PM_CTRL_STATE_MASK = 0x0003;
export const PCI_PM_CTRL_NO_SOFT_RESET = 0x0008;
export const PCI_PM_CTRL_PME_ENABLE = 0x0100;
export const PCI_PM_CTRL_DATA_SEL_MASK = 0x1e00;
export const PCI_PM_CTRL_PME_STATUS = 0x8000;
export const PCI_PM_SIZEOF = 8;

// MSI
export const PCI_MSI_FLAGS = 2;
export const PCI_MSI_FLAGS_ENABLE = 0x0001;
export const PCI_MSI_FLAGS_QMASK = 0x000e;
export const PCI_MSI_FLAGS_QSIZE = 0x0070;
export const PCI_MSI_FLAGS_64BIT = 0x0080;
export const PCI_MSI_FLAGS_MASKBIT = 0x0100;
export const PCI_MSI_ADDRESS_LO = 4;
export const PCI_MSI_ADDRESS_HI = 8;
export const PCI_MSI_DATA_32 = 8;
export const PCI_MSI_MASK_32 = 12;
export const PCI_MSI_PENDING_32 = 16;
export const PCI_MSI_DATA_64 = 12;
export const PCI_MSI_MASK_64 = 16;
export const PCI_MSI_PENDING_64 = 20;

// MSI-X
export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_TABLE_BIR = 0x7;
export const PCI_MSIX_TABLE_OFFSET = 0xfffffff8;
export const PCI_MSIX_PBA = 8;
export const PCI_CAP_MSIX_SIZEOF = 12;
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 4;
export const PCI_MSIX_ENTRY_DATA = 8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

// Vital product data
export const PCI_VPD_ADDR = 2;
export const PCI_VPD_ADDR_F = 0x8000;
export const PCI_VPD_DATA = 4;
export const PCI_CAP_VPD_SIZEOF = 8;

// Advanced features (conventional-PCI FLR)
export const PCI_AF_CAP = 3;
export const PCI_AF_CAP_TP = 0x01;
export const PCI_AF_CAP_FLR = 0x02;
export const PCI_AF_CTRL = 4;
export const PCI_AF_CTRL_FLR = 0x01;
export const PCI_CAP_AF_SIZEOF = 6;

// PCI-X (include/uapi/linux/pci_regs.h)
export const PCI_X_CMD = 2;
/** PCI_X_CMD_VERSION(): the capability's version; 0 is the 8-byte mode-1-only layout. */
export const PCI_X_CMD_VERSION = (cmd: number): number => (cmd >> 12) & 3;
export const PCI_X_ECC_CSR = 8;
export const PCI_CAP_PCIX_SIZEOF_V0 = 8;
export const PCI_CAP_PCIX_SIZEOF_V1 = 24;
export const PCI_CAP_PCIX_SIZEOF_V2 = PCI_CAP_PCIX_SIZEOF_V1;

// AGP: command and status registers end the capability.
export const PCI_AGP_SIZEOF = 12;

// HyperTransport: a 3-bit capability type (slave/host links) in byte 3 means the short form.
export const HT_3BIT_CAP_MASK = 0xe0;
/** vfio_pci_config.c's lengths of the HT capability, by its type field. */
export const HT_CAP_SIZEOF_LONG = 28;
export const HT_CAP_SIZEOF_SHORT = 24;

// Serial ATA: registers in config space (inline) make the long form.
export const PCI_SATA_REGS = 4;
export const PCI_SATA_REGS_MASK = 0xf;
export const PCI_SATA_REGS_INLINE = 0xf;
export const PCI_SATA_SIZEOF_SHORT = 8;
export const PCI_SATA_SIZEOF_LONG = 16;

// PCI Express capability
export const PCI_EXP_FLAGS = 2;
export const PCI_EXP_FLAGS_VERS = 0x000f;
export const PCI_EXP_FLAGS_TYPE = 0x00f0;
export const PCI_EXP_TYPE_ENDPOINT = 0x0;
export const PCI_EXP_TYPE_LEG_END = 0x1;
export const PCI_EXP_TYPE_ROOT_PORT = 0x4;
export const PCI_EXP_TYPE_RC_END = 0x9;
export const PCI_EXP_DEVCAP = 4;
export const PCI_EXP_DEVCAP_PAYLOAD = 0x00000007;
export const PCI_EXP_DEVCAP_RBER = 0x00008000;
export const PCI_EXP_DEVCAP_FLR = 0x10000000;
export const PCI_EXP_DEVCTL = 8;
export const PCI_EXP_DEVCTL_CERE = 0x0001;
export const PCI_EXP_DEVCTL_NFERE = 0x0002;
export const PCI_EXP_DEVCTL_FERE = 0x0004;
export const PCI_EXP_DEVCTL_URRE = 0x0008;
export const PCI_EXP_DEVCTL_RELAX_EN = 0x0010;
export const PCI_EXP_DEVCTL_PAYLOAD = 0x00e0;
export const PCI_EXP_DEVCTL_EXT_TAG = 0x0100;
export const PCI_EXP_DEVCTL_PHANTOM = 0x0200;
export const PCI_EXP_DEVCTL_AUX_PME = 0x0400;
export const PCI_EXP_DEVCTL_NOSNOOP_EN = 0x0800;
export const PCI_EXP_DEVCTL_READRQ = 0x7000;
export const PCI_EXP_DEVCTL_BCR_FLR = 0x8000;
export const PCI_EXP_DEVSTA = 10;
export const PCI_EXP_DEVSTA_TRPND = 0x0020;
export const PCI_EXP_LNKCAP = 12;
export const PCI_EXP_LNKCTL = 16;
export const PCI_EXP_LNKSTA = 18;
export const PCI_EXP_SLTCAP = 20;
export const PCI_EXP_SLTCTL = 24;
export const PCI_EXP_SLTSTA = 26;
export const PCI_EXP_RTCTL = 28;
export const PCI_EXP_RTCAP = 30;
export const PCI_EXP_RTSTA = 32;
export const PCI_EXP_DEVCAP2 = 36;
export const PCI_EXP_DEVCAP2_ARI = 0x00000020;
export const PCI_EXP_DEVCTL2 = 40;
export const PCI_EXP_DEVCTL2_ARI = 0x0020;
export const PCI_EXP_DEVSTA2 = 42;
export const PCI_EXP_LNKCAP2 = 44;
export const PCI_EXP_LNKCTL2 = 48;
export const PCI_EXP_LNKSTA2 = 50;
/** Length of a v1 endpoint PCIe capability (up to and including the link registers). */
export const PCI_CAP_EXP_ENDPOINT_SIZEOF_V1 = 20;
/** Length of a v2 endpoint PCIe capability (up to and including LNKSTA2). */
export const PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 = 52;
/** The same for root-complex integrated endpoints, which have no link registers. */
export const PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1 = 0x0c;
export const PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2 = 0x2c;

// ---- extended capabilities (PCI Express, at 0x100) -----------------------------------------
export const PCI_EXT_CAP_ID_ERR = 0x01;
export const PCI_EXT_CAP_ID_VC = 0x02;
export const PCI_EXT_CAP_ID_DSN = 0x03;
export const PCI_EXT_CAP_ID_PWR = 0x04;
export const PCI_EXT_CAP_ID_RCLD = 0x05;
export const PCI_EXT_CAP_ID_RCILC = 0x06;
export const PCI_EXT_CAP_ID_RCEC = 0x07;
export const PCI_EXT_CAP_ID_MFVC = 0x08;
export const PCI_EXT_CAP_ID_VC9 = 0x09;
export const PCI_EXT_CAP_ID_RCRB = 0x0a;
export const PCI_EXT_CAP_ID_VNDR = 0x0b;
export const PCI_EXT_CAP_ID_CAC = 0x0c;
export const PCI_EXT_CAP_ID_ACS = 0x0d;
export const PCI_EXT_CAP_ID_ARI = 0x0e;
export const PCI_EXT_CAP_ID_ATS = 0x0f;
export const PCI_EXT_CAP_ID_SRIOV = 0x10;
export const PCI_EXT_CAP_ID_MRIOV = 0x11;
export const PCI_EXT_CAP_ID_MCAST = 0x12;
export const PCI_EXT_CAP_ID_PRI = 0x13;
export const PCI_EXT_CAP_ID_AMD_XXX = 0x14;
export const PCI_EXT_CAP_ID_REBAR = 0x15;
export const PCI_EXT_CAP_ID_DPA = 0x16;
export const PCI_EXT_CAP_ID_TPH = 0x17;
export const PCI_EXT_CAP_ID_LTR = 0x18;
export const PCI_EXT_CAP_ID_SECPCI = 0x19;
export const PCI_EXT_CAP_ID_PMUX = 0x1a;
export const PCI_EXT_CAP_ID_PASID = 0x1b;
export const PCI_EXT_CAP_ID_MAX = 0x1b;

/** Header dword of an extended capability: id 15:0, version 19:16, next 31:20. */
export const extCapHeader = (id: number, version: number, next: number): number =>
  ((next & 0xffc) << 20) | ((version & 0xf) << 16) | (id & 0xffff);
export const PCI_EXT_CAP_ID = (header: number): number => header & 0xffff;
export const PCI_EXT_CAP_VER = (header: number): number => (header >>> 16) & 0xf;
export const PCI_EXT_CAP_NEXT = (header: number): number => (header >>> 20) & 0xffc;

// AER
export const PCI_ERR_UNCOR_STATUS = 4;
export const PCI_ERR_UNCOR_MASK = 8;
export const PCI_ERR_UNCOR_SEVER = 12;
export const PCI_ERR_COR_STATUS = 16;
export const PCI_ERR_COR_MASK = 20;
export const PCI_ERR_CAP = 24;
export const PCI_ERR_HEADER_LOG = 28;
export const PCI_ERR_ROOT_COMMAND = 44;
export const PCI_ERR_SIZEOF = 0x48;
/** PCI_ERR_UNC_* bits the vfio perm table lets a user write (all the defined ones). */
export const PCI_ERR_UNC_WRITABLE = 0x03fff031;
export const PCI_ERR_COR_WRITABLE = 0x0000f1c1;
export const PCI_ERR_CAP_ECRC_GENE = 0x00000040;
export const PCI_ERR_CAP_ECRC_CHKE = 0x00000100;

// DSN, ARI, SR-IOV, power budgeting
export const PCI_EXT_CAP_DSN_SIZEOF = 12;
export const PCI_EXT_CAP_ARI_SIZEOF = 8;
export const PCI_ARI_CAP = 4;
export const PCI_ARI_CTRL = 6;
export const PCI_EXT_CAP_SRIOV_SIZEOF = 0x40;
export const PCI_SRIOV_CAP = 0x04;
export const PCI_SRIOV_CTRL = 0x08;
export const PCI_SRIOV_CTRL_VFE = 0x01;
export const PCI_SRIOV_CTRL_MSE = 0x08;
export const PCI_SRIOV_CTRL_ARI = 0x10;
export const PCI_SRIOV_STATUS = 0x0a;
export const PCI_SRIOV_INITIAL_VF = 0x0c;
export const PCI_SRIOV_TOTAL_VF = 0x0e;
export const PCI_SRIOV_NUM_VF = 0x10;
export const PCI_SRIOV_FUNC_LINK = 0x12;
export const PCI_SRIOV_VF_OFFSET = 0x14;
export const PCI_SRIOV_VF_STRIDE = 0x16;
export const PCI_SRIOV_VF_DID = 0x1a;
export const PCI_SRIOV_SUP_PGSIZE = 0x1c;
export const PCI_SRIOV_SYS_PGSIZE = 0x20;
export const PCI_SRIOV_BAR = 0x24;
export const PCI_SRIOV_VFM = 0x3c;
export const PCI_EXT_CAP_PWR_SIZEOF = 0x10;
export const PCI_PWR_DATA = 4;
export const PCI_EXT_CAP_ATS_SIZEOF = 8;
export const PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF = 40;
export const PCI_EXT_CAP_PRI_SIZEOF = 16;
export const PCI_EXT_CAP_LTR_SIZEOF = 8;
export const PCI_EXT_CAP_PASID_SIZEOF = 8;

// Vendor-specific extended capability: its length sits in the dword after the header.
export const PCI_VSEC_HDR = 4;
export const PCI_VSEC_HDR_LEN_SHIFT = 20;

// Virtual channels (VC, VC9, MFVC share the layout)
export const PCI_VC_PORT_CAP1 = 4;
export const PCI_VC_CAP1_EVCC = 0x7;
export const PCI_VC_PORT_CAP2 = 8;
export const PCI_VC_CAP2_32_PHASE = 0x2;
export const PCI_VC_CAP2_64_PHASE = 0x4;
export const PCI_VC_CAP2_128_PHASE = 0x8;
export const PCI_CAP_VC_BASE_SIZEOF = 0x10;
export const PCI_CAP_VC_PER_VC_SIZEOF = 0x0c;

// Access control services
export const PCI_ACS_CAP = 4;
export const PCI_ACS_EC = 0x20;
export const PCI_ACS_EGRESS_BITS = 5;

// Resizable BARs
export const PCI_REBAR_CTRL = 8;
export const PCI_REBAR_CTRL_NBAR_MASK = 0xe0;
export const PCI_REBAR_CTRL_NBAR_SHIFT = 5;

// Dynamic power allocation
export const PCI_DPA_CAP = 4;
export const PCI_DPA_CAP_SUBSTATE_MASK = 0x1f;
export const PCI_DPA_BASE_SIZEOF = 16;

// TLP processing hints
export const PCI_TPH_CAP = 4;
export const PCI_TPH_CAP_LOC_MASK = 0x600;
export const PCI_TPH_LOC_CAP = 0x200;
export const PCI_TPH_CAP_ST_MASK = 0x07ff0000;
export const PCI_TPH_CAP_ST_SHIFT = 16;
export const PCI_TPH_BASE_SIZEOF = 0xc;
