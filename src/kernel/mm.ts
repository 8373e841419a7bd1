// A process's address space: VMAs with protections, and sparse memory behind them.
//
// VFIO's MAP_DMA pins the pages it maps (vfio_pin_pages_remote → pin_user_pages_remote), so
// the model must answer what GUP answers: a vaddr in no VMA, in a PROT_NONE guard, above
// TASK_SIZE, or a read-only page pinned for write (FOLL_WRITE) is -EFAULT. Memory is sparse:
// a VMA is a range, not pages, and page contents exist only once something writes them, so
// `mmap 1T` costs nothing.

import { EFAULT, EINVAL, ENOMEM } from '../uapi/errno.js';
import { RangeTree } from '../lib/range-tree.js';

/** The granule of the sparse physical memory (not the process's page size). */
const FRAME = 0x1000n;
const PHYS_ALIGN = 1n << 30n;

/** PAGE_ALIGN() at a page size: round up. */
export const pageAlign = (v: bigint, page: bigint): bigint => (v + page - 1n) & ~(page - 1n);
/** v & PAGE_MASK: round down. */
export const pageAlignDown = (v: bigint, page: bigint): bigint => v & ~(page - 1n);

export interface Vma {
  start: bigint;
  /** Exclusive. */
  end: bigint;
  read: boolean;
  write: boolean;
  /** A device region mapping (VM_IO | VM_PFNMAP): GUP cannot pin it. */
  io: boolean;
  /** Physical address of `start` (anonymous memory gets a fresh physical range). */
  phys: bigint;
  /** What a device mapping maps (vma->vm_file and vma->vm_pgoff); absent for anonymous memory. */
  backing?: VmaBacking;
}

/**
 * The file behind a device mapping (vm_file) and the file offset of the VMA's start (vm_pgoff
 * << PAGE_SHIFT). A load or store in the VMA is the file's access at that offset.
 */
export interface VmaBacking {
  file: MappedFile;
  offset: bigint;
}

/** The part of a file's ops a CPU access through its mapping reaches (vm_operations_struct). */
export interface MappedFile {
  /**
   * A load (fills buf) or store (of buf) of buf.length bytes at the file offset, as the CPU
   * issues it through the mapping: 0, or -errno when the page cannot be faulted in (SIGBUS).
   */
  mappedAccess?(offset: bigint, buf: Uint8Array, iswrite: boolean): number;
  /**
   * The physical address the mapping's fault handler inserts for the page at the file offset,
   * as fixup_user_fault() and follow_pfnmap_start() find it; undefined where the handler
   * answers VM_FAULT_SIGBUS.
   */
  mappedPhys?(offset: bigint): bigint | undefined;
}

/**
 * A CPU load or store the MMU could not complete: SIGSEGV (no VMA, or one whose protection
 * refuses the access: SEGV_MAPERR/SEGV_ACCERR) or SIGBUS (the fault handler answered
 * VM_FAULT_SIGBUS, as vfio_pci_mmap_fault does while memory decode is off).
 */
export type AccessSignal = 'SIGSEGV' | 'SIGBUS';

export interface AddressSpaceLayout {
  /** PAGE_SIZE of the kernel: 4 KiB, or 64 KiB on the modelled ppc64le hosts. */
  pageSize: bigint;
  /** Highest user address + 1 (x86_64: 0x7ffffffff000; arm64 48-bit VA: 1 << 48). */
  taskSize: bigint;
  /** Top of the mmap area; mmap places new mappings downward from here. */
  mmapBase: bigint;
  /** vm.mmap_min_addr. */
  minAddr: bigint;
}


/** What pin_user_pages_remote() may pin: readable memory, not a device's (writable too with FOLL_WRITE). */
const pinnable = (v: Vma): boolean => v.read && !v.io;
const pinnableForWrite = (v: Vma): boolean => v.read && !v.io && v.write;

export class AddressSpace {
  /**
   * Non-overlapping, keyed by start: the kernel keeps VMAs in a maple tree, so a split or a
   * lookup costs O(log n) however many mappings the process has.
   */
  private readonly vmas = new RangeTree<Vma>();
  /** Sparse page contents, by physical page number. */
  private readonly pages = new Map<bigint, Uint8Array>();
  private nextPhys = PHYS_ALIGN * 4n;

