// The memory behind iommufd pointer fields under exec (docs/exec.md, "ioctl arguments"): the
// model asks for the ranges (NEED_MEM), the client sends them with the call, the model maps
// them at the client's address, feeds the kernel what it reads (traced as stores) and answers
// what it wrote (traced as loads).

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { boot } from '../../src/machine/boot.js';
import { serveModel, type ServedEvent, type ServedModel } from '../../src/machine/serve.js';
import { EINVAL, EFAULT } from '../../src/uapi/errno.js';
import { NEED_MEM, OP } from '../../src/machine/serve-protocol.js';
import { Client } from './serve-client.js';

let model: ServedModel;
const events: ServedEvent[] = [];

beforeAll(async () => {
  const k = boot('6.12', 'qemu-q35-vtd', {}, 'iommufd').kernel;
  model = await serveModel({ kernel: k, proc: k.newProcess(), onEvent: (e) => events.push(e) });
});
afterAll(() => model.close());

const IOAS_ALLOC = 0x3b81;
const ALLOW_IOVAS = 0x3b82;
const IOVA_RANGES = 0x3b84;
/** Where the client's range array is, as the client would have it (a heap address). */
const ARRAY = 0x5555_0000_1000n;

/** An IOCTL frame: head, nseg × {addr, len}, the struct, then the ranges' bytes. */
function frame(fd: number, nr: number, struct: Buffer, ranges: [bigint, Buffer][] = []): Buffer {
  const head = Buffer.alloc(24 + 16 * ranges.length);
  head.writeInt32LE(fd, 0);
  head.writeUInt32LE(nr, 4);
  head.writeUInt32LE(1, 8);
  head.writeUInt32LE(ranges.length, 12);
  ranges.forEach(([addr, bytes], i) => {
    head.writeBigUInt64LE(addr, 24 + 16 * i);
    head.writeUInt32LE(bytes.length, 32 + 16 * i);
  });
  return Buffer.concat([head, struct, ...ranges.map(([, b]) => b)]);
}

/** struct iommu_ioas_iova_ranges / allow_iovas: size, ioas_id, num_iovas, pad, the array's address. */
function rangesStruct(size: number, ioas: number, num: number, at = ARRAY): Buffer {
  const s = Buffer.alloc(size, 0xaa);
  s.writeUInt32LE(size, 0);
  s.writeUInt32LE(ioas, 4);
  s.writeUInt32LE(num, 8);
  s.writeUInt32LE(0, 12);
  s.writeBigUInt64LE(at, 16);
  return s;
}

const range = (start: bigint, last: bigint): Buffer => {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(start, 0);
  b.writeBigUInt64LE(last, 8);
  return b;
};

async function ioas_(c: Client): Promise<{ fd: number; ioas: number }> {
  const fd = Number((await c.open('/dev/iommu')).ret);
  const alloc = Buffer.alloc(12);
  alloc.writeUInt32LE(12, 0);
  const a = await c.ask(OP.IOCTL, frame(fd, IOAS_ALLOC, alloc));
  expect(a.errno).toBe(0);
  return { fd, ioas: a.payload.readUInt32LE(8) };
}

describe('serve: memory behind pointer fields', () => {
  // IOAS_IOVA_RANGES: asked for num_iovas × 16 bytes at allowed_iovas; sent, the kernel writes
  // the IOAS's one range (no device, nothing reserved: 0..ULONG_MAX) and it comes back after the
  // struct, traced as two 8-byte loads after the ioctl.
  test('IOAS_IOVA_RANGES: NEED_MEM, then the array written', async () => {
    const c = new Client(model.path);
    const { fd, ioas } = await ioas_(c);
    const s = rangesStruct(32, ioas, 2);
    const ask = await c.ask(OP.IOCTL, frame(fd, IOVA_RANGES, s));
    expect([ask.errno, ask.payload.toString('hex')]).toEqual([NEED_MEM, '0010000055550000' + '2000000000000000']);
    events.length = 0;
    const a = await c.ask(OP.IOCTL, frame(fd, IOVA_RANGES, s, [[ARRAY, Buffer.alloc(32, 0xaa)]]));
    expect([a.errno, a.ret]).toEqual([0, 0n]);
    expect(a.payload.subarray(32).toString('hex')).toBe(range(0n, 0xffff_ffff_ffff_ffffn).toString('hex') + 'aa'.repeat(16));
    expect(events.map((e) => e.op)).toEqual(['mmap', 'ioctl', 'load', 'load', 'load', 'load']);
    c.end();
    await c.closed;
  });

  // ALLOW_IOVAS reads its array: the bytes sent are stored (traced) before the call. The kernel
  // sees them: a range whose start is above its last is -EINVAL (iommufd_ioas_allow_iovas).
  test('IOAS_ALLOW_IOVAS: the array read', async () => {
    const c = new Client(model.path);
    const { fd, ioas } = await ioas_(c);
    // A page the model has no memory at yet: it gets a VMA there first.
    const at = ARRAY + 0x10000n;
    events.length = 0;
    const allow = await c.ask(OP.IOCTL, frame(fd, ALLOW_IOVAS, rangesStruct(24, ioas, 1, at), [[at, range(0x10000n, 0x1ffffn)]]));
    expect([allow.errno, allow.ret]).toEqual([0, 0n]);
    expect(events.map((e) => (e.op === 'store' ? `store ${e.addr.toString(16)} ${Buffer.from(e.in).toString('hex')}` : e.op))).toEqual([
      'mmap',
      'store 555500011000 0000010000000000',
      'store 555500011008 ffff010000000000',
      'ioctl',
    ]);
    const reversed = await c.ask(OP.IOCTL, frame(fd, ALLOW_IOVAS, rangesStruct(24, ioas, 1, at), [[at, range(0x20000n, 0x1ffffn)]]));
    expect([reversed.errno, reversed.ret]).toEqual([EINVAL, -1n]);
    c.end();
    await c.closed;
  });

  // What the client could not read is not sent, and the model has no memory there: the
  // kernel's copy faults (-EFAULT), as copy_from_user of an unmapped address does.
  test('an unreadable range: EFAULT', async () => {
    const c = new Client(model.path);
    const { fd, ioas } = await ioas_(c);
    const far = 0x6666_0000_0000n;
    const s = rangesStruct(24, ioas, 1);
    s.writeBigUInt64LE(far, 16);
    const a = await c.ask(OP.IOCTL, frame(fd, ALLOW_IOVAS, s, [[far, Buffer.alloc(0)]]));
    expect([a.errno, a.ret]).toEqual([EFAULT, -1n]);
    c.end();
    await c.closed;
  });

  // Ranges other than those the struct names are a malformed frame: -EINVAL, nothing called.
  test('ranges the struct does not name: EINVAL', async () => {
    const c = new Client(model.path);
    const { fd, ioas } = await ioas_(c);
    events.length = 0;
    const a = await c.ask(OP.IOCTL, frame(fd, ALLOW_IOVAS, rangesStruct(24, ioas, 1), [[ARRAY + 8n, range(1n, 2n)]]));
    expect([a.errno, a.ret, events.length]).toEqual([EINVAL, -1n, 0]);
    c.end();
    await c.closed;
  });
});
