// vfio-pci's configuration-space virtualisation (drivers/vfio/pci/vfio_pci_config.c).
//
// At open, vfio_config_init() copies the header and every capability it recognises into a
// virtual config space (vconfig) and records, per byte, which capability owns it (the config
// map). A user access is chopped into aligned pieces that stay inside one capability and one
// dword (vfio_config_do_rw); each piece goes through that capability's permission table:
// `virt` bits come from vconfig, the rest from the hardware, and a write changes only the
// `write` bits (virtual ones in vconfig, the others in the hardware). Bytes no capability owns
// pass straight through (some devices hide registers there); capabilities vfio does not
// know are unlinked from the list the user sees.
//
// The tables below are the kernel's perm tables, one per capability ID, with the behaviour
// (read/write functions) beside them.

import {
  PCI_AF_CAP,
  PCI_AF_CAP_FLR,
  PCI_AF_CAP_TP,
  PCI_AF_CTRL,
  PCI_AF_CTRL_FLR,
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_5,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_BIST,
  PCI_CACHE_LINE_SIZE,
  PCI_CAP_AF_SIZEOF,
  PCI_CAP_ID_AF,
  PCI_CAP_ID_AGP,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_HT,
  PCI_CAP_ID_MAX,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PCIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_SATA,
  PCI_CAP_ID_VNDR,
  PCI_CAP_ID_VPD,
  PCI_CAP_LIST_ID,
  PCI_CAP_LIST_NEXT,
  PCI_CAP_MSIX_SIZEOF,
  PCI_CAP_SIZEOF,
  PCI_CAP_VPD_SIZEOF,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_SIZE,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_DEVICE_ID,
  PCI_ERR_CAP,
  PCI_ERR_CAP_ECRC_CHKE,
  PCI_ERR_CAP_ECRC_GENE,
  PCI_ERR_COR_MASK,
  PCI_ERR_COR_STATUS,
  PCI_ERR_COR_WRITABLE,
  PCI_ERR_ROOT_COMMAND,
  PCI_ERR_UNC_WRITABLE,
  PCI_ERR_UNCOR_MASK,
  PCI_ERR_UNCOR_SEVER,
  PCI_ERR_UNCOR_STATUS,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL2,
  PCI_EXP_DEVCTL2_ARI,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL_PAYLOAD,
  PCI_EXP_DEVCTL_PHANTOM,
  PCI_EXP_DEVCTL_READRQ,
  PCI_EXP_FLAGS,
  PCI_EXP_FLAGS_TYPE,
  PCI_EXP_FLAGS_VERS,
  PCI_EXP_TYPE_RC_END,
  PCI_EXT_CAP_ARI_SIZEOF,
  PCI_EXT_CAP_ATS_SIZEOF,
  PCI_EXT_CAP_DSN_SIZEOF,
  PCI_EXT_CAP_ID,
  PCI_EXT_CAP_ID_ACS,
  PCI_EXT_CAP_ID_AMD_XXX,
  PCI_EXT_CAP_ID_ARI,
  PCI_EXT_CAP_ID_ATS,
  PCI_EXT_CAP_ID_CAC,
  PCI_EXT_CAP_ID_DPA,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_LTR,
  PCI_EXT_CAP_ID_MAX,
  PCI_EXT_CAP_ID_MCAST,
  PCI_EXT_CAP_ID_MFVC,
  PCI_EXT_CAP_ID_MRIOV,
  PCI_EXT_CAP_ID_PASID,
  PCI_EXT_CAP_ID_PMUX,
  PCI_EXT_CAP_ID_PRI,
  PCI_EXT_CAP_ID_PWR,
  PCI_EXT_CAP_ID_RCEC,
  PCI_EXT_CAP_ID_RCILC,
  PCI_EXT_CAP_ID_RCLD,
  PCI_EXT_CAP_ID_RCRB,
  PCI_EXT_CAP_ID_REBAR,
  PCI_EXT_CAP_ID_SECPCI,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_EXT_CAP_ID_TPH,
  PCI_EXT_CAP_ID_VC,
  PCI_EXT_CAP_ID_VC9,
  PCI_EXT_CAP_ID_VNDR,
  PCI_EXT_CAP_LTR_SIZEOF,
  PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF,
  PCI_EXT_CAP_NEXT,
  PCI_EXT_CAP_PRI_SIZEOF,
  PCI_EXT_CAP_PWR_SIZEOF,
  PCI_EXT_CAP_SRIOV_SIZEOF,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_LATENCY_TIMER,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_32,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QMASK,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSI_MASK_32,
  PCI_MSI_MASK_64,
  PCI_MSI_PENDING_32,
  PCI_MSI_PENDING_64,
  PCI_PM_CAP_PME_MASK,
  PCI_PM_CTRL,
  PCI_PM_CTRL_PME_ENABLE,
  PCI_PM_CTRL_PME_STATUS,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_PM_SIZEOF,
  PCI_PWR_DATA,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
  PCI_STD_NUM_BARS,
  PCI_VENDOR_ID,
  PCI_VPD_ADDR,
  PCI_VPD_DATA,
  PCI_CAP_EXP_ENDPOINT_SIZEOF_V1,
  PCI_CAP_EXP_ENDPOINT_SIZEOF_V2,
  PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1,
  PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2,
  PCI_AGP_SIZEOF,
  PCI_CAP_FLAGS,
  PCI_CAP_PCIX_SIZEOF_V0,
  PCI_CAP_PCIX_SIZEOF_V2,
  PCI_X_CMD,
  PCI_X_CMD_VERSION,
  PCI_X_ECC_CSR,
  HT_3BIT_CAP_MASK,
  HT_CAP_SIZEOF_LONG,
  HT_CAP_SIZEOF_SHORT,
  PCI_SATA_REGS,
  PCI_SATA_REGS_INLINE,
  PCI_SATA_REGS_MASK,
  PCI_SATA_SIZEOF_LONG,
  PCI_SATA_SIZEOF_SHORT,
  PCI_VSEC_HDR,
  PCI_VSEC_HDR_LEN_SHIFT,
  PCI_VC_PORT_CAP1,
  PCI_VC_CAP1_EVCC,
  PCI_VC_PORT_CAP2,
  PCI_VC_CAP2_32_PHASE,
  PCI_VC_CAP2_64_PHASE,
  PCI_VC_CAP2_128_PHASE,
  PCI_CAP_VC_BASE_SIZEOF,
  PCI_CAP_VC_PER_VC_SIZEOF,
  PCI_ACS_CAP,
  PCI_ACS_EC,
  PCI_ACS_EGRESS_BITS,
  PCI_REBAR_CTRL,
  PCI_REBAR_CTRL_NBAR_MASK,
  PCI_REBAR_CTRL_NBAR_SHIFT,
  PCI_DPA_CAP,
  PCI_DPA_CAP_SUBSTATE_MASK,
  PCI_DPA_BASE_SIZEOF,
  PCI_TPH_CAP,
  PCI_TPH_CAP_LOC_MASK,
  PCI_TPH_LOC_CAP,
  PCI_TPH_CAP_ST_MASK,
  PCI_TPH_CAP_ST_SHIFT,
  PCI_TPH_BASE_SIZEOF,
} from '../../hw/pci/regs.js';
import { EFAULT } from '../../uapi/errno.js';
import type { Era } from '../era.js';
import { isMsi, type PermBits, type PermReadFn, type PermWriteFn, type VfioPciCoreDevice } from './core-device.js';
import { vfioPciIntxMask, vfioPciIntxUnmask } from './intrs.js';
import { PCI_D3HOT } from '../pci/pci.js';