  private readonly page: bigint;

  constructor(readonly layout: AddressSpaceLayout) {
    this.page = layout.pageSize;
  }

  /** PAGE_ALIGN(). */
  pageAlignUp(v: bigint): bigint {
    return pageAlign(v, this.page);
  }

  /** Every VMA, lowest first. */
  list(): Vma[] {
    return [...this.vmas].map((r) => r.value);
  }

  /**
   * mmap(2) of anonymous memory (or of a device region when `backing`, or of existing pages
   * from the physical address `shared`: a MAP_SHARED mapping of a memfd). `hint` is honoured
   * when the range is free, as the kernel does without MAP_FIXED. Returns the address or -errno.
   */
  mmap(len: bigint, prot: { read: boolean; write: boolean }, hint?: bigint, backing?: VmaBacking, shared?: bigint): bigint {
    if (len <= 0n) return BigInt(-EINVAL);
    const size = this.pageAlignUp(len);
    if (size === 0n || size > this.layout.taskSize) return BigInt(-ENOMEM);
    let start: bigint | undefined;
    if (hint !== undefined && hint !== 0n) {
      const h = hint & ~(this.page - 1n);
      if (h >= this.layout.minAddr && h + size <= this.layout.taskSize && this.isFree(h, h + size)) start = h;
    }
    start ??= this.findFreeTopDown(size);
    if (start === undefined) return BigInt(-ENOMEM);
    const phys = shared ?? this.reservePhys(size);
    this.insert({ start, end: start + size, read: prot.read, write: prot.write, io: backing !== undefined, phys, backing });
    return start;
  }

  /**
   * Fresh physical memory for `size` bytes: each mapping (or memfd) gets its own, 1 GiB aligned
   * (as hugepage-backed memory would be), so block- and window-based IOMMUs can map it at their
   * granule. Returns its physical address.
   */
  reservePhys(size: bigint): bigint {
    const phys = this.nextPhys;
    this.nextPhys = (phys + size + PHYS_ALIGN) & ~(PHYS_ALIGN - 1n);
    return phys;
  }

  /** munmap(2): 0 or -errno. Unmapping a range with no VMA is not an error. */
  munmap(addr: bigint, len: bigint): number {
    if (addr & (this.page - 1n)) return -EINVAL;
    if (len === 0n) return -EINVAL;
    const end = addr + this.pageAlignUp(len);
    if (end > this.layout.taskSize || end < addr) return -EINVAL;
    this.carve(addr, end);
    return 0;
  }

  /** mprotect(2): the whole range must be mapped (else -ENOMEM). */
  mprotect(addr: bigint, len: bigint, prot: { read: boolean; write: boolean }): number {
    if (addr & (this.page - 1n)) return -EINVAL;
    const end = addr + this.pageAlignUp(len);
    if (end < addr) return -ENOMEM;
    if (len === 0n) return 0;
    if (!this.covered(addr, end, () => true)) return -ENOMEM;
    const pieces = this.carve(addr, end);
    for (const p of pieces) this.insert({ ...p, read: prot.read, write: prot.write });
    return 0;
  }

  /**
   * What pin_user_pages_remote() answers for [vaddr, vaddr+size): 0, or -EFAULT when any page
   * is unmapped, above TASK_SIZE, PROT_NONE, device memory, or read-only while `write` is asked.
   */
  pin(vaddr: bigint, size: bigint, write: boolean): number {
    const end = vaddr + size;
    if (end > this.layout.taskSize || end < vaddr) return -EFAULT;
    return this.covered(vaddr, end, write ? pinnableForWrite : pinnable) ? 0 : -EFAULT;
  }

