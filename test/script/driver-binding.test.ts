// Driver binding from a scenario (issue 11 §6): `unbind`, `driver_override`, a second `bind`,
// drivers_probe. Oracles: drivers/base/bus.c unbind_store/drivers_probe_store, drivers/pci/
// pci-sysfs.c driver_override_store/show, vfio_del_group_dev's wait for an open device.

import { describe, expect, it } from 'vitest';
import { at, run_, scenarioError, type Ev } from './run-scenario.js';
import type { RunEvent } from '../../src/script/events.js';
import { boot } from '../../src/machine/boot.js';

const syscall = (evs: RunEvent[], line: number) => at(evs, 'syscall', line)[0];

// q35 group 3: 1f.0 (lpc_ich), 1f.2 bound to vfio-pci here, 1f.3 (i801_smbus).
const GROUP3 = 'kernel 6.1\nplatform qemu-q35-vtd\nbind 0000:00:1f.2 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/3 as g\n';

describe('unbind (unbind_store → the driver’s remove)', () => {
  // Unbinding the kernel drivers that use the DMA API makes the group viable.
  it('unbinding lpc_ich and i801_smbus lets SET_CONTAINER through', () => {
    const evs = run_(GROUP3 + 'unbind 0000:00:1f.0\nunbind 0000:00:1f.3\nioctl g SET_CONTAINER c\nexpect ok\n');
    expect(syscall(evs, 6)).toMatchObject({ text: 'write("/sys/bus/pci/devices/0000:00:1f.0/driver/unbind", "0000:00:1f.0\\n") = 13', errno: 0 });
    expect(syscall(evs, 8)).toMatchObject({ text: 'ioctl(4, VFIO_GROUP_SET_CONTAINER, [3]) = 0' });
    expect(at(evs, 'expect', 9)[0].ok).toBe(true);
  });

  it('one of them still bound: EPERM', () => {
    const evs = run_(GROUP3 + 'unbind 0000:00:1f.0\nioctl g SET_CONTAINER c\n');
    expect(syscall(evs, 7)).toMatchObject({ errno: 1 });
  });

  // A device without a driver has no driver/unbind file.
  it('a device with no driver: ENOENT', () => {
    const evs = run_(GROUP3 + 'unbind 0000:00:1f.0\nunbind 0000:00:1f.0\n');
    expect(syscall(evs, 7)).toMatchObject({ ret: '-1', errno: 2 });
  });

  // vfio-pci's remove leaves the VFIO group; with no device and no open file it goes.
  it('unbinding vfio-pci removes /dev/vfio/GROUP', () => {
    const evs = run_('kernel 4.10\nplatform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nunbind 0000:00:01.0\nopen /dev/vfio/1\n');
    expect(syscall(evs, 5)).toMatchObject({ text: 'open("/dev/vfio/1", O_RDWR) = -1 ENOENT (No such file or directory)' });
  });

  // vfio_del_group_dev waits while the device is open: one process cannot wait on itself.
  it('unbinding an open vfio-pci device would block', () => {
    expect(
      scenarioError(
        'platform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nopen /dev/vfio/vfio as c\nopen /dev/vfio/1 as g\nioctl g SET_CONTAINER c\n' +
          'ioctl c SET_IOMMU TYPE1v2\nioctl g GET_DEVICE_FD 0000:00:01.0 as dev\nunbind 0000:00:01.0\n',
      ),
    ).toBe(
      't.vfio:8:1: write /sys/bus/pci/devices/0000:00:01.0/driver/unbind blocks: 0000:00:01.0 is open through VFIO (vfio_del_group_dev waits for it to be released)',
    );
  });

  it('the driver’s own unbind file names another device: ENODEV', () => {
    const evs = run_(GROUP3 + 'write /sys/bus/pci/drivers/lpc_ich/unbind "0000:00:1f.3"\n');
    expect(syscall(evs, 6)).toMatchObject({ errno: 19 });
  });

  it('an unknown device is a scenario error', () => {
    expect(scenarioError(GROUP3 + 'unbind 0000:00:09.0\n')).toBe(
      't.vfio:6:8: no device 0000:00:09.0 on this platform (devices: 0000:00:00.0, 0000:00:01.0, 0000:00:02.0, 0000:00:1f.0, 0000:00:1f.2, 0000:00:1f.3)',
    );
  });
});

