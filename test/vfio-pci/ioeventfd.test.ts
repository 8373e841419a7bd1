// VFIO_DEVICE_IOEVENTFD (vfio_pci_ioctl_ioeventfd / vfio_pci_ioeventfd, 4.17+): one stanza per rule.

import { describe, expect, it } from 'vitest';
import { EBADF, EEXIST, EINVAL, ENODEV, ENOSPC, ENOTTY } from '../../src/uapi/errno.js';
import { VFIO_DEVICE_IOEVENTFD } from '../../src/uapi/structs.js';
import { Machine, hex, poisoned } from '../kernel/fixture.js';

const E1000E = '0000:00:02.0';

const getDeviceFd = (m: Machine): number =>
  Number(m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', Uint8Array.from([...Buffer.from(E1000E), 0])).ret);

function device(era = '6.1') {
  const m = new Machine(era, 'qemu-q35-vtd');
  m.setup(E1000E);
  let dev = getDeviceFd(m);
  const efd = Number(m.kernel.eventfd(m.proc).ret);
  /** The errno; the struct is input only, so the buffer must come back as sent. */
  const ioeventfd_ = (flags: number, offset: bigint, data: bigint, fd: number, argsz = 32) => {
    const b = poisoned(VFIO_DEVICE_IOEVENTFD, { argsz, flags, offset, data, fd: BigInt.asUintN(32, BigInt(fd)) });
    const sent = hex(b);
    const o = m.ioctl_(dev, 'VFIO_DEVICE_IOEVENTFD', b);
    expect(hex(o.buf)).toBe(sent);
    return o.errno;
  };
  const reopen = () => {
    m.kernel.close(m.proc, dev);
    dev = getDeviceFd(m);
  };
  return { m, efd, ioeventfd_, reopen };
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

  // VFIO_PCI_IOEVENTFD_MAX (1000) per device: the next one is -ENOSPC.
  it('at most 1000', () => {
    const { efd, ioeventfd_ } = device();
    for (let i = 0n; i < 1000n; i++) expect(ioeventfd_(4, 0x100n, i, efd)).toBe(0);
    expect(ioeventfd_(4, 0x100n, 1000n, efd)).toBe(ENOSPC);
    // Removing one makes room again.
    expect(ioeventfd_(4, 0x100n, 0n, -1)).toBe(0);
    expect(ioeventfd_(4, 0x100n, 1000n, efd)).toBe(0);
  });

  // vfio_pci_core_disable() on the last close frees every ioeventfd: re-adding is not -EEXIST.
  it('freed on close', () => {
    const { efd, ioeventfd_, reopen } = device();
    expect(ioeventfd_(4, 0x100n, 1n, efd)).toBe(0);
    reopen();
    expect(ioeventfd_(4, 0x100n, 1n, efd)).toBe(0);
    expect(ioeventfd_(4, 0x100n, 1n, efd)).toBe(EEXIST);
  });
});
