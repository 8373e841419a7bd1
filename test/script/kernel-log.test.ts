// Kernel log fidelity (issue 11 §3): what the IOMMU drivers print, in each era's form, as
// kernel log lines that `expect dmesg` and `show dmesg` see. Oracles: the kernel sources cited
// beside each stanza.

import { describe, expect, it } from 'vitest';
import { at, run_, type Ev } from './run-scenario.js';
import type { RunEvent } from '../../src/script/events.js';

/** The kernel log lines of scenario line `line`. */
function dmesgAt(text: string, line: number): string[] {
  return at(run_(text), 'dmesg', line).map((e) => e.text);
}

const type1 = (era: string, platform: string, group: number, bdf: string) =>
  `kernel ${era}\nplatform ${platform}\nparam vfio_iommu_type1.allow_unsafe_interrupts=Y\nbind ${bdf} vfio-pci\n` +
  `open /dev/vfio/vfio as c\nopen /dev/vfio/${group} as g\nioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nmmap 1M as buf\n`;

// Line 10 is the command after the common prologue.
const vtdFault = (era: string) => dmesgAt(type1(era, 'qemu-q35-vtd', 1, '0000:00:01.0') + 'dma 0000:00:01.0 write iova=0x200000 len=4\n', 10);

describe('VT-d fault lines by era (intel/dmar.c dmar_fault_do_one)', () => {
  // To 5.4: "[%s] Request device [%02x:%02x.%d] fault addr %llx [fault reason %02d] %s".
  it('4.10: no PASID, address without 0x, reason in decimal', () => {
    expect(vtdFault('4.10')).toEqual([
      'DMAR: DRHD: handling fault status reg 2',
      'DMAR: [DMA Write] Request device [00:01.0] fault addr 200000 [fault reason 05] PTE Write access is not set',
    ]);
  });

  // 5.5, "iommu/vt-d: Add Scalable Mode fault information": "PASID %x" with pasid -1.
  it('5.8: PASID ffffffff', () => {
    expect(vtdFault('5.8')[1]).toBe(
      'DMAR: [DMA Write] Request device [00:01.0] PASID ffffffff fault addr 200000 [fault reason 05] PTE Write access is not set',
    );
  });

  // 5.14, 719a19335692 "Tweak the description of a DMA fault" (and 5.15's "Drop 0x prefix").
  it('6.1: NO_PASID, hex address and reason', () => {
    expect(vtdFault('6.1')[1]).toBe(
      'DMAR: [DMA Write NO_PASID] Request device [00:01.0] fault addr 0x200000 [fault reason 0x05] PTE Write access is not set',
    );
  });

  // 6.19 still prints the bus first: "[%02x:%02x.%d]" (Debian's 6.18.x and the 7.0 tree alike).
  it('6.19: no PCI segment', () => {
    expect(vtdFault('6.19')[1]).toBe(
      'DMAR: [DMA Write NO_PASID] Request device [00:01.0] fault addr 0x200000 [fault reason 0x05] PTE Write access is not set',
    );
  });

  // 7.2: "[%04x:%02x:%02x.%d]" with iommu->segment first (recorded on 7.2.13, edu-dma).
  it('7.2: the PCI segment before the bus', () => {
    expect(vtdFault('7.2')[1]).toBe(
      'DMAR: [DMA Write NO_PASID] Request device [0000:00:01.0] fault addr 0x200000 [fault reason 0x05] PTE Write access is not set',
    );
  });

  // dma_frcd_page_addr(): the record holds the page; a read is "DMA Read", reason 0x06.
  it('a read in the middle of a page', () => {
    const l = dmesgAt(type1('6.12', 'qemu-q35-vtd', 1, '0000:00:01.0') + 'dma 0000:00:01.0 read iova=0x200abc len=4\n', 10);
    expect(l[1]).toBe('DMAR: [DMA Read NO_PASID] Request device [00:01.0] fault addr 0x200000 [fault reason 0x06] PTE Read access is not set');
  });

  // `expect dmesg` sees the era's form.
  it('expect dmesg matches the 4.10 line', () => {
    const evs = run_(type1('4.10', 'qemu-q35-vtd', 1, '0000:00:01.0') + 'dma 0000:00:01.0 write iova=0x200000 len=4\nexpect dmesg "fault addr 200000 [fault reason 05]"\n');
    expect(evs[evs.length - 1]).toMatchObject({ type: 'expect', ok: true });
  });
});

// A group VFIO owns (SET_CONTAINER claims it) with no domain yet (no SET_IOMMU) sits in its
// blocking domain (iommu.c __iommu_take_dma_ownership). Line 8 is the `dma` after SET_CONTAINER.
const blockedFault = (era: string) =>
  dmesgAt(
    `kernel ${era}\nplatform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/1 as g\nioctl g SET_CONTAINER c\n` +
      'dma 0000:00:01.0 write iova=0x200000 len=4\n',
    7,
  );

