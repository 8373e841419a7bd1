// The `why:` notes and `show` explanations: each names the rule that really decided, in the
// era's terms (issue 11, "Explanations that are right").

import { describe, expect, it } from 'vitest';
import { parseScript } from '../../src/script/parser.js';
import { Runner } from '../../src/script/runner.js';
import type { RunEvent } from '../../src/script/events.js';

function run_(text: string): RunEvent[] {
  const r = new Runner();
  r.run(parseScript(text, 't.vfio'));
  return r.events;
}

/** The lines of the notes of the scenario's last command. */
function notes(text: string): string[] {
  const evs = run_(text);
  const last = evs[evs.length - 1].at.line;
  return evs.filter((e): e is Extract<RunEvent, { type: 'note' }> => e.type === 'note' && e.at.line === last).flatMap((e) => e.lines);
}

/** The lines of the scenario's (last) show. */
function shown(text: string): string[] {
  const s = run_(text).filter((e): e is Extract<RunEvent, { type: 'show' }> => e.type === 'show');
  return s[s.length - 1].lines;
}

// q35 group 3: the SATA controller bound to vfio-pci, LPC and SMBus kept by their drivers.
const NOT_VIABLE = (era: string) =>
  `kernel ${era}\nplatform qemu-q35-vtd\nbind 0000:00:1f.2 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/3 as g\n`;

describe('viability', () => {
  // 5.19+: SET_CONTAINER claims DMA ownership; the refusal is viability, not interrupts.
  it('SET_CONTAINER -EPERM on 6.1 is iommu_group_claim_dma_owner()', () => {
    expect(notes(NOT_VIABLE('6.1') + 'ioctl g SET_CONTAINER c\n')).toEqual([
      'group 3 (0000:00:1f.0, 0000:00:1f.2, 0000:00:1f.3): not viable — attach refused',
      "  rule (kernel 6.1): iommu_group_claim_dma_owner() (5.19+: VFIO claims the group's DMA at SET_CONTAINER; -EPERM while a kernel driver uses the DMA API on any device of the group)",
      "  - 0000:00:1f.0: bound to lpc_ich, which uses the DMA API (owns the group's DMA)",
      '  - 0000:00:1f.2: bound to vfio-pci (driver_managed_dma)',
      "  - 0000:00:1f.3: bound to i801_smbus, which uses the DMA API (owns the group's DMA)",
      '  unbind the devices that use the DMA API (or bind them to vfio-pci) to make the group viable',
    ]);
  });

  // Before 5.19: the group joins, GET_DEVICE_FD is -EINVAL by vfio_group_viable().
  it('GET_DEVICE_FD -EINVAL on 5.4 is vfio_group_viable()', () => {
    expect(notes(NOT_VIABLE('5.4') + 'ioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nioctl g GET_DEVICE_FD 0000:00:1f.2\n')).toEqual([
      'group 3 (0000:00:1f.0, 0000:00:1f.2, 0000:00:1f.3): not viable — no device fd',
      '  rule (kernel 5.4): vfio_group_viable() (before 5.19: every device of the group bound to a VFIO driver, to pci-stub, or to none; GET_DEVICE_FD is -EINVAL until then)',
      '  - 0000:00:1f.0: bound to lpc_ich, which uses the DMA API (not a VFIO driver)',
      '  - 0000:00:1f.2: bound to vfio-pci',
      '  - 0000:00:1f.3: bound to i801_smbus, which uses the DMA API (not a VFIO driver)',
      '  unbind the devices that use the DMA API (or bind them to vfio-pci) to make the group viable',
    ]);
  });

  // show verdict: viability comes before the interrupt verdict, and overrides its outcome.
  it('show verdict on 6.1 names viability, then refuses whatever the interrupt rule says', () => {
    const lines = shown(NOT_VIABLE('6.1') + 'ioctl g SET_CONTAINER c\nshow verdict\n');
    expect(lines.slice(0, 2)).toEqual([
      'group 3 (0000:00:1f.0, 0000:00:1f.2, 0000:00:1f.3): not viable — attach refused',
      "  rule (kernel 6.1): iommu_group_claim_dma_owner() (5.19+: VFIO claims the group's DMA at SET_CONTAINER; -EPERM while a kernel driver uses the DMA API on any device of the group)",
    ]);
    expect(lines[6]).toBe('group 3 (0000:00:1f.0, 0000:00:1f.2, 0000:00:1f.3): interrupts judged isolated — attach refused all the same: the group is not viable (above)');
  });

  // Before 5.19 the attach goes through; the interrupt verdict stands, viability denies the fd.
  it('show verdict on 5.4 keeps the attach verdict beside the viability one', () => {
    const lines = shown(NOT_VIABLE('5.4') + 'ioctl g SET_CONTAINER c\nshow verdict\n');
    expect(lines[0]).toBe('group 3 (0000:00:1f.0, 0000:00:1f.2, 0000:00:1f.3): not viable — no device fd');
    expect(lines[6]).toBe('group 3 (0000:00:1f.0, 0000:00:1f.2, 0000:00:1f.3): interrupts judged isolated — attach allowed');
  });

  // A GET_DEVICE_FD refused for want of a container is not about viability: no note.
  it('GET_DEVICE_FD -EINVAL without a container has no note', () => {
    expect(notes(NOT_VIABLE('5.4') + 'ioctl g GET_DEVICE_FD 0000:00:1f.2\n')).toEqual([]);
  });
});

