// SR-IOV on the AMD Overdrive's X540-T2 (seed 002): sriov_totalvfs / sriov_numvfs, VF
// creation and removal, their IOMMU groups, and the kernel's lines on the way. One stanza per
// rule of src/kernel/pci/sriov.ts.

import { describe, expect, it } from 'vitest';
import { ERAS, resolveEra } from '../../src/kernel/era.js';
import { EBUSY, EINVAL, EIO, ENOENT, ENOMEM, ERANGE, errnoName } from '../../src/kernel/errno.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { kstrtou16, SriovCore, type SriovEra } from '../../src/kernel/pci/sriov.js';
import { buildPlatform, findPreset, type PresetData } from '../../src/hw/presets.js';
import type { PciFunction } from '../../src/hw/pci/device.js';
import { REQUESTS } from '../../src/ioctl/requests.js';
import { PCI_EXT_CAP_ID_SRIOV, PCI_SRIOV_CTRL } from '../../src/hw/pci/regs.js';

/** The SR-IOV switches of an era, from the era table. */
const sriovEra = (name: string): SriovEra => ERAS.get(name)!;
const OLD = sriovEra('rfc-v10');

const PF0 = '0000:01:00.0';
const PF1 = '0000:01:00.1';
/** Modelled boot-time VF BAR assignment (each IOV resource is 16 KiB × 64 VFs = 1 MiB). */
const VF_BARS: Record<string, Record<string, string>> = {
  [PF0]: { 0: '0x100000000', 3: '0x100100000' },
  [PF1]: { 0: '0x100200000', 3: '0x100300000' },
};

interface BootOpts {
  /** X540 parameters over the defaults here (TotalVFs 64 as on real X540s, VF BARs placed). */
  x540?: Record<string, unknown>;
  /** Boot-time driver of the PFs (default: the preset's, ixgbe). */
  pfDriver?: string | null;
  /** vfio_pci.enable_sriov=Y (the parameter row is not in params.ts yet). */
  enableSriov?: boolean;
}

function boot(era = 'rfc-v10', o: BootOpts = {}) {
  const p = findPreset('amd-overdrive')!;
  const preset: PresetData = {
    ...p,
    devices: p.devices.map((d) => ({
      ...d,
      params: { ...d.params, totalVfs: 64, vfBars: VF_BARS[d.bdf], ...o.x540 },
      hostDriver: o.pfDriver === undefined ? d.hostDriver : (o.pfDriver ?? undefined),
    })),
  };
  const kernel = new Kernel(resolveEra(era)!, buildPlatform(preset, {}));
  const params = o.enableSriov
    ? { has: () => true, bool: (k: string) => k === 'vfio_pci.enable_sriov' || kernel.params.bool(k) }
    : kernel.params;
  const sriov = new SriovCore({
    era: sriovEra(era),
    log: kernel.log,
    params,
    iommu: kernel.iommu,
    devices: kernel.devices,
    vfioGroups: kernel.vfioGroups,
    msi: kernel.msi,
    pageSize: kernel.platform.pageSize,
    bind: (bdf, driver) => kernel.bind(bdf, driver),
  });
  let mark = kernel.log.lines.length;
  return {
    kernel,
    sriov,
    /** Lines logged since the last call. */
    dmesg(): string[] {
      const l = kernel.log.since(mark).map((x) => x.text);
      mark = kernel.log.lines.length;
      return l;
    },
    write(bdf: string, text: string) {
      return sriov.numvfsWrite(bdf, text);
    },
    /** The bind path as kernel.ts is to run it: the SR-IOV side of unbind/probe, then bind. */
    bind(bdf: string, driver: string) {
      expect(sriov.driverChange(bdf, driver)).toBe(0);
      return kernel.bind(bdf, driver);
    },
    groupOf(bdf: string): number {
      return kernel.devices.get(bdf)!.group.id;
    },
  };
}

const err = (n: number | object) => (typeof n === 'number' && n < 0 ? errnoName(-n) : n);

