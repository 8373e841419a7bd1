// vfio_iommu_type1: one stanza per kernel rule (abi.md §3.2–§3.4 and the recorded traces).

import { describe, expect, it } from 'vitest';
import { EACCES, EBUSY, EEXIST, EFAULT, EINVAL, ENOENT, ENOSPC, EPERM, ENOTTY } from '../../src/uapi/errno.js';
import { interruptsIsolated, UNSAFE_INTERRUPTS_WARNING } from '../../src/kernel/irq/isolation.js';
import type { IommuAttachFacts } from '../../src/kernel/vfio/iommu-driver.js';
import { BIT2, Machine, READ, RW, UNMAP_ALL, UNMAP_VADDR, WRITE, hex, poisoned } from './fixture.js';
import { VFIO_IOMMU_TYPE1_DMA_UNMAP } from '../../src/uapi/structs.js';

const K = 0x400n;
const M = 0x100000n;
const EDU = '0000:00:01.0';

function x86(era = '6.1', intremap = 'on'): Machine {
  const m = new Machine(era, 'qemu-q35-vtd', { intremap });
  m.setup(EDU);
  return m;
}

function arm(era = '6.12', gic = 'v3'): Machine {
  const m = new Machine(era, 'qemu-virt-smmuv3', { gic });
  m.setup(EDU);
  return m;
}

describe('MAP_DMA argument checks', () => {
  // argsz below offsetofend(size) is -EINVAL; larger argsz is fine (only minsz is read).
  it('argsz', () => {
    const m = x86();
    const buf = m.mmap(64n * K);
    m.map_dma_err(EINVAL, buf, 0n, 4n * K, RW, 16);
    expect(m.map_dma_(buf, 0n, 4n * K, RW, 64).errno).toBe(0);
  });

  // flags outside READ|WRITE|VADDR are -EINVAL; neither READ nor WRITE is -EINVAL.
  it('flags', () => {
    const m = x86();
    const buf = m.mmap(64n * K);
    m.map_dma_err(EINVAL, buf, 0n, 4n * K, RW | 8n);
    m.map_dma_err(EINVAL, buf, 0n, 4n * K, 0n);
    m.map_dma(buf, 0n, 4n * K, READ);
    m.map_dma(buf, 0x1000n, 4n * K, WRITE);
  });

  // iova, vaddr and size must be aligned to the smallest IOMMU page; size 0 is -EINVAL.
  it('alignment', () => {
    const m = x86();
    const buf = m.mmap(64n * K);
    m.map_dma_err(EINVAL, buf, 0x800n, 4n * K);
    m.map_dma_err(EINVAL, buf + 0x800n, 0n, 4n * K);
    m.map_dma_err(EINVAL, buf, 0n, 0x800n);
    m.map_dma_err(EINVAL, buf, 0n, 0n);
  });

  // iova + size - 1 or vaddr + size - 1 wrapping past 2^64 is -EINVAL.
  it('wrap', () => {
    const m = x86();
    const buf = m.mmap(64n * K);
    m.map_dma_err(EINVAL, buf, 0xffff_ffff_ffff_f000n, 8n * K);
    m.map_dma_err(EINVAL, 0xffff_ffff_ffff_f000n, 0n, 8n * K);
  });
});

describe('MAP_DMA overlap', () => {
  // Any overlap with an existing mapping is -EEXIST: duplicate, head, tail, covering, inside.
  it('EEXIST', () => {
    const m = x86();
    const buf = m.mmap(4n * M);
    m.map_dma(buf, 0x100000n, 64n * K);
    m.map_dma_err(EEXIST, buf, 0x100000n, 64n * K);
    m.map_dma_err(EEXIST, buf, 0x108000n, 64n * K);
    m.map_dma_err(EEXIST, buf, 0xf8000n, 64n * K);
    m.map_dma_err(EEXIST, buf, 0xf0000n, 192n * K);
    m.map_dma_err(EEXIST, buf, 0x104000n, 4n * K);
    m.map_dma(buf, 0x110000n, 64n * K); // adjacent after
  });
});

