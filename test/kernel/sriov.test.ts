// SR-IOV on the AMD Overdrive's X540-T2 (seed 002): sriov_totalvfs / sriov_numvfs, VF
// creation and removal, their IOMMU groups, and the kernel's lines on the way, all through the
// booted kernel's sysfs and bind paths. One stanza per rule of the PCI core's
// src/kernel/pci/iov.ts and of the PF drivers' SR-IOV sides (src/kernel/drivers/net/ixgbe/
// sriov.ts, src/kernel/vfio-pci/sriov.ts); a rule that changed across eras is checked on the
// last era before the change and the first after (era.ts).

import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, EIO, ENOENT, ENOMEM, ERANGE, errnoName } from '../../src/uapi/errno.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { findPreset, type PresetData } from '../../src/hw/presets.js';
import { boot as bootMachine } from '../../src/machine/boot.js';
import { PCI_EXT_CAP_ID_SRIOV, PCI_SRIOV_CTRL, PCI_SRIOV_SYS_PGSIZE } from '../../src/hw/pci/regs.js';
import { nr } from './fixture.js';

const PF0 = '0000:01:00.0';
const PF1 = '0000:01:00.1';
const VF0 = '0000:01:10.0';
const ENABLE_SRIOV = '/sys/module/vfio_pci/parameters/enable_sriov';

type PresetDevice = PresetData['devices'][number];

/**
 * The AMD Overdrive booted on `era`, its X540 PFs changed by `edit` (model parameters, the
 * boot-time driver). The preset's X540s declare TotalVFs 64 and have their VF BARs assigned.
 */
function boot(era = 'rfc-v10', edit: (d: PresetDevice) => PresetDevice = (d) => d) {
  const p = findPreset('amd-overdrive')!;
  const { kernel } = bootMachine(era, { ...p, devices: p.devices.map(edit) });
  const path = (bdf: string, attr: string) => `/sys/bus/pci/devices/${bdf}/${attr}`;
  let mark = kernel.log.lines.length;
  return {
    kernel,
    /** Lines logged since the last call. */
    dmesg(): string[] {
      const l = kernel.log.since(mark).map((x) => x.text);
      mark = kernel.log.lines.length;
      return l;
    },
    /** A write of sriov_numvfs: bytes written, -errno, or Blocked. */
    write_: (bdf: string, text: string) => kernel.sysfsWrite(path(bdf, 'sriov_numvfs'), text),
    /** A write of sriov_numvfs that returns: bytes written or -errno. */
    write(bdf: string, text: string): number {
      const r = kernel.sysfsWrite(path(bdf, 'sriov_numvfs'), text);
      expect(typeof r).toBe('number');
      return r as number;
    },
    /** A write that must succeed (all its bytes). */
    enable(bdf: string, n: number): void {
      expect(kernel.sysfsWrite(path(bdf, 'sriov_numvfs'), `${n}`)).toBe(`${n}`.length);
    },
    read: (bdf: string, attr: 'sriov_numvfs' | 'sriov_totalvfs') => kernel.sysfsRead(path(bdf, attr)),
    /** Binds to vfio-pci; the group number. */
    bind(bdf: string): number {
      const r = kernel.bind(bdf, 'vfio-pci');
      expect(r.errno).toBe(0);
      return Number(r.ret);
    },
    groupOf: (bdf: string): number => kernel.devices.get(bdf)!.group.id,
  };
}

const noDriver = (d: PresetDevice): PresetDevice => ({ ...d, hostDriver: undefined });
const x540 = (params: Record<string, unknown>) => (d: PresetDevice): PresetDevice => ({ ...d, params: { ...d.params, ...params } });

const err = (n: number | string) => (typeof n === 'number' && n < 0 ? errnoName(-n) : n);

