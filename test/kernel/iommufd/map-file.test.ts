// IOMMU_IOAS_MAP_FILE (6.13): 7.2's iommufd_ioas_map_file(), iopt_map_file_pages() and
// pin_memfd_pages()/memfd_pin_folios(). Oracle: test/fixtures/real-kernel-iommufd/*/edu-file.jsonl
// (recorded on 7.2 with tools/realkernel/iommufdprobe.c `file`) and the kernel source.

import { describe, expect, it } from 'vitest';
import { EBADF, EEXIST, EINVAL, ENOENT, ENOTTY, EOPNOTSUPP, EOVERFLOW } from '../../../src/uapi/errno.js';
import * as uapi from '../../../src/uapi/iommufd.js';
import type { PciBusMaster } from '../../../src/hw/pci/device.js';
import { FIXED, Iommufd, PAGE, READ, RW, U64_MAX, WRITE } from './fixture.js';

const EDU = '0000:00:01.0';

/** A 7.2 context with a 16 KiB memfd, an IOAS, and edu bound (not attached). */
function withMemfd(era = '7.2') {
  const t = new Iommufd(era);
  const mfd = t.memfd(4n * PAGE);
  const ioas = t.ioas_alloc();
  return { t, mfd, ioas };
}

const busMaster = (t: Iommufd): PciBusMaster => (t.kernel.devices.get(EDU)!.hw as unknown as { busMaster: PciBusMaster }).busMaster;

describe('IOMMU_IOAS_MAP_FILE checks', () => {
  // Rule (7.2, recorded): flags, then 64-bit values (-EOVERFLOW), then READ/WRITE, then the
  // IOAS, then iopt_map_file_pages(): length 0, start + length - 1 wrapping, the fd.
  it('in the kernel order', () => {
    const { t, mfd, ioas } = withMemfd();
    t.map_file_err(EOPNOTSUPP, ioas, mfd, 0n, PAGE, 0x100000n, RW | FIXED | 8n);
    t.map_file_err(EOVERFLOW, ioas, mfd, 0n, U64_MAX, 0x100000n, RW | FIXED);
    t.map_file_err(EINVAL, ioas, mfd, 0n, PAGE, 0x100000n, FIXED);
    t.map_file_err(ENOENT, 0xfffff, mfd, 0n, PAGE, 0x100000n, RW | FIXED);
    t.map_file_err(EINVAL, ioas, mfd, 0n, 0n, 0x100000n, RW | FIXED);
    t.map_file_err(EOVERFLOW, ioas, mfd, U64_MAX - 0xfffn, 2n * PAGE, 0x100000n, RW | FIXED);
    t.map_file_err(EBADF, ioas, -1, 0n, PAGE, 0x100000n, RW | FIXED);
    t.map_file_err(EBADF, ioas, 900, 0n, PAGE, 0x100000n, RW | FIXED);
    // Nothing was mapped by any of them.
    expect(t.map_file(ioas, mfd, 0n, PAGE, 0x100000n, RW | FIXED)).toBe(0x100000n);
    t.map_file_err(EEXIST, ioas, mfd, PAGE, PAGE, 0x100000n, RW | FIXED);
  });

  // Rule: the fd is taken after the length checks from 6.19 (217725f0b2c3), right after the
  // IOAS before: a bad fd with length 0 is EINVAL on 7.2, EBADF on 6.13.
  it('bad fd with length 0: EINVAL (7.2), EBADF (6.13)', () => {
    for (const [era, errno] of [['7.2', EINVAL], ['6.13', EBADF]] as const) {
      const { t, ioas } = withMemfd(era);
      t.map_file_err(errno, ioas, -1, 0n, 0n, 0x100000n, RW | FIXED);
    }
  });

  // Rule: IOMMUFD_CMD_IOAS_MAP_FILE is 6.13's; 6.12's table ends at FAULT_QUEUE_ALLOC.
  it('ENOTTY before 6.13', () => {
    const { t, mfd, ioas } = withMemfd('6.12');
    t.map_file_err(ENOTTY, ioas, mfd, 0n, PAGE, 0x100000n, RW | FIXED);
  });
});