/** The pseudo capability ID of the standard header in the config map. */
const PCI_CAP_ID_BASIC = 0;
/** Config-map bytes no capability owns (raw access). */
const PCI_CAP_ID_INVALID = 0xff;
/** Config-map bytes that exist only in vconfig. */
const PCI_CAP_ID_INVALID_VIRT = 0xfe;

const NO_VIRT = 0;
const ALL_VIRT = 0xffffffff;
const NO_WRITE = 0;
const ALL_WRITE = 0xffffffff;

// ---- little helpers -------------------------------------------------------------------------

const fullMask = (count: number): number => (count === 4 ? 0xffffffff : (1 << (count * 8)) - 1);

function getLe(a: Uint8Array | undefined, off: number, count: number): number {
  if (!a) return 0;
  let v = 0;
  for (let i = count - 1; i >= 0; i--) v = v * 256 + (a[off + i] ?? 0);
  return v >>> 0;
}

function setLe(a: Uint8Array, off: number, count: number, value: number): void {
  let v = value >>> 0;
  for (let i = 0; i < count; i++, v = Math.floor(v / 256)) a[off + i] = v & 0xff;
}

const and = (a: number, b: number): number => (a & b) >>> 0;
const or = (a: number, b: number): number => (a | b) >>> 0;
const not = (a: number): number => ~a >>> 0;

function vget(vdev: VfioPciCoreDevice, pos: number, count: number): number {
  return getLe(vdev.cfg!.vconfig, pos, count);
}

function vset(vdev: VfioPciCoreDevice, pos: number, count: number, value: number): void {
  setLe(vdev.cfg!.vconfig, pos, count, value);
}

/** Allocates a zeroed table ("all readable, none writable, none virtualised"), dword-rounded. */
function allocPerm(size: number, readfn: PermReadFn = defaultRead, writefn: PermWriteFn = defaultWrite): PermBits {
  const n = (size + 3) & ~3;
  return { virt: new Uint8Array(n), write: new Uint8Array(n), readfn, writefn };
}

const pSetB = (p: PermBits, off: number, virt: number, write: number): void => {
  p.virt![off] = virt & 0xff;
  p.write![off] = write & 0xff;
};
const pSetW = (p: PermBits, off: number, virt: number, write: number): void => {
  setLe(p.virt!, off, 2, virt & 0xffff);
  setLe(p.write!, off, 2, write & 0xffff);
};
const pSetD = (p: PermBits, off: number, virt: number, write: number): void => {
  setLe(p.virt!, off, 4, virt);
  setLe(p.write!, off, 4, write);
};

// ---- the access functions ------------------------------------------------------------------

/** vfio_default_config_read(): virtual bits from vconfig, the others from the hardware. */
function defaultRead(vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number): number {
  let val = vget(vdev, pos, count);
  const virt = getLe(perm.virt, offset, count);
  if (virt !== fullMask(count)) {
    const phys = vdev.pdev.readConfig(pos, count as 1 | 2 | 4);
    val = or(and(phys, not(virt)), and(val, virt));
  }
  return val;
}

/** vfio_default_config_write(): writable virtual bits to vconfig, writable others to hardware. */
function defaultWrite(vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number, val: number): number {
  const write = getLe(perm.write, offset, count);
  if (!write) return count; // drop, no writable bits
  const virt = getLe(perm.virt, offset, count);
  if (and(write, virt)) {
    let v = vget(vdev, pos, count);
    v = or(and(v, not(and(write, virt))), and(val, and(write, virt)));
    vset(vdev, pos, count, v);
  }
  if (and(write, not(virt))) {
    let phys = vdev.pdev.readConfig(pos, count as 1 | 2 | 4);
    const m = and(write, not(virt));
    phys = or(and(phys, not(m)), and(val, m));
    vdev.pdev.writeConfig(pos, count as 1 | 2 | 4, phys);
  }
  return count;
}

/** vfio_direct_config_read(): hardware, except capability IDs/next pointers from vconfig. */
function directRead(vdev: VfioPciCoreDevice, pos: number, count: number, _perm: PermBits, offset: number): number {
  let val = vdev.pdev.readConfig(pos, count as 1 | 2 | 4);
  if (pos >= PCI_CFG_SPACE_SIZE) {
    // Extended capability header mangling.
    if (offset < 4) val = vget(vdev, pos, count);
  } else if (pos >= PCI_STD_HEADER_SIZEOF) {
    if (offset === PCI_CAP_LIST_ID && count > 1) {
      const n = Math.min(2, count);
      val = or(and(val, not(fullMask(n))), vget(vdev, pos, n));
    } else if (offset === PCI_CAP_LIST_NEXT) {
      val = or(and(val, not(0xff)), vget(vdev, pos, 1));
    }
  }
  return val;
}

/** vfio_raw_config_read/write(): no virtualisation at all. */
function rawRead(vdev: VfioPciCoreDevice, pos: number, count: number): number {
  return vdev.pdev.readConfig(pos, count as 1 | 2 | 4);
}
function rawWrite(vdev: VfioPciCoreDevice, pos: number, count: number, _p: PermBits, _o: number, val: number): number {
  vdev.pdev.writeConfig(pos, count as 1 | 2 | 4, val);
  return count;
}

/** vfio_virt_config_read/write(): vconfig only. */
function virtRead(vdev: VfioPciCoreDevice, pos: number, count: number): number {
  return vget(vdev, pos, count);
}
function virtWrite(vdev: VfioPciCoreDevice, pos: number, count: number, _p: PermBits, _o: number, val: number): number {
  vset(vdev, pos, count, val);
  return count;
}