describe('sysfs files', () => {
  // sriov_totalvfs: driver_max_VFs; ixgbe's probe limits the capability's 64 to 63
  it('totalvfs under ixgbe', () => {
    const m = boot();
    expect(m.read(PF0, 'sriov_totalvfs')).toBe('63\n');
    expect(m.read(PF0, 'sriov_numvfs')).toBe('0\n');
  });

  // not a PF (a VF has no SR-IOV capability): the attributes do not exist
  it('not a PF', () => {
    const m = boot();
    m.enable(PF0, 1);
    expect(m.read(VF0, 'sriov_totalvfs')).toBe(-ENOENT);
    expect(m.read(VF0, 'sriov_numvfs')).toBe(-ENOENT);
    expect(m.write(VF0, '1')).toBe(-ENOENT);
  });

  // since 4.18 pci_iov_remove() puts driver_max_VFs back when the PF driver unbinds
  it.each([
    ['5.1', '63\n'],
    ['5.4', '64\n'],
  ])('totalvfs after ixgbe unbinds, %s', (era, total) => {
    const m = boot(era);
    m.bind(PF0);
    expect(m.read(PF0, 'sriov_totalvfs')).toBe(total);
  });

  // a PF booted without a driver: TotalVFs (before 4.18: driver_max_VFs 0 → TotalVFs)
  it.each(['5.1', '5.4'])('totalvfs without a driver, %s', (era) => {
    expect(boot(era, noDriver).read(PF0, 'sriov_totalvfs')).toBe('64\n');
  });
});

describe('sriov_numvfs_store: parsing and range', () => {
  // a parse failure is kstrtou16's errno; since 5.14 always -EINVAL
  it.each([
    ['5.12', ERANGE],
    ['6.1', EINVAL],
  ])('parse errors, %s', (era, tooBig) => {
    const m = boot(era);
    expect(err(m.write(PF0, 'four'))).toBe('EINVAL');
    expect(err(m.write(PF0, '70000'))).toBe(errnoName(tooBig));
    expect(m.dmesg()).toEqual([]);
  });

  // an empty write never reaches the attribute (sysfs_kf_write)
  it('empty write', () => expect(boot().write(PF0, '')).toBe(0));

  // above sriov_totalvfs: -ERANGE, before any driver is asked
  it('above totalvfs', () => {
    const m = boot();
    expect(m.write(PF0, '64')).toBe(-ERANGE);
    expect(m.dmesg()).toEqual([]);
  });

  // the current count: nothing to do, the write succeeds silently
  it('no change', () => {
    const m = boot();
    expect(m.write(PF0, '0\n')).toBe(2);
    expect(m.dmesg()).toEqual([]);
  });
});

describe('sriov_numvfs_store: no driver, no sriov_configure', () => {
  // no driver bound: -ENOENT; the message changed in 4.18ish and split in 5.14
  it.each([
    ['5.1', "pci 0000:01:00.0: Driver doesn't support SRIOV configuration via sysfs"],
    ['5.4', 'pci 0000:01:00.0: Driver does not support SRIOV configuration via sysfs'],
    ['5.12', 'pci 0000:01:00.0: Driver does not support SRIOV configuration via sysfs'],
    ['6.1', 'pci 0000:01:00.0: no driver bound to device; cannot configure SR-IOV'],
  ])('no driver, %s', (era, line) => {
    const m = boot(era, noDriver);
    m.dmesg();
    expect(m.write(PF0, '4')).toBe(-ENOENT);
    expect(m.dmesg()).toEqual([line]);
  });

  // vfio-pci before 5.7 has no sriov_configure (and no enable_sriov); from 5.7
  // vfio_pci_sriov_configure refuses silently while vfio_pci.enable_sriov=N
  it.each([
    ['5.4', -ENOENT, ['vfio-pci 0000:01:00.0: Driver does not support SRIOV configuration via sysfs']],
    ['5.8', 'N\n', []],
  ])('vfio-pci PF, %s', (era, param, lines) => {
    const m = boot(era);
    expect(m.kernel.sysfsRead(ENABLE_SRIOV)).toBe(param);
    m.bind(PF0);
    m.dmesg();
    expect(m.write(PF0, '4')).toBe(-ENOENT);
    expect(m.dmesg()).toEqual(lines);
  });

  // enable_sriov=Y: the VFs are captured for vfio-pci (driver_override) and bound to it
  it('vfio-pci PF, enable_sriov=Y', () => {
    const m = boot('6.1');
    expect(m.kernel.sysfsWrite(ENABLE_SRIOV, 'Y')).toBe(1);
    m.bind(PF0);
    m.dmesg();
    m.enable(PF0, 1);
    expect(m.dmesg()).toEqual([
      'pci 0000:01:10.0: [8086:1515] type 00 class 0x020000',
      'pci 0000:01:10.0: Adding to iommu group 2',
      'vfio-pci 0000:01:00.0: Captured SR-IOV VF 0000:01:10.0 driver_override',
    ]);
    expect(m.kernel.sysfsRead(`/sys/bus/pci/devices/${VF0}/driver`)).toBe('../../../../bus/pci/drivers/vfio-pci\n');
    expect(m.kernel.vfioGroups.has(2)).toBe(true);
  });
});