describe('MAP_DMA valid IOVA list (5.4+)', () => {
  // The x86 MSI window 0xfee00000-0xfeefffff is excluded; so is anything beyond 39 bits.
  it('x86 reserved MSI window and aperture', () => {
    const m = x86();
    const buf = m.mmap(4n * M);
    m.map_dma_err(EINVAL, buf, 0xfee00000n, 4n * K);
    m.map_dma_err(EINVAL, buf, 0xfedff000n, 8n * K);
    m.map_dma(buf, 0xfedff000n, 4n * K);
    m.map_dma(buf, 0xfef00000n, 4n * K);
    m.map_dma_err(EINVAL, buf, 1n << 39n, 4n * K);
    m.map_dma(buf, (1n << 39n) - 4n * K, 4n * K);
    m.map_dma_err(EINVAL, buf, 1n << 63n, 4n * K);
  });

  // On SMMUv3 the SW_MSI region 0x08000000 + 1 MiB is excluded; the aperture is 48 bits.
  it('arm SW_MSI window and aperture', () => {
    const m = arm();
    const buf = m.mmap(4n * M);
    m.map_dma_err(EINVAL, buf, 0x08000000n, 4n * K);
    m.map_dma(buf, 0x07fff000n, 4n * K);
    m.map_dma(buf, 0x08100000n, 4n * K);
    m.map_dma(buf, (1n << 48n) - 4n * K, 4n * K);
    m.map_dma_err(EINVAL, buf, 1n << 48n, 4n * K);
  });

  // Before 5.4 there is no IOVA list: the SW_MSI window can be mapped over.
  it('4.11 maps into the SW_MSI window', () => {
    const m = arm('4.11', 'v3');
    const buf = m.mmap(4n * M);
    m.map_dma(buf, 0x08000000n, 4n * K);
  });
});

describe('MAP_DMA pinning', () => {
  // A vaddr in a hole, a range crossing one, a kernel address, a PROT_NONE guard, or a
  // read-only page mapped for device WRITE is -EFAULT; read-only mapped READ is fine.
  it('EFAULT', () => {
    const m = x86();
    const buf = m.mmap(1n * M);
    expect(m.kernel.munmap(m.proc, buf + 0x80000n, 4n * K).errno).toBe(0);
    expect(m.kernel.mprotect(m.proc, buf + 0x90000n, 4n * K, { read: true, write: false }).errno).toBe(0);
    expect(m.kernel.mprotect(m.proc, buf + 0xa0000n, 4n * K, { read: false, write: false }).errno).toBe(0);
    m.map_dma_err(EFAULT, buf + 0x80000n, 0n, 4n * K);
    m.map_dma_err(EFAULT, buf + 0x7f000n, 0n, 8n * K);
    m.map_dma_err(EFAULT, 0xffffffff81000000n, 0n, 4n * K);
    m.map_dma_err(EFAULT, buf + 0xa0000n, 0n, 4n * K);
    m.map_dma_err(EFAULT, buf + 0x90000n, 0n, 4n * K, RW);
    m.map_dma(buf + 0x90000n, 0n, 4n * K, READ);
  });

  // A failed pin gives its DMA entry back (DMA_AVAIL unchanged).
  it('failure gives the entry back', () => {
    const m = x86('6.12');
    const before = m.dmaAvail();
    m.map_dma_err(EFAULT, 0x1000n, 0n, 4n * K);
    expect(m.dmaAvail()).toBe(before);
  });
});

describe('dma_entry_limit and DMA_AVAIL', () => {
  // DMA_AVAIL starts at dma_entry_limit (65535) and counts down per mapping.
  it('counts', () => {
    const m = x86();
    const buf = m.mmap(1n * M);
    expect(m.dmaAvail()).toBe(65535);
    m.map_dma(buf, 0n, 4n * K);
    m.map_dma(buf, 0x10000n, 4n * K);
    expect(m.dmaAvail()).toBe(65533);
    m.unmap_dma(0n, 4n * K);
    expect(m.dmaAvail()).toBe(65534);
  });

  // The limit is read when the IOMMU is set; past it MAP_DMA is -ENOSPC.
  it('ENOSPC', () => {
    const m = new Machine('6.1', 'qemu-q35-vtd');
    m.param('dma_entry_limit', '2');
    m.setup(EDU);
    const buf = m.mmap(1n * M);
    m.map_dma(buf, 0n, 4n * K);
    m.map_dma(buf, 0x1000n, 4n * K);
    m.map_dma_err(ENOSPC, buf, 0x2000n, 4n * K);
  });
});

