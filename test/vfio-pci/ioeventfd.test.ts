// VFIO_DEVICE_IOEVENTFD (vfio_pci_ioctl_ioeventfd / vfio_pci_ioeventfd, 4.17+): one stanza per rule.

import { describe, expect, it } from 'vitest';
import { EBADF, EEXIST, EINVAL, ENODEV, ENOTTY } from '../../src/kernel/errno.js';
import { Machine } from '../kernel/fixture.js';

const E1000E = '0000:00:02.0';

function device(era = '6.1') {
  const m = new Machine(era, 'qemu-q35-vtd');
  m.setup(E1000E);
  const dev = Number(m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', Uint8Array.from([...Buffer.from(E1000E), 0])).ret);
  const efd = Number(m.kernel.eventfd(m.proc).ret);
  const ioeventfd_ = (flags: number, offset: bigint, data: bigint, fd: number, argsz = 32) => {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, argsz, true);
    dv.setUint32(4, flags, true);
    dv.setBigUint64(8, offset, true);
    dv.setBigUint64(16, data, true);
    dv.setInt32(24, fd, true);
    return m.ioctl_(dev, 'VFIO_DEVICE_IOEVENTFD', b).errno;
  };
  return { m, efd, ioeventfd_ };
}

describe('VFIO_DEVICE_IOEVENTFD', () => {
  // Before 4.17 the ioctl does not exist.
  it('unknown before 4.17', () => {
    const old = device('4.16');
    expect(old.ioeventfd_(4, 0x100n, 1n, old.efd)).toBe(ENOTTY);
    const first = device('4.17');
    expect(first.ioeventfd_(4, 0x100n, 1n, first.efd)).toBe(0);
  });

  // argsz below offsetofend(fd), unknown flags, a size that is not one power of two, fd < -1.
  it('argument checks', () => {
    const { efd, ioeventfd_ } = device();
    expect(ioeventfd_(4, 0x100n, 1n, efd, 24)).toBe(EINVAL);
    expect(ioeventfd_(0x14, 0x100n, 1n, efd)).toBe(EINVAL);
    expect(ioeventfd_(6, 0x100n, 1n, efd)).toBe(EINVAL);
    expect(ioeventfd_(0, 0x100n, 1n, efd)).toBe(EINVAL);
    expect(ioeventfd_(4, 0x100n, 1n, -2)).toBe(EINVAL);
  });

  // Only BARs, inside the BAR, never over the MSI-X table (e1000e: BAR3 offset 0, 5 entries).
  it('where', () => {
    const { efd, ioeventfd_ } = device();
    expect(ioeventfd_(4, 7n << 40n, 1n, efd)).toBe(EINVAL);
    expect(ioeventfd_(4, 0x1fffen, 1n, efd)).toBe(EINVAL);
    expect(ioeventfd_(4, (3n << 40n) | 0x10n, 1n, efd)).toBe(EINVAL);
    expect(ioeventfd_(4, (3n << 40n) | 0x2000n, 1n, efd)).toBe(0);
  });

  // The same (bar, offset, data, size) twice is -EEXIST; fd -1 removes it, then -ENODEV.
  it('add and remove', () => {
    const { efd, ioeventfd_ } = device();
    expect(ioeventfd_(4, 0x100n, 1n, efd)).toBe(0);
    expect(ioeventfd_(4, 0x100n, 1n, efd)).toBe(EEXIST);
    expect(ioeventfd_(4, 0x100n, 2n, efd)).toBe(0);
    expect(ioeventfd_(4, 0x100n, 1n, -1)).toBe(0);
    expect(ioeventfd_(4, 0x100n, 1n, -1)).toBe(ENODEV);
  });

  // The fd must be an eventfd (vfio_virqfd_enable).
  it('fd', () => {
    const { m, ioeventfd_ } = device();
    expect(ioeventfd_(4, 0x100n, 1n, 99)).toBe(EBADF);
    expect(ioeventfd_(4, 0x100n, 1n, m.container)).toBe(EINVAL);
  });
});
