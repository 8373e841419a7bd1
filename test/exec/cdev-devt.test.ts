// A device cdev's number under exec is the model's: the preload takes st_rdev from the model's
// stat answer for /dev/vfio/devices/vfioN (serve.ts SYSFS stat), the same number
// vfio-dev/vfioN/dev prints, so the two agree whatever major vfio-dev got
// (alloc_chrdev_region in vfio_cdev_init is dynamic: VfioCore.cdevMajor).

import { afterAll, beforeAll, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot } from '../../src/machine/boot.js';
import { serveModel, type ServedModel } from '../../src/machine/serve.js';
import { tmp } from '../cli/run-cli.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0 && existsSync('dist/vfio-preload.so');
const cdevClient = join(tmp, 'cdev-devt-client');
const statClient = join(tmp, 'cdev-devt-stat');
// stat() and lstat() of the node, without opening it (udev and libvirt look before they open).
const STAT_SOURCE = `#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
int main(int argc, char **argv) {
	struct stat st, lst;
	int r = stat(argv[1], &st), l = lstat(argv[1], &lst);
	printf("stat %d chr %d %u:%u\\n", r, S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
	printf("lstat %d chr %d %u:%u\\n", l, S_ISCHR(lst.st_mode), major(lst.st_rdev), minor(lst.st_rdev));
	return 0;
}
`;
let model: ServedModel;

beforeAll(async () => {
  if (!hasCc) return;
  for (const [out, src] of [[cdevClient, 'test/native/cdev-client.c'], [statClient, join(tmp, 'cdev-devt-stat.c')]] as const) {
    if (src.endsWith('stat.c')) writeFileSync(src, STAT_SOURCE);
    const r = spawnSync('cc', ['-O1', '-Wall', '-o', out, src], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
  }
  const k = boot('7.2', 'qemu-q35-vtd', {}, 'iommufd').kernel;
  // A kernel where another char driver registered first: vfio-dev's dynamic major is not 248.
  k.vfioCore.cdevMajor = 511;
  k.bind('0000:00:02.0', 'vfio-pci');
  k.bind('0000:00:01.0', 'vfio-pci');
  model = await serveModel({ kernel: k, proc: k.newProcess() });
});
afterAll(() => model?.close());

async function run(bin: string, arg: string): Promise<string> {
  const child = spawn(bin, [arg], { env: { ...process.env, LD_PRELOAD: 'dist/vfio-preload.so', VFIO_EMU_SOCKET: model.path }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  expect(await new Promise((done) => child.on('exit', done))).toBe(0);
  return stdout;
}

// QEMU's iommufd_cdev_getfd()/open_cdev(): vfio-dev/vfioN/dev, then fstat of the opened node
// must give the same MAJOR:MINOR.
test.skipIf(!hasCc)('fstat of the cdev fd is the number vfio-dev/vfioN/dev prints', async () => {
  const out = await run(cdevClient, '0000:00:01.0');
  expect(out.split('\n').slice(2, 6)).toEqual(['cdev vfio1', 'dev 511:1', 'open cdev = 0', 'fstat is the node = 0']);
});

// stat() and lstat() of /dev/vfio/devices/vfioN answer the model's number too.
test.skipIf(!hasCc)('stat of the cdev node is the model number', async () => {
  expect(await run(statClient, '/dev/vfio/devices/vfio1')).toBe('stat 0 chr 1 511:1\nlstat 0 chr 1 511:1\n');
});