// ---- the standard header -----------------------------------------------------------------

const isBar = (offset: number): boolean =>
  (offset >= PCI_BASE_ADDRESS_0 && offset < PCI_BASE_ADDRESS_5 + 4) || (offset >= PCI_ROM_ADDRESS && offset < PCI_ROM_ADDRESS + 4);

/** vfio_generate_bar_flags(). */
function barFlags(vdev: VfioPciCoreDevice, bar: number): number {
  const r = vdev.pdev.resources[bar]!;
  if (r.io) return PCI_BASE_ADDRESS_SPACE_IO;
  return (r.prefetch ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0) | (r.mem64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0);
}

/**
 * vfio_bar_fixup(): the virtual BARs answer as hardware would to sizing (address bits below
 * the size read 0, the type bits are the resource's); a BAR the host did not map reads 0.
 */
function barFixup(vdev: VfioPciCoreDevice): void {
  const cfg = vdev.cfg!;
  if (!cfg.bardirty) return;
  const pdev = vdev.pdev;
  for (let i = 0; i < PCI_STD_NUM_BARS; i++) {
    const off = PCI_BASE_ADDRESS_0 + 4 * i;
    const r = pdev.resources[i]!;
    if (!r.start) {
      vset(vdev, off, 4, 0);
      continue;
    }
    const mask = ~(r.len - 1n) & 0xffff_ffff_ffff_ffffn;
    let v = and(vget(vdev, off, 4), Number(mask & 0xffff_ffffn));
    v = or(v, barFlags(vdev, i));
    vset(vdev, off, 4, v);
    if (v & PCI_BASE_ADDRESS_MEM_TYPE_64) {
      vset(vdev, off + 4, 4, and(vget(vdev, off + 4, 4), Number(mask >> 32n)));
      i++;
    }
  }
  const rom = pdev.resources[6]!;
  if (rom.start) {
    const mask = or(Number(~(rom.len - 1n) & 0xffff_ffffn), PCI_ROM_ADDRESS_ENABLE);
    vset(vdev, PCI_ROM_ADDRESS, 4, and(vget(vdev, PCI_ROM_ADDRESS, 4), mask));
  } else {
    vset(vdev, PCI_ROM_ADDRESS, 4, 0);
  }
  cfg.bardirty = false;
}

