// IOAS_MAP (FIXED_IOVA), IOAS_UNMAP and IOAS_COPY against a reference of plain area lists,
// with a device attached so every step is also checked in the VT-d domain's page table. The
// reference states io_pagetable.c's rules directly: a map over any mapped IOVA is -EEXIST;
// an unmap walks the areas meeting the range in IOVA order, removing each one inside it and
// stopping at the first that reaches outside (-ENOENT, what went before is gone); nothing
// met is -ENOENT; a copy needs the source range covered by contiguous areas.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EEXIST, ENOENT, errnoName } from '../../../src/uapi/errno.js';
import { FIXED, Iommufd, PAGE, RW } from './fixture.js';

interface Area {
  iova: bigint;
  /** Exclusive. */
  end: bigint;
  /** Physical address of the first byte. */
  pa: bigint;
}

const BASE = 0x10_0000n;

type Op =
  | { kind: 'map'; ioas: 0 | 1; at: number; pages: number; from: number }
  | { kind: 'unmap'; ioas: 0 | 1; at: number; pages: number }
  | { kind: 'copy'; to: 0 | 1; at: number; pages: number; dst: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), ioas: fc.constantFrom(0 as const, 1 as const), at: fc.nat(31), pages: fc.integer({ min: 1, max: 4 }), from: fc.nat(12) }),
  fc.record({ kind: fc.constant('unmap' as const), ioas: fc.constantFrom(0 as const, 1 as const), at: fc.nat(31), pages: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('copy' as const), to: fc.constantFrom(0 as const, 1 as const), at: fc.nat(31), pages: fc.integer({ min: 1, max: 4 }), dst: fc.nat(31) }),
);

const meets = (a: Area, s: bigint, e: bigint): boolean => a.iova < e && s < a.end;

describe('IOAS map/unmap/copy against a reference', () => {
  it('errnos, unmapped lengths and the domain agree', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const t = new Iommufd();
        const ids = [t.ioas_alloc(), t.ioas_alloc()];
        const buf = t.mmap(16n * PAGE);
        const pa0 = t.proc.mm.physOf(buf)!;
        // IOAS 0 has the device: its domain mirrors it.
        const dev = t.bind('0000:00:01.0');
        expect(dev.attach(ids[0]).ret).toBe(0);
        const domain = t.kernel.devices.get('0000:00:01.0')!.group.domain!;
        const ref: Area[][] = [[], []];
        for (const o of ops) {
          if (o.kind === 'map') {
            const s = BASE + BigInt(o.at) * PAGE;
            const e = s + BigInt(o.pages) * PAGE;
            const want = ref[o.ioas].some((a) => meets(a, s, e)) ? EEXIST : 0;
            const got = t.map_(ids[o.ioas], buf + BigInt(o.from) * PAGE, e - s, s, RW | FIXED).errno;
            expect(errnoName(got)).toBe(errnoName(want));
            if (!want) ref[o.ioas].push({ iova: s, end: e, pa: pa0 + BigInt(o.from) * PAGE });
          } else if (o.kind === 'unmap') {
            const s = BASE + BigInt(o.at) * PAGE;
            const e = s + BigInt(o.pages) * PAGE;
            const list = ref[o.ioas].filter((a) => meets(a, s, e)).sort((a, b) => (a.iova < b.iova ? -1 : 1));
            let gone = 0n;
            let want = 0;
            for (const a of list) {
              if (a.iova < s || a.end > e) {
                want = ENOENT;
                break;
              }
              ref[o.ioas].splice(ref[o.ioas].indexOf(a), 1);
              gone += a.end - a.iova;
            }
            if (!gone) want = ENOENT;
            const r = t.unmap_(ids[o.ioas], s, e - s);
            expect(errnoName(r.errno)).toBe(errnoName(want));
            if (!want) expect(r.k.get('length')).toBe(gone);
          } else {
            const from = o.to === 0 ? 1 : 0;
            const s = BASE + BigInt(o.at) * PAGE;
            const e = s + BigInt(o.pages) * PAGE;
            const d = BASE + BigInt(o.dst) * PAGE;
            // Covered contiguously from s to e?
            const pieces: Area[] = [];
            let cur = s;
            while (cur < e) {
              const a = ref[from].find((x) => x.iova <= cur && cur < x.end);
              if (!a) break;
              const end = a.end < e ? a.end : e;
              pieces.push({ iova: d + (cur - s), end: d + (end - s), pa: a.pa + (cur - a.iova) });
              cur = end;
            }
            let want = cur < e ? ENOENT : 0;
            if (!want && ref[o.to].some((a) => meets(a, d, d + (e - s)))) want = EEXIST;
            const r = t.copy_(ids[o.to], ids[from], s, e - s, d, RW | FIXED);
            expect(errnoName(r.errno)).toBe(errnoName(want));
            if (!want) ref[o.to].push(...pieces);
          }
          // The domain translates exactly what IOAS 0 maps.
          for (let p = 0n; p < 48n; p++) {
            const iova = BASE + p * PAGE;
            const a = ref[0].find((x) => x.iova <= iova && iova < x.end);
            expect(domain.hw.translate(iova)?.pa).toBe(a ? a.pa + (iova - a.iova) : undefined);
          }
        }
        const total = (r: Area[]) => r.reduce((n, a) => n + (a.end - a.iova), 0n);
        expect(t.unmap(ids[0], 0n, (1n << 64n) - 1n)).toBe(total(ref[0]));
        expect(t.unmap(ids[1], 0n, (1n << 64n) - 1n)).toBe(total(ref[1]));
      }),
      { numRuns: 60 },
    );
  });
});
