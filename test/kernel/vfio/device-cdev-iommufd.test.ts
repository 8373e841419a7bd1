// The device cdev and a group's iommufd against the real iommufd (kernel/iommufd, booted with
// config=iommufd): what VFIO's calls into include/linux/iommufd.h leave behind is seen from
// /dev/iommu (object ids, IOMMU_DESTROY of an object in use is EBUSY). The order of those calls
// is tested against FakeIommufd in device-cdev.test.ts.

import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, ENODEV, EPERM } from '../../../src/uapi/errno.js';
import { readField } from '../../../src/uapi/struct.js';
import { VFIO_CONTAINER_FD, VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_DETACH_IOMMUFD_PT } from '../../../src/uapi/structs.js';
import { nr, poisoned } from '../fixture.js';
import { Iommufd } from '../iommufd/fixture.js';

const EDU = '0000:00:01.0';

/** A machine built with iommufd and the cdev, edu bound to vfio-pci, /dev/iommu open. */
class Real extends Iommufd {
  constructor(options: Record<string, string> = {}) {
    super('6.12', 'qemu-q35-vtd', options);
    expect(this.kernel.bind(EDU, 'vfio-pci').errno).toBe(0);
  }

  dev_ioctl_(fd: number, name: string, buf: Uint8Array): { errno: number; buf: Uint8Array } {
    const r = this.kernel.ioctl(this.proc, fd, nr(name), { value: 1n, buf });
    return { errno: r.errno, buf };
  }
  cdev_bind_(fd: number): { errno: number; buf: Uint8Array } {
    return this.dev_ioctl_(fd, 'VFIO_DEVICE_BIND_IOMMUFD', poisoned(VFIO_DEVICE_BIND_IOMMUFD, { argsz: 16, flags: 0, iommufd: this.fd }, 16));
  }
  cdev_bind(fd: number): number {
    const o = this.cdev_bind_(fd);
    expect(o.errno).toBe(0);
    return Number(readField(o.buf, 12, 'u32'));
  }
  cdev_bind_err(errno: number, fd: number): void {
    expect(this.cdev_bind_(fd).errno).toBe(errno);
  }
  attach(fd: number, ptId: number): number {
    const o = this.dev_ioctl_(fd, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', poisoned(VFIO_DEVICE_ATTACH_IOMMUFD_PT, { argsz: 12, flags: 0, pt_id: ptId }, 12));
    expect(o.errno).toBe(0);
    return Number(readField(o.buf, 8, 'u32'));
  }
  detach(fd: number): void {
    expect(this.dev_ioctl_(fd, 'VFIO_DEVICE_DETACH_IOMMUFD_PT', poisoned(VFIO_DEVICE_DETACH_IOMMUFD_PT, { argsz: 8, flags: 0 }, 8)).errno).toBe(0);
  }
  close(fd: number): void {
    expect(this.kernel.close(this.proc, fd).errno).toBe(0);
  }
}

describe('the cdev on the real iommufd', () => {
  // out_devid is the iommufd_device object's id; ATTACH to an IOAS answers the auto domain's
  // HWPT id; the IOAS is in use (EBUSY) while a device is attached to it, free after DETACH.
  it('bind, attach, detach', () => {
    const m = new Real();
    const dev = m.open('/dev/vfio/devices/vfio0');
    const devid = m.cdev_bind(dev);
    const ioas = m.ioas_alloc();
    expect([devid, ioas]).toEqual([1, 2]);
    expect(m.attach(dev, ioas)).toBe(3);
    m.destroy_err(EBUSY, ioas);
    m.detach(dev);
    m.destroy(ioas);
  });

  // Close of the bound cdev file detaches and unbinds (vfio_iommufd_physical_unbind): the IOAS
  // is free again, and the group can be opened.
  it('close unbinds', () => {
    const m = new Real();
    const dev = m.open('/dev/vfio/devices/vfio0');
    m.cdev_bind(dev);
    const ioas = m.ioas_alloc();
    m.attach(dev, ioas);
    expect(m.kernel.open(m.proc, '/dev/vfio/1').errno).toBe(EBUSY);
    m.close(dev);
    m.destroy(ioas);
    m.open('/dev/vfio/1');
  });

  // intremap=off: iommufd_device_bind refuses the unisolated MSI (-EPERM) and VFIO unwinds;
  // iommufd.allow_unsafe_interrupts lets the same file bind.
  it('isolated MSI at bind', () => {
    const m = new Real({ intremap: 'off' });
    const dev = m.open('/dev/vfio/devices/vfio0');
    m.cdev_bind_err(EPERM, dev);
    expect(m.kernel.sysfsWrite('/sys/module/iommufd/parameters/allow_unsafe_interrupts', 'Y')).toBe(1);
    expect(m.cdev_bind(dev)).toBe(1);
  });
});

describe('a group given the real iommufd', () => {
  // SET_CONTAINER(iommufd) creates the compat IOAS; GET_DEVICE_FD binds the device and attaches
  // it there, so the compat IOAS is busy until the device fd closes; a second cdev bind of the
  // group's device is refused (the group is open).
  it('compat IOAS', () => {
    const m = new Real();
    const group = m.open('/dev/vfio/1');
    expect(m.dev_ioctl_(group, 'VFIO_GROUP_SET_CONTAINER', poisoned(VFIO_CONTAINER_FD, { fd: m.fd })).errno).toBe(0);
    const name = new TextEncoder().encode(`${EDU}\0`);
    const r = m.kernel.ioctl(m.proc, group, nr('VFIO_GROUP_GET_DEVICE_FD'), { value: 1n, buf: name });
    expect(r.errno).toBe(0);
    // IOMMU_VFIO_IOAS_GET (op 0): the compat IOAS's id.
    const compat = m.ok(m.vfio_ioas_(0)).k.num('ioas_id');
    m.destroy_err(EBUSY, compat);
    const cdev = m.open('/dev/vfio/devices/vfio0');
    m.cdev_bind_err(EBUSY, cdev);
    m.close(Number(r.ret));
    m.destroy(compat);
    // The compat IOAS is gone: a new device open finds none (get_compat_ioas: -ENODEV).
    expect(m.kernel.ioctl(m.proc, group, nr('VFIO_GROUP_GET_DEVICE_FD'), { value: 1n, buf: name }).errno).toBe(ENODEV);
    expect(m.kernel.ioctl(m.proc, group, nr('VFIO_GROUP_UNSET_CONTAINER'), { value: 0n }).errno).toBe(0);
    expect(m.kernel.ioctl(m.proc, group, nr('VFIO_GROUP_UNSET_CONTAINER'), { value: 0n }).errno).toBe(EINVAL);
  });
});