describe('enabling VFs', () => {
  // echo 4 > sriov_numvfs on the seed's kernel: ixgbe's line first, then per VF the IOMMU
  // core's (the PCI core's enumeration line is pr_debug there: kept, not printed); VFs at
  // PF + 0x80 + 2n, new groups from 2 up
  it('rfc-v10: four VFs', () => {
    const m = boot('rfc-v10');
    m.dmesg();
    expect(m.write(PF0, '4\n')).toBe(2);
    expect(m.dmesg()).toEqual([
      'ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 4 VFs',
      'iommu: Adding device 0000:01:10.0 to group 2',
      'iommu: Adding device 0000:01:10.2 to group 3',
      'iommu: Adding device 0000:01:10.4 to group 4',
      'iommu: Adding device 0000:01:10.6 to group 5',
    ]);
    expect(m.kernel.log.lines.filter((l) => l.level === 'debug').map((l) => l.text)[0]).toBe(
      'pci 0000:01:10.0: [8086:1515] type 00 class 0x020000',
    );
    expect(m.read(PF0, 'sriov_numvfs')).toBe('4\n');
    expect(m.kernel.sriov.virtfns(PF0)).toEqual(['0000:01:10.0', '0000:01:10.2', '0000:01:10.4', '0000:01:10.6']);
    expect(m.kernel.sriov.physfn('0000:01:10.4')).toBe(PF0);
    expect(m.kernel.sriov.virtfns(PF0).map(m.groupOf)).toEqual([2, 3, 4, 5]);
    expect(m.kernel.sysfsRead(`/sys/bus/pci/devices/${VF0}/driver`)).toBe('../../../../bus/pci/drivers/ixgbevf\n');
    expect(m.kernel.sysfsRead('/sys/bus/pci/devices/0000:01:10.2/iommu_group')).toBe('../../../../kernel/iommu_groups/3\n');
    expect(m.kernel.sysfsRead('/sys/kernel/iommu_groups/3/devices')).toBe('0000:01:10.2\n');
  });

  // the second port's VFs interleave (01:10.1, 01:10.3) and take the next free groups
  it('second PF', () => {
    const m = boot();
    m.enable(PF0, 2);
    m.dmesg();
    m.enable(PF1, 2);
    expect(m.kernel.sriov.virtfns(PF1)).toEqual(['0000:01:10.1', '0000:01:10.3']);
    expect(m.kernel.sriov.virtfns(PF1).map(m.groupOf)).toEqual([4, 5]);
    expect(m.dmesg()).toEqual([
      'ixgbe 0000:01:00.1 enp1s0f1: SR-IOV enabled with 2 VFs',
      'iommu: Adding device 0000:01:10.1 to group 4',
      'iommu: Adding device 0000:01:10.3 to group 5',
    ]);
  });

  // kstrtou16 base 0: "0x4" is four
  it('hex count', () => {
    const m = boot();
    expect(m.write(PF0, '0x4')).toBe(3);
    expect(m.read(PF0, 'sriov_numvfs')).toBe('4\n');
  });

  // the group line is pr_info before 5.0, dev_info after; pci_setup_device's line is
  // KERN_DEBUG until 6.1's era, KERN_INFO after, with the device type from 6.8
  it.each([
    ['4.17', ['iommu: Adding device 0000:01:10.0 to group 2']],
    ['5.1', ['pci 0000:01:10.0: Adding to iommu group 2']],
    ['5.12', ['pci 0000:01:10.0: Adding to iommu group 2']],
    ['6.1', ['pci 0000:01:10.0: [8086:1515] type 00 class 0x020000', 'pci 0000:01:10.0: Adding to iommu group 2']],
    ['6.6', ['pci 0000:01:10.0: [8086:1515] type 00 class 0x020000', 'pci 0000:01:10.0: Adding to iommu group 2']],
    ['6.12', ['pci 0000:01:10.0: [8086:1515] type 00 class 0x020000 PCIe Endpoint', 'pci 0000:01:10.0: Adding to iommu group 2']],
  ])('VF lines, %s', (era, lines) => {
    const m = boot(era);
    m.dmesg();
    m.enable(PF0, 1);
    expect(m.dmesg()).toEqual(['ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 1 VFs', ...lines]);
  });

  // some enabled, a different nonzero count: -EBUSY with the PCI core's warning
  it('EBUSY', () => {
    const m = boot();
    m.enable(PF0, 4);
    m.dmesg();
    expect(m.write(PF0, '2')).toBe(-EBUSY);
    expect(m.dmesg()).toEqual(['ixgbe 0000:01:00.0: 4 VFs already enabled. Disable before enabling 2 VFs']);
    expect(m.write(PF0, '4')).toBe(1);
    expect(m.dmesg()).toEqual([]);
  });

  // InitialVFs must equal TotalVFs without VF Migration (sriov_enable: -EIO): an X540 made to
  // declare TotalVFs 63 (real ones, and the model's default, declare 64 with InitialVFs 64)
  it('InitialVFs != TotalVFs', () => {
    const m = boot('rfc-v10', x540({ totalVfs: 63 }));
    m.dmesg();
    expect(m.write(PF0, '4')).toBe(-EIO);
    expect(m.dmesg()).toEqual([
      'ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 4 VFs',
      'ixgbe 0000:01:00.0: Failed to enable PCI sriov: -5',
    ]);
    expect(m.read(PF0, 'sriov_numvfs')).toBe('0\n');
  });

  // VF BARs never assigned at boot: -ENOMEM
  it('IOV resources unassigned', () => {
    const m = boot('rfc-v10', x540({ vfBars: undefined }));
    m.dmesg();
    expect(m.write(PF0, '4')).toBe(-ENOMEM);
    expect(m.dmesg()).toEqual([
      'ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 4 VFs',
      'ixgbe 0000:01:00.0: not enough MMIO resources for SR-IOV',
      'ixgbe 0000:01:00.0: Failed to enable PCI sriov: -12',
    ]);
    expect(m.kernel.devices.has(VF0)).toBe(false);
  });

  // the ixgbevf-bound VF makes its group non-viable until it is bound to vfio-pci
  it('bind a VF to vfio-pci', () => {
    const m = boot();
    m.enable(PF0, 4);
    expect(m.kernel.iommu.groups.get(3)!.ownerCount).toBe(1);
    expect(m.bind('0000:01:10.2')).toBe(3);
    expect(m.kernel.iommu.groups.get(3)!.ownerCount).toBe(0);
    expect(m.kernel.sysfsRead('/sys/bus/pci/devices/0000:01:10.2/driver')).toBe('../../../../bus/pci/drivers/vfio-pci\n');
  });
});