const Q35_TYPE1 =
  'kernel 6.12\nplatform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/1 as g\nioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nmmap 2M as buf\n';

describe('valid IOVA list', () => {
  // vfio_iommu_iova_dma_valid(): a reserved region cuts the list.
  it('MAP_DMA in the interrupt window names the region', () => {
    expect(notes(Q35_TYPE1 + 'ioctl c MAP_DMA flags=READ|WRITE vaddr=buf iova=0xfee00000 size=4K\n')).toEqual([
      'MAP_DMA 0xfee00000-0xfee00fff is not inside one range of the valid IOVA list (vfio_iommu_iova_dma_valid(), 5.4+)',
      '  valid IOVA ranges: 0x0-0xfedfffff, 0xfef00000-0x7fffffffff',
      '  - overlaps the reserved region 0xfee00000-0xfeefffff (msi) of group 1: interrupt window (not translated)',
    ]);
  });

  // The domain's aperture (aw-bits 39) ends the list.
  it('MAP_DMA past the aperture names the aperture', () => {
    expect(notes(Q35_TYPE1 + 'ioctl c MAP_DMA flags=READ|WRITE vaddr=buf iova=0x8000000000 size=4K\n')).toEqual([
      'MAP_DMA 0x8000000000-0x8000000fff is not inside one range of the valid IOVA list (vfio_iommu_iova_dma_valid(), 5.4+)',
      '  valid IOVA ranges: 0x0-0xfedfffff, 0xfef00000-0x7fffffffff',
      "  - outside the aperture 0x0-0x7fffffffff of group 1's domain (dmar0)",
    ]);
  });

  // An unaligned IOVA is refused before the list is consulted: no note.
  it('MAP_DMA unaligned has no note', () => {
    expect(notes(Q35_TYPE1 + 'ioctl c MAP_DMA flags=READ|WRITE vaddr=buf iova=0x8000000100 size=4K\n')).toEqual([]);
  });
});

