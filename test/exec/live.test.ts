// The device side under exec. DMA reaches the client's own memory, in both directions: the client maps
// its buffer for DMA and waits; the device (the IOMMU path the `dma` action takes) reads the
// client's bytes at the IOVA and writes its own, which the client then sees in its buffer.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { boot, type Machine } from '../../src/machine/boot.js';
import { serveModel, type ServedModel } from '../../src/machine/serve.js';
import { translate } from '../../src/kernel/iommu/dma-path.js';
import { tmp } from '../cli/run-cli.js';
import { EventFd } from '../../src/kernel/eventfd.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const client = join(tmp, 'dma-client');
let m: Machine;
let model: ServedModel;

beforeAll(async () => {
  if (!hasCc) return;
  const r = spawnSync('cc', ['-O1', '-o', client, 'test/native/client.c'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  m = boot('6.12', 'qemu-q35-vtd');
  m.kernel.bind('0000:00:01.0', 'vfio-pci');
  model = await serveModel({ kernel: m.kernel, proc: m.proc });
});
afterAll(() => model?.close());

/** Starts the client in `mode` on the served model; resolves once it has printed `marker`. */
async function clientAt(mode: string, marker: string) {
  const child = spawn(client, ['0000:00:01.0', mode], {
    env: { ...process.env, LD_PRELOAD: 'dist/vfio-preload.so', VFIO_EMU_SOCKET: model.path },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const run = { out: '', exited: new Promise<number>((done) => child.on('exit', (c) => done(c ?? -1))), child };
  await new Promise<void>((ready) =>
    child.stdout.on('data', (d: Buffer) => {
      run.out += d.toString();
      if (run.out.includes(marker)) ready();
    }),
  );
  return run;
}

test.skipIf(!hasCc)('device DMA reads and writes the client buffer', async () => {
  const run = await clientAt('dma', 'mapped\n');
  const dev = m.kernel.devices.get('0000:00:01.0')!;
  const rd = translate(dev, 0x100000n, 8n, false);
  expect(rd.ok).toBe(true);
  if (!rd.ok) return;
  expect([...m.proc.mm.readPhys(rd.pa, 8)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa]);
  const wr = translate(dev, 0x100000n, 8n, true);
  if (wr.ok) m.proc.mm.writePhys(wr.pa, Uint8Array.from([0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]));
  run.child.stdin.write('\n');
  expect(await run.exited).toBe(3);
  expect(run.out).toContain('mapped\nbuffer after device DMA 1112131415161718\nGET_DEVICE_FD = 0\n');
});

// Interrupts raised later, outside any call, reach the client's eventfd through the library's
// helper thread; a write to an unmask eventfd (which the kernel consumes) reaches the model.
test.skipIf(!hasCc)('eventfds both ways outside a call', async () => {
  const run = await clientAt('irq', 'armed\n');
  // The model's eventfds: the trigger mirror, then the unmask mirror (lowest free fds).
  const fds = m.proc.openFds().filter(([, f]) => f.ops.kind === 'eventfd').map(([fd]) => fd);
  expect(fds.length).toBe(2);
  const [trigger, unmask] = fds.map((fd) => m.proc.eventfdGet(fd)).filter((e): e is EventFd => e instanceof EventFd);
  if (!trigger || !unmask) throw new Error('the model has no mirrored eventfds');
  await new Promise((r) => setTimeout(r, 200));
  expect(unmask.signals).toBe(1);
  trigger.signal();
  expect(await run.exited).toBe(3);
  expect(run.out).toContain('armed\npoll eventfd = 1\nread eventfd = 8\nlater eventfd count 1\n');
  expect(run.out).toContain('SET_IRQS INTx unmask eventfd = 0\nwrite unmask eventfd = 8\n');
});