describe('the PF and VF drivers through the bus (pci_match_device, really_probe)', () => {
  const drivers = (m: ReturnType<typeof boot>) => m.kernel.pciDriverNames();
  const driverOf = (m: ReturnType<typeof boot>, bdf: string) => m.kernel.sysfsRead(`/sys/bus/pci/devices/${bdf}/driver`);
  const write = (m: ReturnType<typeof boot>, path: string, text: string) => m.kernel.sysfsWrite(path, text);

  // drivers_probe gives the unbound PF back to ixgbe, whose probe limits driver_max_VFs again
  // (ixgbe_probe: pci_sriov_set_totalvfs(pdev, IXGBE_MAX_VFS_DRV_LIMIT))
  it('ixgbe reprobed through drivers_probe, 5.4', () => {
    const m = boot('5.4');
    expect(m.kernel.unbind(PF0)).toBe(0);
    expect(m.read(PF0, 'sriov_totalvfs')).toBe('64\n');
    expect(write(m, '/sys/bus/pci/drivers_probe', PF0)).toBe(PF0.length);
    expect(driverOf(m, PF0)).toBe('../../../../bus/pci/drivers/ixgbe\n');
    expect(m.read(PF0, 'sriov_totalvfs')).toBe('63\n');
  });

  // ixgbevf is loaded for the first VF it takes (udev's modalias), and stays registered
  it('ixgbevf registered with the first VF, and after the VFs go', () => {
    const m = boot();
    expect(drivers(m)).toEqual(['ixgbe', 'vfio-pci']);
    m.enable(PF0, 2);
    expect(drivers(m)).toEqual(['ixgbe', 'ixgbevf', 'vfio-pci']);
    m.enable(PF0, 0);
    expect(drivers(m)).toEqual(['ixgbe', 'ixgbevf', 'vfio-pci']);
  });

  // ixgbevf_pci_tbl matches a VF without an override: its bind file and drivers_probe take it
  it('a VF back to ixgbevf by its id table', () => {
    const m = boot();
    m.enable(PF0, 2);
    expect(m.kernel.unbind(VF0)).toBe(0);
    expect(write(m, '/sys/bus/pci/drivers/ixgbevf/bind', VF0)).toBe(VF0.length);
    expect(driverOf(m, VF0)).toBe('../../../../bus/pci/drivers/ixgbevf\n');
    expect(m.kernel.unbind(VF0)).toBe(0);
    expect(write(m, '/sys/bus/pci/drivers_probe', VF0)).toBe(VF0.length);
    expect(driverOf(m, VF0)).toBe('../../../../bus/pci/drivers/ixgbevf\n');
    expect(m.kernel.iommu.groups.get(2)!.ownerCount).toBe(1);
  });

  // vfio_pci_bus_notifier(), BUS_NOTIFY_BOUND_DRIVER (5.7): a VF of a vfio-pci PF bound to
  // another driver is warned about, naming the PF's driver since the vfio_pci_core split (5.15);
  // its own VFs bound to vfio-pci are not.
  it.each([
    ['5.12', 'vfio-pci'],
    ['6.1', 'driver vfio-pci'],
  ])('a VF of a vfio-pci PF bound to ixgbevf, %s', (era, pf) => {
    const m = boot(era);
    m.enable(PF0, 1);
    m.enable(PF0, 0);
    m.bind(PF0);
    expect(m.kernel.sysfsWrite(ENABLE_SRIOV, 'Y')).toBe(1);
    m.dmesg();
    m.enable(PF0, 1);
    expect(m.dmesg().filter((l) => l.includes(' bound to '))).toEqual([]);
    expect(m.kernel.unbind(VF0)).toBe(0);
    expect(write(m, `/sys/bus/pci/devices/${VF0}/driver_override`, '\n')).toBe(1);
    expect(write(m, '/sys/bus/pci/drivers_probe', VF0)).toBe(VF0.length);
    expect(driverOf(m, VF0)).toBe('../../../../bus/pci/drivers/ixgbevf\n');
    expect(m.dmesg()).toEqual([`vfio-pci ${PF0}: VF ${VF0} bound to driver ixgbevf while PF bound to ${pf}`]);
  });

  // a VF vfio-pci captured (driver_override): udev loads ixgbevf for its modalias all the same
  // (systemd rules.d/80-drivers.rules: "kmod load $env{MODALIAS}" on every add), but the
  // override keeps it from matching
  it('a captured VF', () => {
    const m = boot('6.1', noDriver);
    expect(m.bind(PF0)).toBe(0);
    expect(m.kernel.sysfsWrite(ENABLE_SRIOV, 'Y')).toBe(1);
    m.enable(PF0, 1);
    expect(driverOf(m, VF0)).toBe('../../../../bus/pci/drivers/vfio-pci\n');
    expect(drivers(m)).toEqual(['ixgbevf', 'vfio-pci']);
    expect(m.kernel.unbind(VF0)).toBe(0);
    expect(write(m, '/sys/bus/pci/drivers/vfio-pci/bind', VF0)).toBe(VF0.length);
    expect(m.kernel.vfioDeviceOf(VF0)?.kdev.bdf).toBe(VF0);
  });
});