describe('VT-d blocking domain (intel/iommu.c blocking_domain_attach_dev)', () => {
  // 6.2 "iommu/vt-d: Add blocking domain support": device_block_translation() clears the
  // context entry in legacy mode (domain_context_clear), so the request stops there: 0x02.
  it('7.2: a write from a blocked device, reason 0x02', () => {
    expect(blockedFault('7.2')[1]).toBe(
      'DMAR: [DMA Write NO_PASID] Request device [0000:00:01.0] fault addr 0x200000 [fault reason 0x02] Present bit in context entry is clear',
    );
  });

  // Before it the core's blocking domain is an empty UNMANAGED one: the PTE refuses, 0x05.
  it('6.1: the empty fallback domain, reason 0x05', () => {
    expect(blockedFault('6.1')[1]).toBe(
      'DMAR: [DMA Write NO_PASID] Request device [00:01.0] fault addr 0x200000 [fault reason 0x05] PTE Write access is not set',
    );
  });

  // Nobody owns the group's DMA (vfio-pci bound, its group not opened): the default domain,
  // which maps nothing at that IOVA, faults at the PTE.
  it('7.2 without an owner: reason 0x05', () => {
    const l = dmesgAt('kernel 7.2\nplatform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\ndma 0000:00:01.0 read iova=0x200000 len=4\n', 4);
    expect(l[1]).toBe('DMAR: [DMA Read NO_PASID] Request device [0000:00:01.0] fault addr 0x200000 [fault reason 0x06] PTE Read access is not set');
  });
});

describe('VT-d intel_iommu_map width check', () => {
  const map = (era: string) => type1(era, 'qemu-q35-vtd', 1, '0000:00:01.0') + 'ioctl c MAP_DMA flags=READ|WRITE vaddr=buf iova=0x7ffff80000 size=1M\n';

  // Before the IOVA list (5.4) MAP_DMA reaches intel_iommu_map, which prints and returns
  // -EFAULT for the first 4 KiB page past 2^39: max_addr = 0x8000000000 + 0x1000.
  it('4.10 prints the width line and fails with EFAULT', () => {
    const evs = run_(map('4.10'));
    expect(evs.find((e) => e.type === 'syscall' && e.at.line === 10)).toMatchObject({ errno: 14 });
    expect(dmesgAt(map('4.10'), 10)).toEqual([
      'DMAR: intel_iommu_map: iommu width (39) is not sufficient for the mapped address (8000001000)',
    ]);
  });

  // 5.4+: vfio_iommu_iova_dma_valid() refuses it first; the driver is never asked.
  it('5.4 refuses it before the driver: no line', () => {
    expect(dmesgAt(map('5.4'), 10)).toEqual([]);
  });
});

describe('SMMUv3 event records (arm_smmu_evtq_thread)', () => {
  // "event 0x%02x received:" and one "\t0x%016llx" per dword; QEMU 7.2's record: type and
  // StreamID in dword 0, RnW (bit 35) in dword 1, the address in dword 2.
  it('F_TRANSLATION of a write', () => {
    expect(dmesgAt(type1('6.1', 'qemu-virt-smmuv3', 0, '0000:00:01.0') + 'dma 0000:00:01.0 write iova=0x200000 len=4\n', 10)).toEqual([
      'arm-smmu-v3 9050000.smmuv3: event 0x10 received:',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000800000010',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000000200000',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000',
    ]);
  });

  it('a read sets RnW', () => {
    expect(dmesgAt(type1('6.12', 'qemu-virt-smmuv3', 0, '0000:00:01.0') + 'dma 0000:00:01.0 read iova=0x200000 len=4\n', 10)[2]).toBe(
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000800000000',
    );
  });
});