  /**
   * What type1's vaddr_get_pfns() gets for [vaddr, vaddr+size) (drivers/vfio/vfio_iommu_type1.c):
   * the physical address behind vaddr, or -EFAULT. Pages pin_user_pages_remote() pins are
   * taken as pin() takes them. Where it fails on a VM_PFNMAP mapping (a device region),
   * follow_fault_pfn() faults the page in through the mapping's handler and takes its pfn:
   * -EFAULT when the handler answers SIGBUS (vfio-pci with memory decode off) or when a write
   * mapping is asked of a read-only VMA (write_fault && !args.writable). Such pfns are not
   * RAM (is_invalid_reserved_pfn()): mapped, not pinned.
   */
  pinOrFollowPfn(vaddr: bigint, size: bigint, write: boolean): bigint {
    // The common case, with no walk of its own: every page pins.
    if (this.pin(vaddr, size, write) === 0) return this.physOf(vaddr)!;
    const end = vaddr + size;
    if (end > this.layout.taskSize || end < vaddr) return BigInt(-EFAULT);
    let pa: bigint | undefined;
    const ok = this.covered(vaddr, end, (v) => {
      if (write ? pinnableForWrite(v) : pinnable(v)) return true;
      if (!v.backing || (write && !v.write)) return false;
      const at = v.start > vaddr ? v.start : vaddr;
      const phys = v.backing.file.mappedPhys?.(v.backing.offset + (at - v.start));
      if (phys !== undefined && at === vaddr) pa = phys;
      return phys !== undefined;
    });
    if (!ok) return BigInt(-EFAULT);
    return pa ?? this.physOf(vaddr)!;
  }

  /**
   * pinOrFollowPfn()'s common case in exact numbers, for type1's MAP_DMA number path: when
   * [vaddr, vaddr + size) lies in the VMA found last and every page pins, the physical address
   * behind vaddr as a number; -1 when that does not hold or the address is not below 2^53
   * (the caller then asks pinOrFollowPfn()). Makes no bigint and changes nothing.
   */
  pinnedPhysExact(vaddr: number, size: number, write: boolean): number {
    const v = this.lastVma;
    const end = vaddr + size;
    // (A number compares with a bigint exactly.)
    if (v === undefined || size <= 0 || end > this.layout.taskSize || vaddr < v.start || end > v.end) return -1;
    if (!(write ? pinnableForWrite(v) : pinnable(v))) return -1;
    const phys = Number(v.phys);
    const start = Number(v.start);
    const pa = phys + (vaddr - start);
    return phys <= Number.MAX_SAFE_INTEGER && start <= Number.MAX_SAFE_INTEGER && pa <= Number.MAX_SAFE_INTEGER ? pa : -1;
  }

  /**
   * copy_to_user() into this address space: -EFAULT unless every byte is in a writable,
   * non-device VMA.
   */
  copyToUser(vaddr: bigint, data: Uint8Array): number {
    const end = vaddr + BigInt(data.length);
    if (!this.covered(vaddr, end, (v) => v.write && !v.io)) return -EFAULT;
    for (let i = 0; i < data.length; ) {
      const a = vaddr + BigInt(i);
      const v = this.find(a)!;
      const n = Math.min(data.length - i, Number(v.end - a));
      this.writePhys(v.phys + (a - v.start), data.subarray(i, i + n));
      i += n;
    }
    return 0;
  }

  /** copy_from_user(): the bytes, or -EFAULT unless every byte is in a readable VMA. */
  copyFromUser(vaddr: bigint, len: number): Uint8Array | number {
    const end = vaddr + BigInt(len);
    if (!this.covered(vaddr, end, (v) => v.read && !v.io)) return -EFAULT;
    const out = new Uint8Array(len);
    for (let i = 0; i < len; ) {
      const a = vaddr + BigInt(i);
      const v = this.find(a)!;
      const n = Math.min(len - i, Number(v.end - a));
      out.set(this.readPhys(v.phys + (a - v.start), n), i);
      i += n;
    }
    return out;
  }

  /**
   * A CPU load (fills buf) or store (of buf) at vaddr: anonymous memory reads and writes the
   * sparse pages; a device mapping goes to its file (the device's BAR). Undefined when it
   * completed, or the signal the access raised. The access must lie in one VMA (a CPU access
   * of 1-8 bytes crossing a VMA boundary is not modelled: SIGSEGV).
   */
  access(vaddr: bigint, buf: Uint8Array, iswrite: boolean): AccessSignal | undefined {
    const v = this.find(vaddr);
    if (!v || vaddr + BigInt(buf.length) > v.end) return 'SIGSEGV';
    if (!(iswrite ? v.write : v.read)) return 'SIGSEGV';
    if (v.backing) {
      const r = v.backing.file.mappedAccess?.(v.backing.offset + (vaddr - v.start), buf, iswrite) ?? -EFAULT;
      return r < 0 ? 'SIGBUS' : undefined;
    }
    const pa = v.phys + (vaddr - v.start);
    if (iswrite) this.writePhys(pa, buf);
    else buf.set(this.readPhys(pa, buf.length));
    return undefined;
  }