describe('disabling VFs', () => {
  // 0: every VF removed, in order, with the IOMMU core's line; the group numbers free up
  it('rfc-v10: remove and re-enable', () => {
    const m = boot('rfc-v10');
    m.enable(PF0, 2);
    m.dmesg();
    m.enable(PF0, 0);
    expect(m.dmesg()).toEqual(['iommu: Removing device 0000:01:10.0 from group 2', 'iommu: Removing device 0000:01:10.2 from group 3']);
    expect(m.kernel.devices.has(VF0)).toBe(false);
    expect(m.kernel.iommu.groups.has(2)).toBe(false);
    expect(m.read(PF0, 'sriov_numvfs')).toBe('0\n');
    m.enable(PF0, 1);
    expect(m.groupOf(VF0)).toBe(2);
  });

  // the removal line: pr_info before 5.0, dev_info after; from 6.5 devices go silently
  it.each([
    ['4.17', ['iommu: Removing device 0000:01:10.0 from group 2']],
    ['5.1', ['pci 0000:01:10.0: Removing from iommu group 2']],
    ['6.3', ['pci 0000:01:10.0: Removing from iommu group 2']],
    ['6.5', []],
  ])('removal line, %s', (era, lines) => {
    const m = boot(era);
    m.enable(PF0, 1);
    m.dmesg();
    m.enable(PF0, 0);
    expect(m.dmesg()).toEqual(lines);
  });

  // the hardware drops its VFs with VF Enable
  it('VF Enable cleared', () => {
    const m = boot();
    m.enable(PF0, 2);
    const pf = m.kernel.devices.get(PF0)!.hw;
    const pos = pf.config.findExtCap(PCI_EXT_CAP_ID_SRIOV)!;
    expect(pf.virtfn?.(1)?.bdf).toBe('0000:01:10.2');
    m.enable(PF0, 0);
    expect(pf.config.read(pos + PCI_SRIOV_CTRL, 2)).toBe(0);
    expect(pf.virtfn?.(0)).toBeUndefined();
  });

  // a VF bound to vfio-pci but not open goes with its VFIO group (its file is closed)
  it('VF bound to vfio-pci, not open', () => {
    const m = boot();
    m.enable(PF0, 1);
    expect(m.bind(VF0)).toBe(2);
    m.enable(PF0, 0);
    expect(m.kernel.vfioGroups.has(2)).toBe(false);
    expect(m.kernel.open(m.kernel.newProcess(), '/dev/vfio/2').errno).toBe(ENOENT);
  });

  // a VF open through VFIO: vfio_del_group_dev would wait for the user; nothing changes
  it('VF open through VFIO', () => {
    const m = boot();
    expect(m.kernel.sysfsWrite('/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y')).toBe(1);
    m.enable(PF0, 1);
    m.bind(VF0);
    const v = openVf(m.kernel, VF0, 2);
    m.dmesg();
    expect(m.write_(PF0, '0')).toEqual({ waits: 'vf-release', device: VF0 });
    expect(m.read(PF0, 'sriov_numvfs')).toBe('1\n');
    expect(m.kernel.sriov.virtfns(PF0)).toEqual([VF0]);
    expect(m.kernel.vfioGroups.get(2)!.devices.map((d) => d.ops.name)).toEqual([VF0]);
    expect(m.dmesg()).toEqual([]);
    expect(m.kernel.close(v.proc, v.device).errno).toBe(0);
    m.enable(PF0, 0);
    // the group file is still open: the VFIO group (and IOMMU group 2) stay, empty
    expect(m.kernel.vfioGroups.get(2)!.devices).toEqual([]);
    expect(m.kernel.iommu.groups.has(2)).toBe(true);
  });

  // rebinding the PF would run ixgbe_remove, whose disable waits for the open VF: blocked,
  // and the PF keeps its driver and its VFs
  it('PF rebound while a VF is open', () => {
    const m = boot();
    expect(m.kernel.sysfsWrite('/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y')).toBe(1);
    m.enable(PF0, 1);
    m.bind(VF0);
    openVf(m.kernel, VF0, 2);
    m.dmesg();
    expect(m.kernel.bind(PF0, 'vfio-pci')).toEqual({ ret: -1, errno: 0, blocked: { waits: 'vf-release', device: VF0 } });
    expect(m.kernel.devices.get(PF0)!.driver).toBe('ixgbe');
    expect(m.read(PF0, 'sriov_numvfs')).toBe('1\n');
    expect(m.dmesg()).toEqual([]);
  });

  // binding the PF elsewhere runs ixgbe_remove, which disables SR-IOV
  it('PF rebound', () => {
    const m = boot();
    m.enable(PF0, 2);
    m.dmesg();
    expect(m.bind(PF0)).toBe(0);
    expect(m.dmesg()).toEqual(['iommu: Removing device 0000:01:10.0 from group 2', 'iommu: Removing device 0000:01:10.2 from group 3']);
    expect(m.read(PF0, 'sriov_numvfs')).toBe('0\n');
  });
});