describe('sysfs files', () => {
  // sriov_totalvfs: driver_max_VFs; ixgbe's probe limits the capability's 64 to 63
  it('totalvfs under ixgbe', () => {
    const m = boot();
    expect(m.sriov.totalvfsRead(PF0)).toBe('63\n');
    expect(m.sriov.numvfsRead(PF0)).toBe('0\n');
  });

  // not a PF (or no device): the attributes do not exist
  it('not a PF', () => {
    const m = boot();
    expect(m.sriov.totalvfsRead('0000:01:10.0')).toBe(-ENOENT);
    expect(m.write('0000:00:00.0', '1')).toBe(-ENOENT);
  });

  // since 4.18 pci_iov_remove() puts driver_max_VFs back when the PF driver unbinds
  it('totalvfs after ixgbe unbinds', () => {
    const old = boot('rfc-v10');
    old.bind(PF0, 'vfio-pci');
    expect(old.sriov.totalvfsRead(PF0)).toBe('63\n');
    const m = boot('5.4');
    m.bind(PF0, 'vfio-pci');
    expect(m.sriov.totalvfsRead(PF0)).toBe('64\n');
  });

  // a PF booted without a driver: TotalVFs (old kernels: driver_max_VFs 0 → TotalVFs)
  it('totalvfs without a driver', () => {
    expect(boot('rfc-v10', { pfDriver: null }).sriov.totalvfsRead(PF0)).toBe('64\n');
    expect(boot('6.12', { pfDriver: null }).sriov.totalvfsRead(PF0)).toBe('64\n');
  });
});

