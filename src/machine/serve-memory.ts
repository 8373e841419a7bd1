// The client's DMA memory, shared with the model (docs/exec.md, "Memory").
//
// A device's DMA crosses the IOMMU model and lands in the physical pages behind a user
// mapping (mm.ts readPhys/writePhys). Under exec those pages must be the client's own, in both
// directions, and synchronously: a DMA read happens inside the model's handling of a BAR write.
// So each range of client memory the model learns of (MAPMEM, before MAP_DMA) gets a file of
// the server's, in its private 0700 directory, named by the server; the library copies the
// range into it and maps it MAP_SHARED|MAP_FIXED over the same addresses. The model's reads and
// writes of those physical pages then go to the file, which is the client's memory. Nothing a
// client sends names a file: it only learns the name the server chose. A range that is a shared
// mapping of the program's own memfd is served from that memfd instead (serve-memfd.ts opens
// it), and so are the pages of a model memfd standing for one under IOMMU_IOAS_MAP_FILE.

import { closeSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressSpace } from '../kernel/mm.js';

interface Segment {
  /** User address of the file's first byte. */
  start: bigint;
  len: bigint;
  fd: number;
  /** The file offset of `start`. */
  base: bigint;
  /** The file the client maps (empty: the client's own memfd, already mapped there). */
  path: string;
}

/** Physical pages of a model file that are a file of the client's (serve-memfd.ts). */
interface PhysBacking {
  phys: bigint;
  len: bigint;
  fd: number;
}

export class SharedUserMemory {
  private readonly segments: Segment[] = [];
  private readonly backed: PhysBacking[] = [];
  private next = 0;

  constructor(
    private readonly dir: string,
    private readonly mm: AddressSpace,
  ) {
    const readPhys = mm.readPhys.bind(mm);
    const writePhys = mm.writePhys.bind(mm);
    // The model's physical accesses to shared pages go to the client's memory.
    mm.readPhys = (pa: bigint, len: number): Uint8Array => {
      const b = this.backing(pa, len);
      if (b) {
        // Past the file's end reads zeroes, as the model's own memfd pages do.
        const out = new Uint8Array(len);
        readSync(b.fd, out, 0, len, Number(pa - b.phys));
        return out;
      }
      const at = this.locate(pa, len);
      if (!at) return readPhys(pa, len);
      const out = new Uint8Array(len);
      readSync(at.seg.fd, out, 0, len, Number(at.seg.base + at.off));
      return out;
    };
    mm.writePhys = (pa: bigint, data: Uint8Array): void => {
      const b = this.backing(pa, data.length);
      if (b) {
        writeSync(b.fd, data, 0, data.length, Number(pa - b.phys));
        return;
      }
      const at = this.locate(pa, data.length);
      if (!at) return writePhys(pa, data);
      writeSync(at.seg.fd, data, 0, data.length, Number(at.seg.base + at.off));
    };
  }

  /** A new shared file for [start, start+len) of the client's memory: its path. */
  share(start: bigint, len: bigint): string {
    const path = join(this.dir, `mem-${this.next++}`);
    const fd = openSync(path, 'w+', 0o600);
    ftruncateSync(fd, Number(len));
    this.segments.push({ start, len, fd, base: 0n, path });
    return path;
  }

  /**
   * [start, start+len) of the client's memory is its memfd `fd` from `offset` (a MAP_SHARED
   * mapping of it): the model's accesses go to that file. The server holds `fd` until it ends.
   */
  shareFile(start: bigint, len: bigint, fd: number, offset: bigint): void {
    this.segments.push({ start, len, fd, base: offset, path: '' });
  }

  /**
   * The model's physical [phys, phys+len) becomes the client's file `fd` from offset 0 (a model
   * memfd standing for a memfd of the program's). The server holds `fd` until it ends.
   */
  back(phys: bigint, len: bigint, fd: number): void {
    this.backed.push({ phys, len, fd });
  }

  private backing(pa: bigint, len: number): PhysBacking | undefined {
    if (this.backed.length === 0) return undefined;
    return this.backed.find((b) => pa >= b.phys && pa + BigInt(len) <= b.phys + b.len);
  }

  /** The segment and file offset of [pa, pa+len), when it lies in one shared range. */
  private locate(pa: bigint, len: number): { seg: Segment; off: bigint } | undefined {
    if (this.segments.length === 0) return undefined;
    const vma = this.mm.list().find((v) => pa >= v.phys && pa < v.phys + (v.end - v.start));
    if (!vma) return undefined;
    const va = vma.start + (pa - vma.phys);
    const seg = this.segments.find((s) => va >= s.start && va + BigInt(len) <= s.start + s.len);
    return seg && { seg, off: va - seg.start };
  }

  close(): void {
    for (const s of this.segments) closeSync(s.fd);
    for (const b of this.backed) closeSync(b.fd);
    this.segments.length = 0;
    this.backed.length = 0;
  }
}
