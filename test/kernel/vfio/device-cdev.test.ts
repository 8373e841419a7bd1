// The VFIO device cdev (drivers/vfio/device_cdev.c, vfio_main.c, group.c as of 7.2 with their
// era switches): one stanza per kernel rule. iommufd's side is FakeIommufd (fake-iommufd.ts),
// which answers as the contract says and logs what VFIO asked of it.

import { describe, expect, it } from 'vitest';
import { E2BIG, EBADF, EBADFD, EBUSY, EFAULT, EINVAL, ENOENT, ENOTTY, EPERM } from '../../../src/uapi/errno.js';
import { resolveEra, type Era } from '../../../src/kernel/era.js';
import { Kernel } from '../../../src/kernel/kernel.js';
import type { Process } from '../../../src/kernel/process.js';
import type { KernelConfig } from '../../../src/kernel/config.js';
import { buildPlatform, findPreset } from '../../../src/hw/presets.js';
import { readField } from '../../../src/uapi/struct.js';
import {
  VFIO_CONTAINER_FD,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
  VFIO_DEVICE_INFO,
  VFIO_GROUP_STATUS,
} from '../../../src/uapi/structs.js';
import { hex, nr, poisoned, type Out } from '../fixture.js';
import { FakeIommufd, type FakeIommufdFile } from './fake-iommufd.js';

const EDU = '0000:00:01.0';
const E1000E = '0000:00:02.0';
const CDEV: KernelConfig = { iommufd: true, vfioContainer: 'legacy', deviceCdev: true };
const NO_CDEV: KernelConfig = { iommufd: true, vfioContainer: 'legacy', deviceCdev: false };

/** A q35 machine on `era` with `config`, iommufd played by FakeIommufd. */
class Cdev {
  readonly kernel: Kernel;
  readonly proc: Process;
  readonly fake = new FakeIommufd();
  readonly ctx: FakeIommufdFile;
  /** The open /dev/iommu. */
  readonly iommufd: number;

  constructor(era: string | Era = '6.12', config: KernelConfig = CDEV) {
    const e = typeof era === 'string' ? resolveEra(era)! : era;
    this.kernel = new Kernel(e, buildPlatform(findPreset('qemu-q35-vtd')!, { intremap: 'on' }), config, this.fake);
    this.proc = this.kernel.newProcess();
    this.ctx = this.fake.file();
    this.iommufd = this.proc.install(this.ctx, '/dev/iommu');
  }

  vfio(bdf: string): number {
    return Number(this.kernel.bind(bdf, 'vfio-pci').ret);
  }

  open_(path: string): { ret: number; errno: number } {
    const r = this.kernel.open(this.proc, path);
    return { ret: Number(r.ret), errno: r.errno };
  }
  open(path: string): number {
    const r = this.open_(path);
    expect(r.errno, `open ${path}`).toBe(0);
    return r.ret;
  }
  open_err(errno: number, path: string): void {
    expect(this.open_(path).errno).toBe(errno);
  }

  ioctl_(fd: number, name: string, buf: Uint8Array): Out {
    const r = this.kernel.ioctl(this.proc, fd, nr(name), { value: 1n, buf });
    return { ret: Number(r.ret), errno: r.errno, buf };
  }

  bind_(fd: number, fields: Record<string, bigint | number> = {}, len = 16): Out {
    const b = poisoned(VFIO_DEVICE_BIND_IOMMUFD, { argsz: len, flags: 0, iommufd: this.iommufd, ...fields }, len);
    return this.ioctl_(fd, 'VFIO_DEVICE_BIND_IOMMUFD', b);
  }
  /** Binds and returns out_devid. */
  bind(fd: number): number {
    const o = this.bind_(fd);
    expect(o.errno).toBe(0);
    return Number(readField(o.buf, 12, 'u32'));
  }
  bind_err(errno: number, fd: number, fields: Record<string, bigint | number> = {}, len = 16): void {
    expect(this.bind_(fd, fields, len).errno).toBe(errno);
  }

