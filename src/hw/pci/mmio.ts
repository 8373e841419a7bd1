// Register windows behind a BAR, in the way QEMU's memory API dispatches them
// (softmmu/memory.c: memory_region_access_valid, access_with_adjusted_size).
//
// A region declares the access sizes it accepts (`valid`: an access outside them is a
// decode error) and the sizes its callbacks implement (`impl`): a wider access is split into
// several callback calls, low address first, and a narrower one is widened to `impl.min` at
// the same (possibly unaligned) address and truncated afterwards. That is QEMU 7.2's
// behaviour, FIXME included ("support unaligned access?"), and the device models here are
// QEMU 7.2's, so their answers to odd access sizes follow it.
//
// A decode error reads 0 and drops the write: QEMU's unassigned_mem_read() returns 0 and x86
// TCG ignores the MEMTX_DECODE_ERROR. (On arm64 TCG the same access raises a synchronous
// external abort in the guest, which the model cannot represent; it answers 0 there too.)

export type AccessSize = 1 | 2 | 4 | 8;

export interface MmioOps {
  /**
   * The callback for an implemented access; the result is truncated to `size` bytes.
   * undefined: no region lies at `off` (an empty container, a region without ops), so the
   * access falls through to whatever the bus maps below it (PciPlacement.unassignedMem).
   */
  read(off: bigint, size: AccessSize): bigint | undefined;
  write(off: bigint, size: AccessSize, value: bigint): void;
  /** Accepted access sizes (MemoryRegionOps.valid). Absent: every size is accepted. */
  valid?: { min: AccessSize; max: AccessSize; unaligned?: boolean };
  /** Sizes the callbacks implement (MemoryRegionOps.impl). Defaults: min 1, max 4. */
  impl?: { min?: AccessSize; max?: AccessSize };
}

const sizeMask = (size: number): bigint => (1n << BigInt(size * 8)) - 1n;

/** A region that decodes nothing: reads 0, writes vanish. */
export const UNASSIGNED: MmioOps = {
  read: () => 0n,
  write: () => {},
};

function accessValid(ops: MmioOps, off: bigint, size: AccessSize): boolean {
  const v = ops.valid;
  if (!v) return true;
  if (!v.unaligned && off & BigInt(size - 1)) return false;
  return size >= v.min && size <= v.max;
}

function adjusted(ops: MmioOps, size: AccessSize): AccessSize {
  const min = ops.impl?.min ?? 1;
  const max = ops.impl?.max ?? 4;
  return Math.max(Math.min(size, max), min) as AccessSize;
}

/**
 * memory_region_dispatch_read() for a little-endian region; undefined when no region lies at
 * the access's first byte (the bus answers, see MmioOps.read).
 */
export function mmioRead(ops: MmioOps, off: bigint, size: AccessSize): bigint | undefined {
  if (!accessValid(ops, off, size)) return 0n;
  const a = adjusted(ops, size);
  const m = sizeMask(a);
  let value = 0n;
  for (let i = 0; i < size; i += a) {
    const part = ops.read(off + BigInt(i), a);
    if (part === undefined) {
      if (i === 0) return undefined;
      continue;
    }
    value |= (part & m) << BigInt(i * 8);
  }
  return value & sizeMask(size);
}

/** memory_region_dispatch_write() for a little-endian region. */
export function mmioWrite(ops: MmioOps, off: bigint, size: AccessSize, value: bigint): void {
  if (!accessValid(ops, off, size)) return;
  const a = adjusted(ops, size);
  const m = sizeMask(a);
  for (let i = 0; i < size; i += a) ops.write(off + BigInt(i), a, (value >> BigInt(i * 8)) & m);
}

export interface Subregion {
  off: bigint;
  size: bigint;
  ops: MmioOps;
}

/**
 * A container region (a BAR holding, say, an MSI-X table and its PBA): an access goes to the
 * subregion that contains its first byte, with the address made relative to it; elsewhere the
 * container decodes nothing and the bus answers the read (undefined here).
 */
export function mmioContainer(subregions: readonly Subregion[]): MmioOps {
  const find = (off: bigint): Subregion | undefined => subregions.find((s) => off >= s.off && off < s.off + s.size);
  return {
    read: (off, size) => {
      const s = find(off);
      return s ? mmioRead(s.ops, off - s.off, size) : undefined;
    },
    write: (off, size, value) => {
      const s = find(off);
      if (s) mmioWrite(s.ops, off - s.off, size, value);
    },
    // The container itself passes every size through unchanged.
    impl: { min: 1, max: 8 },
  };
}
