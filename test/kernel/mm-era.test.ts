// The process address space (what GUP answers) and the era table.

import { describe, expect, it } from 'vitest';
import { DEFAULT_ERA, ERAS, resolveEra } from '../../src/kernel/era.js';
import { EFAULT, EINVAL, ENOMEM } from '../../src/uapi/errno.js';
import { AddressSpace } from '../../src/kernel/mm.js';

const RW = { read: true, write: true };
const RO = { read: true, write: false };
const NONE = { read: false, write: false };

function mm(): AddressSpace {
  return new AddressSpace({ pageSize: 0x1000n, taskSize: 0x7fff_ffff_f000n, mmapBase: 0x7f00_0000_0000n, minAddr: 0x10000n });
}

describe('address space', () => {
  // mmap places top-down below mmap_base, page-rounds, honours a free hint.
  it('placement', () => {
    const a = mm();
    expect(a.mmap(1n, RW)).toBe(0x7eff_ffff_f000n);
    expect(a.mmap(0x2000n, RW)).toBe(0x7eff_ffff_d000n);
    expect(a.mmap(0x1000n, RW, 0x5000_0000n)).toBe(0x5000_0000n);
    expect(a.mmap(0n, RW)).toBe(BigInt(-EINVAL));
  });

  // Sparse: a terabyte costs one VMA.
  it('mmap 1T', () => {
    const a = mm();
    const base = a.mmap(1n << 40n, RW);
    expect(base > 0n).toBe(true);
    expect(a.list().length).toBe(1);
    expect(a.pin(base + (1n << 39n), 0x1000n, true)).toBe(0);
  });

  // mprotect splits a VMA in place: 8,000 splits of one mapping (the hostile-input campaign's
  // quadratic case) leave 16,000 VMAs in address order, each with its own protection.
  it('mprotect splits', () => {
    const a = mm();
    const b = a.mmap(0x1000_0000n, RW);
    for (let i = 0n; i < 8000n; i++) expect(a.mprotect(b + i * 0x2000n, 0x1000n, RO)).toBe(0);
    const l = a.list();
    expect(l.length).toBe(16000);
    expect(l.slice(0, 4).map((v) => [v.start - b, v.end - b, v.write])).toEqual([
      [0n, 0x1000n, false],
      [0x1000n, 0x2000n, true],
      [0x2000n, 0x3000n, false],
      [0x3000n, 0x4000n, true],
    ]);
    expect(l.at(-1)!.start - b).toBe(0x3e7f000n);
    expect(l.at(-1)!.end - b).toBe(0x1000_0000n);
    expect(a.pin(b + 0x3e7e000n, 0x1000n, true)).toBe(-EFAULT);
    expect(a.pin(b + 0x3e7f000n, 0x1000n, true)).toBe(0);
    // The split pieces keep their physical offsets: a write through one lands where a read of
    // the whole range finds it.
    expect(a.copyToUser(b + 0x1000n, new Uint8Array([0xaa]))).toBe(0);
    expect((a.copyFromUser(b, 0x2000) as Uint8Array)[0x1000]).toBe(0xaa);
  });

  // mmap's top-down search steps over a mapping that straddles mmap_base and fills gaps.
  it('top-down placement around holes', () => {
    const a = mm();
    expect(a.mmap(0x1000n, RW, 0x7eff_ffff_f000n + 0x1000n - 0x2000n)).toBe(0x7eff_ffff_e000n);
    expect(a.mmap(0x1000n, RW)).toBe(0x7eff_ffff_f000n);
    expect(a.mmap(0x2000n, RW)).toBe(0x7eff_ffff_c000n);
    expect(a.munmap(0x7eff_ffff_e000n, 0x1000n)).toBe(0);
    expect(a.mmap(0x1000n, RW)).toBe(0x7eff_ffff_e000n);
    expect(a.mmap(0x1000n, RW, 0x7f00_0000_0000n - 0x800n)).toBe(0x7eff_ffff_b000n);
  });

  // GUP: holes, PROT_NONE, beyond TASK_SIZE are EFAULT; a read-only page only for reading.
  it('pin', () => {
    const a = mm();
    const b = a.mmap(0x10000n, RW);
    expect(a.munmap(b + 0x2000n, 0x1000n)).toBe(0);
    expect(a.mprotect(b + 0x4000n, 0x1000n, RO)).toBe(0);
    expect(a.mprotect(b + 0x6000n, 0x1000n, NONE)).toBe(0);
    expect(a.pin(b, 0x2000n, true)).toBe(0);
    expect(a.pin(b + 0x1000n, 0x2000n, false)).toBe(-EFAULT);
    expect(a.pin(b + 0x4000n, 0x1000n, true)).toBe(-EFAULT);
    expect(a.pin(b + 0x4000n, 0x1000n, false)).toBe(0);
    expect(a.pin(b + 0x6000n, 0x1000n, false)).toBe(-EFAULT);
    expect(a.pin(0xffff_ffff_8100_0000n, 0x1000n, false)).toBe(-EFAULT);
    expect(a.pin(0n, 0x1000n, false)).toBe(-EFAULT);
  });

  // mprotect over a hole is ENOMEM; munmap of a misaligned address is EINVAL.
  it('mprotect and munmap errors', () => {
    const a = mm();
    const b = a.mmap(0x3000n, RW);
    a.munmap(b + 0x1000n, 0x1000n);
    expect(a.mprotect(b, 0x3000n, RO)).toBe(-ENOMEM);
    expect(a.munmap(b + 1n, 0x1000n)).toBe(-EINVAL);
  });

  // Memory written through the physical side reads back through it.
  it('sparse memory', () => {
    const a = mm();
    const b = a.mmap(0x10000n, RW);
    const pa = a.physOf(b + 0xffen)!;
    a.writePhys(pa, Uint8Array.of(1, 2, 3, 4));
    expect([...a.readPhys(pa, 4)]).toEqual([1, 2, 3, 4]);
    expect([...a.readPhys(a.physOf(b + 0x1000n)!, 2)]).toEqual([3, 4]);
  });
});