describe('sriov_numvfs_store: parsing and range', () => {
  // kstrtou16(buf, 0): radix prefixes, one trailing newline, nothing else
  it('kstrtou16', () => {
    expect(kstrtou16('4')).toBe(4);
    expect(kstrtou16('4\n')).toBe(4);
    expect(kstrtou16('+4')).toBe(4);
    expect(kstrtou16('0x10')).toBe(16);
    expect(kstrtou16('010')).toBe(8);
    expect(kstrtou16('4\0junk')).toBe(4);
    expect(err(kstrtou16('08'))).toBe('EINVAL');
    expect(err(kstrtou16('0x'))).toBe('EINVAL');
    expect(err(kstrtou16(' 4'))).toBe('EINVAL');
    expect(err(kstrtou16('4 '))).toBe('EINVAL');
    expect(err(kstrtou16('4\n\n'))).toBe('EINVAL');
    expect(err(kstrtou16('-1'))).toBe('EINVAL');
    expect(err(kstrtou16('\n'))).toBe('EINVAL');
    expect(err(kstrtou16('65536'))).toBe('ERANGE');
    expect(err(kstrtou16('99999999999999999999x'))).toBe('ERANGE');
  });

  // a parse failure is kstrtou16's errno; since 5.14 always -EINVAL
  it('parse errors', () => {
    const old = boot('rfc-v10');
    expect(old.write(PF0, 'four')).toBe(-EINVAL);
    expect(old.write(PF0, '70000')).toBe(-ERANGE);
    const m = boot('6.1');
    expect(m.write(PF0, '70000')).toBe(-EINVAL);
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
  it('no driver', () => {
    const a = boot('rfc-v10', { pfDriver: null });
    expect(a.write(PF0, '4')).toBe(-ENOENT);
    expect(a.dmesg()).toEqual(["pci 0000:01:00.0: Driver doesn't support SRIOV configuration via sysfs"]);
    const b = boot('5.4', { pfDriver: null });
    expect(b.write(PF0, '4')).toBe(-ENOENT);
    expect(b.dmesg()).toEqual(['pci 0000:01:00.0: Driver does not support SRIOV configuration via sysfs']);
    const c = boot('6.1', { pfDriver: null });
    expect(c.write(PF0, '4')).toBe(-ENOENT);
    expect(c.dmesg()).toEqual(['pci 0000:01:00.0: no driver bound to device; cannot configure SR-IOV']);
  });

  // vfio-pci before 5.7 has no sriov_configure
  it('vfio-pci PF, rfc-v10', () => {
    const m = boot('rfc-v10');
    m.bind(PF0, 'vfio-pci');
    m.dmesg();
    expect(m.write(PF0, '4')).toBe(-ENOENT);
    expect(m.dmesg()).toEqual(["vfio-pci 0000:01:00.0: Driver doesn't support SRIOV configuration via sysfs"]);
  });

  // 5.7+: vfio_pci_sriov_configure refuses silently unless vfio_pci.enable_sriov=Y
  it('vfio-pci PF, enable_sriov=N', () => {
    const m = boot('6.1');
    m.bind(PF0, 'vfio-pci');
    m.dmesg();
    expect(m.write(PF0, '4')).toBe(-ENOENT);
    expect(m.dmesg()).toEqual([]);
  });

  // enable_sriov=Y: the VFs are captured for vfio-pci (driver_override) and bound to it
  it('vfio-pci PF, enable_sriov=Y', () => {
    const m = boot('6.1', { enableSriov: true });
    m.bind(PF0, 'vfio-pci');
    m.dmesg();
    expect(m.write(PF0, '1')).toBe(1);
    expect(m.dmesg()).toEqual([
      'pci 0000:01:10.0: [8086:1515] type 00 class 0x020000',
      'pci 0000:01:10.0: Adding to iommu group 2',
      'vfio-pci 0000:01:00.0: Captured SR-IOV VF 0000:01:10.0 driver_override',
    ]);
    expect(m.kernel.devices.get('0000:01:10.0')!.driver).toBe('vfio-pci');
    expect(m.kernel.vfioGroups.has(2)).toBe(true);
  });
});

describe('enabling VFs', () => {
  // echo 4 > sriov_numvfs on the seed's kernel: ixgbe's line first, then per VF the IOMMU
  // core's (the PCI core's enumeration line is pr_debug there: kept, not printed); VFs at
  // PF + 0x80 + 2n, new groups from 2 up
  it('rfc-v10: four VFs', () => {
    const m = boot('rfc-v10');
    expect(m.write(PF0, '4\n')).toBe(2);
    expect(m.dmesg()).toEqual([
      'ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 4 VFs',
      'iommu: Adding device 0000:01:10.0 to group 2',
      'iommu: Adding device 0000:01:10.2 to group 3',
      'iommu: Adding device 0000:01:10.4 to group 4',
      'iommu: Adding device 0000:01:10.6 to group 5',
    ]);
    expect(m.kernel.log.lines.map((l) => [l.level, l.text]).filter(([lv]) => lv === 'debug')[0]).toEqual([
      'debug',
      'pci 0000:01:10.0: [8086:1515] type 00 class 0x020000',
    ]);
    expect(m.sriov.numvfsRead(PF0)).toBe('4\n');
    expect(m.sriov.virtfns(PF0)).toEqual(['0000:01:10.0', '0000:01:10.2', '0000:01:10.4', '0000:01:10.6']);
    expect(m.sriov.physfn('0000:01:10.4')).toBe(PF0);
    expect(m.sriov.virtfns(PF0).map((v) => m.groupOf(v))).toEqual([2, 3, 4, 5]);
    expect(m.kernel.devices.get('0000:01:10.0')!.driver).toBe('ixgbevf');
    expect(m.kernel.sysfsRead('/sys/bus/pci/devices/0000:01:10.2/iommu_group')).toBe('../../../kernel/iommu_groups/3\n');
    expect(m.kernel.sysfsRead('/sys/kernel/iommu_groups/3/devices')).toBe('0000:01:10.2\n');
  });

  // the second port's VFs interleave (01:10.1, 01:10.3) and take the next free groups
  it('second PF', () => {
    const m = boot();
    m.write(PF0, '2');
    expect(m.write(PF1, '2')).toBe(1);
    expect(m.sriov.virtfns(PF1)).toEqual(['0000:01:10.1', '0000:01:10.3']);
    expect(m.sriov.virtfns(PF1).map((v) => m.groupOf(v))).toEqual([4, 5]);
    expect(m.dmesg()).toContain('ixgbe 0000:01:00.1 enp1s0f1: SR-IOV enabled with 2 VFs');
  });

  // kstrtou16 base 0: "0x4" is four
  it('hex count', () => expect(boot().write(PF0, '0x4')).toBe(3));

  // 5.0+: the group line is dev_info; 6.8+: the enumeration line names the device type
  it('5.4 and 6.12 lines', () => {
    const a = boot('5.4');
    a.write(PF0, '1');
    expect(a.dmesg()).toEqual([
      'ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 1 VFs',
      'pci 0000:01:10.0: Adding to iommu group 2',
    ]);
    const b = boot('6.12');
    b.write(PF0, '1');
    expect(b.dmesg()).toEqual([
      'ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 1 VFs',
      'pci 0000:01:10.0: [8086:1515] type 00 class 0x020000 PCIe Endpoint',
      'pci 0000:01:10.0: Adding to iommu group 2',
    ]);
    expect(b.kernel.log.lines.at(-2)!.level).toBe('info');
  });

  // some enabled, a different nonzero count: -EBUSY with the PCI core's warning
  it('EBUSY', () => {
    const m = boot();
    m.write(PF0, '4');
    m.dmesg();
    expect(m.write(PF0, '2')).toBe(-EBUSY);
    expect(m.dmesg()).toEqual(['ixgbe 0000:01:00.0: 4 VFs already enabled. Disable before enabling 2 VFs']);
    expect(m.write(PF0, '4')).toBe(1);
  });

  // InitialVFs must equal TotalVFs without VF Migration (sriov_enable: -EIO); the model's
  // default X540 declares TotalVFs 63 with InitialVFs 64, so it cannot enable VFs
  it('InitialVFs != TotalVFs', () => {
    const m = boot('rfc-v10', { x540: { totalVfs: 63 } });
    expect(m.write(PF0, '4')).toBe(-EIO);
    expect(m.dmesg()).toEqual([
      'ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 4 VFs',
      'ixgbe 0000:01:00.0: Failed to enable PCI sriov: -5',
    ]);
    expect(m.sriov.numvfsRead(PF0)).toBe('0\n');
  });

  // VF BARs never assigned at boot: -ENOMEM
  it('IOV resources unassigned', () => {
    const m = boot('rfc-v10', { x540: { vfBars: undefined } });
    expect(m.write(PF0, '4')).toBe(-ENOMEM);
    expect(m.dmesg()).toEqual([
      'ixgbe 0000:01:00.0 enp1s0f0: SR-IOV enabled with 4 VFs',
      'ixgbe 0000:01:00.0: not enough MMIO resources for SR-IOV',
      'ixgbe 0000:01:00.0: Failed to enable PCI sriov: -12',
    ]);
    expect(m.kernel.devices.has('0000:01:10.0')).toBe(false);
  });

  // the ixgbevf-bound VF makes its group non-viable until it is bound to vfio-pci
  it('bind a VF to vfio-pci', () => {
    const m = boot();
    m.write(PF0, '4');
    expect(m.kernel.iommu.groups.get(3)!.ownerCount).toBe(1);
    const r = m.bind('0000:01:10.2', 'vfio-pci');
    expect(r).toEqual({ ret: 3, errno: 0 });
    expect(m.kernel.iommu.groups.get(3)!.ownerCount).toBe(0);
    expect(m.kernel.sysfsRead('/sys/bus/pci/devices/0000:01:10.2/driver')).toBe('../../../bus/pci/drivers/vfio-pci\n');
  });
});

describe('disabling VFs', () => {
  // 0: every VF removed, in order, with the IOMMU core's line; the group numbers free up
  it('rfc-v10: remove and re-enable', () => {
    const m = boot('rfc-v10');
    m.write(PF0, '2');
    m.dmesg();
    expect(m.write(PF0, '0')).toBe(1);
    expect(m.dmesg()).toEqual(['iommu: Removing device 0000:01:10.0 from group 2', 'iommu: Removing device 0000:01:10.2 from group 3']);
    expect(m.kernel.devices.has('0000:01:10.0')).toBe(false);
    expect(m.kernel.iommu.groups.has(2)).toBe(false);
    expect(m.sriov.numvfsRead(PF0)).toBe('0\n');
    m.write(PF0, '1');
    expect(m.groupOf('0000:01:10.0')).toBe(2);
  });

  // 5.0–6.4 log the removal with dev_info; 6.5+ release devices silently
  it('5.4 and 6.12 removal', () => {
    const a = boot('5.4');
    a.write(PF0, '1');
    a.dmesg();
    a.write(PF0, '0');
    expect(a.dmesg()).toEqual(['pci 0000:01:10.0: Removing from iommu group 2']);
    const b = boot('6.12');
    b.write(PF0, '1');
    b.dmesg();
    expect(b.write(PF0, '0')).toBe(1);
    expect(b.dmesg()).toEqual([]);
  });

  // the hardware drops its VFs with VF Enable
  it('VF Enable cleared', () => {
    const m = boot();
    m.write(PF0, '2');
    const pf = m.kernel.devices.get(PF0)!.hw as PciFunction & { virtfns: readonly unknown[] };
    const pos = pf.config.findExtCap(PCI_EXT_CAP_ID_SRIOV)!;
    expect(pf.virtfns.length).toBe(2);
    m.write(PF0, '0');
    expect(pf.config.read(pos + PCI_SRIOV_CTRL, 2)).toBe(0);
    expect(pf.virtfns.length).toBe(0);
  });

  // a VF bound to vfio-pci but not open goes with its VFIO group (its file is closed)
  it('VF bound to vfio-pci, not open', () => {
    const m = boot();
    m.write(PF0, '1');
    m.bind('0000:01:10.0', 'vfio-pci');
    expect(m.write(PF0, '0')).toBe(1);
    expect(m.kernel.vfioGroups.has(2)).toBe(false);
    expect(m.kernel.open(m.kernel.newProcess(), '/dev/vfio/2').errno).toBe(ENOENT);
  });

  // a VF open through VFIO: vfio_del_group_dev would wait for the user; nothing changes
  it('VF open through VFIO', () => {
    const m = boot();
    m.kernel.sysfsWrite('/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y');
    m.write(PF0, '1');
    m.bind('0000:01:10.0', 'vfio-pci');
    const v = openVf(m.kernel, '0000:01:10.0', 2);
    m.dmesg();
    expect(m.write(PF0, '0')).toEqual({ blocked: '0000:01:10.0' });
    expect(m.sriov.numvfsRead(PF0)).toBe('1\n');
    expect(m.dmesg()).toEqual([]);
    m.kernel.close(v.proc, v.device);
    expect(m.write(PF0, '0')).toBe(1);
    // the group file is still open: the VFIO group (and IOMMU group 2) stay, empty
    expect(m.kernel.vfioGroups.get(2)!.devices).toEqual([]);
    expect(m.kernel.iommu.groups.has(2)).toBe(true);
  });

  // binding the PF elsewhere runs ixgbe_remove, which disables SR-IOV
  it('PF rebound', () => {
    const m = boot();
    m.write(PF0, '2');
    m.dmesg();
    m.bind(PF0, 'vfio-pci');
    expect(m.dmesg()).toEqual(['iommu: Removing device 0000:01:10.0 from group 2', 'iommu: Removing device 0000:01:10.2 from group 3']);
    expect(m.sriov.numvfsRead(PF0)).toBe('0\n');
  });
});

describe('the VF as hardware', () => {
  // ID registers read ffff; header BARs 0; no INTx; MSI-X 3 in BAR3; FLR; BARs from the PF
  it('config space and BARs', () => {
    const m = boot();
    m.write(PF0, '2');
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
      [0, 0x1_0000_4000n],
      [3, 0x1_0010_4000n],
    ]);
    // memory decode follows the PF's VF MSE, not the VF's command register
    vf.barWrite(0, 0x100n, 4, 0x1234n);
    expect(vf.busRead('mem', 0x1_0000_4100n, 4)).toBe(0x1234n);
    expect(vf.busRead('mem', 0x1_0000_0100n, 4)).toBeUndefined();
  });

  // the 82599 VF is 8086:10ed
  it('82599 VF', () => {
    const p = findPreset('amd-overdrive')!;
    const preset: PresetData = {
      ...p,
      devices: [{ ...p.devices[0]!, model: '82599es', params: { function: 0, totalVfs: 64, vfBars: VF_BARS[PF0] } }],
    };
    const k = new Kernel(resolveEra('rfc-v10')!, buildPlatform(preset, {}));
    const s = new SriovCore({ era: OLD, log: k.log, params: k.params, iommu: k.iommu, devices: k.devices, vfioGroups: k.vfioGroups, msi: k.msi, pageSize: 4096n, bind: (b, d) => k.bind(b, d) });
    expect(s.numvfsWrite(PF0, '1')).toBe(1);
    expect(k.log.lines.map((l) => l.text)).toContain('pci 0000:01:10.0: [8086:10ed] type 00 class 0x020000');
  });

  // through vfio-pci a VF's ID registers are virtualised from the kernel's IDs
  it('config read through vfio-pci', () => {
    const m = boot();
    m.kernel.sysfsWrite('/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y');
    m.write(PF0, '1');
    m.bind('0000:01:10.0', 'vfio-pci');
    const v = openVf(m.kernel, '0000:01:10.0', 2);
    const out = new Uint8Array(4);
    expect(m.kernel.pread(v.proc, v.device, out, 7n << 40n)).toEqual({ ret: 4, errno: 0 });
    expect(Buffer.from(out).toString('hex')).toBe('86801515');
  });
});

describe('era table', () => {
  // every era the model knows has its SR-IOV row here (mirrors what era.ts is to carry)
  // The switches' boundaries in the era table: group-line text 5.0 (5.4 row), numvfs texts
  // 5.4 and 5.14 (6.1 row), vfio-pci's sriov_configure 5.7 (5.8 row), enumeration line 6.8.
  it('rows', () => {
    const pick = (e: SriovEra) => [e.iommuGroupLog, e.sriovNumvfsLog, e.vfioPciSriovConfigure, e.pciEnumLog];
    expect(['rfc-v10', '4.16', '5.4', '5.8', '6.1', '6.5', '6.12'].map((n) => pick(sriovEra(n)))).toEqual([
      ['pr-info', 'doesnt', false, 'debug'],
      ['pr-info', 'doesnt', false, 'debug'],
      ['dev-info', 'does-not', false, 'debug'],
      ['dev-info', 'does-not', true, 'debug'],
      ['dev-info', 'split', true, 'info'],
      ['dev-info-add', 'split', true, 'info'],
      ['dev-info-add', 'split', true, 'info-type'],
    ]);
  });
});

const nr = (name: string): number => REQUESTS.find((r) => r.name === name)!.nr;

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
