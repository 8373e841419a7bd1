// Bit helpers on u64 values held as bigint, named after the kernel's (include/linux/bitops.h,
// log2.h), so a rule reads as its source does.

/**
 * __ffs(): index of the lowest set bit. The kernel leaves __ffs(0) undefined; here it is 64,
 * what tzcnt and arm64's rbit+clz answer, so a shift by it empties a u64.
 */
export function ffs(v: bigint): number {
  if (v === 0n) return 64;
  let i = 0;
  while ((v & 1n) === 0n) {
    v >>= 1n;
    i++;
  }
  return i;
}

/** ilog2(): index of the highest set bit (-1 for 0, which the kernel leaves undefined). */
export const ilog2 = (v: bigint): number => (v === 0n ? -1 : v.toString(2).length - 1);

/** is_power_of_2(): exactly one bit set. */
export const isPow2 = (v: bigint): boolean => v > 0n && (v & (v - 1n)) === 0n;

/** The largest u64 (U64_MAX in include/linux/limits.h). */
export const U64_MAX = (1n << 64n) - 1n;