describe('driver_override (driver_override_store/show)', () => {
  it('(null) until set; bind sets it; a newline alone clears it', () => {
    const evs = run_(
      'platform qemu-q35-vtd\nread /sys/bus/pci/devices/0000:00:01.0/driver_override\nexpect content "(null)\\n"\n' +
        'bind 0000:00:01.0 vfio-pci\nread /sys/bus/pci/devices/0000:00:01.0/driver_override\nexpect content "vfio-pci\\n"\n' +
        'driver_override 0000:00:01.0 ""\nread /sys/bus/pci/devices/0000:00:01.0/driver_override\nexpect content "(null)\\n"\n',
    );
    expect(evs.filter((e) => e.type === 'expect').map((e) => (e as Ev<'expect'>).ok)).toEqual([true, true, true]);
    expect(syscall(evs, 7).text).toBe('write("/sys/bus/pci/devices/0000:00:01.0/driver_override", "\\n") = 1');
  });

  // After unbind the override stays: drivers_probe binds the device to vfio-pci again.
  it('drivers_probe after unbind follows the override', () => {
    const evs = run_(
      'platform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nunbind 0000:00:01.0\nwrite /sys/bus/pci/drivers_probe "0000:00:01.0"\nopen /dev/vfio/1\nexpect ok\n',
    );
    expect(at(evs, 'expect', 6)[0].ok).toBe(true);
  });

  // pci_match_device(): the override names the one driver that may bind, whichever it is.
  it('drivers_probe follows an override naming a kernel driver', () => {
    const evs = run_(
      'platform qemu-q35-vtd\nunbind 0000:00:02.0\ndriver_override 0000:00:02.0 e1000e\nwrite /sys/bus/pci/drivers_probe "0000:00:02.0"\n' +
        'readlink /sys/bus/pci/devices/0000:00:02.0/driver\n',
    );
    expect(syscall(evs, 4)).toMatchObject({ ret: '12', errno: 0 });
    expect(syscall(evs, 5).text).toBe('readlink("/sys/bus/pci/devices/0000:00:02.0/driver", "../../../bus/pci/drivers/e1000e", 4096) = 31');
  });

  // An override naming no registered driver: nothing matches, drivers_probe still returns count.
  it('drivers_probe with an override no driver has', () => {
    const evs = run_(
      'platform qemu-q35-vtd\nunbind 0000:00:02.0\ndriver_override 0000:00:02.0 ixgbe\nwrite /sys/bus/pci/drivers_probe "0000:00:02.0"\n' +
        'readlink /sys/bus/pci/devices/0000:00:02.0/driver\n',
    );
    expect(syscall(evs, 4)).toMatchObject({ ret: '12', errno: 0 });
    expect(syscall(evs, 5)).toMatchObject({ ret: '-1', errno: 2 });
  });

  // Without an override drivers_probe gives the device back to the driver that matched it.
  it('drivers_probe without an override rebinds the kernel driver', () => {
    const evs = run_(GROUP3 + 'unbind 0000:00:1f.0\nwrite /sys/bus/pci/drivers_probe "0000:00:1f.0"\nread /sys/bus/pci/devices/0000:00:1f.0/driver\n');
    expect(syscall(evs, 8).text).toBe('read("/sys/bus/pci/devices/0000:00:1f.0/driver") → "../../../bus/pci/drivers/lpc_ich\\n" = 33');
  });
});

