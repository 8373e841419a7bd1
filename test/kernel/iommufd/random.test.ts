// Random command sequences on /dev/iommu and on an iommufd-served /dev/vfio/vfio, with random
// structs (a plausible size first, adversarial numbers in the fields, pointers into user memory
// or not): every call answers {ret, errno} with a known errno and never throws, and closing
// the file afterwards releases what it can.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../../src/uapi/errno.js';
import { IOMMUFD_CMDS, iommufdIO } from '../../../src/uapi/iommufd.js';
import { requestNr } from '../../../src/uapi/requests.js';
import { Iommufd } from './fixture.js';

const ERRNOS = new Set<number>(Object.values(ERRNO));
const EDGES = [0n, 1n, 2n, 3n, 0x1000n, 0xfee0_0000n, 0x800_0000n, 1n << 39n, (1n << 64n) - 1n, (1n << 64n) - 0x1000n];
const u64 = fc.oneof(fc.constantFrom(...EDGES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const VFIO = ['VFIO_GET_API_VERSION', 'VFIO_CHECK_EXTENSION', 'VFIO_SET_IOMMU', 'VFIO_IOMMU_GET_INFO', 'VFIO_IOMMU_MAP_DMA', 'VFIO_IOMMU_UNMAP_DMA'].map(requestNr);

const call = fc.record({
  nr: fc.oneof(fc.constantFrom(...IOMMUFD_CMDS.map(iommufdIO), ...VFIO), fc.integer({ min: 0x3b00, max: 0x3bff })),
  size: fc.oneof(fc.constantFrom(0, 8, 12, 16, 24, 32, 40, 48, 64), fc.nat(80)),
  /** u64 words of the struct after its size, some of them small ids, some user pointers. */
  words: fc.array(fc.oneof(u64, fc.nat(6).map(BigInt), fc.constant(-1n)), { maxLength: 10 }),
  compat: fc.boolean(),
  value: u64,
});

describe('random iommufd calls', () => {
  it('answer with known errnos and never throw', () => {
    fc.assert(
      fc.property(fc.array(call, { maxLength: 40 }), (calls) => {
        const t = new Iommufd('sw-msi-v2', 'qemu-virt-smmuv3', { gic: 'v3' }, 'iommufd-compat');
        const compat = t.open('/dev/vfio/vfio');
        const mem = t.mmap(0x10_0000n);
        const ioas = t.ioas_alloc();
        const dev = t.bind('0000:00:01.0');
        expect(dev.attach(ioas).ret).toBe(0);
        t.kernel.iommufd!.compatIoasCreate(t.kernel.iommufd!.ctxFromFile(t.proc.file(compat)!) as never);
        for (const c of calls) {
          const buf = new Uint8Array(Math.max(c.size, 4 + c.words.length * 8));
          const dv = new DataView(buf.buffer);
          dv.setUint32(0, c.size, true);
          // -1 stands for a pointer to the process's user memory.
          c.words.forEach((w, i) => dv.setBigUint64(4 + i * 8, w === -1n ? mem : w, true));
          const r = t.kernel.ioctl(t.proc, c.compat ? compat : t.fd, c.nr, c.value === 0n ? { value: c.value } : { value: 1n, buf });
          if (r.errno !== 0) {
            expect(r.ret).toBe(-1);
            expect(ERRNOS.has(r.errno)).toBe(true);
          } else expect(Number(r.ret) >= 0).toBe(true);
        }
        dev.unbind();
        expect(t.kernel.close(t.proc, t.fd).errno).toBe(0);
        expect(t.kernel.close(t.proc, compat).errno).toBe(0);
        expect(t.kernel.devices.get('0000:00:01.0')!.group.domain).toBe(undefined);
      }),
      { numRuns: 150 },
    );
  });
});