describe('the VF as hardware', () => {
  // ID registers read ffff; header BARs 0; no INTx; MSI-X 3 in BAR3; FLR; BARs from the PF's
  // IOV resources (the preset's 0x8100000000 and 0x8100100000) plus one VF BAR per VF
  it('config space and BARs', () => {
    const m = boot();
    m.enable(PF0, 2);
    const vf = m.kernel.devices.get('0000:01:10.2')!.hw;
    expect(vf.config.read(0, 4)).toBe(0xffffffff);
    expect([vf.vendorId, vf.deviceId]).toEqual([0x8086, 0x1515]);
    expect(vf.config.read(0x10, 4)).toBe(0);
    expect(vf.config.read(0x3d, 1)).toBe(0);
    expect(vf.interruptPin).toBe(0);
    expect(vf.msix).toEqual({ offset: 0x70, tableSize: 3, tableBar: 3, tableOffset: 0, pbaBar: 3, pbaOffset: 0x2000 });
    expect(vf.resetMethods).toEqual(['flr']);
    expect(vf.physfn).toBe(m.kernel.devices.get(PF0)!.hw);
    expect(vf.bars.map((b) => [b.index, b.base])).toEqual([
      [0, 0x81_0000_4000n],
      [3, 0x81_0010_4000n],
    ]);
    // memory decode follows the PF's VF MSE, not the VF's command register
    // (0x200: a plain register; 0x100 is VTEICR, write-1-to-clear)
    vf.barWrite(0, 0x200n, 4, 0x1234n);
    expect(vf.busRead('mem', 0x81_0000_4200n, 4)).toBe(0x1234n);
    expect(vf.busRead('mem', 0x81_0000_0100n, 4)).toBeUndefined();
  });

  // the 82599 VF is 8086:10ed
  it('82599 VF', () => {
    const m = boot('6.1', (d) => ({ ...d, model: '82599es' }));
    m.dmesg();
    m.enable(PF0, 1);
    expect(m.dmesg()).toEqual([
      'ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 1 VFs',
      'pci 0000:01:10.0: [8086:10ed] type 00 class 0x020000',
      'pci 0000:01:10.0: Adding to iommu group 2',
    ]);
  });

  // through vfio-pci a VF's ID registers are virtualised from the kernel's IDs
  it('config read through vfio-pci', () => {
    const m = boot();
    expect(m.kernel.sysfsWrite('/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y')).toBe(1);
    m.enable(PF0, 1);
    m.bind(VF0);
    const v = openVf(m.kernel, VF0, 2);
    const out = new Uint8Array(4);
    expect(m.kernel.pread(v.proc, v.device, out, 7n << 40n)).toEqual({ ret: 4, errno: 0 });
    expect(Buffer.from(out).toString('hex')).toBe('86801515');
  });
});

