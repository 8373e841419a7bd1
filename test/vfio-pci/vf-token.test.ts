// The SR-IOV VF token (vf-token.ts; drivers/vfio/pci/vfio_pci_core.c vfio_pci_core_match and
// vfio_pci_core_match_token_uuid) through VFIO_GROUP_GET_DEVICE_FD's device name, on the AMD
// Overdrive's X540 PF with one VF, both on vfio-pci, at 7.2.

import { describe, expect, it } from 'vitest';
import { boot } from '../../src/machine/boot.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { requestNr } from '../../src/uapi/requests.js';
import { EACCES, EINVAL, ENODEV } from '../../src/uapi/errno.js';

const PF = '0000:01:00.0';
const VF = '0000:01:10.0';
const T1 = '52ac9bff-3a88-4fbd-901a-0d767c3b6c97';
const T2 = '88594674-90a0-47a9-aea8-9d9b352ac08a';
const ZERO = '00000000-0000-0000-0000-000000000000';
const GET_DEVICE_FD = requestNr('VFIO_GROUP_GET_DEVICE_FD');

interface Machine {
  k: Kernel;
  p: Process;
  /** Group fds by BDF, in one type1v2 container. */
  group: Map<string, number>;
  /** Kernel log lines since the last call. */
  dmesg(): string[];
}

/** The Overdrive at 7.2 with vfio-pci's SR-IOV enabled, the PF on vfio-pci and one VF (captured). */
function machine(): Machine {
  const { kernel: k, proc: p } = boot('7.2', 'amd-overdrive');
  expect(k.sysfsWrite('/sys/module/vfio_pci/parameters/enable_sriov', 'Y')).toBe(1);
  // The GICv2m does not isolate MSIs: type1 attaches only with allow_unsafe_interrupts.
  expect(k.sysfsWrite('/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y')).toBe(1);
  expect(k.bind(PF, 'vfio-pci').errno).toBe(0);
  expect(k.sysfsWrite(`/sys/bus/pci/devices/${PF}/sriov_numvfs`, '1')).toBe(1);
  const c = Number(k.open(p, '/dev/vfio/vfio').ret);
  const group = new Map<string, number>();
  for (const bdf of [PF, VF]) {
    const id = Number(String(k.sysfsRead(`/sys/bus/pci/devices/${bdf}/iommu_group`)).split('/').at(-1));
    const g = Number(k.open(p, `/dev/vfio/${id}`).ret);
    const cbuf = new Uint8Array(4);
    new DataView(cbuf.buffer).setInt32(0, c, true);
    expect(k.ioctl(p, g, requestNr('VFIO_GROUP_SET_CONTAINER'), { value: 0n, buf: cbuf }).errno).toBe(0);
    group.set(bdf, g);
  }
  expect(k.ioctl(p, c, requestNr('VFIO_SET_IOMMU'), { value: 3n }).errno).toBe(0);
  let mark = k.log.lines.length;
  const dmesg = (): string[] => {
    const l = k.log.since(mark).map((x) => x.text);
    mark = k.log.lines.length;
    return l;
  };
  return { k, p, group, dmesg };
}

/** GROUP_GET_DEVICE_FD of `name` in `bdf`'s group: { ret, errno }. */
function getFd_(m: Machine, bdf: string, name: string): { ret: number | bigint; errno: number } {
  const r = m.k.ioctl(m.p, m.group.get(bdf)!, GET_DEVICE_FD, { value: 0n, buf: new TextEncoder().encode(`${name}\0`) });
  return { ret: r.ret, errno: r.errno };
}
/** A device fd that opened. */
function getFd(m: Machine, bdf: string, name: string): number {
  const r = getFd_(m, bdf, name);
  expect(r.errno).toBe(0);
  return Number(r.ret);
}
function getFd_err(m: Machine, bdf: string, name: string, errno: number): void {
  expect(getFd_(m, bdf, name)).toEqual({ ret: -1, errno });
}

