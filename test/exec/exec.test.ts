// `vfio-emu exec` with a real program: test/native/client.c, built here with the system's cc,
// runs against the model through the preload library. Its output is the client's view of each
// answer; the recorded trace must replay on the model with no difference.

import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, env, tmp } from '../cli/run-cli.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const client = join(tmp, 'client');
if (hasCc) {
  const r = spawnSync('cc', ['-O1', '-Wall', '-o', client, 'test/native/client.c'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc test/native/client.c: ${r.stderr}`);
}

const linksClient = join(tmp, 'links');
if (hasCc) {
  const r = spawnSync('cc', ['-O1', '-Wall', '-o', linksClient, 'test/native/links.c'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc test/native/links.c: ${r.stderr}`);
}

function exec(args: string[], mode = ''): { status: number; stdout: string; stderr: string; trace: string; log: string } {
  const trace = join(tmp, `exec${mode}.jsonl`);
  const log = join(tmp, `exec${mode}.log`);
  const r = spawnSync(process.execPath, ['bin/vfio-emu.cjs', 'exec', ...args, '--trace', trace, '--log', log, '--', client, '0000:00:01.0', mode], {
    env,
    encoding: 'utf8',
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, trace: readFileSync(trace, 'utf8'), log: readFileSync(log, 'utf8') };
}

const Q35 = ['--platform', 'qemu-q35-vtd', '--kernel', '6.12', '--bind', '0000:00:01.0'];

/** The client's lines up to the fork/dup part, the same in every mode. */
const COMMON = `open container = 0
GET_API_VERSION = 0
CHECK_EXTENSION TYPE1v2 = 1
iommu_group -> ../../../kernel/iommu_groups/1
vendor 0x1234
stat container node is chr = 0
access /dev/vfio/99 = -1 No such file or directory
open group = 0
GROUP_GET_STATUS = 0
group flags 0x1
SET_CONTAINER = 0
SET_IOMMU = 0
IOMMU_GET_INFO = 0
iova_pgsizes 0x40201000 argsz 120
MAP_DMA = 0
MAP_DMA again (overlap) = -1 File exists
GET_DEVICE_FD = 0
DEVICE_GET_INFO = 0
regions 9 irqs 5
REGION_INFO config = 0
config size 0x100 offset 0x70000000000 flags 0x3
REGION_INFO bar0 = 0
bar0 size 0x100000 flags 0x3
mmap bar0 = -1 Invalid argument
pread config = 4
config id 0x11e81234
pread bar0 = 4
bar0[0] 0x010000ed
SET_IRQS INTx eventfd = 0
SET_IRQS INTx loopback = 0
read eventfd = 8
eventfd count 1
`;
const TAIL = `UNMAP_DMA = 0
unmapped 0x100000
close device = 0
close group = 0
close container = 0
close closed fd = -1 Bad file descriptor
`;

const replaySummary = (file: string): string => cli(['replay', file]).stdout.trim().split('\n').at(-1)!;

describe.skipIf(!hasCc)('exec', () => {
  // The client's whole conversation: each answer as the kernel gives it; BAR0's MMAP flag is
  // cleared as the client sees it (0x3, not 0x7) and its mmap refused; the INTx loopback's
  // signal reaches the client's own eventfd before SET_IRQS returns. Exit status is the
  // program's (3), and nothing of the model's reaches its stdout.
  test('the client program end to end', () => {
    const r = exec(Q35);
    expect([r.status, r.stderr]).toEqual([3, '']);
    expect(r.stdout).toBe(COMMON + TAIL);
    expect(r.log).toBe(`${r.log.split('\n')[0]}\nkmsg: ACPI: \\_SB_.GSIF: Enabled at IRQ 21\nprogram exited with status 3\n`);
  });

  // The trace has the model's side of every call (the MMAP flag set, the model's fd numbers),
  // the client's DMA buffer as an mmap at the client's own address, and replays exactly.
  test('the trace records the run and replays with no difference', () => {
    const r = exec(Q35);
    const lines = r.trace.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(1).map((l) => (l.op === 'ioctl' ? `${l.op} ${l.request as string}` : l.op))).toEqual([
      'bind',
      'open',
      'ioctl VFIO_GET_API_VERSION',
      'ioctl VFIO_CHECK_EXTENSION',
      'sysfs',
      'open',
      'ioctl VFIO_GROUP_GET_STATUS',
      'ioctl VFIO_GROUP_SET_CONTAINER',
      'ioctl VFIO_SET_IOMMU',
      'ioctl VFIO_IOMMU_GET_INFO',
      'mmap',
      'ioctl VFIO_IOMMU_MAP_DMA',
      'ioctl VFIO_IOMMU_MAP_DMA',
      'ioctl VFIO_GROUP_GET_DEVICE_FD',
      'kmsg',
      'ioctl VFIO_DEVICE_GET_INFO',
      'ioctl VFIO_DEVICE_GET_REGION_INFO',
      'ioctl VFIO_DEVICE_GET_REGION_INFO',
      'pread',
      'pread',
      'eventfd',
      'ioctl VFIO_DEVICE_SET_IRQS',
      'ioctl VFIO_DEVICE_SET_IRQS',
      'ioctl VFIO_IOMMU_UNMAP_DMA',
      'close',
      'close',
      'close',
      'close',
    ]);
    expect(lines[3]).toEqual({ op: 'ioctl', fd: 3, request: 'VFIO_GET_API_VERSION', nr: '0x3b64', arg: 0, ret: 0, errno: 0 });
    // The client's buffer: MAP_DMA's vaddr lies in the mapping reported before it.
    const mmap = lines[11]!;
    const vaddr = BigInt(`0x${Buffer.from((lines[12]!.in as string).slice(16, 32), 'hex').reverse().toString('hex')}`);
    expect(vaddr >= BigInt(mmap.ret as string) && vaddr < BigInt(mmap.ret as string) + BigInt(mmap.len as number)).toBe(true);
    // SET_IRQS carries the model's eventfd (6), not the client's.
    expect(lines[22]).toMatchObject({ fd: 5, in: '180000002400000000000000000000000100000006000000' });
    // REGION_INFO for BAR0: the model's flags (READ|WRITE|MMAP = 7) are what the trace keeps.
    expect((lines[18]!.out as string).slice(8, 16)).toBe('07000000');
    expect(replaySummary(join(tmp, 'exec.jsonl'))).toBe('28 events, 28 match, 0 differ, 0 skipped');
  });

  // fork: the child inherits the fds as on Linux and closes its copies; the parent's stay open.
  test('fork', () => {
    const r = exec(Q35, 'fork');
    expect(r.status).toBe(3);
    expect(r.stdout).toBe(`${COMMON}child DEVICE_GET_INFO = 0\nchild exited 0\nparent DEVICE_GET_INFO after child closed = 0\n${TAIL}`);
    expect(replaySummary(join(tmp, 'execfork.jsonl'))).toBe('30 events, 30 match, 0 differ, 0 skipped');
  });

  // dup and fcntl(F_DUPFD_CLOEXEC): a copy keeps the device open after the original closes.
  test('dup', () => {
    const r = exec(Q35, 'dup');
    expect(r.status).toBe(3);
    expect(r.stdout).toBe(
      `${COMMON}close original device fd = 0\nDEVICE_GET_INFO on dup = 0\nF_DUPFD_CLOEXEC >= 100 = 0\nDEVICE_GET_INFO on F_DUPFD copy = 0\n${TAIL}`,
    );
    expect(replaySummary(join(tmp, 'execdup.jsonl'))).toBe('30 events, 30 match, 0 differ, 0 skipped');
  });

  // opendir/readdir of the served trees list the model's entries with their d_type (DT_DIR 4,
  // DT_CHR 2, DT_REG 8, DT_LNK 10); a missing directory is ENOENT, a file ENOTDIR. Writes of a
  // module parameter, by write(2) and by stdio, are the model's stores (read back changed, and
  // traced as \`param\`); an attribute without a store is EACCES. The trace replays.
  test('sysfs directories and writes', () => {
    const r = exec(Q35, 'sysfs');
    expect(r.status).toBe(3);
    const params = '/sys/module/vfio_iommu_type1/parameters';
    expect(r.stdout).toBe(
      `${COMMON}opendir /sys/kernel/iommu_groups/1/devices: ./4 ../4 0000:00:01.0/10\nclosedir = 0\n` +
        'opendir /sys/bus/pci/devices/0000:00:01.0: ./4 ../4 class/8 config/8 device/8 driver/10 driver_override/8 iommu_group/10 irq/8 resource/8 revision/8 subsystem_device/8 subsystem_vendor/8 vendor/8 vfio-dev/4\nclosedir = 0\n' +
        'opendir /dev/vfio/: ./4 ../4 vfio/2 1/2\nclosedir = 0\n' +
        `opendir ${params}: ./4 ../4 allow_unsafe_interrupts/8 disable_hugepages/8 dma_entry_limit/8\nclosedir = 0\n` +
        'opendir /sys/kernel/iommu_groups/99 = -1 No such file or directory\n' +
        'opendir /sys/bus/pci/devices/0000:00:01.0/vendor = -1 Not a directory\n' +
        'open parameter for writing = 0\nwrite Y = 1\nclose parameter = 0\n' +
        `${params}/allow_unsafe_interrupts: Y\nfopen parameter w = 0\nfclose = 0\n${params}/dma_entry_limit: 1000\n` +
        `write vendor = -1 Permission denied\n${TAIL}`,
    );
    const ops = r.trace.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.op === 'param');
    expect(ops).toEqual([
      { op: 'param', name: 'vfio_iommu_type1.allow_unsafe_interrupts', value: 'Y', ret: 1, errno: 0 },
      { op: 'param', name: 'vfio_iommu_type1.dma_entry_limit', value: '1000\n', ret: 5, errno: 0 },
    ]);
    expect(replaySummary(join(tmp, 'execsysfs.jsonl'))).toBe('32 events, 32 match, 0 differ, 0 skipped');
  });

  // readlink(2) from a program: a function below a root port (the Overdrive's X540 on bus
  // 01, below 00:02.1) has a directory one level deeper, and every link says so; stat
  // follows the bus entry to a directory, lstat sees the link, opendir lists through it.
  test('sysfs links of a function below a root port', () => {
    const r = spawnSync(process.execPath, ['bin/vfio-emu.cjs', 'exec', '--platform', 'amd-overdrive', '--kernel', '6.12', '--bind', '0000:01:00.0', '--', linksClient, '0000:01:00.0'], {
      env,
      encoding: 'utf8',
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(
      '/sys/bus/pci/devices/0000:01:00.0 -> ../../../devices/pci0000:00/0000:00:02.1/0000:01:00.0\n' +
        'stat is a directory = 0\nlstat is a link = 0\nopendir through the link = 0\n' +
        '/sys/bus/pci/devices/0000:01:00.0/iommu_group -> ../../../../kernel/iommu_groups/0\n' +
        '/sys/bus/pci/devices/0000:01:00.0/driver -> ../../../../bus/pci/drivers/vfio-pci\n' +
        '/sys/kernel/iommu_groups/0/devices/0000:01:00.0 -> ../../../../devices/pci0000:00/0000:00:02.1/0000:01:00.0\n',
    );
  });

  // Without the library (no C compiler at build time), exec says so in one line.
  test('no preload library', () => {
    const r = spawnSync(process.execPath, ['bin/vfio-emu.cjs', 'exec', ...Q35, '--', client], {
      env: { ...env, VFIO_EMU_PRELOAD: join(tmp, 'missing.so') },
      encoding: 'utf8',
    });
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe(`exec: the preload library ${join(tmp, 'missing.so')} was not built (no C compiler when \`npm run build\` ran)\n`);
  });
});

test('the build made the library where a compiler exists', () => {
  expect(existsSync('dist/vfio-preload.so')).toBe(hasCc);
});

// Without a C compiler the build's native step says so and succeeds (npm ci keeps working).
test('the native build without a compiler', () => {
  const r = spawnSync(process.execPath, ['scripts/build-native.mjs'], { env: { ...env, VFIO_EMU_NO_CC: '1' }, encoding: 'utf8' });
  expect([r.status, r.stdout, r.stderr]).toEqual([0, 'build-native: no C compiler (cc); vfio-emu exec and record will be unavailable\n', '']);
});