describe('UNMAP_DMA', () => {
  function withMaps(v2 = true): Machine {
    const m = new Machine('6.1', 'qemu-q35-vtd');
    m.setup(EDU, v2 ? 3 : 1);
    const buf = m.mmap(8n * M);
    m.map_dma(buf, 0x100000n, 64n * K);
    m.map_dma(buf, 0x1000000n, 2n * M);
    m.map_dma(buf, 0x600000n, 16n * K);
    return m;
  }

  // argsz < 24, unknown flags, misaligned iova/size and size 0 are -EINVAL.
  it('argument checks', () => {
    const m = withMaps();
    m.unmap_dma_err(EINVAL, 0x100000n, 64n * K, 0n, 16);
    m.unmap_dma_err(EINVAL, 0x100000n, 64n * K, 8n);
    m.unmap_dma_err(EINVAL, 0x100800n, 64n * K);
    m.unmap_dma_err(EINVAL, 0x100000n, 0x800n);
    m.unmap_dma_err(EINVAL, 0x100000n, 0n);
  });

  // A range with no mapping succeeds with size 0; whole mappings are removed and counted.
  it('sizes', () => {
    const m = withMaps();
    expect(m.unmap_dma(0x800000n, 64n * K)).toBe(0n);
    expect(m.unmap_dma(0x100000n, 64n * K)).toBe(64n * K);
    expect(m.unmap_dma(0x100000n, 64n * K)).toBe(0n);
    expect(m.unmap_dma(0x5f0000n, 0x20000n)).toBe(16n * K);
  });

  // type1v2 refuses to bisect a mapping at either end.
  it('v2 no bisect', () => {
    const m = withMaps();
    m.unmap_dma_err(EINVAL, 0x100000n, 32n * K);
    m.unmap_dma_err(EINVAL, 0x1100000n, 4n * K);
    m.unmap_dma_err(EINVAL, 0x602000n, 16n * K);
    m.unmap_dma_err(EINVAL, 0x5ff000n, 8n * K);
  });

  // type1 (v1): covering a mapping's first page removes it whole; starting inside removes nothing.
  it('v1 compatibility', () => {
    const m = withMaps(false);
    expect(m.unmap_dma(0x100000n, 32n * K)).toBe(64n * K);
    expect(m.unmap_dma(0x1100000n, 4n * K)).toBe(0n);
    expect(m.unmap_dma(0x602000n, 16n * K)).toBe(0n);
    expect(m.unmap_dma(0x5ff000n, 8n * K)).toBe(16n * K);
  });

  // UNMAP_ALL needs iova = size = 0 and removes everything.
  it('UNMAP_ALL', () => {
    const m = withMaps();
    m.unmap_dma_err(EINVAL, 0x1000n, 0n, UNMAP_ALL);
    m.unmap_dma_err(EINVAL, 0n, 0x1000n, UNMAP_ALL);
    expect(m.unmap_dma(0n, 0n, UNMAP_ALL)).toBe(64n * K + 2n * M + 16n * K);
    expect(m.unmap_dma(0n, 0n, UNMAP_ALL)).toBe(0n);
  });

  // A range ending exactly at 2^64 wraps in vfio_find_dma_first_node: 0, size 0, nothing removed.
  it('wrap quirk at 2^64', () => {
    const m = withMaps();
    expect(m.unmap_dma(0x200000n, (1n << 64n) - 0x200000n)).toBe(0n);
    expect(m.unmap_dma(0n, 0n, UNMAP_ALL)).toBe(64n * K + 2n * M + 16n * K);
    m.unmap_dma_err(EINVAL, 0xffff_ffff_ffff_f000n, 0x2000n);
  });

  // GET_DIRTY_BITMAP without dirty tracking is -EINVAL (and with ALL or VADDR too).
  it('dirty bitmap', () => {
    const m = withMaps();
    m.unmap_dma_err(EINVAL, 0x100000n, 64n * K, 1n, 48);
    m.unmap_dma_err(EINVAL, 0n, 0n, 1n | UNMAP_ALL, 48);
  });
});