// The model runs sriov_init() when a function is first used rather than at boot
// (PciIov.enumerate), on the shipped presets whose functions are built on first use: what a
// PF shows must not depend on when that is.
describe('enumeration on first use', () => {
  // sriov_init(): System Page Size = the smallest supported size >= PAGE_SIZE, written before
  // anyone reads the capability: 64 KiB (0x10) of the X540's 0x553 on a 64 KiB-page powernv
  it('System Page Size on powernv, the PF read directly', () => {
    const { kernel } = bootMachine('6.1', 'powernv');
    const cfg = kernel.devices.get('0001:01:00.0')!.hw.config;
    expect(cfg.read(cfg.findExtCap(PCI_EXT_CAP_ID_SRIOV)! + PCI_SRIOV_SYS_PGSIZE, 4)).toBe(0x10);
  });

  // the driver sriov_init()'s probe records is the one bound at boot (ixgbe: driver_max_VFs
  // 63), however much happened on the machine before the PF was first used
  it('the second X540 port used last', () => {
    const { kernel } = bootMachine('5.1', 'amd-overdrive');
    const numvfs = (bdf: string) => `/sys/bus/pci/devices/${bdf}/sriov_numvfs`;
    expect(kernel.sysfsWrite(numvfs(PF0), '2')).toBe(1);
    expect(kernel.bind(PF0, 'vfio-pci').errno).toBe(0);
    expect(kernel.sysfsRead(`/sys/bus/pci/devices/${PF1}/sriov_totalvfs`)).toBe('63\n');
    expect(kernel.sysfsRead(numvfs(PF1))).toBe('0\n');
  });

  // a PF whose driver is unbound before its first use: pci_iov_remove() under the boot driver
  // (since 4.18 driver_max_VFs back to TotalVFs 64; before, ixgbe's 63 stays)
  it.each([
    ['5.1', '63\n'],
    ['5.4', '64\n'],
  ])('unbound before first use, %s', (era, total) => {
    const { kernel } = bootMachine(era, 'amd-overdrive');
    expect(kernel.unbind(PF1)).toBe(0);
    expect(kernel.sysfsRead(`/sys/bus/pci/devices/${PF1}/sriov_totalvfs`)).toBe(total);
  });
});

/** Container + group + TYPE1v2 + device fd for a device bound to vfio-pci. */
function openVf(kernel: Kernel, bdf: string, group: number) {
  const proc = kernel.newProcess();
  const container = Number(kernel.open(proc, '/dev/vfio/vfio').ret);
  const g = Number(kernel.open(proc, `/dev/vfio/${group}`).ret);
  const fdBuf = new Uint8Array(4);
  new DataView(fdBuf.buffer).setInt32(0, container, true);
  expect(kernel.ioctl(proc, g, nr('VFIO_GROUP_SET_CONTAINER'), { value: 1n, buf: fdBuf }).errno).toBe(0);
  expect(kernel.ioctl(proc, container, nr('VFIO_SET_IOMMU'), { value: 3n }).errno).toBe(0);
  const name = new TextEncoder().encode(`${bdf}\0`);
  const r = kernel.ioctl(proc, g, nr('VFIO_GROUP_GET_DEVICE_FD'), { value: 1n, buf: name });
  expect(r.errno).toBe(0);
  return { proc, container, group: g, device: Number(r.ret) };
}