describe('a kernel driver into a group VFIO owns', () => {
  // really_probe → pci_dma_configure → iommu_device_use_default_domain(): -EBUSY while a user
  // owns the group's DMA (5.19+). bind_store passes it up (device_driver_attach); drivers_probe_store
  // answers -EINVAL for any error of bus_rescan_devices_helper() (drivers/base/bus.c).
  const OWNED = GROUP3 + 'unbind 0000:00:1f.0\nunbind 0000:00:1f.3\nioctl g SET_CONTAINER c\n';

  it('drivers_probe of lpc_ich\'s device: EINVAL, and the device stays unbound', () => {
    const evs = run_(OWNED + 'write /sys/bus/pci/drivers_probe "0000:00:1f.0"\nreadlink /sys/bus/pci/devices/0000:00:1f.0/driver\n');
    expect(syscall(evs, 9)).toMatchObject({ ret: '-1', errno: 22 });
    expect(syscall(evs, 10)).toMatchObject({ ret: '-1', errno: 2 });
  });

  it('bind to lpc_ich: EBUSY', () => {
    const evs = run_(OWNED + 'write /sys/bus/pci/drivers/lpc_ich/bind "0000:00:1f.0"\n');
    expect(syscall(evs, 9)).toMatchObject({ ret: '-1', errno: 16 });
  });

  // Once the container is gone the group is free again: the same probe binds.
  it('after the group leaves its container the probe binds', () => {
    const evs = run_(OWNED + 'ioctl g UNSET_CONTAINER\nwrite /sys/bus/pci/drivers_probe "0000:00:1f.0"\nreadlink /sys/bus/pci/devices/0000:00:1f.0/driver\n');
    expect(syscall(evs, 10)).toMatchObject({ errno: 0 });
    expect(syscall(evs, 11).text).toBe('readlink("/sys/bus/pci/devices/0000:00:1f.0/driver", "../../../bus/pci/drivers/lpc_ich", 4096) = 32');
  });
});

describe('bind: a driver that registers its devices with VFIO', () => {
  // The verb's result is the VFIO group: a kernel driver (registered or not) or an unknown
  // name is a scenario error, before anything is written.
  it.each(['e1000e', 'ixgbe', 'nosuch'])('bind to %s', (driver) => {
    expect(scenarioError(`platform qemu-q35-vtd\nbind 0000:00:02.0 ${driver}\n`)).toBe(`t.vfio:2:19: driver "${driver}": only vfio-pci can be bound here`);
  });

  // The kernel's own bind refuses the same with -EINVAL (what a trace's bind event replays).
  it.each(['e1000e', 'nosuch'])('Kernel.bind to %s: EINVAL', (driver) => {
    const { kernel } = boot('6.1', 'qemu-q35-vtd');
    expect(kernel.bind('0000:00:02.0', driver)).toEqual({ ret: -1, errno: 22 });
    expect(kernel.sysfsRead('/sys/bus/pci/devices/0000:00:02.0/driver')).toBe('../../../bus/pci/drivers/e1000e\n');
    expect(kernel.sysfsRead('/sys/bus/pci/devices/0000:00:02.0/driver_override')).toBe('(null)\n');
  });
});

