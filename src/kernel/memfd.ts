// memfd_create(2) (mm/memfd.c): a shmem file whose pages live in the creating process's
// physical memory (mm.ts). A MAP_SHARED mapping of it maps those same pages (vma->vm_file is
// the memfd, the VMA is ordinary memory GUP can pin), pread/pwrite reach them through the page
// cache, and IOMMU_IOAS_MAP_FILE pins them by file offset (memfd_pin_folios). So a device's
// DMA through a file mapping and a CPU load through a vaddr mapping see the same bytes.
//
// The model's memfd is created at its final size (memfd_create + ftruncate in one step, the
// scenario's `memfd LEN`); a write past the end grows it (shmem_write_begin) within the
// physical span reserved for it.

import { EFBIG, EINVAL } from '../uapi/errno.js';
import type { FileOps, Prot, Task } from './file.js';
import type { AddressSpace } from './mm.js';

/** The physical span reserved for one memfd's pages: the largest it can grow to here. */
const MEMFD_SPAN = 1n << 30n;

export class MemFd implements FileOps {
  readonly kind = 'memfd' as const;
  /** shmem_file(): memfd_pin_folios() takes only shmem and hugetlbfs files. */
  readonly shmem = true;
  /** Physical address of the file's byte 0 (its pages are contiguous here). */
  readonly phys: bigint;
  private readonly span: bigint;

  constructor(
    /** The address space whose physical memory holds the pages (the creator's). */
    readonly mm: AddressSpace,
    /** i_size. */
    public size: bigint,
  ) {
    this.span = size > MEMFD_SPAN ? mm.pageAlignUp(size) : MEMFD_SPAN;
    this.phys = mm.reservePhys(this.span);
  }

  /** pread(2): up to out.length bytes from `offset`, 0 at or past the end. */
  read(_proc: Task, out: Uint8Array, offset: bigint): number {
    if (offset < 0n) return -EINVAL;
    if (offset >= this.size) return 0;
    const left = this.size - offset;
    const n = BigInt(out.length) < left ? out.length : Number(left);
    out.set(this.mm.readPhys(this.phys + offset, n));
    return n;
  }

  /** pwrite(2): writing past the end grows the file (within the model's span: else -EFBIG). */
  write(_proc: Task, data: Uint8Array, offset: bigint): number {
    if (offset < 0n) return -EINVAL;
    const end = offset + BigInt(data.length);
    if (end > this.span) return -EFBIG;
    this.mm.writePhys(this.phys + offset, data);
    if (end > this.size) this.size = end;
    return data.length;
  }

  /**
   * shmem_mmap(): a MAP_SHARED mapping of the pages from `offset` (kernel.ts maps them). The
   * model keeps a mapping within the span reserved for the file, and a load past i_size reads
   * zeroes where the kernel would raise SIGBUS.
   */
  mmap(_proc: Task, offset: bigint, len: bigint, _prot: Prot): number {
    return offset + len > this.span ? -EINVAL : 0;
  }

  /** Where a MAP_SHARED mapping at `offset` finds its pages. */
  physAt(offset: bigint): bigint {
    return this.phys + offset;
  }
}

export const isMemFd = (ops: FileOps): ops is MemFd => ops instanceof MemFd;