describe('ARM SMMU context faults (arm_smmu_context_fault)', () => {
  const ctxFault = (era: string, dir = 'write') =>
    dmesgAt(type1(era, 'amd-overdrive', 0, '0000:01:00.0') + `dma 0000:01:00.0 ${dir} iova=0x200000 len=4\n`, 10);

  // To 5.1: no CBFRSYNRA.
  it('4.10: fsr, iova, fsynr, cb', () => {
    expect(ctxFault('4.10')).toEqual(['arm-smmu e0a00000.smmu: Unhandled context fault: fsr=0x2, iova=0x00200000, fsynr=0x10, cb=0']);
  });

  // 5.2 "Log CBFRSYNRA register on context fault": the first modelled era after it is 5.4.
  it('5.4: with cbfrsynra', () => {
    expect(ctxFault('5.4')).toEqual(['arm-smmu e0a00000.smmu: Unhandled context fault: fsr=0x2, iova=0x00200000, fsynr=0x10, cbfrsynra=0x100, cb=0']);
  });

  // 6.12 arm_smmu_print_context_fault_info(): the registers decoded on two more lines.
  it('6.12: FSR and FSYNR0 decoded', () => {
    expect(ctxFault('6.12')).toEqual([
      'arm-smmu e0a00000.smmu: Unhandled context fault: fsr=0x2, iova=0x00200000, fsynr=0x10, cbfrsynra=0x100, cb=0',
      'arm-smmu e0a00000.smmu: FSR    = 00000002 [Format=0 TF], SID=0x100',
      'arm-smmu e0a00000.smmu: FSYNR0 = 00000010 [S1CBNDX=0 WNR PLVL=0]',
    ]);
    expect(ctxFault('6.12', 'read')[2]).toBe('arm-smmu e0a00000.smmu: FSYNR0 = 00000000 [S1CBNDX=0 PLVL=0]');
  });

  // "iova=0x%08lx": zero-padded to 8 digits.
  it('iova is printed %08lx', () => {
    expect(dmesgAt(type1('6.1', 'amd-overdrive', 0, '0000:01:00.0') + 'dma 0000:01:00.0 write iova=0x200000 len=4\n', 10)).toEqual([
      'arm-smmu e0a00000.smmu: Unhandled context fault: fsr=0x2, iova=0x00200000, fsynr=0x10, cbfrsynra=0x100, cb=0',
    ]);
  });
});

/** The kernel log lines of the `n`th write fault (1-based) of 00:01.0 on the AMD-Vi host. */
const amdFault = (era: string, n = 1) =>
  dmesgAt(type1(era, 'x86-amd-vi', 1, '0000:00:01.0') + 'dma 0000:00:01.0 write iova=0x200000 len=4\n'.repeat(n), 9 + n);

describe('AMD-Vi IO_PAGE_FAULT lines by era (amd_iommu_report_page_fault)', () => {
  // 4.11 iommu_print_event(): "AMD-Vi: Event logged [" at KERN_ERR, then the record by a
  // printk without KERN_CONT, which 4.9+ stores as its own record.
  it('4.10 and 4.11: two records, device=bus:dev.fn, address %016llx', () => {
    const lines = ['AMD-Vi: Event logged [', 'IO_PAGE_FAULT device=00:01.0 domain=0x0005 address=0x0000000000200000 flags=0x0020]'];
    expect(amdFault('4.10')).toEqual(lines);
    expect(amdFault('4.11')).toEqual(lines);
  });

  // 4.16: dev_err() against the device, no ratelimit in the split form before it.
  it('4.16: dev_err, address %016llx', () => {
    expect(amdFault('4.16')).toEqual(['vfio-pci 0000:00:01.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0005 address=0x0000000000200000 flags=0x0020]']);
  });

  // 780da9e4f5bf "iommu: Use dev_printk() when possible": pci_err() with dev_fmt, 0x%llx.
  it('5.1: pci_err with dev_fmt, address %llx', () => {
    expect(amdFault('5.1')).toEqual(['vfio-pci 0000:00:01.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0005 address=0x200000 flags=0x0020]']);
  });

  // dev_data->rs passes 10 lines an interval; the 11th falls to printk_ratelimit()'s global
  // form (4.16 to 5.x), or to nothing after "Fix I/O page fault logging ratelimit test".
  it('the 11th fault: the global form, then nothing', () => {
    expect(amdFault('4.17', 10)).toEqual(['vfio-pci 0000:00:01.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0005 address=0x0000000000200000 flags=0x0020]']);
    expect(amdFault('4.17', 11)).toEqual(['AMD-Vi: Event logged [IO_PAGE_FAULT device=00:01.0 domain=0x0005 address=0x0000000000200000 flags=0x0020]']);
    expect(amdFault('5.12', 11)).toEqual(['AMD-Vi: Event logged [IO_PAGE_FAULT device=00:01.0 domain=0x0005 address=0x200000 flags=0x0020]']);
    expect(amdFault('6.1', 11)).toEqual([]);
  });

  // printk_ratelimit() passes 10 more; then the fault is not printed at all.
  it('5.4: past both bursts, nothing', () => {
    expect(amdFault('5.4', 20)).toEqual(['AMD-Vi: Event logged [IO_PAGE_FAULT device=00:01.0 domain=0x0005 address=0x200000 flags=0x0020]']);
    expect(amdFault('5.4', 21)).toEqual([]);
  });

  // The split form of 4.11 has no ratelimit.
  it('4.11: every fault is printed', () => {
    expect(amdFault('4.11', 25)).toHaveLength(2);
  });
});

