// Random ioctl sequences against the kernel model, with adversarial numbers and random
// buffers. The model answers every call with {ret, errno} (never an exception), and type1's
// bookkeeping keeps its invariants after every call:
// - mappings never overlap;
// - DMA_AVAIL is dma_entry_limit minus the live mappings;
// - what UNMAP reports unmapped adds up with what MAP mapped.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERAS } from '../../src/kernel/era.js';
import { ERRNO } from '../../src/uapi/errno.js';
import { REQUESTS } from '../../src/uapi/requests.js';
import type { Type1 } from '../../src/kernel/vfio/type1.js';
import type { Type1State } from '../../src/kernel/vfio/iommu-driver.js';
import { BIT2, Machine, nr, RW } from '../kernel/fixture.js';
import { budget, TIMEOUT } from './budget.js';

/** Numbers where rules change: zero, one, page edges, aperture ends, 2^32, 2^63, 2^64 - 1. */
const EDGES = [0n, 1n, 0xfffn, 0x1000n, 0x1001n, 0x20_0000n, 0xfee0_0000n, 0x8_0000_0000n, 0xffff_ffffn, 1n << 32n, 1n << 39n, 1n << 48n, 1n << 63n, (1n << 64n) - 0x1000n, (1n << 64n) - 1n];
const u64 = fc.oneof(fc.constantFrom(...EDGES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 64n }).map((p) => p * 0x1000n));
const pages = fc.bigInt({ min: 0n, max: 0x400n }).map((p) => p * 0x1000n);

type Op =
  | { op: 'map'; off: bigint; iova: bigint; size: bigint; flags: bigint }
  | { op: 'unmap'; iova: bigint; size: bigint; flags: bigint }
  | { op: 'info'; argsz: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('map' as const), off: pages, iova: fc.oneof(pages, u64), size: fc.oneof(pages, u64), flags: fc.constantFrom(0n, 1n, 2n, RW, 4n, 7n, 8n, 0xffff_ffffn) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('unmap' as const), iova: fc.oneof(pages, u64), size: fc.oneof(pages, u64), flags: fc.constantFrom(0n, 1n, 2n, 4n, 6n, 8n) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('info' as const), argsz: fc.oneof(fc.constantFrom(0, 16, 20, 24, 512), fc.nat(600)) }) },
);

/** Era and preset pairs that drive type1, each with a device that vfio-pci can take. */
const MACHINES: [string, string, Record<string, string>][] = [
  ['qemu-q35-vtd', '0000:00:02.0', { intremap: 'on' }],
  ['qemu-virt-smmuv3', '0000:00:02.0', { gic: 'v3' }],
  ['amd-overdrive', '0000:01:00.0', {}],
  ['x86-amd-vi', '0000:00:02.0', {}],
];


describe('type1 keeps its invariants under random MAP/UNMAP/GET_INFO', () => {
  for (const era of ERAS.values()) {
    // Every era, on each type1 machine in turn.
    const [preset, bdf, opts] = MACHINES[[...ERAS.values()].indexOf(era) % MACHINES.length]!;
    it(`${era.name} on ${preset}`, { timeout: TIMEOUT }, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
          const m = new Machine(era.name, preset, opts);
          m.kernel.sysfsWrite('/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y');
          const limited = m.kernel.params.has('vfio_iommu_type1.dma_entry_limit');
          if (limited) m.param('dma_entry_limit', '16');
          m.setup(bdf);
          const buf = m.mmap(0x400_0000n);
          const t1 = m.kernel.containers[0]!.iommu as Type1;
          // The reserved-MSI window (rfc eras) is not a user mapping: count only user ones.
          const dmas = () => (t1.state() as Type1State).dmas;
          const userBytes = () => dmas().filter((d) => d.type === 'user').reduce((s, d) => s + d.size, 0n);
          let mapped = 0n;
          for (const o of ops) {
            if (o.op === 'map') {
              const r = m.map_dma_(buf + o.off, o.iova, o.size, o.flags);
              // Bit 2 is a VADDR update (nothing new mapped) or the series' reserved-MSI window
              // (not a user mapping); without either meaning it is refused.
              if (r.errno === 0 && !(o.flags & BIT2)) mapped += o.size;
              expect(r.ret).toBe(r.errno ? -1 : 0);
            } else if (o.op === 'unmap') {
              const r = m.unmap_dma_(o.iova, o.size, o.flags);
              // UNMAP with VADDR only invalidates: its size says what it invalidated.
              if (r.errno === 0 && !(o.flags & BIT2 && era.mapFlagBit2 === 'vaddr')) mapped -= r.size;
            } else {
              expect(m.get_info_(o.argsz).errno).toBe(o.argsz < era.type1InfoMinsz ? ERRNO.EINVAL : 0);
            }
            // Mappings never overlap, and each is non-empty.
            let prevEnd = -1n;
            for (const d of dmas()) {
              expect(d.size > 0n).toBe(true);
              expect(d.iova >= prevEnd).toBe(true);
              prevEnd = d.iova + d.size;
            }
            // What was mapped minus what UNMAP reported is what is live.
            expect(userBytes()).toBe(mapped);
            // DMA_AVAIL is the limit minus the live mappings.
            if (era.type1InfoCaps.includes('dma-avail')) expect(m.dmaAvail()).toBe(16 - dmas().length);
          }
        }),
        budget(40),
      );
    });
  }
});

/** Every errno the model may answer. */
const ERRNOS = new Set<number>(Object.values(ERRNO));

describe('random requests with random buffers', () => {
  // Whatever the buffer, a request answers {ret, errno}: ret -1 with a known errno, or success.
  it('every fd kind, every request number', { timeout: TIMEOUT }, () => {
    const nrs = [...new Set(REQUESTS.map((r) => r.nr))];
    fc.assert(
      fc.property(
        fc.constantFrom(...ERAS.keys()),
        fc.array(
          fc.record({
            fd: fc.constantFrom('container', 'group', 'device'),
            nr: fc.oneof(fc.constantFrom(...nrs), fc.integer({ min: 0x3b00, max: 0x3bff })),
            bytes: fc.uint8Array({ maxLength: 300 }),
            pointer: fc.boolean(),
            value: u64,
          }),
          { maxLength: 40 },
        ),
        (eraName, calls) => {
          const m = new Machine(eraName, 'qemu-q35-vtd', { intremap: 'on' });
          m.setup('0000:00:02.0');
          const dev = m.kernel.ioctl(m.proc, m.group, nr('VFIO_GROUP_GET_DEVICE_FD'), { value: 1n, buf: new TextEncoder().encode('0000:00:02.0\0') });
          const fds = new Map([['container', m.container], ['group', m.group], ['device', Number(dev.ret)]]);
          for (const c of calls) {
            const buf = c.bytes.slice();
            const r = m.kernel.ioctl(m.proc, fds.get(c.fd)!, c.nr, c.pointer ? { value: 1n, buf } : { value: c.value });
            expect(buf.length).toBe(c.bytes.length);
            if (r.errno !== 0) {
              expect(r.ret).toBe(-1);
              expect(ERRNOS.has(r.errno)).toBe(true);
            } else expect(Number(r.ret) >= 0).toBe(true);
          }
        },
      ),
      budget(60),
    );
  });
});
