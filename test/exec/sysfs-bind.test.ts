// Driver binding from a program under `vfio-emu exec`: its writes to a device's driver_override,
// a driver's bind and unbind (directly or through the device's `driver` link) and the bus's
// drivers_probe reach the model, and come back with the kernel's answers (drivers/base/bus.c
// bind_store, unbind_store, drivers_probe_store; drivers/pci/pci-sysfs.c driver_override_store;
// kernfs_fop_open for a store-only file opened for reading). test/native/sysfs-write.c does one
// open/write/close per step, as `echo BDF > …/bind` does.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cli, env, tmp } from '../cli/run-cli.js';
import { boot } from '../../src/machine/boot.js';
import { NODE } from '../../src/machine/serve-protocol.js';
import { sysfsList, type DirEntry } from '../../src/machine/serve-sysfs.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const prog = join(tmp, 'sysfs-write');
if (hasCc) {
  const r = spawnSync('cc', ['-O1', '-Wall', '-o', prog, 'test/native/sysfs-write.c'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc test/native/sysfs-write.c: ${r.stderr}`);
}

const DEV = '/sys/bus/pci/devices/0000:00:02.0';
const DRV = '/sys/bus/pci/drivers';
const E1000E = '0000:00:02.0';

function run(kernel: string, steps: string[][]): { stdout: string; trace: string } {
  const trace = join(tmp, `sysfs-bind-${kernel}.jsonl`);
  const args = ['exec', '--platform', 'qemu-q35-vtd', '--kernel', kernel, '--trace', trace, '--', prog, ...steps.flat()];
  const r = spawnSync(process.execPath, ['bin/vfio-emu.cjs', ...args], { env, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { stdout: r.stdout, trace };
}

// q35's e1000e starts bound to its kernel driver (presets-data.ts hostDriver). vfio-pci takes it
// only once driver_override names it (pci_match_device; vfio_pci_table is override-only).
test.skipIf(!hasCc)('driver_override, unbind, drivers_probe and bind as the kernel answers them', () => {
  const { stdout, trace } = run('6.1', [
    ['l', `${DEV}/driver`],
    ['r', `${DEV}/driver_override`],
    ['w', `${DRV}/vfio-pci/unbind`, E1000E], // unbind_store: not bound to this driver
    ['w', `${DRV}/vfio-pci/bind`, E1000E], // bind_store: driver_match_device fails
    ['w', `${DEV}/driver_override`, 'vfio-pci'],
    ['r', `${DEV}/driver_override`],
    ['w', `${DRV}/vfio-pci/bind`, E1000E], // matches now, but the device has a driver
    ['w', `${DEV}/driver/unbind`, E1000E],
    ['w', `${DEV}/driver/unbind`, E1000E], // no driver: no driver/ link
    ['w', '/sys/bus/pci/drivers_probe', '0000:00:09.0'], // no such device
    ['w', '/sys/bus/pci/drivers_probe', E1000E],
    ['l', `${DEV}/driver`],
    ['l', `${DRV}/vfio-pci/${E1000E}`],
    ['r', `${DRV}/vfio-pci/bind`], // store-only
    ['w', `${DRV}/nosuch/bind`, E1000E],
    ['w', `${DRV}/e1000e/bind`, E1000E], // driver_override names another driver
    ['w', `${DRV}/vfio-pci/unbind`, E1000E],
    ['w', `${DRV}/vfio-pci/bind`, E1000E],
    ['w', `${DEV}/driver_override`, ''], // clears it
    ['w', `${DRV}/vfio-pci/unbind`, E1000E],
    ['w', `${DRV}/e1000e/bind`, E1000E],
    ['l', `${DEV}/driver`],
  ]);
  expect(stdout.trim().split('\n')).toEqual([
    `readlink ${DEV}/driver = ../../../bus/pci/drivers/e1000e`,
    `read ${DEV}/driver_override = (null)`,
    `write ${DRV}/vfio-pci/unbind ${E1000E} = -1 No such device`,
    `write ${DRV}/vfio-pci/bind ${E1000E} = -1 No such device`,
    `write ${DEV}/driver_override vfio-pci = 9`,
    `read ${DEV}/driver_override = vfio-pci`,
    `write ${DRV}/vfio-pci/bind ${E1000E} = -1 Device or resource busy`,
    `write ${DEV}/driver/unbind ${E1000E} = 13`,
    `open ${DEV}/driver/unbind = -1 No such file or directory`,
    'write /sys/bus/pci/drivers_probe 0000:00:09.0 = -1 No such device',
    `write /sys/bus/pci/drivers_probe ${E1000E} = 13`,
    `readlink ${DEV}/driver = ../../../bus/pci/drivers/vfio-pci`,
    `readlink ${DRV}/vfio-pci/${E1000E} = ../../../../devices/pci0000:00/${E1000E}`,
    `read ${DRV}/vfio-pci/bind = -1 Permission denied`,
    `open ${DRV}/nosuch/bind = -1 No such file or directory`,
    `write ${DRV}/e1000e/bind ${E1000E} = -1 No such device`,
    `write ${DRV}/vfio-pci/unbind ${E1000E} = 13`,
    `write ${DRV}/vfio-pci/bind ${E1000E} = 13`,
    `write ${DEV}/driver_override  = 1`,
    `write ${DRV}/vfio-pci/unbind ${E1000E} = 13`,
    `write ${DRV}/e1000e/bind ${E1000E} = 13`,
    `readlink ${DEV}/driver = ../../../bus/pci/drivers/e1000e`,
  ]);
  // Each write the kernel model stored is in the trace, and the trace replays.
  const writes = readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { op: string; path?: string; errno?: number })
    .filter((e) => e.op === 'sysfs-write');
  expect(writes.map((e) => `${e.path!.replace('/sys/bus/pci/', '')} ${e.errno}`)).toEqual([
    'drivers/vfio-pci/unbind 19',
    'drivers/vfio-pci/bind 19',
    'devices/0000:00:02.0/driver_override 0',
    'drivers/vfio-pci/bind 16',
    'devices/0000:00:02.0/driver/unbind 0',
    'drivers_probe 19',
    'drivers_probe 0',
    'drivers/e1000e/bind 19',
    'drivers/vfio-pci/unbind 0',
    'drivers/vfio-pci/bind 0',
    'devices/0000:00:02.0/driver_override 0',
    'drivers/vfio-pci/unbind 0',
    'drivers/e1000e/bind 0',
  ]);
  expect(cli(['replay', trace]).stdout.trim().split('\n').pop()).toMatch(/^(\d+) events, \1 match, 0 differ, 0 skipped$/);
});

// Before 5.14 bind_store() itself refused a device with a driver: -ENODEV, not -EBUSY.
test.skipIf(!hasCc)('bind of a bound device before 5.14', () => {
  const { stdout } = run('5.10', [
    ['w', `${DEV}/driver_override`, 'vfio-pci'],
    ['w', `${DRV}/vfio-pci/bind`, E1000E],
  ]);
  expect(stdout.trim().split('\n')).toEqual([`write ${DEV}/driver_override vfio-pci = 9`, `write ${DRV}/vfio-pci/bind ${E1000E} = -1 No such device`]);
});

// The listings: one directory per registered driver (vfio-pci and q35's kernel drivers), each
// with bind, unbind and a link per bound device.
test('/sys/bus/pci/drivers and a driver directory', () => {
  const { kernel } = boot('6.1', 'qemu-q35-vtd');
  const names = (l: DirEntry[] | number | undefined) => (Array.isArray(l) ? l.map((e) => `${e.name}/${e.type}`) : l);
  expect(names(sysfsList(kernel, DRV))).toEqual(['ahci', 'e1000e', 'i801_smbus', 'lpc_ich', 'vfio-pci'].map((n) => `${n}/${NODE.DIR}`));
  expect(names(sysfsList(kernel, `${DRV}/e1000e`))).toEqual([`${E1000E}/${NODE.LNK}`, `bind/${NODE.REG}`, `unbind/${NODE.REG}`]);
  expect(names(sysfsList(kernel, `${DRV}/vfio-pci`))).toEqual([`bind/${NODE.REG}`, `unbind/${NODE.REG}`]);
});