describe('VADDR invalidate and update (5.12+)', () => {
  // UNMAP with VADDR invalidates; MAP with VADDR alone restores the exact iova/size.
  it('invalidate then update', () => {
    const m = x86();
    const buf = m.mmap(1n * M);
    m.map_dma(buf, 0x100000n, 64n * K);
    m.map_dma_err(EINVAL, buf, 0x100000n, 64n * K, BIT2); // not invalidated yet
    expect(m.unmap_dma(0x100000n, 64n * K, UNMAP_VADDR)).toBe(64n * K);
    m.map_dma_err(EINVAL, buf, 0x100000n, 32n * K, BIT2);
    m.map_dma_err(EINVAL, buf, 0x100000n, 64n * K, BIT2 | RW);
    m.map_dma_err(ENOENT, buf, 0x800000n, 64n * K, BIT2);
    m.map_dma(buf + 0x10000n, 0x100000n, 64n * K, BIT2);
  });

  // Invalidating a range that holds an already-invalid mapping rolls back and is -EINVAL.
  it('rollback', () => {
    const m = x86();
    const buf = m.mmap(1n * M);
    m.map_dma(buf, 0x100000n, 64n * K);
    m.map_dma(buf, 0x200000n, 64n * K);
    m.unmap_dma(0x200000n, 64n * K, UNMAP_VADDR);
    m.unmap_dma_err(EINVAL, 0n, 4n * M, UNMAP_VADDR);
    // 0x100000 was rolled back: it can be invalidated again on its own.
    expect(m.unmap_dma(0x100000n, 64n * K, UNMAP_VADDR)).toBe(64n * K);
  });

  // ALL|VADDR invalidates everything; DMA_AVAIL does not change.
  it('ALL|VADDR', () => {
    const m = x86('6.12');
    const buf = m.mmap(1n * M);
    m.map_dma(buf, 0x100000n, 64n * K);
    const avail = m.dmaAvail();
    expect(m.unmap_dma(0n, 0n, UNMAP_ALL | UNMAP_VADDR)).toBe(64n * K);
    expect(m.dmaAvail()).toBe(avail);
  });

  // While a vaddr is invalid, attaching another group is -EBUSY.
  it('attach while invalid', () => {
    const m = new Machine('6.1', 'qemu-q35-vtd');
    m.setup(EDU);
    const buf = m.mmap(1n * M);
    m.map_dma(buf, 0x100000n, 64n * K);
    m.unmap_dma(0n, 0n, UNMAP_ALL | UNMAP_VADDR);
    m.kernel.bind('0000:00:02.0', 'vfio-pci');
    const g2 = m.open('/dev/vfio/2');
    expect(m.set_container_(g2, m.container).errno).toBe(EBUSY);
  });
});

