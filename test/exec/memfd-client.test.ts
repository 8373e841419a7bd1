// IOMMU_IOAS_MAP_FILE of the program's own memfd under the library (docs/exec.md, "File-backed
// DMA"): test/native/memfd-client.c has edu copy what it wrote into its memfd and back, through
// the model's IOMMU, and the server backs the model memfd's pages with the program's file.
// Oracle: a real kernel pins the memfd's own pages (memfd_pin_folios, mm/gup.c), so the
// device's read sees the program's bytes and its write shows in the program's mapping.

import { afterEach, beforeAll, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { boot } from '../../src/machine/boot.js';
import { serveModel, type ServedModel } from '../../src/machine/serve.js';
import { tmp } from '../cli/run-cli.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0 && existsSync('dist/vfio-preload.so');
const client = join(tmp, 'memfd-client');
let model: ServedModel | undefined;

beforeAll(() => {
  if (!hasCc) return;
  const r = spawnSync('cc', ['-O1', '-Wall', '-o', client, 'test/native/memfd-client.c'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
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

// Rule: the pinned pages are the memfd's (memfd_pin_folios): edu reads the program's bytes
// and writes into its mapping; the IOAS holds the file after the program's close
// (iopt_pages keeps its get_file() reference until the unmap); any other fd is EBADF here.
test.skipIf(!hasCc)('edu DMA through the program memfd', async () => {
  expect(await run(true)).toBe(
    [
      ...SETUP,
      'IOAS_MAP_FILE memfd = 0',
      ...DMA,
      ...DMA,
      'page 1 after edu\'s write: 01 04 07 0a 0d 10 13 16 ... be',
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
    ].join('\n'),
  );
});

// Rule (docs/exec.md, Security): /proc is opened only for the process tree exec started;
// another client's memfd stays an fd the model does not have.
test.skipIf(!hasCc)('a client outside the program tree: EBADF', async () => {
  // Nothing mapped at IOVA 0x100000: edu's read faults in VT-d (the buffer keeps zeroes) and its
  // write faults too, so the program's pages keep their 0xaa.
  expect(await run(false)).toBe(
    [
      ...SETUP,
      'IOAS_MAP_FILE memfd = -1 Bad file descriptor',
      ...DMA,
      ...DMA,
      'page 1 after edu\'s write: aa aa aa aa aa aa aa aa ... aa',
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
