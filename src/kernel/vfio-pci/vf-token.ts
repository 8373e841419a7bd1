// The SR-IOV VF token (drivers/vfio/pci/vfio_pci_core.c): a PF's user and its VFs' users show
// each other a shared UUID. A VF whose PF vfio-pci drives can be opened only with the PF's
// token; a PF whose VFs are in use only with the same token; an unused PF takes the token it is
// given (or one set with VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, feature.ts). The token travels in
// the device name of VFIO_GROUP_GET_DEVICE_FD ("0000:04:10.0 vf_token=bd8d9d2b-…",
// vfio_pci_core_match) or, through the cdev, in VFIO_DEVICE_BIND_IOMMUFD (match_token_uuid).
//
//   vfio_pci_vf_init          at a VF's probe: sriov_pf_core_dev = the PF's vfio-pci device,
//                             when vfio-pci drives the PF (pci_iov_get_pf_drvdata)
//   finish_enable/close       a VF's open/close counts a user of its PF's token
//   vfio_pci_core_match       "BDF", or "BDF" + spaces + one vf_token=UUID option
//   match_token_uuid          the rules above, with their dev_info lines

import { EACCES, EINVAL } from '../../uapi/errno.js';
import type { PciDeviceModel } from '../../hw/pci/device.js';

const UUID_STRING_LEN = 36;
const VF_TOKEN_ARG = 'vf_token=';

/** What the token rules need of a vfio-pci device (struct vfio_pci_core_device). */
export interface VfTokenDevice {
  readonly hw: PciDeviceModel;
  readonly pdev: { info(text: string): void };
  /** A PF's vf_token->uuid (kzalloc'd: null stands for all zeros). */
  vfToken: Uint8Array | null;
  /** A PF's vf_token->users: its VFs open through vfio-pci. */
  vfTokenUsers: number;
  /** A VF's sriov_pf_core_dev. */
  sriovPfCoreDev?: VfTokenDevice;
}

/** The vfio-pci devices of PFs, by their function (pci_iov_get_pf_drvdata(…, &vfio_pci_driver)). */
const pfDrvdata = new WeakMap<PciDeviceModel, VfTokenDevice>();

/** vfio_pci_core_register_device() of a PF; vfio_pci_vf_init() of a VF: its PF's device. */
export function vfTokenProbe(vdev: VfTokenDevice): void {
  if (vdev.hw.sriov) pfDrvdata.set(vdev.hw, vdev);
  if (vdev.hw.physfn) vdev.sriovPfCoreDev = pfDrvdata.get(vdev.hw.physfn);
}

/** vfio_pci_remove() of a PF: no VF probed later finds it. */
export function vfTokenRemove(hw: PciDeviceModel): void {
  pfDrvdata.delete(hw);
}

/** vfio_pci_core_finish_enable(): a VF's open is a user of its PF's token. */
export function vfTokenUserAdd(vdev: VfTokenDevice): void {
  if (vdev.sriovPfCoreDev) vdev.sriovPfCoreDev.vfTokenUsers++;
}

/** vfio_pci_core_close_device(). */
export function vfTokenUserDel(vdev: VfTokenDevice): void {
  if (vdev.sriovPfCoreDev && vdev.sriovPfCoreDev.vfTokenUsers > 0) vdev.sriovPfCoreDev.vfTokenUsers--;
}

const sameUuid = (a: Uint8Array, b: Uint8Array | null): boolean => a.every((v, i) => v === (b ? b[i] : 0));

/** The user must show `token` (a VF its PF's; a PF with VFs in use its own): 0 or -EACCES. */
function showsToken(vdev: VfTokenDevice, uuid: Uint8Array | null, token: Uint8Array | null): number {
  if (!uuid) {
    vdev.pdev.info('VF token required to access device');
    return -EACCES;
  }
  if (!sameUuid(uuid, token)) {
    vdev.pdev.info('Incorrect VF token provided for device');
    return -EACCES;
  }
  return 0;
}

/** vfio_pci_core_match_token_uuid(): 0, or -errno with the kernel's dev_info line. */
export function matchTokenUuid(vdev: VfTokenDevice, uuid: Uint8Array | null): number {
  if (vdev.hw.physfn) {
    const pf = vdev.sriovPfCoreDev;
    if (!pf) {
      if (!uuid) return 0; // PF is not vfio-pci, no VF token
      vdev.pdev.info('VF token incorrectly provided, PF not bound to vfio-pci');
      return -EINVAL;
    }
    return showsToken(vdev, uuid, pf.vfToken);
  }
  if (vdev.hw.sriov) {
    if (vdev.vfTokenUsers) return showsToken(vdev, uuid, vdev.vfToken);
    if (uuid) vdev.vfToken = uuid.slice();
    return 0;
  }
  if (uuid) {
    vdev.pdev.info('VF token incorrectly provided, not a PF or VF');
    return -EINVAL;
  }
  return 0;
}

/** uuid_parse() (lib/uuid.c): 8-4-4-4-12 hex digits, either case; the bytes in text order. */
function uuidParse(s: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/.test(s)) return undefined;
  const hex = s.slice(0, UUID_STRING_LEN).replace(/-/g, '');
  return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
}

/**
 * vfio_pci_core_match(): 1 when `buf` names this device (its BDF, then optionally spaces and
 * one vf_token=UUID option) and the token rules let it be opened, 0 when it names another
 * device, -errno otherwise (an unknown or repeated option, a short or malformed UUID: -EINVAL).
 */
export function vfioPciCoreMatch(vdev: VfTokenDevice, name: string, buf: string): number {
  if (!buf.startsWith(name)) return 0;
  let uuid: Uint8Array | null = null;
  if (buf.length > name.length) {
    let at = name.length;
    if (buf[at] !== ' ') return 0; // no match: non-whitespace after name
    while (at < buf.length) {
      if (buf[at] === ' ') {
        at++;
        continue;
      }
      if (uuid || !buf.startsWith(VF_TOKEN_ARG, at)) return -EINVAL; // unknown/duplicate option
      at += VF_TOKEN_ARG.length;
      if (buf.length - at < UUID_STRING_LEN) return -EINVAL;
      const parsed = uuidParse(buf.slice(at));
      if (!parsed) return -EINVAL;
      uuid = parsed;
      at += UUID_STRING_LEN;
    }
  }
  const ret = matchTokenUuid(vdev, uuid);
  return ret || 1;
}