describe('eras', () => {
  // A version maps to the newest modelled era not after it; series names are exact.
  it('resolution', () => {
    expect(resolveEra('6.1.0-56-amd64')?.name).toBe('6.1');
    expect(resolveEra('6.12.95')?.name).toBe('6.12');
    expect(resolveEra('6.2')?.name).toBe('6.1');
    expect(resolveEra('7.0')?.name).toBe('6.19');
    expect(resolveEra('7.2.13+deb14-amd64')?.name).toBe('7.2');
    expect(resolveEra('7.3')?.name).toBe('7.2');
    expect(resolveEra('4.9')).toBeUndefined();
    expect(resolveEra('rfc-v14')?.name).toBe('rfc-v14');
    expect(resolveEra('banana')).toBeUndefined();
    expect(resolveEra(DEFAULT_ERA)?.name).toBe('7.2');
  });

  // The switches the seed posts turn on: bit 2 of DMA_MAP, the safety rule, the caps.
  it('switches', () => {
    const e = (n: string) => ERAS.get(n)!;
    expect([e('4.10'), e('rfc-v10'), e('6.1')].map((x) => x.mapFlagBit2)).toEqual(['none', 'reserved-msi', 'vaddr']);
    expect([e('4.10'), e('rfc-v10'), e('rfc-v14'), e('4.11'), e('6.3')].map((x) => x.safety)).toEqual([
      'intr-remap-cap',
      'doorbell-coarse',
      'doorbell-msi-resv',
      'msi-remap-global',
      'isolated-msi-group',
    ]);
    expect(e('6.1').type1InfoCaps).toEqual(['migration', 'dma-avail', 'iova-range']);
    expect([e('6.1').capAlign8, e('6.12').capAlign8]).toEqual([false, true]);
  });
});