describe('GET_INFO', () => {
  // argsz below offsetofend(iova_pgsizes) is -EINVAL.
  it('minsz', () => {
    expect(x86().get_info_(8).errno).toBe(EINVAL);
  });

  // argsz 16: argsz rewritten to the full size, 16 bytes copied, cap_offset untouched.
  it('argsz 16', () => {
    expect(hex(x86('6.1').get_info_(16).buf)).toBe('74000000030000000010204000000000aaaaaaaaaaaaaaaa');
    expect(hex(x86('6.12').get_info_(16).buf)).toBe('78000000030000000010204000000000aaaaaaaaaaaaaaaa');
  });

  // argsz 24: cap_offset written 0; 6.1 leaves pad alone, 6.12 copies a zeroed struct.
  it('argsz 24', () => {
    expect(hex(x86('6.1').get_info_(24).buf)).toBe('7400000003000000001020400000000000000000aaaaaaaa');
    expect(hex(x86('6.12').get_info_(24).buf)).toBe('780000000300000000102040000000000000000000000000');
  });

  // A big buffer keeps its argsz; the chain is MIGRATION → DMA_AVAIL → IOVA_RANGE.
  it('big buffer layout 6.1 (IOVA_RANGE at 68) vs 6.12 (at 72)', () => {
    const b61 = x86('6.1').get_info_(4096).buf;
    expect(hex(b61.subarray(0, 24))).toBe('0010000003000000001020400000000018000000aaaaaaaa');
    expect(hex(b61.subarray(24, 56))).toBe('0200010038000000000000000000000000100000000000000000001000000000');
    expect(hex(b61.subarray(56, 68))).toBe('0300010044000000ffff0000');
    expect(hex(b61.subarray(68, 116))).toBe(
      '010001000000000002000000000000000000000000000000ffffdffe000000000000f0fe00000000ffffffff7f000000',
    );
    expect(b61[116]).toBe(0xaa);
    const b612 = arm('6.12').get_info_(4096).buf;
    expect(hex(b612.subarray(56, 72))).toBe('0300010048000000ffff000000000000');
    expect(hex(b612.subarray(72, 120))).toBe(
      '01000100000000000200000000000000' + '0000000000000000' + 'ffffff0700000000' + '0000100800000000' + 'ffffffffffff0000',
    );
  });

  // Before SET_IOMMU, and once the last group has left, the container answers -EINVAL.
  it('no IOMMU', () => {
    const m = new Machine('6.1', 'qemu-q35-vtd');
    m.group_open(EDU);
    expect(m.get_info_(24).errno).toBe(EINVAL);
    m.set_iommu();
    expect(m.ioctl_(m.group, 'VFIO_GROUP_UNSET_CONTAINER').errno).toBe(0);
    expect(m.get_info_(24).errno).toBe(EINVAL);
  });

  // 4.10: the struct ends at iova_pgsizes, no capabilities.
  it('4.10 has no chain', () => {
    const m = new Machine('4.10', 'qemu-q35-vtd');
    m.setup(EDU);
    expect(hex(m.get_info_(24).buf)).toBe('18000000' + '01000000' + '0010204000000000' + 'aaaaaaaaaaaaaaaa');
  });

  // rfc-v14: MSI_RESV {size, alignment} when a domain needs an MSI window.
  it('rfc-v14 MSI_RESV', () => {
    const m = new Machine('rfc-v14', 'amd-overdrive');
    m.param('allow_unsafe_interrupts', 'Y');
    m.setup('0000:01:00.0');
    const b = m.get_info_(64).buf;
    expect(hex(b.subarray(0, 24))).toBe('4000000003000000001020400000000018000000aaaaaaaa');
    expect(hex(b.subarray(24, 48))).toBe('010001000000000000100000000000000010000000000000');
  });
});

describe('attach: interrupt safety', () => {
  // GICv2m does not isolate MSIs: SET_IOMMU is -EPERM with the kernel's warning.
  it('GICv2m refused (6.1)', () => {
    const m = new Machine('6.1', 'qemu-virt-smmuv3', { gic: 'v2' });
    m.group_open(EDU);
    m.set_iommu_err(EPERM);
    expect(m.dmesg()).toEqual([UNSAFE_INTERRUPTS_WARNING]);
    expect(m.group_status()).toBe(3n);
    expect(m.get_info_(24).errno).toBe(EINVAL);
  });

  // A GICv3 ITS isolates: SET_IOMMU succeeds without a warning.
  it('ITS allowed (6.12)', () => {
    const m = new Machine('6.12', 'qemu-virt-smmuv3', { gic: 'v3' });
    m.group_open(EDU);
    m.set_iommu();
    expect(m.dmesg()).toEqual([]);
  });

  // VT-d without interrupt remapping is refused; allow_unsafe_interrupts=Y lets it through.
  it('VT-d intremap=off, then allow_unsafe_interrupts', () => {
    const m = new Machine('6.12', 'qemu-q35-vtd', { intremap: 'off' });
    m.group_open(EDU);
    m.set_iommu_err(EPERM, 1);
    m.param('allow_unsafe_interrupts', 'Y');
    m.set_iommu(1);
  });

  // With an IOMMU already set, the refusal comes from SET_CONTAINER.
  it('EPERM from SET_CONTAINER', () => {
    const m = new Machine('6.1', 'qemu-virt-smmuv3', { gic: 'v2' });
    m.param('allow_unsafe_interrupts', 'Y');
    m.setup(EDU);
    m.param('allow_unsafe_interrupts', 'N');
    m.kernel.bind('0000:00:02.0', 'vfio-pci');
    const g = m.open('/dev/vfio/1');
    expect(m.set_container_(g, m.container).errno).toBe(EPERM);
  });

  // rfc-v10's coarse rule: an unsafe doorbell anywhere refuses every group.
  it('rfc-v10 doorbell-coarse', () => {
    const m = new Machine('rfc-v10', 'amd-overdrive');
    m.group_open('0000:01:00.0');
    m.set_iommu_err(EPERM);
  });

  // 4.10: the SMMU driver still claims INTR_REMAP, so GICv2m passes.
  it('4.10 legacy claim', () => {
    const m = new Machine('4.10', 'amd-overdrive');
    m.group_open('0000:01:00.0');
    m.set_iommu();
  });
});