  attach_(fd: number, ptId: number, fields: Record<string, bigint | number> = {}, len = 12): Out {
    return this.ioctl_(fd, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', poisoned(VFIO_DEVICE_ATTACH_IOMMUFD_PT, { argsz: len, flags: 0, pt_id: ptId, ...fields }, len));
  }
  /** Attaches and returns the pt_id written back. */
  attach(fd: number, ptId: number, fields: Record<string, bigint | number> = {}, len = 12): number {
    const o = this.attach_(fd, ptId, fields, len);
    expect(o.errno).toBe(0);
    return Number(readField(o.buf, 8, 'u32'));
  }
  attach_err(errno: number, fd: number, ptId: number, fields: Record<string, bigint | number> = {}, len = 12): void {
    expect(this.attach_(fd, ptId, fields, len).errno).toBe(errno);
  }

  detach_(fd: number, fields: Record<string, bigint | number> = {}, len = 8): Out {
    return this.ioctl_(fd, 'VFIO_DEVICE_DETACH_IOMMUFD_PT', poisoned(VFIO_DEVICE_DETACH_IOMMUFD_PT, { argsz: len, flags: 0, ...fields }, len));
  }
  detach(fd: number, fields: Record<string, bigint | number> = {}, len = 8): void {
    expect(this.detach_(fd, fields, len).errno).toBe(0);
  }
  detach_err(errno: number, fd: number, fields: Record<string, bigint | number> = {}, len = 8): void {
    expect(this.detach_(fd, fields, len).errno).toBe(errno);
  }

  device_info_(fd: number): Out {
    return this.ioctl_(fd, 'VFIO_DEVICE_GET_INFO', poisoned(VFIO_DEVICE_INFO, { argsz: 24 }, 24));
  }

  set_container_(group: number, fd: number): Out {
    return this.ioctl_(group, 'VFIO_GROUP_SET_CONTAINER', poisoned(VFIO_CONTAINER_FD, { fd }));
  }

  get_device_fd_(group: number, name: string): { ret: number; errno: number } {
    const r = this.kernel.ioctl(this.proc, group, nr('VFIO_GROUP_GET_DEVICE_FD'), { value: 1n, buf: new TextEncoder().encode(`${name}\0`) });
    return { ret: Number(r.ret), errno: r.errno };
  }

  close(fd: number): void {
    expect(this.kernel.close(this.proc, fd).errno).toBe(0);
  }

  sysfs(path: string): string | number {
    return this.kernel.sysfsRead(path);
  }
}

/** An era with the later device-cdev switches on (6.15's PASID, 6.17's token) over 6.12. */
const later = (over: Partial<Era>): Era => ({ ...resolveEra('6.12')!, ...over });

describe('the device node and the vfio-dev class device', () => {
  // vfio_init_device(): the index comes from vfio.device_ida at registration, lowest free first;
  // the node is vfio_device_devnode()'s "vfio/devices/vfioN".
  it('one node per registered device, numbered in bind order', () => {
    const m = new Cdev();
    m.vfio(E1000E);
    m.vfio(EDU);
    expect(m.sysfs(`/sys/bus/pci/devices/${E1000E}/vfio-dev/vfio0/dev`)).toBe('248:0\n');
    expect(m.sysfs(`/sys/bus/pci/devices/${EDU}/vfio-dev/vfio1/dev`)).toBe('248:1\n');
    expect(m.sysfs(`/sys/bus/pci/devices/${EDU}/vfio-dev/vfio1/uevent`)).toBe('MAJOR=248\nMINOR=1\nDEVNAME=vfio/devices/vfio1\n');
    expect(m.sysfs(`/sys/bus/pci/devices/${EDU}/vfio-dev/vfio0/dev`)).toBe(-ENOENT);
    m.open('/dev/vfio/devices/vfio0');
    m.open('/dev/vfio/devices/vfio1');
    m.open_err(ENOENT, '/dev/vfio/devices/vfio2');
  });

  // vfio_device_add() without CONFIG_VFIO_DEVICE_CDEV is a plain device_add(): the class
  // device is there (clients probe it) but has no devt, so no `dev` and an empty uevent.
  it('without the cdev the class device exists, with no dev', () => {
    const m = new Cdev('6.12', NO_CDEV);
    m.vfio(EDU);
    expect(m.sysfs(`/sys/bus/pci/devices/${EDU}/vfio-dev/vfio0/uevent`)).toBe('');
    expect(m.sysfs(`/sys/bus/pci/devices/${EDU}/vfio-dev/vfio0/dev`)).toBe(-ENOENT);
    m.open_err(ENOENT, '/dev/vfio/devices/vfio0');
  });

  // The vfio-dev class came with "vfio: Add struct device to vfio_device" (6.1); the cdev with 6.6.
  it('eras', () => {
    const old = new Cdev('5.12', CDEV);
    old.vfio(EDU);
    expect(old.sysfs(`/sys/bus/pci/devices/${EDU}/vfio-dev/vfio0/uevent`)).toBe(-ENOENT);
    old.open_err(ENOENT, '/dev/vfio/devices/vfio0');
    const v61 = new Cdev('6.1', CDEV);
    v61.vfio(EDU);
    expect(v61.sysfs(`/sys/bus/pci/devices/${EDU}/vfio-dev/vfio0/uevent`)).toBe('');
    v61.open_err(ENOENT, '/dev/vfio/devices/vfio0');
  });
});

describe('before BIND_IOMMUFD', () => {
  // vfio_device_fops_unl_ioctl/read/write/mmap: !df->access_granted → -EINVAL.
  it('every other request, read, write and mmap are -EINVAL', () => {
    const m = new Cdev();
    m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    expect(m.device_info_(fd).errno).toBe(EINVAL);
    m.attach_err(EINVAL, fd, 1);
    m.detach_err(EINVAL, fd);
    expect(m.kernel.pread(m.proc, fd, new Uint8Array(4), 0n).errno).toBe(EINVAL);
    expect(m.kernel.pwrite(m.proc, fd, new Uint8Array(4), 0n).errno).toBe(EINVAL);
    expect(m.kernel.mmap(m.proc, 0x1000n, { read: true, write: true }, { fd, offset: 0n }).errno).toBe(EINVAL);
    expect(m.fake.calls).toEqual([]);
  });
});

describe('VFIO_DEVICE_BIND_IOMMUFD (6.6 rules)', () => {
  // copy_from_user(minsz = offsetofend(out_devid) = 16); argsz < minsz, flags, iommufd < 0 → -EINVAL.
  it('argument checks', () => {
    const m = new Cdev();
    m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    m.bind_err(EFAULT, fd, {}, 12);
    m.bind_err(EINVAL, fd, { argsz: 15 });
    m.bind_err(EINVAL, fd, { flags: 1 });
    m.bind_err(EINVAL, fd, { iommufd: -1 });
    expect(m.fake.calls).toEqual([]);
  });

  // iommufd_ctx_from_fd(): no such fd → -EBADF; an fd that is not /dev/iommu → -EBADFD.
  it('the iommufd must be an open /dev/iommu', () => {
    const m = new Cdev();
    m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    m.bind_err(EBADF, fd, { iommufd: 99 });
    const container = m.open('/dev/vfio/vfio');
    m.bind_err(EBADFD, fd, { iommufd: container });
  });

  // Success: the device is bound (iommufd_device_bind) and opened; out_devid is written and
  // nothing else (argsz 24 leaves token_uuid_ptr's 0xaa fill alone before 6.17).
  it('out_devid', () => {
    const m = new Cdev();
    m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    const o = m.bind_(fd, {}, 24);
    expect(o.errno).toBe(0);
    expect(hex(o.buf)).toBe('18000000' + '00000000' + hex(new Uint8Array([m.iommufd, 0, 0, 0])) + '01000000' + 'aa'.repeat(8));
    expect(m.fake.calls).toEqual([`bind ${EDU}`]);
    expect(m.device_info_(fd).errno).toBe(0);
  });

  // "one device cannot be bound twice": the same file → -EINVAL; a second cdev file of an
  // open device → vfio_df_open's -EINVAL (the cdev path opens a device once).
  it('bound once', () => {
    const m = new Cdev();
    m.vfio(EDU);
    const a = m.open('/dev/vfio/devices/vfio0');
    const b = m.open('/dev/vfio/devices/vfio0');
    m.bind(a);
    m.bind_err(EINVAL, a);
    m.bind_err(EINVAL, b);
    expect(m.fake.calls).toEqual([`bind ${EDU}`]);
  });

  // A refusal from iommufd_device_bind (DMA ownership, or isolated MSI without
  // allow_unsafe_interrupts) is the answer; the open unwinds and the group is unblocked.
  it('iommufd refuses', () => {
    const m = new Cdev();
    const g = m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    m.fake.bindErrno = -EPERM;
    m.bind_err(EPERM, fd);
    expect(m.device_info_(fd).errno).toBe(EINVAL);
    m.close(fd);
    m.open(`/dev/vfio/${g}`);
  });

  // Close of a bound cdev file: close_device, then vfio_iommufd_physical_unbind (detach
  // what is attached, then unbind).
  it('close unbinds', () => {
    const m = new Cdev();
    m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    m.bind(fd);
    const ioas = m.fake.ioasAlloc(m.ctx);
    m.attach(fd, ioas);
    m.close(fd);
    expect(m.fake.calls).toEqual([`bind ${EDU}`, `attach ${ioas}`, 'detach', `unbind ${EDU}`]);
    // The device can be bound again.
    m.bind(m.open('/dev/vfio/devices/vfio0'));
  });
});

describe('VFIO_DEVICE_BIND_IOMMUFD (6.17: token, copy_struct_from_user)', () => {
  const era = later({ vfioBindToken: true, vfioAttachPasid: true });

  // get_user(argsz) then copy_struct_from_user(&bind, sizeof(bind) = 24, arg, argsz): a
  // longer struct needs a zero tail (-E2BIG), a 16-byte one is zero-extended.
  it('sizes', () => {
    const m = new Cdev(era);
    m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    m.bind_err(EFAULT, fd, {}, 2);
    m.bind_err(EINVAL, fd, { argsz: 15 });
    m.bind_err(E2BIG, fd, { argsz: 32 }, 32);
    m.bind_err(EINVAL, fd, { flags: 2 });
    m.bind_err(EINVAL, fd, { iommufd: -1 });
    expect(m.bind(fd)).toBe(1);
  });

  // vfio_df_check_token(): vfio-pci has match_token_uuid, so a flagged token is read first
  // (a NULL pointer is -EFAULT, as recorded on 7.2); vfio_pci_core_match_token_uuid() refuses
  // one for a device that is neither PF nor VF. Checked under the lock: the group is unblocked.
  it('a token for a device that is neither PF nor VF', () => {
    const m = new Cdev(era);
    const g = m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    m.bind_err(EFAULT, fd, { flags: 1, token_uuid_ptr: 0 }, 24);
    const at = m.kernel.mmap(m.proc, 4096n, { read: true, write: true }).ret as bigint;
    const mark = m.kernel.log.lines.length;
    m.bind_err(EINVAL, fd, { flags: 1, token_uuid_ptr: at }, 24);
    expect(m.kernel.log.since(mark).map((l) => l.text)).toEqual([`vfio-pci ${EDU}: VF token incorrectly provided, not a PF or VF`]);
    m.close(fd);
    m.open(`/dev/vfio/${g}`);
  });
});

describe('ATTACH/DETACH_IOMMUFD_PT', () => {
  function bound(era: string | Era = '6.12'): { m: Cdev; fd: number; ioas: number } {
    const m = new Cdev(era);
    m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    m.bind(fd);
    return { m, fd, ioas: m.fake.ioasAlloc(m.ctx) };
  }

  // minsz = offsetofend(pt_id) = 12; before 6.15 any flag is -EINVAL. The pt_id iommufd chose
  // (the auto domain's HWPT) is written back, nothing past it.
  it('attach (6.6)', () => {
    const { m, fd, ioas } = bound();
    m.attach_err(EFAULT, fd, ioas, {}, 8);
    m.attach_err(EINVAL, fd, ioas, { argsz: 11 });
    m.attach_err(EINVAL, fd, ioas, { flags: 1 }, 16);
    const o = m.attach_(fd, ioas, {}, 16);
    expect(o.errno).toBe(0);
    expect(hex(o.buf)).toBe('10000000' + '00000000' + '03000000' + 'aaaaaaaa');
  });

  // An attached device is moved with iommufd_device_replace; an error from iommufd passes.
  it('attach again replaces', () => {
    const { m, fd, ioas } = bound();
    m.attach(fd, ioas);
    const other = m.fake.ioasAlloc(m.ctx);
    m.attach(fd, other);
    m.attach_err(ENOENT, fd, 99);
    expect(m.fake.calls.slice(1)).toEqual([`attach ${ioas}`, `replace ${other}`, 'replace 99']);
  });

  // DETACH: minsz = offsetofend(flags) = 8, flags -EINVAL before 6.15; detaching a detached
  // device does nothing.
  it('detach (6.6)', () => {
    const { m, fd, ioas } = bound();
    m.detach_err(EFAULT, fd, {}, 4);
    m.detach_err(EINVAL, fd, { argsz: 7 });
    m.detach_err(EINVAL, fd, { flags: 1 }, 12);
    m.detach(fd);
    m.attach(fd, ioas);
    m.detach(fd);
    expect(m.fake.calls.slice(1)).toEqual([`attach ${ioas}`, 'detach']);
  });

  // 6.15: VFIO_DEVICE_[AT|DE]TACH_PASID need argsz to cover pasid; a PASID attached twice is
  // replaced; unbind detaches PASIDs (lowest first) before the device.
  it('PASID (6.15)', () => {
    const { m, fd, ioas } = bound(later({ vfioAttachPasid: true }));
    m.attach_err(EINVAL, fd, ioas, { flags: 2 }, 16);
    m.attach_err(EINVAL, fd, ioas, { flags: 1 }, 12);
    m.attach(fd, ioas, { flags: 1, pasid: 7 }, 16);
    m.attach(fd, ioas, { flags: 1, pasid: 7 }, 16);
    m.attach(fd, ioas, { flags: 1, pasid: 3 }, 16);
    m.detach_err(EINVAL, fd, { flags: 1 }, 8);
    m.detach(fd, { flags: 1, pasid: 9 }, 12);
    m.close(fd);
    expect(m.fake.calls.slice(1)).toEqual([
      `attach ${ioas} pasid=7`,
      `replace ${ioas} pasid=7`,
      `attach ${ioas} pasid=3`,
      'detach pasid=3',
      'detach pasid=7',
      `unbind ${EDU}`,
    ]);
  });
});

describe('cdev and group exclude each other', () => {
  // vfio_device_block_group(): the group is open → BIND is -EBUSY.
  it('group first', () => {
    const m = new Cdev();
    const g = m.vfio(EDU);
    m.open(`/dev/vfio/${g}`);
    const fd = m.open('/dev/vfio/devices/vfio0');
    m.bind_err(EBUSY, fd);
    expect(m.fake.calls).toEqual([]);
  });

  // vfio_group_fops_open(): cdev_device_open_cnt → -EBUSY, until the cdev file closes.
  it('cdev first', () => {
    const m = new Cdev();
    const g = m.vfio(EDU);
    const fd = m.open('/dev/vfio/devices/vfio0');
    m.close(m.open(`/dev/vfio/${g}`)); // an unbound cdev file blocks nothing
    m.bind(fd);
    m.open_err(EBUSY, `/dev/vfio/${g}`);
    m.close(fd);
    m.open(`/dev/vfio/${g}`);
  });

  // A group-opened device file: BIND passes its argument checks and then is -EINVAL
  // ("BIND_IOMMUFD only allowed for cdev fds"); ATTACH/DETACH are not the core's there and
  // reach vfio-pci (-ENOTTY).
  it('device requests on a group-opened file', () => {
    const m = new Cdev();
    const g = m.vfio(EDU);
    const group = m.open(`/dev/vfio/${g}`);
    const container = m.open('/dev/vfio/vfio');
    expect(m.set_container_(group, container).errno).toBe(0);
    expect(m.kernel.ioctl(m.proc, container, nr('VFIO_SET_IOMMU'), { value: 3n }).errno).toBe(0);
    const dev = m.get_device_fd_(group, EDU).ret;
    m.bind_err(EINVAL, dev, { flags: 1 });
    m.bind_err(EINVAL, dev);
    m.attach_err(ENOTTY, dev, 1);
    m.detach_err(ENOTTY, dev);
  });
});

describe('a group given an iommufd (group.c, iommufd.c)', () => {
  // SET_CONTAINER(iommufd fd): iommufd_vfio_compat_ioas_create, group->iommufd; GET_STATUS
  // says CONTAINER_SET|VIABLE; a second SET_CONTAINER is -EINVAL.
  it('SET_CONTAINER', () => {
    const m = new Cdev();
    const group = m.open(`/dev/vfio/${m.vfio(EDU)}`);
    expect(m.set_container_(group, m.iommufd).errno).toBe(0);
    const st = m.ioctl_(group, 'VFIO_GROUP_GET_STATUS', poisoned(VFIO_GROUP_STATUS, { argsz: 8 }));
    expect(hex(st.buf)).toBe('08000000' + '03000000');
    expect(m.set_container_(group, m.iommufd).errno).toBe(EINVAL);
    expect(m.fake.calls).toEqual(['compat_ioas_create']);
  });

  // GET_DEVICE_FD: the first open binds (vfio_df_iommufd_bind) and attaches to the compat
  // IOAS (vfio_iommufd_compat_attach_ioas); a second fd of the device does neither; the last
  // close unbinds.
  it('GET_DEVICE_FD binds and attaches to the compat IOAS', () => {
    const m = new Cdev();
    const group = m.open(`/dev/vfio/${m.vfio(EDU)}`);
    m.set_container_(group, m.iommufd);
    const a = m.get_device_fd_(group, EDU);
    const b = m.get_device_fd_(group, EDU);
    expect([a.errno, b.errno]).toEqual([0, 0]);
    expect(m.device_info_(a.ret).errno).toBe(0);
    const compat = m.ctx.compatIoas!;
    m.close(a.ret);
    m.close(b.ret);
    expect(m.fake.calls).toEqual(['compat_ioas_create', `bind ${EDU}`, `attach ${compat}`, 'detach', `unbind ${EDU}`]);
  });

  // A failed bind fails GET_DEVICE_FD with its errno; nothing stays open.
  it('GET_DEVICE_FD when iommufd refuses', () => {
    const m = new Cdev();
    const group = m.open(`/dev/vfio/${m.vfio(EDU)}`);
    m.set_container_(group, m.iommufd);
    m.fake.bindErrno = -EPERM;
    expect(m.get_device_fd_(group, EDU).errno).toBe(EPERM);
    m.fake.bindErrno = undefined;
    expect(m.get_device_fd_(group, EDU).errno).toBe(0);
  });

  // UNSET_CONTAINER with an iommufd lets it go even with device fds open (no container
  // users to count); then GET_DEVICE_FD is -EINVAL (vfio_group_has_iommu), UNSET again -EINVAL.
  it('UNSET_CONTAINER', () => {
    const m = new Cdev();
    const group = m.open(`/dev/vfio/${m.vfio(EDU)}`);
    m.set_container_(group, m.iommufd);
    expect(m.get_device_fd_(group, EDU).errno).toBe(0);
    expect(m.ioctl_(group, 'VFIO_GROUP_UNSET_CONTAINER', new Uint8Array(0)).errno).toBe(0);
    expect(m.get_device_fd_(group, EDU).errno).toBe(EINVAL);
    expect(m.ioctl_(group, 'VFIO_GROUP_UNSET_CONTAINER', new Uint8Array(0)).errno).toBe(EINVAL);
  });

  // Without CONFIG_IOMMUFD iommufd_ctx_from_file() recognises nothing: -EBADFD (6.2+).
  it('no iommufd in the build', () => {
    const m = new Cdev('6.12', { iommufd: false, vfioContainer: 'legacy', deviceCdev: false });
    const group = m.open(`/dev/vfio/${m.vfio(EDU)}`);
    expect(m.set_container_(group, m.iommufd).errno).toBe(EBADFD);
  });
});