  /** The physical address behind a user address, or undefined if unmapped. */
  physOf(vaddr: bigint): bigint | undefined {
    const v = this.find(vaddr);
    return v ? v.phys + (vaddr - v.start) : undefined;
  }

  // ---- sparse physical memory (what DMA reads and writes) ---------------------------------

  readPhys(pa: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; ) {
      const a = pa + BigInt(i);
      const pfn = a / FRAME;
      const off = Number(a % FRAME);
      const n = Math.min(len - i, Number(FRAME) - off);
      const page = this.pages.get(pfn);
      if (page) out.set(page.subarray(off, off + n), i);
      i += n;
    }
    return out;
  }

  writePhys(pa: bigint, data: Uint8Array): void {
    for (let i = 0; i < data.length; ) {
      const a = pa + BigInt(i);
      const pfn = a / FRAME;
      const off = Number(a % FRAME);
      const n = Math.min(data.length - i, Number(FRAME) - off);
      let page = this.pages.get(pfn);
      if (!page) this.pages.set(pfn, (page = new Uint8Array(Number(FRAME))));
      page.set(data.subarray(i, i + n), off);
      i += n;
    }
  }

  // ---- VMA bookkeeping -------------------------------------------------------------------

  /**
   * The VMA found last (as mm/vmacache.c kept one per thread before 6.1): pinning a run of
   * MAP_DMAs from one buffer asks about one VMA again and again. Dropped when the VMAs change.
   */
  private lastVma: Vma | undefined;

  private find(addr: bigint): Vma | undefined {
    const last = this.lastVma;
    if (last !== undefined && addr >= last.start && addr < last.end) return last;
    const v = this.vmas.containing(addr)?.value;
    if (v) this.lastVma = v;
    return v;
  }

  /** Every byte of [start, end) is in a VMA satisfying ok. */
  private covered(start: bigint, end: bigint, ok: (v: Vma) => boolean): boolean {
    let at = start;
    while (at < end) {
      const v = this.find(at);
      if (!v || !ok(v)) return false;
      at = v.end;
    }
    return true;
  }

  private isFree(start: bigint, end: bigint): boolean {
    return this.vmas.firstOverlap(start, end) === undefined;
  }

  /**
   * The highest free range of `size` below mmapBase (the top-down allocator of
   * arch_get_unmapped_area_topdown): walks the VMAs downward from mmapBase, gap by gap.
   */
  private findFreeTopDown(size: bigint): bigint | undefined {
    let top = this.layout.mmapBase;
    const straddling = this.vmas.containing(top - 1n);
    if (straddling) top = straddling.start;
    for (let v = this.vmas.lowerThan(top); ; v = this.vmas.lowerThan(v.start)) {
      const floor = v ? v.value.end : this.layout.minAddr;
      if (top - floor >= size) return top - size;
      if (!v) return undefined;
      top = v.start;
    }
  }

  private insert(v: Vma): void {
    this.lastVma = undefined;
    this.vmas.insert(v.start, v.end, v);
  }

  /** Removes [start, end) from every VMA, splitting as needed; returns the removed pieces. */
  private carve(start: bigint, end: bigint): Vma[] {
    const removed: Vma[] = [];
    this.lastVma = undefined;
    for (const r of this.vmas.overlapping(start, end)) {
      const v = r.value;
      this.vmas.delete(r);
      if (v.start < start) this.insert({ ...v, end: start });
      if (v.end > end) this.insert(shifted({ ...v, start: end }, end - v.start, v));
      const s = v.start > start ? v.start : start;
      const e = v.end < end ? v.end : end;
      removed.push(shifted({ ...v, start: s, end: e }, s - v.start, v));
    }
    return removed;
  }
}

/** A piece of `v` starting `delta` bytes in: its physical address and file offset move with it. */
function shifted(piece: Vma, delta: bigint, v: Vma): Vma {
  return { ...piece, phys: v.phys + delta, backing: v.backing && { file: v.backing.file, offset: v.backing.offset + delta } };
}