describe('attach: the facts the rules read', () => {
  // The facts a new container would decide `bdf`'s attach on (its group bound to vfio-pci).
  const facts = (m: Machine, bdf: string): IommuAttachFacts => {
    const g = Number(m.kernel.bind(bdf, 'vfio-pci').ret);
    return m.kernel.vfioDrivers[0].attachFacts(m.kernel.vfioGroups.get(g)!.iommuGroup);
  };
  const brief = (f: IommuAttachFacts) => {
    if (f.kind !== 'type1') throw new Error(`${f.kind}: not type1`);
    return {
      rule: f.rule,
      devices: f.devices.map((d) => [d.bdf, d.msi.name, d.msiRemap, d.intrRemap]),
      controllers: f.controllers.map((c) => [c.controller.name, c.msiRemap]),
      isolated: interruptsIsolated(f),
    };
  };

  // The mixed machine's bridge group (MSIs to the SPI bridge, no MSI_REMAP), in a new container.
  const BRIDGE = '0000:00:02.0';
  const bridgeGroup = (era: string) => {
    const m = new Machine(era, 'arm-its-plus-v2m');
    const judged = brief(facts(m, BRIDGE));
    m.container = m.open('/dev/vfio/vfio');
    m.group = m.open('/dev/vfio/1');
    expect(m.set_container_(m.group, m.container).errno).toBe(0);
    return { m, judged };
  };
  const bridgeFacts = { devices: [[BRIDGE, 'spi-bridge', false, false]], controllers: [['its0', true], ['spi-bridge', false]] };

  // 4.11–6.2 (irq_domain_check_msi_remap): the ITS's flag passes the bridge's group too, and
  // the attach goes through.
  it('msi-remap-global passes the bridge group (6.1)', () => {
    const { m, judged } = bridgeGroup('6.1');
    expect(judged).toEqual({ rule: 'msi-remap-global', ...bridgeFacts, isolated: true });
    m.set_iommu();
  });

  // 6.3+ (iommu_group_has_isolated_msi): the same group is judged by its own device: refused.
  it('isolated-msi-group refuses it (6.12)', () => {
    const { m, judged } = bridgeGroup('6.12');
    expect(judged).toEqual({ rule: 'isolated-msi-group', ...bridgeFacts, isolated: false });
    m.set_iommu_err(EPERM);
  });

  // Series v14: a safe ITS doorbell, but no domain yet needs an MSI window: not isolated.
  it('doorbell-msi-resv before any domain (rfc-v14)', () => {
    const f = facts(new Machine('rfc-v14', 'qemu-virt-smmuv3', { gic: 'v3' }), EDU);
    expect(f.kind === 'type1' && [f.doorbells.map((d) => [d.base, d.isolating]), f.msiResvNeeded]).toEqual([[[0x8090040n, true]], false]);
    expect(brief(f).isolated).toBe(false);
  });
});

