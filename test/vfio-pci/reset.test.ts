// Open and close (vfio_pci_core_enable/disable), power states, DEVICE_RESET and the hot-reset
// ioctls, one stanza per rule.

import { describe, expect, test } from 'vitest';
import { EINVAL, ENODEV, ENOSPC, ENOTTY } from '../../src/uapi/errno.js';
import { PCI_COMMAND, PCI_PM_CTRL } from '../../src/hw/pci/regs.js';
import { vfioIO } from '../../src/uapi/requests.js';
import { PCI_HOT_RESET, GET_PCI_HOT_RESET_INFO, RESET, bind, buf, hex, ioctl, ioctl_err, open, u32, _ioctl, region, pread, resetsOf } from './helpers.js';

const x540Params = { bars: { 0: '0x80000000', 4: '0x80200000' } };
const pmState = (r: ReturnType<typeof bind>): number => r.hw.config.read(r.hw.pmCap! + PCI_PM_CTRL, 2) & 3;

describe('open (vfio_pci_core_enable)', () => {
  // pci_enable_device turns decode on and says so, once per boot (trace: arm64)
  test('enabling device, arm64', () => {
    const r = bind('e1000e', '6.12', { firmware: 'arm64' });
    expect(r.dev.openDevice()).toBe(0);
    expect(r.log.lines).toEqual([{ level: 'info', text: 'vfio-pci 0000:00:02.0: enabling device (0000 -> 0003)', oncePerBoot: true }]);
    expect(r.hw.config.read(PCI_COMMAND, 2)).toBe(0x0003);
    r.dev.closeDevice();
    expect(r.dev.openDevice()).toBe(0);
    expect(r.log.lines.length).toBe(1);
    const e = bind('edu', '6.1', { firmware: 'arm64' });
    e.dev.openDevice();
    expect(e.log.lines.map((l) => l.text)).toEqual(['vfio-pci 0000:00:01.0: enabling device (0000 -> 0002)']);
  });

  // x86 firmware already enabled decode: nothing to say (trace)
  test('no message on x86', () => {
    const r = open('e1000e', '6.1', { firmware: 'x86' });
    expect(r.log.lines).toEqual([]);
  });

  // an unassigned BAR makes pci_enable_device fail: the open fails
  test('unassigned BAR', () => {
    const r = bind('x540', '6.1', { params: { bars: { 0: '0x80000000' } } });
    expect(r.dev.openDevice()).toBe(-EINVAL);
    expect(r.log.lines.map((l) => l.text)).toEqual(["vfio-pci 0000:00:02.0: can't enable device: BAR 4 [mem size 0x00004000 64bit pref] not assigned"]);
  });

  // pci_assign_irq() at probe writes the Linux IRQ into the line (arm64): 6.12/GICv3's e1000e reads 0 (trace)
  test('probe writes the INTx line', () => {
    const r = open('e1000e', '6.12', { firmware: 'arm64', vfio: { intxIrq: 0x100 } });
    expect(hex(pread(r, region(7, 0x3cn), 4))).toBe('00010000');
  });

  // bus mastering is off at open (the saved state must not include it)
  test('bus master cleared', () => {
    const r = bind('e1000e', '6.1');
    r.hw.config.write(PCI_COMMAND, 2, 0x0107);
    r.dev.openDevice();
    expect(r.hw.config.read(PCI_COMMAND, 2) & 0x4).toBe(0);
  });
});

describe('power', () => {
  // runtime PM: a bound, idle function sits in D3hot; open brings it to D0, close back
  test('idle D3hot', () => {
    const r = bind('e1000e', '6.1');
    expect(pmState(r)).toBe(3);
    r.dev.openDevice();
    expect(pmState(r)).toBe(0);
    expect(hex(pread(r, region(7, 0xccn), 2))).toBe('0000');
    r.dev.closeDevice();
    expect(pmState(r)).toBe(3);
  });

  // disable_idle_d3=Y keeps it in D0
  test('disable_idle_d3', () => {
    const r = bind('e1000e', '6.1', { vfio: { disableIdleD3: true } });
    expect(pmState(r)).toBe(0);
  });

  // a function that soft-resets in D3hot (x540) gets its config back at D0
  test('soft reset across D3hot', () => {
    const r = bind('x540', '6.1', { params: x540Params });
    expect(r.hw.config.read(0x10, 4)).toBe(0x8000000c);
    expect(r.dev.openDevice()).toBe(0);
    expect(r.hw.config.read(0x10, 4)).toBe(0x8000000c);
  });
});

describe('close (vfio_pci_core_disable)', () => {
  // the state saved at open comes back, decode stays on for the next open, bus master off
  test('restores the saved state', () => {
    const r = open('e1000e', '6.1', { vfio: { disableIdleD3: true } });
    r.hw.config.write(0x10, 4, 0);
    r.hw.config.write(PCI_COMMAND, 2, 0x0507);
    r.dev.closeDevice();
    expect(r.hw.config.read(0x10, 4)).toBe(0xfeb40000);
    expect(r.hw.config.read(PCI_COMMAND, 2)).toBe(0x0103);
  });
});

