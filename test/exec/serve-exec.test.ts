// SHARE and EXECED, the protocol half of emulated fds across execve (docs/exec.md): the new
// image's connection takes references to the fds it keeps from the exec'ing process's
// connection; EXECED ends that connection then (do_close_on_exec before the new image runs),
// releasing the files only it held; another pid's connection (a vfork child's parent) stays.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { boot } from '../../src/machine/boot.js';
import { serveModel, type ServedEvent, type ServedModel } from '../../src/machine/serve.js';
import { OP } from '../../src/machine/serve-protocol.js';
import { Client, u32 } from './serve-client.js';

let model: ServedModel;
const events: ServedEvent[] = [];

beforeAll(async () => {
  const m = boot('6.12', 'qemu-q35-vtd');
  expect(m.kernel.bind('0000:00:01.0', 'vfio-pci').errno).toBe(0);
  model = await serveModel({ kernel: m.kernel, proc: m.proc, onEvent: (e) => events.push(e) });
});
afterAll(() => model.close());

const i32s = (...v: number[]): Buffer => Buffer.concat(v.map((x) => u32(x >>> 0)));
const hello = async (c: Client, pid: number): Promise<number> => Number((await c.ask(OP.HELLO, i32s(1, pid))).ret);
const closes = (): number[] => events.filter((e) => e.op === 'close').map((e) => (e as { fd: number }).fd);

test('SHARE takes what the old connection holds; EXECED ends it, releasing the rest', async () => {
  const old = new Client(model.path);
  const oldId = await hello(old, 4000);
  const kept = Number((await old.open('/dev/vfio/vfio')).ret);
  const cloexec = Number((await old.open('/dev/vfio/1')).ret);
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
  // The new image's EXECED: the group only the old image held is released; the container stays.
  expect((await fresh.ask(OP.EXECED, u32(oldId))).errno).toBe(0);
  expect(closes()).toEqual([cloexec]);
  await old.closed;
  expect((await fresh.ask(OP.CLOSE, u32(kept))).errno).toBe(0);
  expect(closes()).toEqual([cloexec, kept]);
  fresh.end();
  child.end();
});