describe('container ioctls', () => {
  // Unknown ioctls: -EINVAL before SET_IOMMU, -ENOTTY after (the driver answers).
  it('unknown ioctl', () => {
    const m = new Machine('6.1', 'qemu-q35-vtd');
    m.group_open(EDU);
    const unknown = (0x3b << 8) | 199;
    expect(m.kernel.ioctl(m.proc, m.container, unknown, { value: 0n }).errno).toBe(EINVAL);
    m.set_iommu();
    expect(m.kernel.ioctl(m.proc, m.container, unknown, { value: 0n }).errno).toBe(ENOTTY);
  });

  // CHECK_EXTENSION as recorded: UPDATE_VADDR only once an IOMMU is set.
  it('CHECK_EXTENSION', () => {
    const m = new Machine('6.1', 'qemu-q35-vtd');
    m.container = m.open('/dev/vfio/vfio');
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 99].map((e) => m.check_extension(e))).toEqual([1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]);
    m.kernel.bind(EDU, 'vfio-pci');
    m.group = m.open('/dev/vfio/1');
    m.set_container_(m.group, m.container);
    m.set_iommu();
    expect(m.check_extension(10)).toBe(1);
  });

  // SET_IOMMU: no group or already set is -EINVAL; a type no driver has is -ENODEV.
  it('SET_IOMMU', () => {
    const m = new Machine('6.1', 'qemu-q35-vtd');
    m.container = m.open('/dev/vfio/vfio');
    m.set_iommu_err(EINVAL);
    m.group_open(EDU);
    m.set_iommu_err(19, 2);
    m.set_iommu();
    m.set_iommu_err(EINVAL);
    m.set_iommu_err(EINVAL, 1);
  });
});

describe('DIRTY_PAGES (5.8+)', () => {
  const START = 1n;
  const STOP = 2n;
  const GET = 4n;
  const dirty_ = (m: Machine, flags: bigint, range?: Parameters<Machine['dirty_pages_']>[1]) => m.dirty_pages_(flags, range).errno;

  // One flag at a time; none is -EINVAL; type1 (v1) is -EACCES.
  it('flags', () => {
    const m = x86();
    expect(dirty_(m, 0n)).toBe(EINVAL);
    expect(dirty_(m, START | STOP)).toBe(EINVAL);
    expect(dirty_(m, 8n)).toBe(EINVAL);
    expect(dirty_(m, START)).toBe(0);
    expect(dirty_(m, STOP)).toBe(0);
    const v1 = new Machine('6.1', 'qemu-q35-vtd');
    v1.setup(EDU, 1);
    expect(dirty_(v1, START)).toBe(EACCES);
  });

  // GET_BITMAP before START is -EINVAL; after it every page of an IOMMU-mapped range is dirty.
  it('GET_BITMAP', () => {
    const m = x86();
    const buf = m.mmap(1n * M);
    const bitmap = m.mmap(4n * K);
    m.map_dma(buf, 0x100000n, 16n * K);
    const range = { iova: 0x100000n, size: 64n * K, pgsize: 4n * K, bsize: 8n, data: bitmap };
    expect(dirty_(m, GET, range)).toBe(EINVAL);
    expect(dirty_(m, START)).toBe(0);
    expect(dirty_(m, GET, { ...range, pgsize: 64n * K })).toBe(EINVAL);
    expect(dirty_(m, GET, { ...range, bsize: 0n })).toBe(EINVAL);
    expect(dirty_(m, GET, { ...range, iova: 0x102000n })).toBe(EINVAL); // bisects the mapping
    expect(dirty_(m, GET, range)).toBe(0);
    expect([...(m.proc.mm.copyFromUser(bitmap, 2) as Uint8Array)]).toEqual([0x0f, 0]);
    // The bitmap must be writable user memory.
    expect(dirty_(m, GET, { ...range, data: 0x1000n })).toBe(EFAULT);
  });

  // UNMAP with GET_DIRTY_BITMAP works once tracking is on, and fills the bitmap.
  it('UNMAP with GET_DIRTY_BITMAP', () => {
    const m = x86();
    const buf = m.mmap(1n * M);
    const bitmap = m.mmap(4n * K);
    m.map_dma(buf, 0x100000n, 8n * K);
    expect(dirty_(m, START)).toBe(0);
    const o = m.unmap_dma_dirty_(0x100000n, 8n * K, { pgsize: 4n * K, bsize: 8n, data: bitmap });
    expect(o.errno).toBe(0);
    expect(o.size).toBe(8n * K);
    // Only size is written back: the vfio_bitmap after it stays as sent.
    expect(hex(o.buf.subarray(24))).toBe(hex(poisoned(VFIO_IOMMU_TYPE1_DMA_UNMAP, { 'bitmap.pgsize': 4n * K, 'bitmap.size': 8n, 'bitmap.data': bitmap }, 48).subarray(24)));
    expect([...(m.proc.mm.copyFromUser(bitmap, 1) as Uint8Array)]).toEqual([0x03]);
  });
});