describe('VFIO_DEVICE_RESET', () => {
  // no reset method (edu): EINVAL (trace)
  test('edu', () => ioctl_err(open('edu', '6.1'), RESET, undefined, EINVAL));

  // e1000e resets by PM D3hot->D0 (trace: 0); config survives through save/restore
  test('e1000e (PM reset)', () => {
    const r = open('e1000e', '6.1');
    const before = resetsOf(r.hw);
    ioctl(r, RESET);
    expect(resetsOf(r.hw)).toEqual({ flr: before.flr, pm: before.pm + 1 });
    expect(r.hw.config.read(0x10, 4)).toBe(0xfeb40000);
    expect(hex(pread(r, region(0), 4))).toBe('41021400');
  });

  // x540 resets by FLR: registers back to reset values, BARs restored by the kernel
  test('x540 (FLR)', () => {
    const r = open('x540', '6.1', { params: x540Params });
    const dv = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
    r.dev.write(r.proc, dv(0x1234), region(0, 0x100n));
    expect(u32(pread(r, region(0, 0x100n), 4), 0)).toBe(0x1234);
    const before = resetsOf(r.hw);
    ioctl(r, RESET);
    // Exactly one FLR, and no PM reset besides.
    expect(resetsOf(r.hw)).toEqual({ flr: before.flr + 1, pm: before.pm });
    expect(u32(pread(r, region(0, 0x100n), 4), 0)).toBe(0);
    expect(r.hw.config.read(0x10, 4)).toBe(0x8000000c);
  });
});

describe('hot reset', () => {
  const hri = (argsz: number, len = 12): Uint8Array => buf(len, argsz);

  // a root-bus function has neither slot nor bus reset: ENODEV after the argsz check
  test('GET_PCI_HOT_RESET_INFO on a root bus', () => {
    const r = open('e1000e', '6.1');
    const b = hri(12);
    ioctl_err(r, GET_PCI_HOT_RESET_INFO, b, ENODEV);
    expect(hex(b)).toBe('0c000000aaaaaaaaaaaaaaaa');
    ioctl_err(r, GET_PCI_HOT_RESET_INFO, hri(8), EINVAL);
  });

  // the traces' probe sent VIO(18) (VFIO_DEVICE_BIND_IOMMUFD's number): ENOTTY, untouched (trace)
  test('VIO(18) is not a vfio-pci ioctl', () => {
    const r = open('e1000e', '6.1');
    const b = hri(12);
    ioctl_err(r, vfioIO(18), b, ENOTTY);
    expect(hex(b)).toBe('0c000000aaaaaaaaaaaaaaaa');
  });

  // PCI_HOT_RESET: flags EINVAL; 6.6+ count 0 EINVAL (cdev only); root bus ENODEV
  test('PCI_HOT_RESET', () => {
    const r61 = open('e1000e', '6.1');
    ioctl_err(r61, PCI_HOT_RESET, buf(12, 12, 1, 0), EINVAL);
    ioctl_err(r61, PCI_HOT_RESET, buf(12, 12, 0, 0), ENODEV);
    const r612 = open('e1000e', '6.12');
    ioctl_err(r612, PCI_HOT_RESET, buf(12, 12, 0, 0), EINVAL);
    ioctl_err(r612, PCI_HOT_RESET, buf(16, 16, 0, 1, 4), ENODEV);
  });

  // behind a bridge: the affected functions with their groups; too small: ENOSPC and the count
  test('GET_PCI_HOT_RESET_INFO behind a bridge', () => {
    const topology = {
      busResettable: true,
      busDevices: () => [
        { bdf: '0000:01:00.0', group: 0 },
        { bdf: '0000:01:00.1', group: 1 },
      ],
    };
    const r = open('x540', '6.1', { params: x540Params, vfio: { topology } });
    const small = hri(12);
    ioctl_err(r, GET_PCI_HOT_RESET_INFO, small, ENOSPC);
    expect(hex(small)).toBe('0c0000000000000002000000');
    const big = hri(28, 28);
    expect(_ioctl(r, GET_PCI_HOT_RESET_INFO, big)).toBe(0);
    expect(hex(big)).toBe('1c0000000000000002000000' + '0000000000000100' + '0100000000000101');
  });

  // PCI_HOT_RESET behind a bridge: every affected group must be given; then the bus resets,
  // the function's config (command register, BARs) saved around it and its MSI messages
  // written back (pci_reset_bus → pci_dev_restore → pci_restore_msi_state)
  test('PCI_HOT_RESET behind a bridge', () => {
    let resets = 0;
    const groupFiles = new Map<object, number>();
    const topology = {
      busResettable: true,
      busDevices: () => [
        { bdf: '0000:01:00.0', group: 0 },
        { bdf: '0000:01:00.1', group: 1 },
      ],
      groupOfFile: (ops: object) => groupFiles.get(ops),
      busReset: () => {
        resets++;
        r.hw.busReset?.();
      },
    };
    const r = open('x540', '6.1', { params: x540Params, vfio: { topology } });
    r.hw.config.write(0x04, 2, 0x0406);
    const header = () => Array.from({ length: 16 }, (_, i) => r.hw.config.read(i * 4, 4));
    const before = header();
    expect(before[1]! & 0xffff).toBe(0x0406);
    const g0 = { kind: 'group' as const };
    const g1 = { kind: 'group' as const };
    groupFiles.set(g0, 0);
    groupFiles.set(g1, 1);
    const fd0 = r.proc.install(g0, '/dev/vfio/0');
    const fd1 = r.proc.install(g1, '/dev/vfio/1');
    ioctl_err(r, PCI_HOT_RESET, buf(16, 16, 0, 1, fd0), EINVAL);
    ioctl_err(r, PCI_HOT_RESET, buf(16, 16, 0, 1, 99), 9);
    ioctl_err(r, PCI_HOT_RESET, buf(16, 16, 0, 1, 3), EINVAL);
    ioctl_err(r, PCI_HOT_RESET, buf(24, 24, 0, 3, fd0, fd1, fd1), EINVAL);
    r.irq.calls.length = 0;
    ioctl(r, PCI_HOT_RESET, buf(20, 20, 0, 2, fd0, fd1));
    expect(resets).toBe(1);
    expect(header()).toEqual(before);
    expect(r.irq.calls).toEqual(['restore messages']);
  });
});
