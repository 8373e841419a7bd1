// The served model's device cdev side (docs/exec.md): the nodes and the vfio-dev directory a
// client such as QEMU's iommufd backend looks at, listed (SYSFS LIST) and read, and the cdev
// opened and refused until bound.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { boot } from '../../src/machine/boot.js';
import { serveModel, type ServedModel } from '../../src/machine/serve.js';
import { NODE, OP, SYSFS } from '../../src/machine/serve-protocol.js';
import { Client, u32 } from './serve-client.js';

let model: ServedModel;

beforeAll(async () => {
  const k = boot('6.12', 'qemu-q35-vtd', {}, 'iommufd').kernel;
  expect(k.bind('0000:00:02.0', 'vfio-pci').errno).toBe(0);
  expect(k.bind('0000:00:01.0', 'vfio-pci').errno).toBe(0);
  model = await serveModel({ kernel: k, proc: k.newProcess() });
});
afterAll(() => model.close());

const sysfs = (c: Client, what: number, path: string) => c.ask(OP.SYSFS, Buffer.concat([u32(what), Buffer.from(path)]));

describe('serve: the device cdev', () => {
  // readdir of a device's vfio-dev/ names its vfioN (in bind order: e1000e was first), a
  // directory; the class device lists dev and uevent, files; /dev/vfio/devices holds the
  // character nodes; the device's own directory has its vfio-dev/. A listing is `u8 d_type-ish
  // node type, name, NUL` per entry. A vfioN of another device is ENOENT; a file is not a
  // directory (ENOTDIR).
  test('listing', async () => {
    const c = new Client(model.path);
    const list = async (p: string) => {
      const a = await sysfs(c, SYSFS.LIST, p);
      return [a.errno, a.ret, a.payload.toString('latin1')];
    };
    const entry = (type: number, name: string) => `${String.fromCharCode(type)}${name}\0`;
    expect(await list('/sys/bus/pci/devices/0000:00:01.0/vfio-dev')).toEqual([0, 1n, entry(NODE.DIR, 'vfio1')]);
    expect(await list('/sys/bus/pci/devices/0000:00:02.0/vfio-dev/vfio0')).toEqual([0, 2n, entry(NODE.REG, 'dev') + entry(NODE.REG, 'uevent')]);
    expect(await list('/dev/vfio/devices')).toEqual([0, 2n, entry(NODE.CHR, 'vfio0') + entry(NODE.CHR, 'vfio1')]);
    expect(await list('/sys/bus/pci/devices/0000:00:01.0/vfio-dev/vfio0')).toEqual([2, -1n, '']);
    expect(await list('/sys/bus/pci/devices/0000:00:01.0/vfio-dev/vfio1/dev')).toEqual([20, -1n, '']);
    const dev = await list('/sys/bus/pci/devices/0000:00:01.0');
    expect(dev.slice(0, 2)).toEqual([0, 13n]);
    expect((dev[2] as string).split('\0').slice(-2)).toEqual([entry(NODE.DIR, 'vfio-dev').slice(0, -1), '']);
    c.end();
    await c.closed;
  });

  // vfio-dev/vfioN/dev is the cdev's MAJOR:MINOR; the node is a character device; opening it
  // gives a device fd whose requests are -EINVAL before BIND_IOMMUFD.
  test('node, dev, open', async () => {
    const c = new Client(model.path);
    const dev = await sysfs(c, SYSFS.READ, '/sys/bus/pci/devices/0000:00:01.0/vfio-dev/vfio1/dev');
    expect([dev.errno, dev.payload.toString()]).toEqual([0, '248:1\n']);
    expect((await sysfs(c, SYSFS.STAT, '/dev/vfio/devices/vfio1')).ret).toBe(BigInt(NODE.CHR));
    expect((await sysfs(c, SYSFS.STAT, '/dev/vfio/devices/vfio2')).errno).toBe(2);
    expect((await sysfs(c, SYSFS.STAT, '/dev/iommu')).ret).toBe(BigInt(NODE.CHR));
    const fd = await c.open('/dev/vfio/devices/vfio1');
    expect(fd.errno).toBe(0);
    const head = Buffer.alloc(24);
    head.writeInt32LE(Number(fd.ret), 0);
    head.writeUInt32LE(0x3b6b, 4); // VFIO_DEVICE_GET_INFO
    head.writeUInt32LE(1, 8);
    const info = Buffer.alloc(24, 0xaa);
    info.writeUInt32LE(24, 0);
    const a = await c.ask(OP.IOCTL, Buffer.concat([head, info]));
    expect([a.errno, a.payload.toString('hex')]).toEqual([22, info.toString('hex')]);
    c.end();
    await c.closed;
  });
});