describe('show', () => {
  // The ITS preset with edu attached to an IOAS through the cdev and one MSI vector set.
  const attachedMsi = (era: string) =>
    `kernel ${era} config=iommufd\nplatform qemu-virt-smmuv3 gic=v3\nbind 0000:00:01.0 vfio-pci\nopen /dev/iommu as fd\n` +
    'open /dev/vfio/devices/vfio0 as dev\nioctl dev BIND_IOMMUFD iommufd=fd\nioctl fd IOMMU_IOAS_ALLOC\nioctl dev ATTACH_IOMMUFD_PT pt_id=2\n' +
    'pwrite dev region=CONFIG offset=0x4 data=0701\neventfd as e\nioctl dev SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e\n';

  // Until 6.14 iommufd_group_setup_msi() gives the HWPT's domain dma-iommu's MSI cookie; from
  // 6.15 iommufd_sw_msi() keeps the ITS page at sw_msi_start + pgoff * PAGE_SIZE and
  // iommufd_sw_msi_install() maps it into every paging HWPT (the first page: 0x8000000).
  it('show doorbells and domains say who maps the doorbell, by era', () => {
    const vector = (era: string) => shown(attachedMsi(era) + 'show doorbells\n')[1];
    expect(vector('6.12')).toBe('  0000:00:01.0 msi vector 0: writes 0x0 to 0x8000040 (doorbell 0x8090040; software MSI cookie: IOVA 0x8000000 in the SW_MSI window)');
    expect(vector('6.15')).toBe(
      '  0000:00:01.0 msi vector 0: writes 0x0 to 0x8000040 (doorbell 0x8090040; iommufd sw_msi: IOVA 0x8000000 (sw_msi_start + pgoff * PAGE_SIZE), installed in every paging HWPT the group attaches)',
    );
    const domain = (era: string) => shown(attachedMsi(era) + 'show domains\n')[0].replace(/.*aperture [^,]*, /, '');
    expect(domain('6.12')).toBe('MSI cookie at 0x8000000 (1 doorbell page(s))');
    expect(domain('6.15')).toBe("iommufd's sw_msi map at 0x8000000 (1 doorbell page(s))");
    // VFIO type1 on 6.15 still takes dma-iommu's cookie (vfio_iommu_type1_attach_group).
    const type1 =
      'kernel 6.15\nplatform qemu-virt-smmuv3 gic=v3\nbind 0000:00:01.0 vfio-pci as g\nopen /dev/vfio/vfio as c\nopen /dev/vfio/1 as grp\n' +
      'ioctl grp SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\nioctl grp GET_DEVICE_FD 0000:00:01.0 as dev\npwrite dev region=CONFIG offset=0x4 data=0701\n' +
      'eventfd as e\nioctl dev SET_IRQS index=MSI start=0 flags=DATA_EVENTFD|ACTION_TRIGGER data=e\nshow doorbells\n';
    expect(shown(type1)[1]).toBe('  0000:00:01.0 msi vector 0: writes 0x0 to 0x8000040 (doorbell 0x8090040; software MSI cookie: IOVA 0x8000000 in the SW_MSI window)');
  });

  // The IOAS's own reserved tree, owner by owner: the attached device's regions (the SW_MSI
  // window; iopt_table_enforce_dev_resv_regions) and the domain's IOVA beyond its 48-bit
  // aperture (iopt_table_add_domain); IOMMU_IOAS_ALLOW_IOVAS's ranges beside them.
  it('show reserved lists each IOAS reservation with its owner', () => {
    const text =
      attachedMsi('6.15') +
      'ioctl fd IOMMU_IOAS_ALLOC\nmmap 4K as r\nstore r data=0000004000000000\nstore r+8 data=ffffff7f00000000\n' +
      'ioctl fd IOMMU_IOAS_ALLOW_IOVAS ioas_id=4 num_iovas=1 allowed_iovas=r\nshow reserved\n';
    expect(shown(text).slice(4)).toEqual([
      'iommufd (fd 3), IOAS 2:',
      '  0x8000000-0x80fffff by device 1 (0000:00:01.0): msi (software-managed) — software-managed MSI window (MSI_IOVA_BASE)',
      '  0x1000000000000-0xffffffffffffffff by domain 1 (HWPT 3): beyond its aperture',
      '  allowed: any IOVA (no IOMMU_IOAS_ALLOW_IOVAS)',
      'iommufd (fd 3), IOAS 4:',
      '  nothing reserved',
      '  allowed (IOMMU_IOAS_ALLOW_IOVAS): 0x40000000-0x7fffffff',
    ]);
  });

  // The proposed series: a device's SW_MSI_START/SIZE is pending until both are set and it
  // attaches; then its window is what the IOAS reserves, in place of the driver's SW_MSI.
  it('show reserved names the user MSI windows (sw-msi-v2)', () => {
    const text =
      'kernel sw-msi-v2 config=iommufd\nplatform qemu-virt-smmuv3 gic=v3\nbind 0000:00:01.0 vfio-pci\nbind 0000:00:02.0 vfio-pci\n' +
      'open /dev/iommu as fd\nopen /dev/vfio/devices/vfio0 as dev\nopen /dev/vfio/devices/vfio1 as nic\n' +
      'ioctl dev BIND_IOMMUFD iommufd=fd\nioctl nic BIND_IOMMUFD iommufd=fd\n' +
      'ioctl fd IOMMU_OPTION option_id=SW_MSI_START op=SET object_id=1 val64=0x10000000\n' +
      'ioctl fd IOMMU_OPTION option_id=SW_MSI_SIZE op=SET object_id=1 val64=2\n' +
      'ioctl fd IOMMU_OPTION option_id=SW_MSI_START op=SET object_id=2 val64=0x30000000\nioctl fd IOMMU_IOAS_ALLOC\n';
    const pending = shown(text + 'show reserved\n');
    expect(pending.slice(-2)).toEqual([
      'iommufd (fd 3), device 1 (0000:00:01.0): SW_MSI_START 0x10000000, SW_MSI_SIZE 2 (MiB): replaces the SW_MSI window when it attaches',
      "iommufd (fd 3), device 2 (0000:00:02.0): SW_MSI_START 0x30000000, SW_MSI_SIZE not set: the driver's SW_MSI window stays until both are set",
    ]);
    const attached = shown(text + 'ioctl dev ATTACH_IOMMUFD_PT pt_id=3\nshow reserved\n');
    expect(attached.slice(4, 6)).toEqual([
      'iommufd (fd 3), IOAS 3:',
      "  0x10000000-0x101fffff by device 1 (0000:00:01.0): msi (software-managed) — the device's IOMMU_OPTION_SW_MSI_START/SIZE window, in place of the driver's (software-managed MSI window (MSI_IOVA_BASE))",
    ]);
    expect(attached[8]).toBe('iommufd (fd 3), device 1 (0000:00:01.0): SW_MSI_START 0x10000000, SW_MSI_SIZE 2 (MiB): reserved in the IOAS it is attached to');
  });

  // 4.10 has no iommu_get_resv_regions(): no software MSI window, only the hardware's.
  it('show reserved on 4.10', () => {
    expect(shown('kernel 4.10\nplatform qemu-virt-smmuv3\nbind 0000:00:01.0 vfio-pci\nshow reserved\n')).toEqual([
      "kernel 4.10 has no reserved regions (iommu_get_resv_regions(), 4.11+); the hardware's fixed windows:",
      'group 0:',
      '  none',
      'group 1:',
      '  none',
    ]);
  });

  // DOMAIN_ATTR_MSI_MAPPING is the series' attribute; upstream maps doorbells in SW_MSI.
  it('show verdict names the MSI mapping in the era terms', () => {
    const line = (era: string) =>
      shown(`kernel ${era}\nplatform qemu-virt-smmuv3\nbind 0000:00:01.0 vfio-pci\nshow verdict\n`).find((l) => l.includes('MSI writes are translated'));
    expect(line('6.1')).toBe(
      '  - smmu0: MSI writes are translated, so doorbells must be mapped in the domain (by the kernel, in the IOMMU_RESV_SW_MSI region: iommu_get_msi_cookie()); that says nothing about isolation',
    );
    expect(line('rfc-v10')).toBe(
      '  - smmu0: MSI writes are translated, so doorbells must be mapped in the domain (DOMAIN_ATTR_MSI_MAPPING: in the window the user registers); that says nothing about isolation',
    );
    expect(line('4.10')).toBe(
      '  - smmu0: MSI writes are translated, so doorbells must be mapped in the domain (nothing in this kernel maps them: MSIs through this IOMMU fault); that says nothing about isolation',
    );
  });
});

