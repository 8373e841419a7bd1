// vfio_iommu_spapr_tce on a PowerNV PHB3: one stanza per kernel rule, each under a comment
// naming the function it models (drivers/vfio/vfio_iommu_spapr_tce.c, arch/powerpc/kernel/
// iommu.c, arch/powerpc/mm/book3s64/iommu_api.c, arch/powerpc/platforms/powernv/).

import { describe, expect, it } from 'vitest';
import { EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, ENOMEM, ENOSPC, ENOTTY, ENXIO, EPERM } from '../../src/uapi/errno.js';
import { errnoName } from '../../src/uapi/errno.js';
import { translate } from '../../src/kernel/iommu/dma-path.js';
import { registeredMemory, SpaprTce, tceAttachAllowed } from '../../src/kernel/vfio/spapr-tce.js';
import { IodaPhb } from '../../src/hw/iommu/ioda-phb.js';
import { PhbMsi } from '../../src/hw/msi/phb-msi.js';
import { KStruct } from '../../src/uapi/struct.js';
import {
  VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
  VFIO_IOMMU_SPAPR_TCE_CREATE,
  VFIO_IOMMU_SPAPR_TCE_INFO,
  VFIO_IOMMU_SPAPR_TCE_REMOVE,
  VFIO_IOMMU_TYPE1_DMA_UNMAP,
} from '../../src/uapi/structs.js';
import { Machine, READ, RW, WRITE, hex, nr, poisoned, type Out } from './fixture.js';

const K = 0x400n;
const M = 0x100000n;
const G = 0x4000_0000n;
const X540 = '0001:01:00.0';
const SPAPR_TCE = 2;
const SPAPR_TCE_V2 = 7;
const DDW_BASE = 1n << 59n;

function powernv(era = '6.12'): Machine {
  const m = new Machine(era, 'powernv');
  m.group_open(X540);
  m.set_iommu(SPAPR_TCE_V2);
  return m;
}

const ok = (o: Out): void => {
  expect(errnoName(o.errno)).toBe(errnoName(0));
  expect(o.ret).toBe(0);
};
/** A failed spapr ioctl returns the errno and copies nothing back: the buffer is as sent. */
const fails = (o: Out & { sent?: string }, errno: number): void => {
  expect(errnoName(o.errno)).toBe(errnoName(errno));
  if (o.sent !== undefined) expect(hex(o.buf)).toBe(o.sent);
};
/** An ioctl on the container, remembering the bytes sent. */
function call(m: Machine, request: string, b: Uint8Array): Out & { sent: string } {
  const sent = hex(b);
  return { ...m.ioctl_(m.container, request, b), sent };
}

// ---- helper triples ---------------------------------------------------------------------------