describe('readlink of sysfs links', () => {
  // strace's readlink line; `expect content` checks the target.
  it('iommu_group and driver', () => {
    const evs = run_(
      'platform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nreadlink /sys/bus/pci/devices/0000:00:01.0/iommu_group\nexpect content "../../../kernel/iommu_groups/1"\n' +
        'readlink /sys/bus/pci/devices/0000:00:01.0/driver\n',
    );
    expect(syscall(evs, 3).text).toBe('readlink("/sys/bus/pci/devices/0000:00:01.0/iommu_group", "../../../kernel/iommu_groups/1", 4096) = 30');
    expect(at(evs, 'expect', 4)[0].ok).toBe(true);
    expect(syscall(evs, 5).text).toBe('readlink("/sys/bus/pci/devices/0000:00:01.0/driver", "../../../bus/pci/drivers/vfio-pci", 4096) = 33');
  });

  // readlink(2) of a regular file is EINVAL; of a missing path ENOENT.
  it('a file that is no link: EINVAL; no such path: ENOENT', () => {
    const evs = run_('kernel 6.12\nplatform qemu-q35-vtd\nreadlink /sys/kernel/iommu_groups/1/type\nreadlink /sys/kernel/iommu_groups/9/type\n');
    expect(syscall(evs, 3)).toMatchObject({ errno: 22 });
    expect(syscall(evs, 4)).toMatchObject({ errno: 2 });
  });

  // The bus entry is a link to the device's directory (bus_add_device), on the root bus
  // directly below the host bridge's pci0000:00.
  it('the bus entry of a root-bus device', () => {
    const evs = run_('platform qemu-q35-vtd\nreadlink /sys/bus/pci/devices/0000:00:01.0\nreadlink /sys/kernel/iommu_groups/1/devices/0000:00:01.0\n');
    expect(syscall(evs, 2).text).toBe('readlink("/sys/bus/pci/devices/0000:00:01.0", "../../../devices/pci0000:00/0000:00:01.0", 4096) = 40');
    expect(syscall(evs, 3).text).toBe('readlink("/sys/kernel/iommu_groups/1/devices/0000:00:01.0", "../../../../devices/pci0000:00/0000:00:01.0", 4096) = 43');
  });

  // Below a root port the directory is pci0000:00/<port>/<function>, so each link into it
  // names the port and each link out of it climbs one level more (the Overdrive's X540 on
  // bus 01, below Seattle's 00:02.1).
  it('a function below a root port', () => {
    const evs = run_(
      'kernel 6.12\nplatform amd-overdrive\nbind 0000:01:00.0 vfio-pci\nreadlink /sys/bus/pci/devices/0000:01:00.0\n' +
        'readlink /sys/bus/pci/devices/0000:01:00.0/iommu_group\nreadlink /sys/bus/pci/devices/0000:01:00.0/driver\n' +
        'readlink /sys/kernel/iommu_groups/0/devices/0000:01:00.0\n',
    );
    expect(syscall(evs, 4).text).toBe('readlink("/sys/bus/pci/devices/0000:01:00.0", "../../../devices/pci0000:00/0000:00:02.1/0000:01:00.0", 4096) = 53');
    expect(syscall(evs, 5).text).toBe('readlink("/sys/bus/pci/devices/0000:01:00.0/iommu_group", "../../../../kernel/iommu_groups/0", 4096) = 33');
    expect(syscall(evs, 6).text).toBe('readlink("/sys/bus/pci/devices/0000:01:00.0/driver", "../../../../bus/pci/drivers/vfio-pci", 4096) = 36');
    expect(syscall(evs, 7).text).toBe('readlink("/sys/kernel/iommu_groups/0/devices/0000:01:00.0", "../../../../devices/pci0000:00/0000:00:02.1/0000:01:00.0", 4096) = 56');
  });

  // A VF sits on its PF's bus, so below the same root port (virtfn_add: the VF's parent is
  // the PF's bus); the PowerNV adapter sits below PHB #1's root port in domain 0001.
  it('a VF beside its PF; a function in another domain', () => {
    const vf = run_('kernel 6.12\nplatform amd-overdrive\nwrite /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs "2"\nreadlink /sys/bus/pci/devices/0000:01:10.2\nreadlink /sys/bus/pci/devices/0000:01:10.2/iommu_group\n');
    expect(syscall(vf, 4).text).toBe('readlink("/sys/bus/pci/devices/0000:01:10.2", "../../../devices/pci0000:00/0000:00:02.1/0000:01:10.2", 4096) = 53');
    expect(syscall(vf, 5).text).toBe('readlink("/sys/bus/pci/devices/0000:01:10.2/iommu_group", "../../../../kernel/iommu_groups/3", 4096) = 33');
    const pnv = run_('kernel 6.12\nplatform powernv\nreadlink /sys/bus/pci/devices/0001:01:00.0\n');
    expect(syscall(pnv, 3).text).toBe('readlink("/sys/bus/pci/devices/0001:01:00.0", "../../../devices/pci0001:00/0001:00:00.0/0001:01:00.0", 4096) = 53');
  });

  // After unbind the driver link is gone.
  it('no driver link after unbind', () => {
    const evs = run_('platform qemu-q35-vtd\nbind 0000:00:01.0 vfio-pci\nunbind 0000:00:01.0\nreadlink /sys/bus/pci/devices/0000:00:01.0/driver\n');
    expect(syscall(evs, 4).text).toBe('readlink("/sys/bus/pci/devices/0000:00:01.0/driver", "", 4096) = -1 ENOENT (No such file or directory)');
  });
});
