// The served model's protocol (docs/exec.md) from a client written here: each answer exact,
// and a malformed request, or a client that goes away mid-call, costs only that client.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { boot } from '../../src/machine/boot.js';
import { serveModel, type ServedEvent, type ServedModel } from '../../src/machine/serve.js';
import { NOT_EMULATED, OP, SYSFS } from '../../src/machine/serve-protocol.js';
import { Client, u32 } from './serve-client.js';

let model: ServedModel;
const events: ServedEvent[] = [];

beforeAll(async () => {
  const m = boot('6.12', 'qemu-q35-vtd');
  expect(m.kernel.bind('0000:00:01.0', 'vfio-pci').errno).toBe(0);
  model = await serveModel({ kernel: m.kernel, proc: m.proc, onEvent: (e) => events.push(e) });
});
afterAll(() => model.close());

describe('serve', () => {
  // The socket lives in a directory only its owner may enter.
  test('private directory', () => {
    expect(statSync(dirname(model.path)).mode & 0o777).toBe(0o700);
  });

  // open of the container node answers the model's fd; a path outside the served trees is not
  // the model's: the library must hand it to libc, the server never opens it.
  test('open: served and not served paths', async () => {
    const c = new Client(model.path);
    expect(await c.open('/dev/vfio/vfio')).toMatchObject({ errno: 0, ret: 3n });
    expect(await c.open('/etc/passwd')).toMatchObject({ errno: NOT_EMULATED, ret: -1n });
    expect(await c.open('/dev/vfio/7')).toMatchObject({ errno: 2, ret: -1n });
    const read = (p: string) => c.ask(OP.SYSFS, Buffer.concat([u32(SYSFS.READ), Buffer.from(p)]));
    expect(await read('/sys/bus/pci/devices/0000:00:01.0/../../../../etc/passwd')).toMatchObject({ errno: NOT_EMULATED });
    const vendor = await read('/sys/bus/pci/devices/0000:00:01.0/vendor');
    expect([vendor.errno, vendor.payload.toString()]).toEqual([0, '0x1234\n']);
    const link = await c.ask(OP.SYSFS, Buffer.concat([u32(SYSFS.READLINK), Buffer.from('/sys/bus/pci/devices/0000:00:01.0/iommu_group')]));
    expect([link.errno, link.ret, link.payload.toString()]).toEqual([0, 30n, '../../../kernel/iommu_groups/1']);
    c.end();
    await c.closed;
  });

  // Requests with a short body, an unknown op, or the wrong protocol version answer EINVAL;
  // an fd the connection does not hold is EBADF.
  test('malformed requests answer EINVAL', async () => {
    const c = new Client(model.path);
    expect(await c.ask(OP.HELLO, Buffer.concat([u32(99), u32(1)]))).toMatchObject({ errno: 22, ret: -1n });
    expect(await c.ask(OP.IOCTL, Buffer.alloc(3))).toMatchObject({ errno: 22, ret: -1n });
    expect(await c.ask(99)).toMatchObject({ errno: 22, ret: -1n });
    const pread = Buffer.alloc(16);
    pread.writeInt32LE(3, 0);
    expect(await c.ask(OP.PREAD, pread)).toMatchObject({ errno: 9, ret: -1n });
    c.end();
    await c.closed;
  });

  // Broken framing (a frame shorter than its header) ends that connection only; a client that
  // dies in the middle of a frame releases its fds: the group it held opens again for another.
  test('a broken client loses nothing for the others', async () => {
    const bad = new Client(model.path);
    bad.raw(Buffer.from([3, 0, 0, 0, 1, 0, 0, 0]));
    await bad.closed;
    const dying = new Client(model.path);
    expect(await dying.open('/dev/vfio/1')).toMatchObject({ errno: 0 });
    const other = new Client(model.path);
    expect(await other.open('/dev/vfio/1')).toMatchObject({ errno: 16, ret: -1n });
    dying.raw(Buffer.from([40, 0, 0, 0, OP.OPEN, 0, 0]));
    dying.end();
    await dying.closed;
    await new Promise((r) => setTimeout(r, 20));
    const again = await other.open('/dev/vfio/1');
    expect(again.errno).toBe(0);
    expect(events.filter((e) => e.op === 'close').map((e) => (e as { fd: number }).fd)).toContain(Number(again.ret));
    other.end();
    await other.closed;
  });
});

const i32s = (...v: number[]): Buffer => Buffer.concat(v.map((x) => u32(x >>> 0)));
const hello = async (c: Client, pid: number): Promise<number> => Number((await c.ask(OP.HELLO, i32s(1, pid))).ret);

// SHARE and EXECED, the protocol half of emulated fds across execve: the new image's connection
// takes references to the fds it keeps from the exec'ing process's connection; EXECED ends that
// connection then (do_close_on_exec before the new image runs), releasing the files only it
// held; another pid's connection (a vfork child's parent) stays.
test('SHARE takes what the old connection holds; EXECED ends it, releasing the rest', async () => {
  const old = new Client(model.path);
  const oldId = await hello(old, 4000);
  const kept = Number((await old.open('/dev/vfio/vfio')).ret);
  const cloexec = Number((await old.open('/dev/vfio/vfio')).ret);
  // Only these two, from now: another test's connection may still be ending.
  const mark = events.length;
  const mine = (fd: number): boolean => fd === kept || fd === cloexec;
  const closes = (): number[] => events.slice(mark).flatMap((e) => (e.op === 'close' && mine(e.fd) ? [e.fd] : []));
  const fresh = new Client(model.path);
  await hello(fresh, 4000);
  // The source is named by its id and pid, as SUBSCRIBE names it.
  expect((await fresh.ask(OP.SHARE, i32s(oldId, 4001, kept))).errno).toBe(22);
  // All or nothing: the old connection holds `kept` once.
  expect((await fresh.ask(OP.SHARE, i32s(oldId, 4000, kept, kept))).errno).toBe(9);
  expect((await fresh.ask(OP.SHARE, i32s(oldId, 4000, kept))).errno).toBe(0);
  // Another pid's EXECED (a vfork child's new image) leaves the parent's connection alone.
  const child = new Client(model.path);
  await hello(child, 4002);
  expect((await child.ask(OP.EXECED, u32(oldId))).errno).toBe(0);
  expect((await old.ask(OP.REF, u32(cloexec))).errno).toBe(0);
  expect(closes()).toEqual([]);
  // The new image's EXECED: the container only the old image held is released; the kept one stays.
  expect((await fresh.ask(OP.EXECED, u32(oldId))).errno).toBe(0);
  expect(closes()).toEqual([cloexec]);
  await old.closed;
  expect((await fresh.ask(OP.CLOSE, u32(kept))).errno).toBe(0);
  expect(closes()).toEqual([cloexec, kept]);
  fresh.end();
  child.end();
});