function reg_(m: Machine, vaddr: bigint, size: bigint, extra: { flags?: bigint; argsz?: number } = {}): Out {
  const b = poisoned(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, { argsz: extra.argsz ?? 24, flags: extra.flags ?? 0n, vaddr, size });
  return call(m, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', b);
}
const reg = (m: Machine, vaddr: bigint, size: bigint): void => ok(reg_(m, vaddr, size));
const reg_err = (m: Machine, errno: number, vaddr: bigint, size: bigint, extra = {}): void => fails(reg_(m, vaddr, size, extra), errno);

function unreg_(m: Machine, vaddr: bigint, size: bigint, extra: { flags?: bigint; argsz?: number } = {}): Out {
  const b = poisoned(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, { argsz: extra.argsz ?? 24, flags: extra.flags ?? 0n, vaddr, size });
  return call(m, 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', b);
}
const unreg = (m: Machine, vaddr: bigint, size: bigint): void => ok(unreg_(m, vaddr, size));
const unreg_err = (m: Machine, errno: number, vaddr: bigint, size: bigint, extra = {}): void => fails(unreg_(m, vaddr, size, extra), errno);

function info_(m: Machine, argsz: number, len = Math.max(argsz, 32)): Out {
  return call(m, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', poisoned(VFIO_IOMMU_SPAPR_TCE_INFO, { argsz }, len));
}

function create_(m: Machine, pageShift: number, windowSize: bigint, levels: number, extra: { flags?: bigint; argsz?: number } = {}): Out & { start: bigint } {
  const b = poisoned(VFIO_IOMMU_SPAPR_TCE_CREATE, {
    argsz: extra.argsz ?? 40,
    flags: extra.flags ?? 0n,
    page_shift: pageShift,
    window_size: windowSize,
    levels,
  });
  const o = call(m, 'VFIO_IOMMU_SPAPR_TCE_CREATE', b);
  return { ...o, start: KStruct.fromUser(VFIO_IOMMU_SPAPR_TCE_CREATE, o.buf, 40)!.get('start_addr') };
}
function create(m: Machine, pageShift: number, windowSize: bigint, levels: number): bigint {
  const o = create_(m, pageShift, windowSize, levels);
  ok(o);
  return o.start;
}
const create_err = (m: Machine, errno: number, pageShift: number, windowSize: bigint, levels: number, extra = {}): void =>
  fails(create_(m, pageShift, windowSize, levels, extra), errno);

function remove_(m: Machine, start: bigint, extra: { flags?: bigint; argsz?: number } = {}): Out {
  const b = poisoned(VFIO_IOMMU_SPAPR_TCE_REMOVE, { argsz: extra.argsz ?? 16, flags: extra.flags ?? 0n, start_addr: start });
  return call(m, 'VFIO_IOMMU_SPAPR_TCE_REMOVE', b);
}
const remove = (m: Machine, start: bigint): void => ok(remove_(m, start));
const remove_err = (m: Machine, errno: number, start: bigint, extra = {}): void => fails(remove_(m, start, extra), errno);

/** A 16 MiB buffer, registered. */
function ram(m: Machine, size = 16n * M): bigint {
  const buf = m.mmap(size);
  reg(m, buf, size);
  return buf;
}

/** The device's DMA through its PE's TVEs. */
function dma(m: Machine, iova: bigint, write: boolean): { ok: boolean; pa?: bigint; text?: string } {
  const t = translate(m.kernel.devices.get(X540)!, iova, 4n, write);
  return t.ok ? { ok: true, pa: t.pa } : { ok: false, text: t.fault.text };
}

const spapr = (m: Machine): SpaprTce => m.kernel.containers[0].iommu as SpaprTce;

// ---- CHECK_EXTENSION ---------------------------------------------------------------------------

describe('CHECK_EXTENSION', () => {
  // tce_iommu_ioctl(VFIO_CHECK_EXTENSION): both sPAPR types; VFIO_EEH through
  // vfio_spapr_iommu_eeh_ioctl() = eeh_enabled(); type1 is not built on PowerNV.
  it('sPAPR types and EEH, no type1, before and after SET_IOMMU', () => {
    const m = new Machine('6.12', 'powernv');
    m.group_open(X540);
    const exts = (): number[] => [1, 2, 3, 4, 5, 6, 7, 8].map((e) => m.check_extension(e));
    expect(exts()).toEqual([0, 1, 0, 0, 1, 0, 1, 0]);
    m.set_iommu(SPAPR_TCE_V2);
    expect(exts()).toEqual([0, 1, 0, 0, 1, 0, 1, 0]);
  });
});

// ---- SET_IOMMU / attach ----------------------------------------------------------------------

describe('SET_IOMMU and tce_iommu_attach_group()', () => {
  // vfio_ioctl_set_iommu(): no registered driver claims TYPE1v2 → -ENODEV.
  it('TYPE1v2 is -ENODEV', () => {
    const m = new Machine('6.12', 'powernv');
    m.group_open(X540);
    m.set_iommu_err(ENODEV, 3);
    m.set_iommu(SPAPR_TCE_V2);
  });

  // tce_iommu_attach_group(): an IODA2 table group has take/release_ownership, so a v1
  // container may not own it: -EPERM, silently; v2 then succeeds on the same container.
  it('v1 on IODA2 is -EPERM, v2 works', () => {
    const m = new Machine('6.12', 'powernv');
    m.group_open(X540);
    m.set_iommu_err(EPERM, SPAPR_TCE);
    expect(m.dmesg()).toEqual([]);
    m.set_iommu(SPAPR_TCE_V2);
  });

  // The same ownership rule, as the facts a v1 and a v2 SET_IOMMU would be decided on.
  it('ownership rule over the attach facts', () => {
    const m = new Machine('6.12', 'powernv');
    m.group_open(X540);
    const group = m.kernel.vfioGroups.get(0)!.iommuGroup;
    const driver = m.kernel.vfioDrivers[0];
    const judged = (type: number) => {
      const f = driver.attachFacts(group, BigInt(type));
      return f.kind === 'spapr-tce' ? [f.tableGroup, f.v2, tceAttachAllowed(f)] : f.kind;
    };
    expect(judged(SPAPR_TCE)).toEqual([true, false, false]);
    expect(judged(SPAPR_TCE_V2)).toEqual([true, true, true]);
  });

  // No interrupt-safety check in this driver: the attach succeeds in every era, including
  // 4.10 whose type1 rule (IOMMU_CAP_INTR_REMAP) the PHB would fail, with no parameter set.
  it('no INTR_REMAP check in any era', () => {
    for (const era of ['4.10', '4.11', '5.4', '6.1', '6.12']) {
      const m = new Machine(era, 'powernv');
      m.group_open(X540);
      m.set_iommu(SPAPR_TCE_V2);
      expect(m.dmesg().filter((l) => /interrupt/i.test(l))).toEqual([]);
    }
  });

  // The PHB never reports IOMMU_CAP_INTR_REMAP (seed 003's refused patch); no reserved regions.
  it('PHB capabilities and reserved regions', () => {
    const m = new Machine('6.12', 'powernv');
    const phb = m.kernel.platform.iommus[0] as IodaPhb;
    expect(phb.capable('intr-remap')).toBe(false);
    expect(phb.capable('cache-coherency')).toBe(true);
    expect(phb.msiTranslated).toBe(false);
    expect(m.kernel.sysfsRead('/sys/kernel/iommu_groups/0/reserved_regions')).toBe('');
    expect(m.kernel.sysfsRead('/sys/kernel/iommu_groups/0/type')).toBe('unknown\n');
  });
});

// ---- GET_INFO --------------------------------------------------------------------------------

describe('SPAPR_TCE_GET_INFO', () => {
  // minsz = offsetofend(dma32_window_size) = 16; ddw copied only when argsz >= 32. DMA32 is
  // tce32_start 0, tce32_size = m32_pci_base 2 GiB; DDW: PHB3 page sizes, 2 windows, 5 levels.
  it('argsz 32: the whole struct', () => {
    const m = powernv();
    const o = info_(m, 32);
    ok(o);
    expect(hex(o.buf)).toBe('20000000' + '01000000' + '00000000' + '00000080' + '0010011100000000' + '02000000' + '05000000');
  });

  // argsz 16..31: only the first 16 bytes are written back; the ddw bytes keep the user's.
  it('argsz 16..31: ddw untouched', () => {
    const m = powernv();
    for (const argsz of [16, 24, 31]) {
      const o = info_(m, argsz);
      ok(o);
      const head = argsz.toString(16).padStart(2, '0') + '000000';
      expect(hex(o.buf)).toBe(head + '01000000' + '00000000' + '00000080' + 'aa'.repeat(16));
    }
  });

  // argsz below 16 is -EINVAL; a buffer too short to copy 16 bytes is -EFAULT.
  it('argsz and EFAULT', () => {
    const m = powernv();
    fails(info_(m, 15), EINVAL);
    fails(m.ioctl_(m.container, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', new Uint8Array(12)), EFAULT);
  });
});

// ---- preregistration ---------------------------------------------------------------------------

describe('SPAPR_REGISTER_MEMORY (tce_iommu_register_pages, mm_iommu_new)', () => {
  // container->enabled is false until memory is registered: MAP and UNMAP are -EPERM.
  it('MAP/UNMAP before registration are -EPERM', () => {
    const m = powernv();
    const buf = m.mmap(1n * M);
    m.map_dma_err(EPERM, buf, 0n, 64n * K);
    m.unmap_dma_err(EPERM, 0n, 64n * K);
    reg(m, buf, 1n * M);
    m.map_dma(buf, 0n, 64n * K);
  });

  // argsz < 24 and any flag are -EINVAL.
  it('argsz and flags', () => {
    const m = powernv();
    const buf = m.mmap(1n * M);
    reg_err(m, EINVAL, buf, 1n * M, { argsz: 23 });
    reg_err(m, EINVAL, buf, 1n * M, { flags: 1n });
  });

  // vaddr and size must be aligned to the host page (64 KiB), and must not wrap.
  it('host-page alignment and wrap', () => {
    const m = powernv();
    const buf = m.mmap(1n * M);
    reg_err(m, EINVAL, buf + 4n * K, 64n * K);
    reg_err(m, EINVAL, buf, 4n * K);
    reg_err(m, EINVAL, 0xffff_ffff_ffff_0000n, 64n * K);
  });

  // size 0: vzalloc(0) is NULL, so mm_iommu_do_alloc() answers -ENOMEM.
  it('size 0 is -ENOMEM', () => {
    const m = powernv();
    const buf = m.mmap(1n * M);
    reg_err(m, ENOMEM, buf, 0n);
  });

  // pin_user_pages(FOLL_WRITE): an unmapped or read-only first page is -EFAULT; a failure
  // after some pages returns that count as the ioctl's value (no errno).
  it('pinning: EFAULT, and a positive partial count', () => {
    const m = powernv();
    const buf = m.mmap(1n * M);
    expect(m.kernel.munmap(m.proc, buf + 192n * K, 64n * K).errno).toBe(0);
    expect(m.kernel.mprotect(m.proc, buf + 512n * K, 64n * K, { read: true, write: false }).errno).toBe(0);
    reg_err(m, EFAULT, buf + 192n * K, 64n * K);
    reg_err(m, EFAULT, buf + 512n * K, 64n * K);
    const o = reg_(m, buf, 256n * K);
    expect(o.errno).toBe(0);
    expect(o.ret).toBe(3);
    expect(registeredMemory(m.proc.mm)).toEqual([]);
  });

  // The same region twice in one container: -EBUSY; overlapping a registered region: -EINVAL.
  it('EBUSY and overlap', () => {
    const m = powernv();
    const buf = m.mmap(2n * M);
    reg(m, buf, 1n * M);
    reg_err(m, EBUSY, buf, 1n * M);
    reg_err(m, EINVAL, buf + 512n * K, 1n * M);
    reg_err(m, EINVAL, buf, 2n * M);
    reg(m, buf + 1n * M, 1n * M);
  });

  // mm_iommu_get(): regions belong to the mm, not the container. A region still registered in
  // the mm (here: left behind by an UNREGISTER while mapped) is taken by reference when
  // registered again: no new pinning, no -EBUSY, no overlap error.
  it('registering a region the mm already has', () => {
    const m = powernv();
    const buf = ram(m, 1n * M);
    m.map_dma(buf, 0n, 64n * K);
    unreg(m, buf, 1n * M);
    expect(registeredMemory(m.proc.mm).map((r) => r.used)).toEqual([1]);
    reg(m, buf, 1n * M);
    expect(registeredMemory(m.proc.mm).map((r) => r.used)).toEqual([2]);
    reg_err(m, EBUSY, buf, 1n * M);
  });

  // tce_iommu_mm_set(): once an mm is set, another process's ioctls are -EPERM (all but
  // CHECK_EXTENSION).
  it('another mm is -EPERM', () => {
    const m = powernv();
    ram(m, 1n * M);
    const p2 = m.kernel.newProcess();
    const c = spapr(m);
    const b = poisoned(VFIO_IOMMU_SPAPR_TCE_INFO, { argsz: 32 });
    expect(c.ioctl(p2, nr('VFIO_IOMMU_SPAPR_TCE_GET_INFO'), { value: 1n, buf: b })).toBe(-EPERM);
    expect(c.ioctl(p2, nr('VFIO_CHECK_EXTENSION'), { value: 7n })).toBe(1);
  });
});

describe('SPAPR_UNREGISTER_MEMORY (tce_iommu_unregister_pages)', () => {
  // Before any registration the container has no mm: -EPERM.
  it('no mm yet is -EPERM', () => {
    const m = powernv();
    const buf = m.mmap(1n * M);
    unreg_err(m, EPERM, buf, 1n * M);
  });

  // Only the exact (vaddr, size) registered; anything else is -ENOENT; misalignment -EINVAL.
  it('exact match', () => {
    const m = powernv();
    const buf = ram(m, 1n * M);
    unreg_err(m, ENOENT, buf, 512n * K);
    unreg_err(m, ENOENT, buf + 64n * K, 1n * M - 64n * K);
    unreg_err(m, EINVAL, buf + 4n * K, 64n * K);
    unreg_err(m, EINVAL, buf, 1n * M, { flags: 1n });
    unreg(m, buf, 1n * M);
    expect(registeredMemory(m.proc.mm)).toEqual([]);
    unreg_err(m, ENOENT, buf, 1n * M);
  });

  // While TCEs use the region the final mm_iommu_put() is -EBUSY, but its value is ignored:
  // the ioctl succeeds, the region leaves the container yet stays pinned in the mm and still
  // backs MAP_DMA; a second UNREGISTER is -ENOENT (not on this container's list).
  it('mapped region: 0, and the region lingers', () => {
    const m = powernv();
    const buf = ram(m, 1n * M);
    m.map_dma(buf, 0n, 64n * K);
    unreg(m, buf, 1n * M);
    expect(registeredMemory(m.proc.mm).length).toBe(1);
    expect(spapr(m).prereg.length).toBe(0);
    m.map_dma(buf + 64n * K, 64n * K, 64n * K);
    unreg_err(m, ENOENT, buf, 1n * M);
  });
});

// ---- MAP_DMA ----------------------------------------------------------------------------------

describe('MAP_DMA (tce_iommu_ioctl, tce_iommu_build_v2)', () => {
  // argsz < 32 and flags beyond READ|WRITE are -EINVAL; neither READ nor WRITE is -EINVAL.
  it('argsz and flags', () => {
    const m = powernv();
    const buf = ram(m);
    m.map_dma_err(EINVAL, buf, 0n, 4n * K, RW, 31);
    m.map_dma_err(EINVAL, buf, 0n, 4n * K, RW | 4n);
    m.map_dma_err(EINVAL, buf, 0n, 4n * K, 0n);
  });

  // tce_iommu_find_table(): an iova outside every window is -ENXIO (DMA32 is 0..2 GiB).
  it('outside the DMA32 window is -ENXIO', () => {
    const m = powernv();
    const buf = ram(m);
    m.map_dma_err(ENXIO, buf, 2n * G, 4n * K);
    m.map_dma_err(ENXIO, buf, DDW_BASE, 4n * K);
    m.map_dma(buf, 2n * G - 4n * K, 4n * K);
  });

  // size and vaddr must be aligned to the window's IOMMU page (4 KiB), not to the host page.
  it('alignment to the IOMMU page', () => {
    const m = powernv();
    const buf = ram(m);
    m.map_dma_err(EINVAL, buf, 0n, 2n * K);
    m.map_dma_err(EINVAL, buf + 2n * K, 0n, 4n * K);
    m.map_dma(buf + 4n * K, 0n, 4n * K);
  });

  // iommu_tce_put_param_check() is `check_ioba() || check_gpa()`: an unaligned iova makes
  // the ioctl return 1 (no errno) and maps nothing.
  it('unaligned iova returns 1', () => {
    const m = powernv();
    const buf = ram(m);
    const o = m.map_dma_(buf, 0x800n, 4n * K);
    expect(o.errno).toBe(0);
    expect(o.ret).toBe(1);
    expect(dma(m, 0n, true).ok).toBe(false);
  });

  // tce_iommu_prereg_ua_to_hpa(): every page must be preregistered (-EINVAL); the pages this
  // call wrote before the failure are cleared again.
  it('unregistered memory is -EINVAL, with rollback', () => {
    const m = powernv();
    const buf = m.mmap(2n * M);
    reg(m, buf, 1n * M);
    m.map_dma_err(EINVAL, buf + 1n * M, 0n, 4n * K);
    m.map_dma_err(EINVAL, buf + 1n * M - 64n * K, 0x100000n, 128n * K);
    expect(dma(m, 0x100000n, true).ok).toBe(false);
    expect(spapr(m).tables[0]!.validEntries).toBe(0n);
  });

  // Adjacent regions: each page is looked up on its own, so a mapping may span two.
  it('spanning two registered regions', () => {
    const m = powernv();
    const buf = m.mmap(2n * M);
    reg(m, buf, 1n * M);
    reg(m, buf + 1n * M, 1n * M);
    m.map_dma(buf, 0n, 2n * M);
    expect(registeredMemory(m.proc.mm).map((r) => r.tces)).toEqual([256n, 256n]);
  });

  // iommu_tce_xchg_no_kill(): mapping over a valid TCE replaces it (no -EEXIST), and the old
  // page's region is released (mm_iommu_mapped_dec).
  it('remap replaces', () => {
    const m = powernv();
    const buf = m.mmap(2n * M);
    reg(m, buf, 1n * M);
    reg(m, buf + 1n * M, 1n * M);
    m.map_dma(buf, 0n, 64n * K);
    m.map_dma(buf + 1n * M, 0n, 64n * K);
    expect(registeredMemory(m.proc.mm).map((r) => r.tces)).toEqual([16n, 0n]);
    expect(dma(m, 0n, true).pa).toBe(m.proc.mm.physOf(buf + 1n * M));
  });

  // Direction: READ → TCE_PCI_READ, WRITE → TCE_PCI_WRITE, and pnv_tce_xchg() adds READ to
  // every WRITE TCE; a device write through a READ-only TCE faults (the PE freezes).
  it('TCE permissions', () => {
    const m = powernv();
    const buf = ram(m);
    m.map_dma(buf, 0n, 4n * K, READ);
    m.map_dma(buf + 4n * K, 4n * K, 4n * K, WRITE);
    expect(dma(m, 0n, false).ok).toBe(true);
    expect(dma(m, 0n, true)).toEqual({ ok: false, text: 'EEH: Frozen PHB#1-PE#1 detected (DMA write at 0x0 found a TCE without WRITE)' });
    expect(dma(m, 4n * K, false).ok).toBe(true);
    expect(dma(m, 4n * K, true).pa).toBe(m.proc.mm.physOf(buf + 4n * K));
  });

  // The default DMA32 window (tce_iommu_create_default_window) has 4 KiB IOMMU pages even on a
  // 64 KiB-page host: a 4 KiB piece of a host page can be mapped on its own.
  it('4K TCEs on a 64K host', () => {
    const m = powernv();
    const buf = ram(m);
    m.map_dma(buf + 12n * K, 0x2000n, 4n * K);
    expect(dma(m, 0x2000n, true).pa).toBe(m.proc.mm.physOf(buf + 12n * K));
    expect(dma(m, 0x3000n, true).ok).toBe(false);
    expect(dma(m, 0x1000n, true).ok).toBe(false);
  });

  // iommu_tce_check_ioba() checks only the first entry: a mapping starting in the window may run
  // past its end (the kernel writes beyond its table; the model keeps the in-window part).
  it('runs past the window end', () => {
    const m = powernv();
    const buf = ram(m);
    m.map_dma(buf, 2n * G - 8n * K, 64n * K);
    expect(spapr(m).tables[0]!.validEntries).toBe(2n);
  });
});

// ---- UNMAP_DMA --------------------------------------------------------------------------------

describe('UNMAP_DMA (tce_iommu_clear)', () => {
  // Nothing is copied back: the buffer is as the user passed it.
  it('no write-back, TCEs cleared', () => {
    const m = powernv();
    const buf = ram(m);
    m.map_dma(buf, 0n, 64n * K);
    const o = m.unmap_dma_(0n, 64n * K);
    ok(o);
    expect(o.size).toBe(64n * K);
    expect(hex(o.buf)).toBe(hex(poisoned(VFIO_IOMMU_TYPE1_DMA_UNMAP, { argsz: 24, flags: 0, iova: 0, size: 64n * K })));
    expect(dma(m, 0n, true).ok).toBe(false);
    expect(registeredMemory(m.proc.mm)[0].tces).toBe(0n);
  });

  // Flags are -EINVAL; outside every window -ENXIO; size not IOMMU-page aligned -EINVAL; an
  // unaligned iova is the boolean 1 of iommu_tce_clear_param_check(); unmapping holes is fine.
  it('argument rules', () => {
    const m = powernv();
    ram(m);
    m.unmap_dma_err(EINVAL, 0n, 4n * K, 1n);
    m.unmap_dma_err(ENXIO, 2n * G, 4n * K);
    m.unmap_dma_err(EINVAL, 0n, 2n * K);
    const o = m.unmap_dma_(0x800n, 4n * K);
    expect([o.errno, o.ret]).toEqual([0, 1]);
    ok(m.unmap_dma_(0x100000n, 1n * M));
  });
});

// ---- ENABLE / DISABLE ----------------------------------------------------------------------------

describe('ENABLE / DISABLE', () => {
  // v1 only: in a v2 container they fall out of the switch: -ENOTTY.
  it('v2 is -ENOTTY', () => {
    const m = powernv();
    fails(m.ioctl_(m.container, 'VFIO_IOMMU_ENABLE'), ENOTTY);
    fails(m.ioctl_(m.container, 'VFIO_IOMMU_DISABLE'), ENOTTY);
  });
});

// ---- windows ----------------------------------------------------------------------------------

describe('SPAPR_TCE_CREATE / SPAPR_TCE_REMOVE (tce_iommu_create_window, _remove_window)', () => {
  // tce_iommu_attach_group() only marks the default window pending; TCE_REMOVE(0) cancels it,
  // and then nothing is mapped at 0: MAP is -ENXIO.
  it('removing the pending default window', () => {
    const m = powernv();
    const buf = ram(m);
    expect(spapr(m).defWindowPending).toBe(true);
    remove(m, 0n);
    m.map_dma_err(ENXIO, buf, 0n, 4n * K);
    remove_err(m, EINVAL, 0n);
  });

  // Table 1 sits at pe->tce_bypass_base (1 << 59); start_addr is written back; DMA works
  // through the second TVE.
  it('a 64-bit window at 1 << 59', () => {
    const m = powernv();
    const buf = ram(m);
    const o = create_(m, 16, 1n * G, 1);
    ok(o);
    expect(hex(o.buf)).toBe('28000000' + '00000000' + '10000000' + 'aaaaaaaa' + '0000004000000000' + '01000000' + 'aaaaaaaa' + '0000000000000008');
    m.map_dma(buf, DDW_BASE, 1n * M);
    expect(dma(m, DDW_BASE + 0x1234n, true).pa).toBe(m.proc.mm.physOf(buf + 0x1234n));
    m.map_dma(buf, 0n, 4n * K); // the default window was created on the way
    remove(m, DDW_BASE + 64n * K);
    m.map_dma_err(ENXIO, buf, DDW_BASE, 64n * K);
    expect(dma(m, DDW_BASE, true).ok).toBe(false);
  });

  // The page size must be one the PHB supports (table_group->pgsizes); levels 1..5; a
  // power-of-two window; a third window is -ENOSPC; flags and short argsz -EINVAL.
  it('argument rules', () => {
    const m = powernv();
    ram(m);
    create_err(m, EINVAL, 21, 1n * G, 1);
    create_err(m, EINVAL, 16, 1n * G, 0);
    create_err(m, EINVAL, 16, 1n * G, 6);
    create_err(m, EINVAL, 16, 3n * G, 1);
    create_err(m, EINVAL, 16, 1n * G, 1, { flags: 1n });
    create_err(m, EINVAL, 16, 1n * G, 1, { argsz: 39 });
    create(m, 16, 1n * G, 1);
    create_err(m, ENOSPC, 16, 1n * G, 1);
  });

  // pnv_pci_ioda2_table_alloc_pages(): one level of more than 16 MiB cannot be allocated
  // (-ENOMEM); more levels make it fit.
  it('table levels', () => {
    const m = powernv();
    ram(m);
    create_err(m, ENOMEM, 12, 64n * G, 1);
    create(m, 12, 64n * G, 2);
  });

  // A 16 MiB-page window is allowed, but 64 KiB host pages cannot back its TCEs: MAP is
  // -EINVAL (mm_iommu_ua_to_hpa(): pageshift larger than the region's).
  it('16M IOMMU pages need huge pages', () => {
    const m = powernv();
    const buf = ram(m);
    create(m, 24, 1n * G, 1);
    m.map_dma_err(EINVAL, buf, DDW_BASE, 16n * M);
  });

  // TCE_CREATE before any group cannot happen (SET_IOMMU needs one); after the mm is set by
  // another process it is -EPERM.
  it('another mm', () => {
    const m = powernv();
    ram(m);
    const p2 = m.kernel.newProcess();
    const b = poisoned(VFIO_IOMMU_SPAPR_TCE_CREATE, { argsz: 40, page_shift: 16, window_size: 1n * G, levels: 1 });
    expect(spapr(m).ioctl(p2, nr('VFIO_IOMMU_SPAPR_TCE_CREATE'), { value: 1n, buf: b })).toBe(-EPERM);
  });
});

// ---- release ------------------------------------------------------------------------------------

describe('detach and release (tce_iommu_detach_group, tce_iommu_release)', () => {
  // The last group leaving releases the container: TCEs cleared, PE handed back (DMA faults),
  // this container's regions put (unpinned).
  it('closing releases everything', () => {
    const m = powernv();
    const buf = ram(m);
    m.map_dma(buf, 0n, 64n * K);
    expect(m.kernel.close(m.proc, m.group).errno).toBe(0);
    expect(m.kernel.close(m.proc, m.container).errno).toBe(0);
    expect(dma(m, 0n, true).ok).toBe(false);
    expect(registeredMemory(m.proc.mm)).toEqual([]);
    expect(m.kernel.iommu.domains.size).toBe(0);
  });
});

// ---- the PHB's MSIs ------------------------------------------------------------------------------

describe('PHB3 MSIs (hw/msi/phb-msi.ts)', () => {
  // phb3_get_msi_64(): address (1 << 60) | ((ive << 4) & ~0x1f0), data ive & 0x1f; the IVE is
  // bound to the PE (opal_pci_set_xive_pe) and a requester from another PE is rejected.
  it('compose, receive, PE check', () => {
    const msi = new PhbMsi({ name: 'phb1-msi', domain: 1 });
    const a = msi.compose('0001:01:00.0', 0);
    const b = msi.compose('0001:01:00.0', 33);
    expect(a).toEqual({ addr: 1n << 60n, data: 0 });
    expect(b).toEqual({ addr: 1n << 60n, data: 1 });
    for (let v = 2; v < 33; v++) msi.compose('0001:01:00.0', 100 + v);
    expect(msi.compose('0001:01:00.0', 200)).toEqual({ addr: (1n << 60n) | 0x200n, data: 1 });
    expect(msi.receive(b.addr, b.data, '0001:01:00.0')).toEqual({ bdf: '0001:01:00.0', vector: 33 });
    expect(msi.receive(b.addr, b.data, '0001:02:00.0')).toEqual({
      miss: 'PE check failed: the requester is in PE#2, IVE 1 belongs to PE#1 (the PHB rejects the MSI)',
    });
    expect(msi.isolating).toBe(true);
  });
});
