// A real program finds and opens a device cdev under the preload library, as QEMU's iommufd
// backend does (test/native/cdev-client.c): readdir of vfio-dev/, its dev, the node's st_rdev,
// and the cdev refusing everything before BIND_IOMMUFD.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { boot } from '../../src/machine/boot.js';
import { serveModel, type ServedModel } from '../../src/machine/serve.js';
import { tmp } from '../cli/run-cli.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0 && existsSync('dist/vfio-preload.so');
const client = join(tmp, 'cdev-client');
let model: ServedModel;

beforeAll(async () => {
  if (!hasCc) return;
  const r = spawnSync('cc', ['-O1', '-Wall', '-o', client, 'test/native/cdev-client.c'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const k = boot('6.12', 'qemu-q35-vtd', {}, 'iommufd').kernel;
  k.bind('0000:00:02.0', 'vfio-pci');
  k.bind('0000:00:01.0', 'vfio-pci');
  model = await serveModel({ kernel: k, proc: k.newProcess() });
});
afterAll(() => model?.close());

// iommufd_cdev_getfd(): the name from readdir, MAJOR:MINOR from dev, open_cdev()'s st_rdev check;
// then vfio_device_fops_unl_ioctl's -EINVAL before BIND, and BIND's own iommufd < 0 check.
test.skipIf(!hasCc)('QEMU finds the cdev through vfio-dev/', async () => {
  const before = readdirSync('/tmp').filter((n) => n.startsWith('vfio-emu-dir.')).length;
  // Not spawnSync: the model serves from this process's event loop.
  const child = spawn(client, ['0000:00:01.0'], { env: { ...process.env, LD_PRELOAD: 'dist/vfio-preload.so', VFIO_EMU_SOCKET: model.path }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  expect(await new Promise((done) => child.on('exit', done))).toBe(0);
  expect(stdout).toBe(
    [
      'opendir vfio-dev = 0',
      'closedir = 0',
      'cdev vfio1',
      'dev 248:1',
      'open cdev = 0',
      'fstat is the node = 0',
      'DEVICE_GET_INFO before bind = -1 Invalid argument',
      'BIND_IOMMUFD iommufd=-1 = -1 Invalid argument',
      'close cdev = 0',
      '',
    ].join('\n'),
  );
  // closedir removed the directory that stood for the listing.
  expect(readdirSync('/tmp').filter((n) => n.startsWith('vfio-emu-dir.')).length).toBe(before);
});
