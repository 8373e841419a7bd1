// Small zeroed byte arrays carved from shared slabs.
//
// Every typed array with a backing store of its own costs an allocation outside the V8 heap
// and the bookkeeping of external memory, which together cost more than filling a 4 KiB
// configuration space: booting a machine per scenario file made them the largest item of a
// `check` over many files. Arrays that live as long as the machine that owns them (config
// space planes) are carved instead from a slab shared with the arrays allocated after them;
// a slab is freed when the last array carved from it is. A carved array is a view: its
// `.buffer` is the slab's, so only code that never looks past the view's own bytes (no
// `new DataView(a.buffer)` without `a.byteOffset`) may use one.

const SLAB_BYTES = 64 * 1024;

let slab = new Uint8Array(0);
let used = 0;

/** `n` zero bytes, 8-aligned within their slab (never reused: a slab is only ever carved forward). */
export function zeroedBytes(n: number): Uint8Array {
  if (n > SLAB_BYTES / 4) return new Uint8Array(n);
  if (used + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const a = slab.subarray(used, used + n);
  used += (n + 7) & ~7;
  return a;
}
