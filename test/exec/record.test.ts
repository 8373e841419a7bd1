// Record mode's writer, against a fake kernel: a second copy of the preload library, serving
// the model, stands in for the real /dev/vfio, and the recording copy in front of it only
// observes. The trace it writes in C must read as vfio-trace/1 and replay on the model (booted
// as the recorded kernel) with no difference.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { boot, type Machine } from '../../src/machine/boot.js';
import { serveModel, type ServedModel } from '../../src/machine/serve.js';
import { cli, tmp } from '../cli/run-cli.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const client = join(tmp, 'record-client');
const recorder = join(tmp, 'recorder.so');
const modelLib = resolve('dist/vfio-preload.so');
let m: Machine;
let model: ServedModel;

beforeAll(async () => {
  if (!hasCc) return;
  expect(spawnSync('cc', ['-O1', '-o', client, 'test/native/client.c'], { encoding: 'utf8' }).stderr).toBe('');
  copyFileSync(modelLib, recorder);
  m = boot(release(), 'qemu-q35-vtd');
  m.kernel.bind('0000:00:01.0', 'vfio-pci');
  model = await serveModel({ kernel: m.kernel, proc: m.proc });
});
afterAll(() => model?.close());

test.skipIf(!hasCc)('a recorded run replays on the model', async () => {
  const trace = join(tmp, 'recorded.jsonl');
  const child = spawn(client, ['0000:00:01.0'], {
    env: {
      ...process.env,
      LD_PRELOAD: `${recorder}:${modelLib}`,
      VFIO_EMU_SOCKET: model.path,
      VFIO_EMU_MODEL_LIB: modelLib,
      VFIO_EMU_RECORD: trace,
      VFIO_EMU_RECORD_BIND: '0000:00:01.0',
      VFIO_EMU_PLATFORM: 'qemu-q35-vtd,intremap=on',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  expect(await new Promise((done) => child.on('exit', done))).toBe(3);
  expect(out).toContain('MAP_DMA = 0\n');
  const lines = readFileSync(trace, 'utf8').trim().split('\n');
  expect(JSON.parse(lines[0]!)).toMatchObject({ trace: 'vfio-trace/1', kernel: release(), platform: { preset: 'qemu-q35-vtd', options: { intremap: 'on' } } });
  const ops = lines.slice(1).map((l) => JSON.parse(l) as { op: string; request?: string });
  expect(ops.map((e) => e.request ?? e.op)).toEqual([
    'bind',
    'open',
    'VFIO_GET_API_VERSION',
    'VFIO_CHECK_EXTENSION',
    'sysfs',
    'open',
    'VFIO_GROUP_GET_STATUS',
    'VFIO_GROUP_SET_CONTAINER',
    'VFIO_SET_IOMMU',
    'VFIO_IOMMU_GET_INFO',
    'mmap',
    'VFIO_IOMMU_MAP_DMA',
    'VFIO_IOMMU_MAP_DMA',
    'VFIO_GROUP_GET_DEVICE_FD',
    'VFIO_DEVICE_GET_INFO',
    'VFIO_DEVICE_GET_REGION_INFO',
    'VFIO_DEVICE_GET_REGION_INFO',
    'mmap',
    'pread',
    'pread',
    'eventfd',
    'VFIO_DEVICE_SET_IRQS',
    'VFIO_DEVICE_SET_IRQS',
    'eventfd-read',
    'VFIO_IOMMU_UNMAP_DMA',
    'close',
    'close',
    'close',
  ]);
  // Two differences, and they are the fake's: exec's library shows BAR0 without the MMAP flag
  // and refuses its mmap (docs/exec.md), and the recorder wrote what the program saw. The skipped
  // line is the model's once-per-boot ACPI message, which the recording (made after boot) cannot have.
  const r = cli(['replay', trace]);
  expect(r.stdout.split('\n').filter((l) => !l.startsWith('  match')).slice(1)).toEqual([
    `${trace}:18: ioctl VFIO_DEVICE_GET_REGION_INFO: differs`,
    '    out[4]: recorded …2000000003000000000000000000000000001000000000000000000000000000, model …2000000007000000000000000000000000001000000000000000000000000000',
    `${trace}:19: mmap 4096 fd 5: differs`,
    '    errno: recorded 22, model 0',
    '29 events, 26 match, 2 differ, 1 skipped',
    '',
  ]);
});

// `vfio-emu record` on this machine's real /dev/vfio: the header names this kernel and the
// preset given, and the first event is the real open's answer.
test.skipIf(!hasCc)('record command on the real /dev/vfio', () => {
  const trace = join(tmp, 'real.jsonl');
  const r = cli(['record', '--trace', trace, '--platform', 'qemu-q35-vtd', '--', client, '0000:00:01.0']);
  expect(r.status).toBe(3);
  const [head, first] = readFileSync(trace, 'utf8').split('\n').map((l) => (l ? (JSON.parse(l) as Record<string, unknown>) : undefined));
  expect(head).toMatchObject({ trace: 'vfio-trace/1', kernel: release(), platform: { preset: 'qemu-q35-vtd' }, source: 'vfio-emu record (preload library)' });
  // A machine with VFIO answers with its own devices; one without has the open fail.
  if (!existsSync('/dev/vfio/vfio')) expect(first).toEqual({ op: 'open', path: '/dev/vfio/vfio', flags: 'O_RDWR', ret: -1, errno: 2 });
});