describe('4.11: the MSI doorbell cannot be mapped (iommu_dma_map_msi_msg)', () => {
  // The user mapped the SW_MSI base (no IOVA list before 5.4), so the cookie's first page is
  // taken: iommu_dma_get_msi_page fails and the message is ~0U address_hi, address_lo, data.
  it('the composed message is all ones', () => {
    const evs = run_(
      type1('4.11', 'qemu-virt-smmuv3', 0, '0000:00:01.0') +
        'ioctl c MAP_DMA flags=READ|WRITE vaddr=buf iova=0x8000000 size=64K\nioctl g GET_DEVICE_FD 0000:00:01.0 as dev\neventfd as e\n' +
        'ioctl dev SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e\nexpect ok\nshow doorbells\n',
    );
    const shown = evs.filter((e): e is Ev<'show'> => e.type === 'show')[0].lines;
    expect(shown).toContain(
      '  0000:00:01.0 msi vector 0: writes 0xffffffff to 0xffffffffffffffff (doorbell 0x8090040; mapping the doorbell at IOVA 0x8000000 failed: the message is all ones (address ~0, data ~0))',
    );
  });

  // WARN_ON(!msi_page) reports through __warn() (kernel/panic.c): the cut line, then
  // "WARNING: CPU: %d PID: %d at %s:%d %pS" (the scenario's task, pid 100; %pS without the
  // build's +offset/size). The site is dma-iommu.c:812 in v4.11.
  const collide = (era: string) =>
    dmesgAt(
      type1(era, 'qemu-virt-smmuv3', 0, '0000:00:01.0') +
        'ioctl c MAP_DMA flags=READ|WRITE vaddr=buf iova=0x8000000 size=64K\nioctl g GET_DEVICE_FD 0000:00:01.0 as dev\neventfd as e\n' +
        'ioctl dev SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e\n',
      13,
    );
  it('4.11: the WARN names dma-iommu.c:812', () => {
    expect(collide('4.11')).toEqual([
      '------------[ cut here ]------------',
      'WARNING: CPU: 0 PID: 100 at drivers/iommu/dma-iommu.c:812 iommu_dma_map_msi_msg',
    ]);
  });

  // The WARN_ON moved as the file grew: 888 in 4.17.
  it('4.17: the WARN names dma-iommu.c:888', () => {
    expect(collide('4.17')[1]).toBe('WARNING: CPU: 0 PID: 100 at drivers/iommu/dma-iommu.c:888 iommu_dma_map_msi_msg');
  });

  // Every compose repeats it (WARN_ON, not WARN_ON_ONCE): a second enable warns again.
  it('each compose warns', () => {
    const evs = run_(
      type1('4.11', 'qemu-virt-smmuv3', 0, '0000:00:01.0') +
        'ioctl c MAP_DMA flags=READ|WRITE vaddr=buf iova=0x8000000 size=64K\nioctl g GET_DEVICE_FD 0000:00:01.0 as dev\neventfd as e\n' +
        'ioctl dev SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e\n' +
        'ioctl dev SET_IRQS index=MSI start=0 count=0 flags=DATA_NONE|ACTION_TRIGGER\n' +
        'ioctl dev SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e\n',
    );
    expect(at(evs, 'dmesg', 15).map((e) => e.text)).toEqual([
      '------------[ cut here ]------------',
      'WARNING: CPU: 0 PID: 100 at drivers/iommu/dma-iommu.c:812 iommu_dma_map_msi_msg',
    ]);
  });
});

describe('the group path on an iommufd: open_device before the compat attach (vfio/group.c vfio_df_group_open)', () => {
  // vfio_df_open() binds and runs open_device (vfio_pci_core_enable → pci_enable_device's
  // "enabling device"); only then vfio_iommufd_compat_attach_ioas(), whose failure (a mapping
  // over the SMMU's software MSI window: -EADDRINUSE) closes the device again.
  it('7.2 arm64: "enabling device" with the GET_DEVICE_FD the attach fails', () => {
    const text =
      'kernel 7.2 config=iommufd-compat\nplatform qemu-virt-smmuv3 gic=v3\nbind 0000:00:01.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/1 as g\n' +
      'ioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nmmap 1M as buf\nioctl c MAP_DMA flags=READ|WRITE vaddr=buf iova=0x8000000 size=1M\n' +
      'ioctl g GET_DEVICE_FD 0000:00:01.0 as dev\nexpect errno=EADDRINUSE\n';
    const evs = run_(text);
    expect(at(evs, 'dmesg', 10).map((e) => e.text)).toEqual(['vfio-pci 0000:00:01.0: enabling device (0000 -> 0002)']);
    expect(evs[evs.length - 1]).toMatchObject({ type: 'expect', ok: true });
  });
});