describe('vfio_pci_core_match: the device name and its vf_token= option', () => {
  // The BDF, then spaces and one vf_token=UUID; anything else after a space is -EINVAL, a
  // name that only starts with the BDF does not match (-ENODEV: no device of that name).
  it('parses the option', () => {
    const m = machine();
    getFd_err(m, PF, `${PF}x`, ENODEV);
    getFd_err(m, PF, `${PF} foo=1`, EINVAL);
    getFd_err(m, PF, `${PF} vf_token=${T1.slice(0, 35)}`, EINVAL);
    getFd_err(m, PF, `${PF} vf_token=${T1.replace('5', 'g')}`, EINVAL);
    getFd_err(m, PF, `${PF} vf_token=${T1} vf_token=${T1}`, EINVAL);
    getFd_err(m, PF, `${PF} vf_token=${T1}x`, EINVAL);
    expect(getFd(m, PF, `${PF}   vf_token=${T1.toUpperCase()}  `)).toBeGreaterThan(2);
    expect(m.dmesg().filter((l) => /token/i.test(l))).toEqual([]);
  });

  // A function that is neither PF nor VF takes no token.
  it('not a PF or VF: -EINVAL', () => {
    const { kernel: k, proc: p } = boot('7.2', 'qemu-q35-vtd');
    expect(k.bind('0000:00:01.0', 'vfio-pci').errno).toBe(0);
    const c = Number(k.open(p, '/dev/vfio/vfio').ret);
    const g = Number(k.open(p, '/dev/vfio/1').ret);
    const cbuf = new Uint8Array(4);
    new DataView(cbuf.buffer).setInt32(0, c, true);
    k.ioctl(p, g, requestNr('VFIO_GROUP_SET_CONTAINER'), { value: 0n, buf: cbuf });
    k.ioctl(p, c, requestNr('VFIO_SET_IOMMU'), { value: 3n });
    const mark = k.log.lines.length;
    const r = k.ioctl(p, g, GET_DEVICE_FD, { value: 0n, buf: new TextEncoder().encode(`0000:00:01.0 vf_token=${T1}\0`) });
    expect([r.ret, r.errno]).toEqual([-1, EINVAL]);
    expect(k.log.since(mark).map((l) => l.text)).toEqual(['vfio-pci 0000:00:01.0: VF token incorrectly provided, not a PF or VF']);
  });
});

describe('vfio_pci_core_match_token_uuid: a VF of a vfio-pci PF', () => {
  // The PF's token starts zeroed (kzalloc'd vf_token): the VF needs a token, and the zero UUID is it.
  it('needs the PF token, which starts as zeros', () => {
    const m = machine();
    getFd_err(m, VF, VF, EACCES);
    getFd_err(m, VF, `${VF} vf_token=${T1}`, EACCES);
    expect(m.dmesg()).toEqual([`vfio-pci ${VF}: VF token required to access device`, `vfio-pci ${VF}: Incorrect VF token provided for device`]);
    getFd(m, VF, `${VF} vf_token=${ZERO}`);
  });

  // The PF's user sets the token by naming it while no VF is in use; the VF then needs that one.
  it('the PF sets the token while no VF is open', () => {
    const m = machine();
    getFd(m, PF, `${PF} vf_token=${T1}`);
    getFd_err(m, VF, `${VF} vf_token=${T2}`, EACCES);
    getFd(m, VF, `${VF} vf_token=${T1}`);
  });

  // With a VF open (vf_token->users), a PF open must show the same token: none or another is
  // -EACCES; the right one opens it and leaves the token as it was.
  it('a PF open while a VF is in use must show the token', () => {
    const m = machine();
    getFd(m, PF, `${PF} vf_token=${T1}`);
    getFd(m, VF, `${VF} vf_token=${T1}`);
    m.dmesg();
    getFd_err(m, PF, PF, EACCES);
    getFd_err(m, PF, `${PF} vf_token=${T2}`, EACCES);
    expect(m.dmesg()).toEqual([`vfio-pci ${PF}: VF token required to access device`, `vfio-pci ${PF}: Incorrect VF token provided for device`]);
    getFd(m, PF, `${PF} vf_token=${T1}`);
    getFd(m, VF, `${VF} vf_token=${T1}`);
  });

  // Closing the VF's last fd gives up its use (vfio_pci_core_close_device): the PF opens
  // without a token again, and a new token replaces the old.
  it('the VF closed, the PF is free again', () => {
    const m = machine();
    getFd(m, PF, `${PF} vf_token=${T1}`);
    const vf = getFd(m, VF, `${VF} vf_token=${T1}`);
    getFd_err(m, PF, PF, EACCES);
    expect(m.k.close(m.p, vf).errno).toBe(0);
    getFd(m, PF, PF);
    getFd(m, PF, `${PF} vf_token=${T2}`);
    getFd_err(m, VF, `${VF} vf_token=${T1}`, EACCES);
    getFd(m, VF, `${VF} vf_token=${T2}`);
  });
});
