// IOMMU_IOAS_MAP_FILE of the program's own memfd under the library (docs/exec.md, "File-backed
// DMA"): test/native/memfd-client.c has edu copy what it wrote into its memfd and back, through
// the model's IOMMU, and the server backs the model memfd's pages with the program's file.
// Oracle: a real kernel pins the memfd's own pages (memfd_pin_folios, mm/gup.c), so the
// device's read sees the program's bytes and its write shows in the program's mapping.

import { afterEach, describe, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot } from '../../src/machine/boot.js';
import { serveModel, type ServedModel } from '../../src/machine/serve.js';
import { cli, env, tmp } from '../cli/run-cli.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const client = join(tmp, 'memfd-client');
let model: ServedModel | undefined;

// Nothing is skipped: without a compiler the build fails, saying so (.ci/run installs cc).
describe('the memfd client builds', () => {
  test('cc test/native/memfd-client.c', () => {
    const r = spawnSync('cc', ['-O1', '-Wall', '-o', client, 'test/native/memfd-client.c'], { encoding: 'utf8' });
    expect([hasCc, r.status, r.stderr]).toEqual([true, 0, '']);
  });
});
afterEach(async () => {
  await model?.close();
  model = undefined;
});

/** Runs the client on 7.2 with iommufd; `own`: the server takes it for the program it started. */
async function run(own: boolean): Promise<string> {
  const k = boot('7.2', 'qemu-q35-vtd', {}, 'iommufd').kernel;
  k.bind('0000:00:01.0', 'vfio-pci');
  model = await serveModel({ kernel: k, proc: k.newProcess() });
  // Not spawnSync: the model serves from this process's event loop.
  const child = spawn(client, ['/dev/vfio/devices/vfio0'], { env: { ...process.env, LD_PRELOAD: 'dist/vfio-preload.so', VFIO_EMU_SOCKET: model.path }, stdio: ['ignore', 'pipe', 'inherit'] });
  if (own) model.session.programPid = child.pid;
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  expect(await new Promise((done) => child.on('exit', done))).toBe(0);
  return stdout;
}

const DMA = ['pwrite edu dma src = 8', 'pwrite edu dma dst = 8', 'pwrite edu dma count = 8', 'pwrite edu dma cmd = 8'];
const SETUP = [
  'memfd_create = 0',
  'ftruncate 16K = 0',
  'mmap memfd = 0',
  'open /dev/iommu = 0',
  'IOAS_ALLOC = 0',
  'open cdev = 0',
  'BIND_IOMMUFD = 0',
  'ATTACH_IOMMUFD_PT = 0',
  'REGION_INFO config = 0',
  'REGION_INFO BAR0 = 0',
  'pwrite command memory|master = 2',
];
const REFUSED = [
  'ftruncate regular file = 0',
  'IOAS_MAP_FILE regular file = -1 Bad file descriptor',
  'pipe = 0',
  'IOAS_MAP_FILE pipe = -1 Bad file descriptor',
  'IOAS_MAP_FILE closed fd = -1 Bad file descriptor',
  'open memfd read-only = 0',
  'IOAS_MAP_FILE read-only memfd, writeable = -1 Bad file descriptor',
];

/** The client's output when the server takes its memfd. */
const SERVED = [
  ...SETUP,
  'IOAS_MAP_FILE memfd = 0',
  ...DMA,
  ...DMA,
  "page 1 after edu's write: 01 04 07 0a 0d 10 13 16 ... be",
  'page 1 = page 0: yes',
  'page 1 beyond the 64 bytes: aa aa aa aa aa aa aa aa ... aa',
  ...REFUSED,
  'IOAS_MAP_FILE read-only memfd, readable = 0',
  'IOAS_UNMAP read-only = 0',
  'close memfd = 0',
  ...DMA,
  'page 2 after close: 01 04 07 0a 0d 10 13 16 ... be',
  'IOAS_UNMAP = 0',
  'close cdev = 0',
  'close /dev/iommu = 0',
  '',
].join('\n');

// Rule: the pinned pages are the memfd's (memfd_pin_folios): edu reads the program's bytes
// and writes into its mapping; the IOAS holds the file after the program's close
// (iopt_pages keeps its get_file() reference until the unmap); any other fd is EBADF here.
test('edu DMA through the program memfd', async () => {
  expect(await run(true)).toBe(SERVED);
});

// Rule: under `vfio-emu exec` the program is the one exec started; the trace has the model
// memfd the MAP_FILE used (its `memfd` event, closed after the call: the area holds it) and
// replays with no difference.
test('under exec, traced and replayed', () => {
  const trace = join(tmp, 'memfd-client.jsonl');
  const r = spawnSync(
    process.execPath,
    ['bin/vfio-emu.cjs', 'exec', '--platform', 'qemu-q35-vtd', '--kernel', '7.2 config=iommufd', '--bind', '0000:00:01.0', '--trace', trace, '--', client, '/dev/vfio/devices/vfio0'],
    { env, encoding: 'utf8', timeout: 30_000 },
  );
  expect([r.status, r.stderr, r.stdout]).toEqual([0, '', SERVED]);
  const events = readFileSync(trace, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { op: string; request?: string; fd?: number; len?: string });
  const at = events.findIndex((e) => e.op === 'memfd');
  expect(events.slice(at, at + 3).map((e) => [e.op, e.request ?? e.len ?? e.fd])).toEqual([
    ['memfd', '0x4000'],
    ['ioctl', 'IOMMU_IOAS_MAP_FILE'],
    ['close', 5],
  ]);
  expect(cli(['replay', trace]).stdout.trim().split('\n').at(-1)).toBe(`${events.length} events, ${events.length} match, 0 differ, 0 skipped`);
});

// Rule (docs/exec.md, Security): /proc is opened only for the process tree exec started;
// another client's memfd stays an fd the model does not have.
test('a client outside the program tree: EBADF', async () => {
  // Nothing mapped at IOVA 0x100000: edu's read faults in VT-d (the buffer keeps zeroes) and its
  // write faults too, so the program's pages keep their 0xaa.
  expect(await run(false)).toBe(
    [
      ...SETUP,
      'IOAS_MAP_FILE memfd = -1 Bad file descriptor',
      ...DMA,
      ...DMA,
      "page 1 after edu's write: aa aa aa aa aa aa aa aa ... aa",
      'page 1 = page 0: no',
      'page 1 beyond the 64 bytes: aa aa aa aa aa aa aa aa ... aa',
      ...REFUSED,
      'IOAS_MAP_FILE read-only memfd, readable = -1 Bad file descriptor',
      'IOAS_UNMAP read-only = -1 No such file or directory',
      'close memfd = 0',
      ...DMA,
      'page 2 after close: aa aa aa aa aa aa aa aa ... aa',
      'IOAS_UNMAP = -1 No such file or directory',
      'close cdev = 0',
      'close /dev/iommu = 0',
      '',
    ].join('\n'),
  );
});
