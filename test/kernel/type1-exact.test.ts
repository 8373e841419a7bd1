// type1 MAP_DMA/UNMAP_DMA carry their values as exact numbers when everything stays below
// 2^53 and fall back to bigints otherwise (vfio_dma_do_map/vfio_dma_do_unmap in
// drivers/vfio/vfio_iommu_type1.c are u64 throughout). The two paths must give the same
// errno, the same bytes back in the user's struct and the same mappings, for any input:
// random sequences, mixed with the boundaries (2^53 and around it, the top page below 2^64,
// size 0, all ones, unaligned), on eras with each wrap rule and on type1 and type1v2.

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { setType1ExactPaths } from '../../src/kernel/vfio/type1.js';
import { Machine, hex } from './fixture.js';

const K = 0x1000n;
const P53 = 1n << 53n;
const U64 = (1n << 64n) - 1n;

/** IOVAs: low pages, both sides of 2^53, the top of the 64-bit space, unaligned ones. */
// (Weighted to low pages so that UNMAPs meet the mappings made before them.)
const iovaArb = fc.oneof(
  { arbitrary: fc.bigInt(0n, 7n).map((i) => 0x1_0000_0000n + i * K), weight: 6 },
  fc.constantFrom(0n, P53 - 2n * K, P53 - K, P53, P53 + K, U64 - K + 1n, U64 - 2n * K + 1n, 1n << 63n, 0x800n, U64),
  fc.bigInt(0n, U64),
);
/** Sizes: pages, 0, all ones, what reaches 2^53 or 2^64 from a boundary IOVA, unaligned. */
const sizeArb = fc.oneof(
  { arbitrary: fc.bigInt(1n, 3n).map((n) => n * K), weight: 6 },
  fc.constantFrom(0n, K, U64, U64 - K + 1n, P53, P53 - K, 1n << 63n, 0x800n, 0x1_0000_0000n + 0x11000n),
  fc.bigInt(0n, U64),
);
type Op =
  | { kind: 'map'; page: bigint; iova: bigint; size: bigint; flags: bigint; vaddr?: bigint }
  | { kind: 'unmap'; iova: bigint; size: bigint; flags: bigint };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('map' as const),
    page: fc.bigInt(0n, 15n),
    iova: iovaArb,
    size: sizeArb,
    flags: fc.constantFrom(3n, 3n, 1n, 2n, 0n, 4n),
    // A vaddr of its own (not in the process's mapping): near 2^53 or 2^64, or unaligned.
    vaddr: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 5 },
      { arbitrary: fc.constantFrom(P53 - K, P53, U64 - K + 1n, 0x800n), weight: 1 },
    ),
  }),
  fc.record({ kind: fc.constant('unmap' as const), iova: iovaArb, size: sizeArb, flags: fc.constantFrom(0n, 0n, 0n, 2n, 4n) }),
);

/** Every answer of `ops` on a fresh container, with the mappings left at the end. */
function replay(era: string, type: number, ops: Op[], exact: boolean): string[] {
  setType1ExactPaths(exact);
  const m = new Machine(era, 'qemu-virt-smmuv3');
  m.setup('0000:00:01.0', type);
  const ram = m.mmap(16n * K);
  const out: string[] = [];
  for (const op of ops) {
    if (op.kind === 'map') {
      const r = m.map_dma_(op.vaddr ?? ram + op.page * K, op.iova, op.size, op.flags);
      out.push(`map ${r.errno} ${hex(r.buf)}`);
    } else {
      const r = m.unmap_dma_(op.iova, op.size, op.flags);
      out.push(`unmap ${r.errno} ${hex(r.buf)}`);
    }
  }
  out.push(`info ${hex(m.get_info_(512).buf)}`);
  const c = m.kernel.containers.find((x) => x.alive)!;
  out.push(JSON.stringify(c.iommu!.state(), (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
  return out;
}

describe('type1 MAP/UNMAP: the number path answers as the bigint path', () => {
  afterEach(() => setType1ExactPaths(true));

  // One era per wrap rule: 4.14 (none), 4.16 (strict), 5.0+ (minus1), 6.18 (eoverflow).
  for (const era of ['4.14', '4.16', '6.12', '6.18']) {
    for (const type of [1, 3]) {
      it(`${era} type${type === 3 ? '1v2' : '1'}: random and boundary sequences`, () => {
        fc.assert(
          fc.property(fc.array(opArb, { maxLength: 24 }), (ops) => {
            expect(replay(era, type, ops, true)).toEqual(replay(era, type, ops, false));
          }),
          { numRuns: 120 },
        );
      });
    }
  }

  // The usual MAP then UNMAP, where the number path does the work, next to IOVAs outside the
  // SMMU's IOVA list (2^53 - 4K and 2^53: -EINVAL on both paths): same bytes and state.
  it('4K maps and their unmaps, and maps refused at 2^53 - 4K and 2^53', () => {
    const ops: Op[] = [
      { kind: 'map', page: 0n, iova: 0x1_0000_0000n, size: K, flags: 3n },
      { kind: 'map', page: 1n, iova: 0x1_0000_2000n, size: 2n * K, flags: 1n },
      { kind: 'map', page: 3n, iova: P53 - K, size: K, flags: 3n },
      { kind: 'map', page: 4n, iova: P53, size: K, flags: 3n },
      { kind: 'unmap', iova: 0x1_0000_0000n, size: K, flags: 0n },
      { kind: 'unmap', iova: 0x1_0000_2000n, size: K, flags: 0n },
      { kind: 'unmap', iova: 0n, size: U64 - K + 1n, flags: 0n },
    ];
    const exact = replay('6.12', 3, ops, true);
    expect(exact).toEqual(replay('6.12', 3, ops, false));
    expect(exact.slice(0, 7).map((l) => l.split(' ')[1])).toEqual(['0', '0', '22', '22', '0', '22', '0']);
    // The whole-space UNMAP reports the 8K mapping it removed.
    expect(exact[6]).toBe(`unmap 0 ${'18000000' + '00000000' + '0000000000000000' + '0020000000000000'}`);
  });
});
