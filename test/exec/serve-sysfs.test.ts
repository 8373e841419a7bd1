// The directory listings the served model gives opendir/readdir under exec (serve-sysfs.ts
// sysfsList): only what the lookup serves, each entry with its node type.

import { describe, expect, test } from 'vitest';
import { boot } from '../../src/machine/boot.js';
import { NODE } from '../../src/machine/serve-protocol.js';
import { readlinkOf, sysfsList, sysfsLookup, type DirEntry } from '../../src/machine/serve-sysfs.js';
import { ENOENT, ERRNO } from '../../src/uapi/errno.js';

const names = (l: DirEntry[] | number | undefined): string[] | number | undefined => (Array.isArray(l) ? l.map((e) => `${e.name}/${e.type}`) : l);

describe('sysfsList', () => {
  // an SR-IOV PF (the Overdrive's X540, bound to ixgbe at boot): its sriov_* attributes and
  // the driver link are listed; group numbers in numeric order
  test('X540 PF on amd-overdrive: sriov files and the driver link', () => {
    const { kernel } = boot('rfc-v10', 'amd-overdrive');
    const links = new Set(['driver', 'iommu_group']);
    const attrs = ['class', 'config', 'device', 'driver', 'driver_override', 'iommu_group', 'irq', 'resource', 'revision', 'sriov_numvfs', 'sriov_totalvfs', 'subsystem_device', 'subsystem_vendor', 'vendor'];
    expect(names(sysfsList(kernel, '/sys/bus/pci/devices/0000:01:00.0'))).toEqual(attrs.map((n) => `${n}/${links.has(n) ? NODE.LNK : NODE.REG}`));
    const groups = sysfsList(kernel, '/sys/kernel/iommu_groups');
    expect(names(groups)).toEqual(kernel.groupList().map((g) => `${g.id}/${NODE.DIR}`));
  });

  // a device with no driver has no driver link; an edu has no SR-IOV files
  test('edu on q35, unbound: no driver entry, no sriov files', () => {
    const { kernel } = boot('6.12', 'qemu-q35-vtd');
    expect(names(sysfsList(kernel, '/sys/bus/pci/devices/0000:00:01.0'))).toEqual(
      ['class', 'config', 'device', 'driver_override', 'iommu_group', 'irq', 'resource', 'revision', 'subsystem_device', 'subsystem_vendor', 'vendor'].map((n) => `${n}/${n === 'iommu_group' ? NODE.LNK : NODE.REG}`),
    );
  });

  // errors as getdents' open gives them; paths outside the served trees are libc's
  test('missing, not a directory, not emulated', () => {
    const { kernel } = boot('6.12', 'qemu-q35-vtd');
    expect(sysfsList(kernel, '/sys/kernel/iommu_groups/99')).toBe(-ENOENT);
    expect(sysfsList(kernel, '/sys/kernel/iommu_groups/1/type')).toBe(-ERRNO.ENOTDIR);
    expect(sysfsList(kernel, '/etc')).toBe(undefined);
    expect(names(sysfsList(kernel, '/sys/kernel/iommu_groups/1'))).toEqual([`devices/${NODE.DIR}`, `reserved_regions/${NODE.REG}`, `type/${NODE.REG}`]);
  });
});

describe('sysfsLookup: driver directory links', () => {
  // A driver's directory links each bound device to its own directory (driver_sysfs_add), so
  // below a root port the target names the port: the Overdrive's X540 PF behind 00:02.1.
  test('ixgbe/0000:01:00.0 on amd-overdrive points below the root port', () => {
    const { kernel } = boot('6.12', 'amd-overdrive');
    expect(readlinkOf(sysfsLookup(kernel, '/sys/bus/pci/drivers/ixgbe/0000:01:00.0'))).toBe('../../../../devices/pci0000:00/0000:00:02.1/0000:01:00.0');
  });
});

describe('sysfsLookup: SR-IOV links', () => {
  // pci_iov_sysfs_link() (drivers/pci/iov.c): the PF's virtfnN and each VF's physfn link the
  // sibling directories ("../BDF"); the X540's VFs start at routing ID offset 0x80, stride 2.
  test('virtfn0, virtfn1 and physfn on the Overdrive X540 with 2 VFs', () => {
    const { kernel } = boot('7.2', 'amd-overdrive');
    const pf = '/sys/bus/pci/devices/0000:01:00.0';
    expect(sysfsLookup(kernel, `${pf}/virtfn0`)).toEqual({ kind: 'missing', errno: ENOENT });
    expect(kernel.sysfsWrite(`${pf}/sriov_numvfs`, '2')).toBe(1);
    expect(readlinkOf(sysfsLookup(kernel, `${pf}/virtfn0`))).toBe('../0000:01:10.0');
    expect(readlinkOf(sysfsLookup(kernel, `${pf}/virtfn1`))).toBe('../0000:01:10.2');
    expect(sysfsLookup(kernel, `${pf}/virtfn2`)).toEqual({ kind: 'missing', errno: ENOENT });
    expect(readlinkOf(sysfsLookup(kernel, '/sys/bus/pci/devices/0000:01:10.2/physfn'))).toBe('../0000:01:00.0');
    expect(sysfsLookup(kernel, `${pf}/physfn`)).toEqual({ kind: 'missing', errno: ENOENT });
    const listed = names(sysfsList(kernel, pf));
    expect(Array.isArray(listed) && listed.filter((n) => /^(virtfn|physfn)/.test(n))).toEqual([`virtfn0/${NODE.LNK}`, `virtfn1/${NODE.LNK}`]);
  });
});