/** vfio_basic_config_read(). */
function basicRead(vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number): number {
  if (isBar(offset)) barFixup(vdev);
  let val = defaultRead(vdev, pos, count, perm, offset);
  // A VF's memory enable lives in the PF's SR-IOV capability: show the virtual bit.
  if (offset === PCI_COMMAND && vdev.pdev.isVirtfn) val = or(val, vget(vdev, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
  return val;
}

/** vfio_need_bar_restore(): a BAR no longer holds what it held at open (a backdoor reset). */
function needBarRestore(vdev: VfioPciCoreDevice): boolean {
  const rbar = vdev.cfg!.rbar;
  for (let i = 0; i < PCI_STD_NUM_BARS; i++) {
    if (rbar[i] && vdev.pdev.readConfig(PCI_BASE_ADDRESS_0 + 4 * i, 4) !== rbar[i]) return true;
  }
  return false;
}

/** vfio_bar_restore(): write the BARs and ROM found at open back to the hardware. */
function barRestore(vdev: VfioPciCoreDevice): void {
  const pdev = vdev.pdev;
  if (pdev.isVirtfn) return;
  const rbar = vdev.cfg!.rbar;
  if (vdev.ex.barRestorePciInfo) pdev.info('vfio_bar_restore: reset recovery - restoring BARs');
  else vdev.ctx.log.info(`vfio_bar_restore: ${pdev.name} reset recovery - restoring bars`);
  for (let i = 0; i < PCI_STD_NUM_BARS; i++) pdev.writeConfig(PCI_BASE_ADDRESS_0 + 4 * i, 4, rbar[i]!);
  pdev.writeConfig(PCI_ROM_ADDRESS, 4, rbar[6]!);
  if (vdev.nointx) pdev.writeConfig(PCI_COMMAND, 2, pdev.readConfig(PCI_COMMAND, 2) | PCI_COMMAND_INTX_DISABLE);
}

/** vfio_basic_config_write(): command-register bookkeeping, INTx disable emulation, BAR dirtiness. */
function basicWrite(vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number, val: number): number {
  const pdev = vdev.pdev;
  let newCmd = 0;
  if (offset === PCI_COMMAND) {
    const phys = pdev.readConfig(PCI_COMMAND, 2);
    const virtCmd = vget(vdev, PCI_COMMAND, 2);
    newCmd = val & 0xffff;
    const physIo = !!(phys & PCI_COMMAND_IO);
    const virtIo = !!(virtCmd & PCI_COMMAND_IO);
    const newIo = !!(newCmd & PCI_COMMAND_IO);
    const physMem = !!(phys & PCI_COMMAND_MEMORY);
    const virtMem = !!(virtCmd & PCI_COMMAND_MEMORY);
    const newMem = !!(newCmd & PCI_COMMAND_MEMORY);
    // Writing decode on while we think it is on but the hardware has it off means the device
    // went through a reset behind our back: put its BARs back first.
    if ((newMem && virtMem && !physMem && !pdev.isVirtfn) || (newIo && virtIo && !physIo) || needBarRestore(vdev)) barRestore(vdev);
  }
  const ret = defaultWrite(vdev, pos, count, perm, offset, val);
  if (ret < 0) return ret;
  if (offset === PCI_COMMAND) {
    const mask = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
    vset(vdev, PCI_COMMAND, 2, (vget(vdev, PCI_COMMAND, 2) & ~mask) | (newCmd & mask));
  }
  // Emulate INTx disable.
  if (offset >= PCI_COMMAND && offset <= PCI_COMMAND + 1) {
    const virtIntxDisable = !!(vget(vdev, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE);
    if (virtIntxDisable && !vdev.virqDisabled) {
      vdev.virqDisabled = true;
      vfioPciIntxMask(vdev);
    } else if (!virtIntxDisable && vdev.virqDisabled) {
      vdev.virqDisabled = false;
      vfioPciIntxUnmask(vdev);
    }
  }
  if (isBar(offset)) vdev.cfg!.bardirty = true;
  return count;
}

// ---- capabilities ---------------------------------------------------------------------------

/** vfio_pm_config_write(): the power state is changed by the kernel, not by the write. */
function pmWrite(vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number, val: number): number {
  const ret = defaultWrite(vdev, pos, count, perm, offset, val);
  if (ret < 0) return ret;
  if (offset === PCI_PM_CTRL) vdev.setPowerState(val & PCI_PM_CTRL_STATE_MASK);
  return count;
}

/** vfio_exp_config_write(): Initiate FLR becomes a function reset; MRRS floored at MPS. */
function expWrite(vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number, val: number): number {
  const ctrlPos = pos - offset + PCI_EXP_DEVCTL;
  const readrq = vget(vdev, ctrlPos, 2) & PCI_EXP_DEVCTL_READRQ;
  const ret = defaultWrite(vdev, pos, count, perm, offset, val);
  if (ret < 0) return ret;
  let ctrl = vget(vdev, ctrlPos, 2);
  if (ctrl & PCI_EXP_DEVCTL_BCR_FLR) {
    // The bit always reads 0; a reset happens if the function can do FLR.
    ctrl &= ~PCI_EXP_DEVCTL_BCR_FLR;
    vset(vdev, ctrlPos, 2, ctrl);
    const cap = vdev.pdev.readConfig(pos - offset + PCI_EXP_DEVCAP, 4);
    if (cap & PCI_EXP_DEVCAP_FLR) vdev.pdev.tryResetFunction();
  }
  if (vdev.ex.devctlMpsMrrs && readrq !== (ctrl & PCI_EXP_DEVCTL_READRQ)) {
    const rq = Math.max(128 << ((ctrl & PCI_EXP_DEVCTL_READRQ) >> 12), vdev.pdev.pcieGetMps());
    vdev.pdev.pcieSetReadrq(rq);
  }
  return count;
}

/** vfio_af_config_write(): AF FLR, as for PCIe. */
function afWrite(vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number, val: number): number {
  const ctrlPos = pos - offset + PCI_AF_CTRL;
  const ret = defaultWrite(vdev, pos, count, perm, offset, val);
  if (ret < 0) return ret;
  const ctrl = vget(vdev, ctrlPos, 1);
  if (ctrl & PCI_AF_CTRL_FLR) {
    vset(vdev, ctrlPos, 1, ctrl & ~PCI_AF_CTRL_FLR);
    const cap = vdev.pdev.readConfig(pos - offset + PCI_AF_CAP, 1);
    if (cap & PCI_AF_CAP_FLR && cap & PCI_AF_CAP_TP) vdev.pdev.tryResetFunction();
  }
  return count;
}

/** vfio_find_cap_start(). */
function findCapStart(vdev: VfioPciCoreDevice, pos: number): number {
  const map = vdev.cfg!.map;
  const cap = map[pos]!;
  if (cap === PCI_CAP_ID_BASIC) return 0;
  const base = pos >= PCI_CFG_SPACE_SIZE ? PCI_CFG_SPACE_SIZE : PCI_STD_HEADER_SIZEOF;
  while (pos - 1 >= base && map[pos - 1] === cap) pos--;
  return pos;
}

/**
 * vfio_msi_config_read(): update the flags' queue mask from msi_qmax first. The kernel
 * writes through a pointer to the capability's first word (the ID and next bytes), not the
 * flags: the ID byte it changes is read from the hardware anyway, so users never see it. The
 * model keeps the same effect on vconfig.
 */
function msiRead(vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number): number {
  if (offset <= PCI_MSI_FLAGS && offset + count >= PCI_MSI_FLAGS) {
    const start = findCapStart(vdev, pos);
    let flags = vget(vdev, start, 2);
    flags = (flags & ~PCI_MSI_FLAGS_QMASK) | (vdev.msiQmax << 1);
    vset(vdev, start, 2, flags);
  }
  return defaultRead(vdev, pos, count, perm, offset);
}

/** vfio_msi_config_write(): enable only through the ioctl; queue size capped at msi_qmax. */
function msiWrite(vdev: VfioPciCoreDevice, pos: number, count: number, perm: PermBits, offset: number, val: number): number {
  const ret = defaultWrite(vdev, pos, count, perm, offset, val);
  if (ret < 0) return ret;
  if (offset <= PCI_MSI_FLAGS && offset + count >= PCI_MSI_FLAGS) {
    const start = findCapStart(vdev, pos);
    let flags = vget(vdev, start + PCI_MSI_FLAGS, 2);
    if (!isMsi(vdev)) flags &= ~PCI_MSI_FLAGS_ENABLE;
    if ((flags & PCI_MSI_FLAGS_QSIZE) >> 4 > vdev.msiQmax) {
      flags &= ~PCI_MSI_FLAGS_QSIZE;
      flags |= vdev.msiQmax << 4;
    }
    vset(vdev, start + PCI_MSI_FLAGS, 2, flags);
    vdev.pdev.writeConfig(start + PCI_MSI_FLAGS, 2, flags);
  }
  return count;
}

/** init_pci_cap_msi_perm(): sized by the device's MSI flags. */
function msiPerm(len: number, flags: number): PermBits {
  const p = allocPerm(len, msiRead, msiWrite);
  pSetB(p, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE);
  // The upper byte of the control register is reserved: only the lower one.
  pSetB(p, PCI_MSI_FLAGS, ALL_VIRT, ALL_WRITE);
  pSetD(p, PCI_MSI_ADDRESS_LO, ALL_VIRT, ALL_WRITE);
  if (flags & PCI_MSI_FLAGS_64BIT) {
    pSetD(p, PCI_MSI_ADDRESS_HI, ALL_VIRT, ALL_WRITE);
    pSetW(p, PCI_MSI_DATA_64, ALL_VIRT, ALL_WRITE);
    if (flags & PCI_MSI_FLAGS_MASKBIT) {
      pSetD(p, PCI_MSI_MASK_64, NO_VIRT, ALL_WRITE);
      pSetD(p, PCI_MSI_PENDING_64, NO_VIRT, ALL_WRITE);
    }
  } else {
    pSetW(p, PCI_MSI_DATA_32, ALL_VIRT, ALL_WRITE);
    if (flags & PCI_MSI_FLAGS_MASKBIT) {
      pSetD(p, PCI_MSI_MASK_32, NO_VIRT, ALL_WRITE);
      pSetD(p, PCI_MSI_PENDING_32, NO_VIRT, ALL_WRITE);
    }
  }
  return p;
}

// ---- the shared tables (vfio_pci_init_perm_bits) ---------------------------------------------

interface PermTables {
  cap: PermBits[];
  ecap: PermBits[];
  unassigned: PermBits;
  virt: PermBits;
}

/** Built once per era (the tables follow its switches), as the kernel builds them at module init. */
const tableCache = new WeakMap<Era, PermTables>();

function permTables(ex: Era): PermTables {
  const hit = tableCache.get(ex);
  if (hit) return hit;

  // Default: capabilities read-only, not virtualised (but IDs/next from vconfig).
  const cap: PermBits[] = Array.from({ length: PCI_CAP_ID_MAX + 1 }, () => ({ readfn: directRead }));
  const ecap: PermBits[] = Array.from({ length: PCI_EXT_CAP_ID_MAX + 1 }, () => ({ readfn: directRead }));

  // The basic header (init_pci_cap_basic_perm).
  const basic = allocPerm(PCI_STD_HEADER_SIZEOF, basicRead, basicWrite);
  pSetW(basic, PCI_VENDOR_ID, ALL_VIRT, NO_WRITE); // VFs read ffff here
  pSetW(basic, PCI_DEVICE_ID, ALL_VIRT, NO_WRITE);
  pSetW(basic, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, ALL_WRITE); // used internally for INTx control
  pSetW(basic, PCI_STATUS, PCI_STATUS_CAP_LIST, NO_WRITE); // the chain is ours to edit
  pSetB(basic, PCI_CACHE_LINE_SIZE, NO_VIRT, ALL_WRITE); // no harm to write
  pSetB(basic, PCI_LATENCY_TIMER, NO_VIRT, ALL_WRITE);
  pSetB(basic, PCI_BIST, NO_VIRT, ALL_WRITE);
  for (let off = PCI_BASE_ADDRESS_0; off <= PCI_BASE_ADDRESS_5; off += 4) pSetD(basic, off, ALL_VIRT, ALL_WRITE); // can't touch the real BARs
  pSetD(basic, PCI_ROM_ADDRESS, ALL_VIRT, ALL_WRITE);
  pSetB(basic, PCI_CAPABILITY_LIST, ALL_VIRT, NO_WRITE);
  pSetB(basic, PCI_INTERRUPT_LINE, ALL_VIRT, ALL_WRITE); // sometimes used by software
  pSetB(basic, PCI_INTERRUPT_PIN, ALL_VIRT, NO_WRITE); // lets INTx be hidden
  cap[0] = basic;

  // Power management (init_pci_cap_pm_perm).
  const pm = allocPerm(PCI_PM_SIZEOF, defaultRead, pmWrite);
  pSetB(pm, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE);
  if (ex.pmeVirt) {
    // Users cannot process PME: PME_Support, PME_En and PME_Status are virtual (and 0).
    pSetW(pm, PCI_PM_PMC, PCI_PM_CAP_PME_MASK, NO_WRITE);
    pSetD(pm, PCI_PM_CTRL, PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS, not(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS | PCI_PM_CTRL_STATE_MASK));
  } else {
    pSetD(pm, PCI_PM_CTRL, NO_VIRT, not(PCI_PM_CTRL_STATE_MASK));
  }
  cap[PCI_CAP_ID_PM] = pm;

  // Vital product data (init_pci_cap_vpd_perm): address and data virtual. The VPD access
  // itself (pci_read_vpd/pci_write_vpd) is not modelled: no model has VPD contents.
  const vpd = allocPerm(PCI_CAP_VPD_SIZEOF);
  pSetB(vpd, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE);
  pSetW(vpd, PCI_VPD_ADDR, ALL_VIRT, ALL_WRITE);
  pSetD(vpd, PCI_VPD_DATA, ALL_VIRT, ALL_WRITE);
  cap[PCI_CAP_ID_VPD] = vpd;

  // PCI-X (init_pci_cap_pcix_perm).
  const pcix = allocPerm(PCI_CAP_PCIX_SIZEOF_V2);
  pSetB(pcix, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE);
  pSetW(pcix, PCI_X_CMD, NO_VIRT, ALL_WRITE);
  pSetD(pcix, PCI_X_ECC_CSR, NO_VIRT, ALL_WRITE);
  cap[PCI_CAP_ID_PCIX] = pcix;

  // Vendor-specific: writes go straight to the hardware.
  cap[PCI_CAP_ID_VNDR] = { readfn: directRead, writefn: rawWrite };

  // PCI Express (init_pci_cap_exp_perm).
  const exp = allocPerm(PCI_CAP_EXP_ENDPOINT_SIZEOF_V2, defaultRead, expWrite);
  pSetB(exp, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE);
  // Device control is writable except Phantom Functions (could confuse the IOMMU); Initiate
  // FLR (and MPS/MRRS, which need a system view) are virtual. DEVCTL2's ARI bit is the host's.
  pSetW(
    exp,
    PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL_BCR_FLR | (ex.devctlMpsMrrs ? PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ : 0),
    not(PCI_EXP_DEVCTL_PHANTOM),
  );
  pSetW(exp, PCI_EXP_DEVCTL2, NO_VIRT, not(PCI_EXP_DEVCTL2_ARI));
  cap[PCI_CAP_ID_EXP] = exp;

  // Advanced features (init_pci_cap_af_perm).
  const af = allocPerm(PCI_CAP_AF_SIZEOF, defaultRead, afWrite);
  pSetB(af, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE);
  pSetB(af, PCI_AF_CTRL, PCI_AF_CTRL_FLR, PCI_AF_CTRL_FLR);
  cap[PCI_CAP_ID_AF] = af;

  // AER (init_pci_ext_cap_err_perm): the header dword is virtual (it holds the next pointer).
  const err = allocPerm(PCI_ERR_ROOT_COMMAND);
  pSetD(err, 0, ALL_VIRT, NO_WRITE);
  pSetD(err, PCI_ERR_UNCOR_STATUS, NO_VIRT, PCI_ERR_UNC_WRITABLE);
  pSetD(err, PCI_ERR_UNCOR_MASK, NO_VIRT, PCI_ERR_UNC_WRITABLE);
  pSetD(err, PCI_ERR_UNCOR_SEVER, NO_VIRT, PCI_ERR_UNC_WRITABLE);
  pSetD(err, PCI_ERR_COR_STATUS, NO_VIRT, PCI_ERR_COR_WRITABLE);
  pSetD(err, PCI_ERR_COR_MASK, NO_VIRT, PCI_ERR_COR_WRITABLE);
  pSetD(err, PCI_ERR_CAP, NO_VIRT, PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE);
  ecap[PCI_EXT_CAP_ID_ERR] = err;

  // Power budgeting (init_pci_ext_cap_pwr_perm): the data selector may be written.
  const pwr = allocPerm(PCI_EXT_CAP_PWR_SIZEOF);
  pSetD(pwr, 0, ALL_VIRT, NO_WRITE);
  pSetB(pwr, PCI_PWR_DATA, NO_VIRT, ALL_WRITE);
  ecap[PCI_EXT_CAP_ID_PWR] = pwr;

  ecap[PCI_EXT_CAP_ID_VNDR] = { readfn: directRead, writefn: rawWrite };

  const t: PermTables = {
    cap,
    ecap,
    unassigned: { readfn: (v, p, c) => rawRead(v, p, c), writefn: rawWrite },
    virt: { readfn: (v, p, c) => virtRead(v, p, c), writefn: virtWrite },
  };
  tableCache.set(ex, t);
  return t;
}

// ---- capability lengths ---------------------------------------------------------------------

/** pci_cap_length[]: 0 = hidden from the user's list, 0xff = variable. */
const CAP_LENGTH: Record<number, number> = {
  [PCI_CAP_ID_BASIC]: PCI_STD_HEADER_SIZEOF,
  [PCI_CAP_ID_PM]: PCI_PM_SIZEOF,
  [PCI_CAP_ID_AGP]: PCI_AGP_SIZEOF,
  [PCI_CAP_ID_VPD]: PCI_CAP_VPD_SIZEOF,
  [PCI_CAP_ID_MSI]: 0xff,
  [PCI_CAP_ID_PCIX]: 0xff,
  [PCI_CAP_ID_HT]: 0xff,
  [PCI_CAP_ID_VNDR]: 0xff,
  [PCI_CAP_ID_EXP]: 0xff,
  [PCI_CAP_ID_MSIX]: PCI_CAP_MSIX_SIZEOF,
  [PCI_CAP_ID_SATA]: 0xff,
  [PCI_CAP_ID_AF]: PCI_CAP_AF_SIZEOF,
};

/** pci_ext_cap_length[]. */
const EXT_CAP_LENGTH: Record<number, number> = {
  [PCI_EXT_CAP_ID_ERR]: PCI_ERR_ROOT_COMMAND,
  [PCI_EXT_CAP_ID_VC]: 0xff,
  [PCI_EXT_CAP_ID_DSN]: PCI_EXT_CAP_DSN_SIZEOF,
  [PCI_EXT_CAP_ID_PWR]: PCI_EXT_CAP_PWR_SIZEOF,
  [PCI_EXT_CAP_ID_RCLD]: 0,
  [PCI_EXT_CAP_ID_RCILC]: 0,
  [PCI_EXT_CAP_ID_RCEC]: 0,
  [PCI_EXT_CAP_ID_MFVC]: 0xff,
  [PCI_EXT_CAP_ID_VC9]: 0xff,
  [PCI_EXT_CAP_ID_RCRB]: 0,
  [PCI_EXT_CAP_ID_VNDR]: 0xff,
  [PCI_EXT_CAP_ID_CAC]: 0,
  [PCI_EXT_CAP_ID_ACS]: 0xff,
  [PCI_EXT_CAP_ID_ARI]: PCI_EXT_CAP_ARI_SIZEOF,
  [PCI_EXT_CAP_ID_ATS]: PCI_EXT_CAP_ATS_SIZEOF,
  [PCI_EXT_CAP_ID_SRIOV]: PCI_EXT_CAP_SRIOV_SIZEOF,
  [PCI_EXT_CAP_ID_MRIOV]: 0,
  [PCI_EXT_CAP_ID_MCAST]: PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF,
  [PCI_EXT_CAP_ID_PRI]: PCI_EXT_CAP_PRI_SIZEOF,
  [PCI_EXT_CAP_ID_AMD_XXX]: 0,
  [PCI_EXT_CAP_ID_REBAR]: 0xff,
  [PCI_EXT_CAP_ID_DPA]: 0xff,
  [PCI_EXT_CAP_ID_TPH]: 0xff,
  [PCI_EXT_CAP_ID_LTR]: PCI_EXT_CAP_LTR_SIZEOF,
  [PCI_EXT_CAP_ID_SECPCI]: 0,
  [PCI_EXT_CAP_ID_PMUX]: 0,
  [PCI_EXT_CAP_ID_PASID]: 0,
};

/** vfio_cap_len(): the variable-length capabilities. */
function capLen(vdev: VfioPciCoreDevice, cap: number, pos: number): number {
  const pdev = vdev.pdev;
  switch (cap) {
    case PCI_CAP_ID_MSI: {
      const flags = pdev.readConfig(pos + PCI_MSI_FLAGS, 2);
      let len = 10;
      if (flags & PCI_MSI_FLAGS_64BIT) len += 4;
      if (flags & PCI_MSI_FLAGS_MASKBIT) len += 10;
      vdev.cfg!.msiPerm ??= msiPerm(len, flags);
      return len;
    }
    case PCI_CAP_ID_PCIX: {
      const cmd = pdev.readConfig(pos + PCI_X_CMD, 2);
      if (PCI_X_CMD_VERSION(cmd)) {
        if (pdev.cfgSize > PCI_CFG_SPACE_SIZE) vdev.cfg!.extendedCaps = pdev.readConfig(PCI_CFG_SPACE_SIZE, 4) !== 0;
        return PCI_CAP_PCIX_SIZEOF_V2;
      }
      return PCI_CAP_PCIX_SIZEOF_V0;
    }
    case PCI_CAP_ID_VNDR:
      return pdev.readConfig(pos + PCI_CAP_FLAGS, 1); // the length follows the next field
    case PCI_CAP_ID_EXP: {
      if (pdev.cfgSize > PCI_CFG_SPACE_SIZE) vdev.cfg!.extendedCaps = pdev.readConfig(PCI_CFG_SPACE_SIZE, 4) !== 0;
      const flags = pdev.readConfig(pos + PCI_EXP_FLAGS, 2);
      const rcEnd = (flags & PCI_EXP_FLAGS_TYPE) >> 4 === PCI_EXP_TYPE_RC_END;
      // By version and type: integrated endpoints have no link registers.
      if ((flags & PCI_EXP_FLAGS_VERS) === 1) return rcEnd ? PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1 : PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
      return rcEnd ? PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2 : PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
    }
    case PCI_CAP_ID_HT:
      // The capability type is byte 3 (pci_find_ht_capability() reads it there too).
      return pdev.readConfig(pos + 3, 1) & HT_3BIT_CAP_MASK ? HT_CAP_SIZEOF_SHORT : HT_CAP_SIZEOF_LONG;
    case PCI_CAP_ID_SATA:
      return (pdev.readConfig(pos + PCI_SATA_REGS, 1) & PCI_SATA_REGS_MASK) === PCI_SATA_REGS_INLINE ? PCI_SATA_SIZEOF_LONG : PCI_SATA_SIZEOF_SHORT;
    default:
      pdev.warn(`vfio_cap_len: unknown length for PCI cap 0x${cap.toString(16)}@0x${pos.toString(16)}`);
      return 0;
  }
}

/** vfio_ext_cap_len(). */
function extCapLen(vdev: VfioPciCoreDevice, ecap: number, epos: number): number {
  const pdev = vdev.pdev;
  switch (ecap) {
    case PCI_EXT_CAP_ID_VNDR:
      return pdev.readConfig(epos + PCI_VSEC_HDR, 4) >>> PCI_VSEC_HDR_LEN_SHIFT;
    case PCI_EXT_CAP_ID_VC:
    case PCI_EXT_CAP_ID_VC9:
    case PCI_EXT_CAP_ID_MFVC: {
      const evcc = pdev.readConfig(epos + PCI_VC_PORT_CAP1, 4) & PCI_VC_CAP1_EVCC;
      const cap2 = pdev.readConfig(epos + PCI_VC_PORT_CAP2, 4);
      const phases = cap2 & PCI_VC_CAP2_128_PHASE ? 128 : cap2 & PCI_VC_CAP2_64_PHASE ? 64 : cap2 & PCI_VC_CAP2_32_PHASE ? 32 : 0;
      let len = PCI_CAP_VC_BASE_SIZEOF + (1 + evcc) * PCI_CAP_VC_PER_VC_SIZEOF;
      if (phases) len = ((len + 15) & ~15) + (phases * 4) / 8;
      return len;
    }
    case PCI_EXT_CAP_ID_ACS: {
      const c = pdev.readConfig(epos + PCI_ACS_CAP, 1);
      if (c & PCI_ACS_EC) {
        const byte = pdev.readConfig(epos + PCI_ACS_EGRESS_BITS, 1); // egress control vector size
        const bits = byte ? (byte + 31) & ~31 : 256;
        return 8 + bits / 8;
      }
      return 8;
    }
    case PCI_EXT_CAP_ID_REBAR: {
      const nbar = (pdev.readConfig(epos + PCI_REBAR_CTRL, 1) & PCI_REBAR_CTRL_NBAR_MASK) >> PCI_REBAR_CTRL_NBAR_SHIFT;
      return 4 + nbar * 8;
    }
    case PCI_EXT_CAP_ID_DPA:
      return PCI_DPA_BASE_SIZEOF + (pdev.readConfig(epos + PCI_DPA_CAP, 1) & PCI_DPA_CAP_SUBSTATE_MASK) + 1;
    case PCI_EXT_CAP_ID_TPH: {
      const d = pdev.readConfig(epos + PCI_TPH_CAP, 4);
      // A steering-tag table in the capability adds two bytes per entry.
      if ((d & PCI_TPH_CAP_LOC_MASK) === PCI_TPH_LOC_CAP) return PCI_TPH_BASE_SIZEOF + ((d & PCI_TPH_CAP_ST_MASK) >>> PCI_TPH_CAP_ST_SHIFT) * 2 + 2;
      return PCI_TPH_BASE_SIZEOF;
    }
    default:
      pdev.warn(`vfio_ext_cap_len: unknown length for PCI ecap 0x${ecap.toString(16)}@0x${epos.toString(16)}`);
      return 0;
  }
}

/** vfio_fill_vconfig_bytes(): copy the hardware's bytes into vconfig. */
function fillVconfig(vdev: VfioPciCoreDevice, offset: number, size: number): void {
  while (size) {
    const n = size >= 4 && !(offset % 4) ? 4 : size >= 2 && !(offset % 2) ? 2 : 1;
    vset(vdev, offset, n, vdev.pdev.readConfig(offset, n as 1 | 2 | 4));
    offset += n;
    size -= n;
  }
}

/** vfio_update_pm_vconfig_bytes(): PME_Support, PME_En and PME_Status read 0. */
function updatePmVconfig(vdev: VfioPciCoreDevice, off: number): void {
  vset(vdev, off + PCI_PM_PMC, 2, vget(vdev, off + PCI_PM_PMC, 2) & ~PCI_PM_CAP_PME_MASK);
  vset(vdev, off + PCI_PM_CTRL, 2, vget(vdev, off + PCI_PM_CTRL, 2) & ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS));
}

/** vfio_cap_init(): walk the list, keep the capabilities vfio knows, unlink the others. */
function capInit(vdev: VfioPciCoreDevice): void {
  const pdev = vdev.pdev;
  const cfg = vdev.cfg!;
  const map = cfg.map;
  if (!(pdev.readConfig(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST)) return;
  let pos = pdev.readConfig(PCI_CAPABILITY_LIST, 1);
  let prev = PCI_CAPABILITY_LIST; // where the pointer to the current capability lives in vconfig
  let loops = (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / PCI_CAP_SIZEOF;
  let caps = 0;
  while (pos && loops--) {
    const cap = pdev.readConfig(pos, 1);
    const next = pdev.readConfig(pos + PCI_CAP_LIST_NEXT, 1);
    let len = 0;
    // ID 0 is a null capability, which would clash with the header's pseudo ID: hidden.
    if (cap && cap <= PCI_CAP_ID_MAX) {
      len = CAP_LENGTH[cap] ?? 0;
      if (len === 0xff) len = capLen(vdev, cap, pos);
    }
    if (!len) {
      cfg.vconfig[prev] = next;
      pos = next;
      continue;
    }
    for (let i = 0; i < len; i++) {
      if (map[pos + i] !== PCI_CAP_ID_INVALID) {
        pdev.warn(`vfio_cap_init: PCI config conflict @0x${(pos + i).toString(16)}, was cap 0x${map[pos + i]!.toString(16)} now cap 0x${cap.toString(16)}`);
      }
    }
    map.fill(cap, pos, pos + len);
    fillVconfig(vdev, pos, len);
    if (cap === PCI_CAP_ID_PM && vdev.ex.pmeVirt) updatePmVconfig(vdev, pos);
    prev = pos + PCI_CAP_LIST_NEXT;
    pos = next;
    caps++;
  }
  // Nothing left to show: the user sees no capability list.
  if (!caps) vset(vdev, PCI_STATUS, 2, vget(vdev, PCI_STATUS, 2) & ~PCI_STATUS_CAP_LIST);
}

/** vfio_ecap_init(): the same for the extended list; a hidden first entry stays as an anchor. */
function ecapInit(vdev: VfioPciCoreDevice): void {
  const pdev = vdev.pdev;
  const cfg = vdev.cfg!;
  if (!cfg.extendedCaps) return;
  const map = cfg.map;
  let epos = PCI_CFG_SPACE_SIZE;
  let prev: number | undefined;
  let loops = (pdev.cfgSize - PCI_CFG_SPACE_SIZE) / PCI_CAP_SIZEOF;
  let ecaps = 0;
  while (loops-- && epos >= PCI_CFG_SPACE_SIZE) {
    const header = pdev.readConfig(epos, 4);
    const ecap = PCI_EXT_CAP_ID(header);
    let len = 0;
    let hidden = false;
    if (ecap <= PCI_EXT_CAP_ID_MAX) {
      len = EXT_CAP_LENGTH[ecap] ?? 0;
      if (len === 0xff) len = extCapLen(vdev, ecap, epos);
    }
    if (!len) {
      if (prev !== undefined) {
        // Not the first: link around it.
        epos = PCI_EXT_CAP_NEXT(header);
        vset(vdev, prev, 4, or(and(vget(vdev, prev, 4), not(0xffc << 20)), (epos << 20) >>> 0));
        continue;
      }
      // The first one anchors the list: keep a placeholder with only the next pointer.
      len = PCI_CAP_SIZEOF;
      hidden = true;
    }
    for (let i = 0; i < len; i++) {
      if (map[epos + i] !== PCI_CAP_ID_INVALID) {
        pdev.warn(`vfio_ecap_init: PCI config conflict @0x${(epos + i).toString(16)}, was ecap 0x${map[epos + i]!.toString(16)} now ecap 0x${ecap.toString(16)}`);
      }
    }
    map.fill(hidden ? PCI_CAP_ID_INVALID_VIRT : ecap, epos, epos + len);
    fillVconfig(vdev, epos, len);
    if (hidden) vset(vdev, epos, 4, and(vget(vdev, epos, 4), (0xffc << 20) >>> 0));
    else ecaps++;
    prev = epos;
    epos = PCI_EXT_CAP_NEXT(header);
  }
  if (!ecaps) vset(vdev, PCI_CFG_SPACE_SIZE, 4, 0);
}

/** vfio_config_init(): build vconfig and the map from the hardware, at open. */
export function vfioConfigInit(vdev: VfioPciCoreDevice): void {
  const pdev = vdev.pdev;
  const size = pdev.cfgSize;
  const map = new Uint8Array(size).fill(PCI_CAP_ID_INVALID);
  map.fill(PCI_CAP_ID_BASIC, 0, PCI_STD_HEADER_SIZEOF);
  vdev.cfg = { vconfig: new Uint8Array(size), map, rbar: [], bardirty: true, extendedCaps: false };
  fillVconfig(vdev, 0, PCI_STD_HEADER_SIZEOF);
  // For restore after reset.
  for (let i = 0; i < PCI_STD_NUM_BARS; i++) vdev.cfg.rbar.push(vget(vdev, PCI_BASE_ADDRESS_0 + 4 * i, 4));
  vdev.cfg.rbar.push(vget(vdev, PCI_ROM_ADDRESS, 4));
  if (pdev.isVirtfn) {
    vset(vdev, PCI_VENDOR_ID, 2, pdev.hw.vendorId);
    vset(vdev, PCI_DEVICE_ID, 2, pdev.hw.deviceId);
  }
  if (vdev.nointx) vdev.cfg.vconfig[PCI_INTERRUPT_PIN] = 0;
  capInit(vdev);
  ecapInit(vdev);
}

/** vfio_config_free(). */
export function vfioConfigFree(vdev: VfioPciCoreDevice): void {
  vdev.cfg = undefined;
}

/** __vfio_pci_memory_enabled(): the user's view of memory decode (and, later kernels, D0). */
export function memoryEnabled(vdev: VfioPciCoreDevice): boolean {
  if (!vdev.cfg) return false;
  const cmd = vget(vdev, PCI_COMMAND, 2);
  if (vdev.ex.pmeVirt && vdev.pdev.currentState >= PCI_D3HOT) return false;
  return vdev.pdev.isVirtfn || !!(cmd & PCI_COMMAND_MEMORY);
}

/** vfio_pci_cap_remaining_dword(): bytes left in this dword that belong to the same capability. */
function capRemainingDword(vdev: VfioPciCoreDevice, pos: number): number {
  const map = vdev.cfg!.map;
  const cap = map[pos];
  let i = 1;
  while ((pos + i) % 4 && map[pos + i] === cap) i++;
  return i;
}

/** vfio_config_do_rw(): one aligned piece inside one capability. Bytes done, or -errno. */
function configDoRw(vdev: VfioPciCoreDevice, buf: Uint8Array, at: number, count: number, pos: number, iswrite: boolean): number {
  const pdev = vdev.pdev;
  const cfg = vdev.cfg!;
  if (pos < 0 || pos >= pdev.cfgSize || pos + count > pdev.cfgSize) return -EFAULT;
  count = Math.min(count, capRemainingDword(vdev, pos));
  count = count >= 4 && !(pos % 4) ? 4 : count >= 2 && !(pos % 2) ? 2 : 1;

  const t = permTables(vdev.ex);
  const capId = cfg.map[pos]!;
  let perm: PermBits;
  let capStart = 0;
  if (capId === PCI_CAP_ID_INVALID) {
    perm = t.unassigned;
    capStart = pos;
  } else if (capId === PCI_CAP_ID_INVALID_VIRT) {
    perm = t.virt;
    capStart = pos;
  } else if (pos >= PCI_CFG_SPACE_SIZE) {
    perm = t.ecap[capId] ?? { readfn: directRead };
    capStart = findCapStart(vdev, pos);
  } else {
    perm = capId === PCI_CAP_ID_MSI ? cfg.msiPerm! : (t.cap[capId] ?? { readfn: directRead });
    if (capId > PCI_CAP_ID_BASIC) capStart = findCapStart(vdev, pos);
  }
  const offset = pos - capStart;

  if (iswrite) {
    if (!perm.writefn) return count;
    const val = getLe(buf, at, count);
    return perm.writefn(vdev, pos, count, perm, offset, val);
  }
  let val = 0;
  if (perm.readfn) {
    val = perm.readfn(vdev, pos, count, perm, offset);
    if (val < 0) return val;
  }
  setLe(buf, at, count, val);
  return count;
}

/** vfio_pci_config_rw(): the whole access, piece by piece; an error ends it. */
export function vfioPciConfigRw(vdev: VfioPciCoreDevice, buf: Uint8Array, pos: number, iswrite: boolean): number {
  let count = buf.length;
  let done = 0;
  while (count) {
    const ret = configDoRw(vdev, buf, done, count, pos, iswrite);
    if (ret < 0) return ret;
    count -= ret;
    done += ret;
    pos += ret;
  }
  return done;
}

export { PCI_CAP_ID_INVALID, PCI_CAP_ID_INVALID_VIRT, barFixup };