describe('MSI with no window in the series', () => {
  const V10 =
    'kernel rfc-v10\nplatform amd-overdrive\nparam vfio_iommu_type1.allow_unsafe_interrupts=Y\nbind 0000:01:00.0 vfio-pci\n' +
    'open /dev/vfio/vfio as c\nopen /dev/vfio/0 as g\nioctl g SET_CONTAINER c\nioctl c SET_IOMMU TYPE1v2\n' +
    'ioctl g GET_DEVICE_FD 0000:01:00.0 as dev\neventfd as e0\neventfd as e1\n';

  // v10 behind the ARM SMMU: msi_domain_alloc_irqs() cannot map the GICv2m doorbell without
  // the user's window, so enabling MSI is -EINVAL; the note says which doorbell and what to do.
  it('SET_IRQS -EINVAL names the missing window', () => {
    expect(notes(V10 + 'ioctl dev SET_IRQS index=MSI start=0 count=1 flags=DATA_EVENTFD|ACTION_TRIGGER data=e0\n')).toEqual([
      '0000:01:00.0: smmu0 translates MSI writes, so its doorbell must be mapped in the domain, in the MSI window the user registers, and none is registered',
      '  rule (kernel rfc-v10): msi_domain_alloc_irqs() maps the doorbell with iommu_msi_get_doorbell_iova(), -EINVAL while no window is set; MSI and MSI-X cannot be enabled',
      '  - v2m0: doorbell 0xe1180000 (4 bytes)',
      "  register it first: MAP_DMA with flags=RESERVED_MSI_IOVA, of the size GET_INFO's MSI_GEOMETRY capability gives",
    ]);
  });

  // Two vectors on the X540's one-vector MSI: vfio_set_irqs_validate_and_prepare() refuses it
  // before any vector is allocated, so the window is not the reason and no note is given.
  it('an -EINVAL of the range has no window note', () => {
    const evs = run_(V10 + 'ioctl dev SET_IRQS index=MSI start=0 count=2 flags=DATA_EVENTFD|ACTION_TRIGGER data=e0,e1\nexpect errno=EINVAL\n');
    expect(evs[evs.length - 1]).toMatchObject({ type: 'expect', ok: true });
    expect(evs.filter((e) => e.type === 'note')).toEqual([]);
  });
});

