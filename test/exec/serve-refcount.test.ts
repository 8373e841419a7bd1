// The served model's reference counts (docs/exec.md) against a hostile client: a count must stay
// exact, so that a file is released when its last reference goes and not before.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { boot } from '../../src/machine/boot.js';
import { serveModel, type ServedEvent, type ServedModel } from '../../src/machine/serve.js';
import { OP } from '../../src/machine/serve-protocol.js';
import { Client, u32 } from './serve-client.js';

let model: ServedModel;
const events: ServedEvent[] = [];

beforeAll(async () => {
  const m = boot('6.12', 'qemu-q35-vtd');
  model = await serveModel({ kernel: m.kernel, proc: m.proc, onEvent: (e) => events.push(e) });
});
afterAll(() => model.close());

const i32s = (...v: number[]): Buffer => Buffer.concat(v.map((x) => u32(x >>> 0)));
const hello = async (c: Client, pid: number): Promise<number> => Number((await c.ask(OP.HELLO, i32s(1, pid))).ret);
const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};

// fs/file.c: a process holds at most sysctl_nr_open (1024 * 1024) fds; a dup beyond it is
// -EMFILE. A connection that adopts its own FORK doubles what it holds each time: at 2^53 a
// double no longer counts one more reference, and the file would be released while another
// connection still holds it (its fd number then reused for a third connection's file).
test('a connection holds at most nr_open references: ADOPT beyond it is EMFILE', async () => {
  const a = new Client(model.path);
  const aId = await hello(a, 5000);
  const fd = Number((await a.open('/dev/vfio/vfio')).ret);
  const b = new Client(model.path);
  await hello(b, 5000);
  expect((await b.ask(OP.SHARE, i32s(aId, 5000, fd))).errno).toBe(0);
  const adopted: number[] = [];
  for (let i = 1n; i <= 60n; i++) {
    expect((await a.ask(OP.FORK, u64(i))).errno).toBe(0);
    adopted.push((await a.ask(OP.ADOPT, u64(i))).errno);
  }
  // 2^20 references after twenty doublings; the next would pass nr_open.
  expect(adopted.slice(0, 20)).toEqual(Array(20).fill(0));
  expect(adopted.slice(20)).toEqual(Array(40).fill(24));
  const mark = events.length;
  const closes = (): number[] => events.slice(mark).flatMap((e) => (e.op === 'close' && e.fd === fd ? [e.fd] : []));
  a.end();
  await a.closed;
  await new Promise((r) => setTimeout(r, 20));
  // b still holds the container: it stays open until b's close.
  expect(closes()).toEqual([]);
  expect((await b.ask(OP.CLOSE, u32(fd))).errno).toBe(0);
  expect(closes()).toEqual([fd]);
  b.end();
  await b.closed;
});

// REF and SHARE are dups too: the same limit.
test('REF and SHARE beyond nr_open are EMFILE', async () => {
  const a = new Client(model.path);
  const aId = await hello(a, 5001);
  const fd = Number((await a.open('/dev/vfio/vfio')).ret);
  for (let i = 1n; i <= 20n; i++) {
    expect((await a.ask(OP.FORK, u64(100n + i))).errno).toBe(0);
    expect((await a.ask(OP.ADOPT, u64(100n + i))).errno).toBe(0);
  }
  // a holds 2^20 references: one more is too many.
  expect((await a.ask(OP.REF, u32(fd))).errno).toBe(24);
  const b = new Client(model.path);
  await hello(b, 5001);
  const many = Buffer.alloc(8 + 4 * (1 << 18));
  many.writeUInt32LE(aId, 0);
  many.writeInt32LE(5001, 4);
  for (let at = 8; at < many.length; at += 4) many.writeInt32LE(fd, at);
  for (let i = 0; i < 4; i++) expect((await b.ask(OP.SHARE, many)).errno).toBe(0);
  expect((await b.ask(OP.SHARE, i32s(aId, 5001, fd))).errno).toBe(24);
  a.end();
  b.end();
  await Promise.all([a.closed, b.closed]);
});

// A SHARE body is u32 id, i32 pid, then whole i32 fds: a partial entry is a malformed body.
test('SHARE with a partial entry is EINVAL', async () => {
  const a = new Client(model.path);
  const aId = await hello(a, 5002);
  const fd = Number((await a.open('/dev/vfio/vfio')).ret);
  const b = new Client(model.path);
  await hello(b, 5002);
  expect((await b.ask(OP.SHARE, Buffer.concat([i32s(aId, 5002, fd), Buffer.from([0xaa, 0xaa])]))).errno).toBe(22);
  // Nothing was taken: b holds no reference to close.
  expect((await b.ask(OP.CLOSE, u32(fd))).errno).toBe(9);
  a.end();
  b.end();
  await Promise.all([a.closed, b.closed]);
});