describe('IOMMU_IOAS_MAP_FILE pinning', () => {
  // Rule (recorded): with no domain nothing is pinned, so any file maps (an eventfd) and so
  // does a range past the file's end; the allocated IOVA keeps the file offset's place in its
  // page (iopt_alloc_iova from pages->start + start_byte).
  it('lazy without a domain', () => {
    const { t, mfd, ioas } = withMemfd();
    const efd = Number(t.kernel.eventfd(t.proc).ret);
    const at = t.map_file(ioas, efd, 0n, PAGE);
    expect(t.unmap(ioas, at, PAGE)).toBe(PAGE);
    expect(t.map_file(ioas, mfd, 2n * PAGE, 4n * PAGE, 0x300000n, RW | FIXED)).toBe(0x300000n);
    expect(t.map_file(ioas, mfd, 0x800n, PAGE) & 0xfffn).toBe(0x800n);
  });

  // Rule (recorded): the attach fills the domain and pins every area: one past the file's end
  // fails it (memfd_pin_folios: end >= i_size, -EINVAL); without it the attach succeeds.
  it('an area past the end refuses the attach', () => {
    const { t, mfd, ioas } = withMemfd();
    t.map_file(ioas, mfd, 2n * PAGE, 4n * PAGE, 0x300000n, RW | FIXED);
    const dev = t.bind(EDU);
    expect(dev.attach(ioas).ret).toBe(-EINVAL);
    t.unmap(ioas, 0x300000n, 4n * PAGE);
    expect(dev.attach(ioas).ret).toBe(0);
  });

  // Rule (recorded): attached, the pin happens at MAP_FILE: a file that is not shmem (an
  // eventfd) and whole pages reaching i_size are -EINVAL and leave nothing mapped; the last
  // page of the file maps.
  it('attached: shmem only, below i_size', () => {
    const { t, mfd, ioas } = withMemfd();
    const efd = Number(t.kernel.eventfd(t.proc).ret);
    const dev = t.bind(EDU);
    expect(dev.attach(ioas).ret).toBe(0);
    t.map_file_err(EINVAL, ioas, efd, 0n, PAGE);
    t.map_file_err(EINVAL, ioas, mfd, 2n * PAGE, 4n * PAGE, 0x300000n, RW | FIXED);
    expect(t.map_file(ioas, mfd, 3n * PAGE, PAGE, 0x300000n, RW | FIXED)).toBe(0x300000n);
    expect(t.unmap(ioas, 0x300000n, PAGE)).toBe(PAGE);
    // A length that is not whole pages breaks the domain's 4 KiB IOVA alignment first.
    t.map_file_err(EINVAL, ioas, mfd, 2n * PAGE, 0x1800n, 0x300000n, RW | FIXED);
  });

  // Rule (recorded, edu DMA): the device reads and writes the memfd's pages, the ones a
  // MAP_SHARED mapping and pread show.
  it('DMA reaches the pages a shared mapping shows', () => {
    const { t, mfd, ioas } = withMemfd();
    const view = t.kernel.mmap(t.proc, 4n * PAGE, { read: true, write: true }, { fd: mfd }).ret as bigint;
    expect(t.kernel.store(t.proc, view, new Uint8Array([0x88, 0x77, 0x66, 0x55])).errno).toBe(0);
    t.map_file(ioas, mfd, 0n, PAGE, 0x100000n, READ | FIXED);
    t.map_file(ioas, mfd, PAGE, PAGE, 0x101000n, WRITE | FIXED);
    const dev = t.bind(EDU);
    expect(dev.attach(ioas).ret).toBe(0);
    const port = busMaster(t);
    expect(Buffer.from(port.dmaRead(0x100000n, 4)!).toString('hex')).toBe('88776655');
    expect(port.dmaWrite(0x101010n, new Uint8Array([1, 2, 3, 4]))).toBe(true);
    expect(Buffer.from(t.read(view + PAGE + 0x10n, 4)).toString('hex')).toBe('01020304');
    const back = new Uint8Array(6).fill(0xaa);
    expect(t.kernel.pread(t.proc, mfd, back, PAGE + 0xfn).ret).toBe(6);
    expect(Buffer.from(back).toString('hex')).toBe('000102030400');
    // READ-only and WRITE-only as mapped.
    expect(port.dmaWrite(0x100000n, new Uint8Array([9]))).toBe(false);
  });

  // Rule: COPY takes the file's pages as they are mapped; CHANGE_PROCESS (6.14) moves only
  // file-backed areas, so with a memfd area and no user-memory one it succeeds.
  it('COPY and CHANGE_PROCESS of file areas', () => {
    const { t, mfd, ioas } = withMemfd();
    t.map_file(ioas, mfd, 0n, 2n * PAGE, 0x100000n, RW | FIXED);
    const other = t.ioas_alloc();
    t.ok(t.copy_(other, ioas, 0x100000n, 2n * PAGE, 0x200000n, RW | FIXED));
    const cp = () => t.cmd_('IOMMU_IOAS_CHANGE_PROCESS', uapi.IOMMU_IOAS_CHANGE_PROCESS, {});
    t.ok(cp());
    t.map(other, t.mmap(PAGE), PAGE, 0x400000n, RW | FIXED);
    t.err(EINVAL, cp());
  });
});