describe('IOMMU faults in the kernel log', () => {
  // dmar_fault(): the status register line, then the record; `expect dmesg` sees both.
  it('VT-d fault is two kernel lines', () => {
    const evs = run_(Q35_TYPE1 + 'dma 0000:00:01.0 write iova=0x100000 len=4\nexpect dmesg "DMAR: DRHD: handling fault status reg 2"\n');
    expect(evs.filter((e) => e.type === 'dmesg').map((e) => (e as { text: string }).text)).toEqual([
      'DMAR: DRHD: handling fault status reg 2',
      'DMAR: [DMA Write NO_PASID] Request device [00:01.0] fault addr 0x100000 [fault reason 0x05] PTE Write access is not set',
    ]);
    expect(evs[evs.length - 1]).toMatchObject({ type: 'expect', ok: true });
  });
});

describe('MSI-X labels', () => {
  // A vector of a function with MSI-X is labelled MSI-X, enabled or not.
  it('unenabled MSI-X vector', () => {
    const evs = run_('kernel 6.12\nplatform qemu-q35-vtd\nbind 0000:00:02.0 vfio-pci\nmsi 0000:00:02.0 vector=0\n');
    expect(evs.filter((e) => e.type === 'hw').map((e) => (e as { text: string }).text)).toEqual([
      '0000:00:02.0 MSI-X vector 0: not enabled (no message programmed), nothing written',
    ]);
  });
});

// iommufd decides isolation at bind (iommufd_device_bind, 6.3+), with its own
// allow_unsafe_interrupts; the doorbell's IOVA is the era's (cookie ≤6.14, sw_msi 6.15+).
const V2M_CDEV = (era: string) =>
  `kernel ${era} config=iommufd\nplatform qemu-virt-smmuv3 gic=v2\nbind 0000:00:01.0 vfio-pci\nopen /dev/iommu as i\nopen /dev/vfio/devices/vfio0 as dev\n`;

describe('iommufd', () => {
  it('BIND_IOMMUFD -EPERM on GICv2m is iommufd_device_bind()', () => {
    const lines = notes(V2M_CDEV('6.12') + 'ioctl dev BIND_IOMMUFD iommufd=i\n');
    expect(lines.slice(0, 3)).toEqual([
      'group 0 (0000:00:01.0): interrupts judged NOT isolated — bind refused',
      '  rule (kernel 6.12, iommufd): iommufd_device_bind(): iommu_group_has_isolated_msi(group) || iommufd.allow_unsafe_interrupts (6.3+: decided at bind, for every device of the group)',
      '  - 0000:00:01.0: MSIs to v2m (GICv2m) are NOT isolated',
    ]);
  });

  it('show verdict names the doorbell placement of the era', () => {
    const bound = (era: string) => shown(V2M_CDEV(era) + 'param iommufd.allow_unsafe_interrupts=Y\nioctl dev BIND_IOMMUFD iommufd=i\nshow verdict\n');
    const placement = (ls: string[]) => ls.filter((l) => l.startsWith('  - doorbell IOVA:')).map((l) => l.split(':')[1].trim().split(' ')[0]);
    expect(placement(bound('6.12'))).toEqual(['iommufd_group_setup_msi()']);
    expect(placement(bound('6.15'))).toEqual(['iommufd_sw_msi()']);
    expect(bound('6.15')[0]).toBe('group 1 (0000:00:01.0): interrupts judged NOT isolated — bind allowed by allow_unsafe_interrupts');
  });
});
