// Emulated fds across execve (docs/exec.md, "Across execve"): execve keeps the fds without
// FD_CLOEXEC, with their files and state, and closes the others before the new image runs
// (fs/exec.c do_close_on_exec), which runs their release when theirs was the last reference.
// test/native/exec-fds.c hands /dev/iommu and a device cdev to its second image as libvirt
// hands them to QEMU; a shell's `>` into a sysfs file reaches the store of an exec'd /bin/echo.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, env, tmp } from '../cli/run-cli.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const prog = join(tmp, 'exec-fds');
if (hasCc) {
  const r = spawnSync('cc', ['-O1', '-Wall', '-o', prog, 'test/native/exec-fds.c'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc test/native/exec-fds.c: ${r.stderr}`);
}

interface Ev {
  op: string;
  fd?: number;
  path?: string;
  request?: string;
  content?: string;
  errno?: number;
}

function exec_(name: string, machine: string[], program: string[]): { status: number; stdout: string; stderr: string; events: Ev[]; trace: string } {
  const trace = join(tmp, `${name}.jsonl`);
  const r = spawnSync(process.execPath, ['bin/vfio-emu.cjs', 'exec', ...machine, '--trace', trace, '--log', join(tmp, `${name}.log`), '--', ...program], { env, encoding: 'utf8' });
  const events = readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l) as Ev)
    .filter((e) => e.op !== 'kmsg');
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, events, trace };
}

/** exec_, asserting that the program succeeded and wrote nothing on stderr. */
function exec(name: string, machine: string[], program: string[]): ReturnType<typeof exec_> {
  const r = exec_(name, machine, program);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r;
}

const replaySummary = (file: string): string => cli(['replay', file]).stdout.trim().split('\n').at(-1)!;
const IOMMUFD = ['--platform', 'qemu-q35-vtd', '--kernel', '6.12 config=iommufd', '--bind', '0000:00:01.0'];
/** The events as `op fd-or-path request`, the way the order of releases reads best. */
const calls = (events: Ev[]): string[] => events.map((e) => [e.op, e.path ?? e.fd, e.request].filter((x) => x !== undefined).join(' '));

/** The launcher's lines before the exec: the same in both modes. */
const LAUNCH = `open /dev/iommu = 0
clear FD_CLOEXEC = 0
open cdev = 0
clear FD_CLOEXEC = 0
open cdev O_CLOEXEC = 0
BIND_IOMMUFD the O_CLOEXEC fd = 0
devid 0x1
lseek kept cdev to config = 0
fcntl O_CLOEXEC fd = -1 Bad file descriptor
fcntl kept cdev = 0
fstat kept cdev = 0
cdev chr 248:0
`;

/** The legacy path up to the device fd (exec-fds.c group_device), before either exec. */
const LEGACY = `open container = 0
clear FD_CLOEXEC = 0
open group O_CLOEXEC = 0
SET_CONTAINER = 0
SET_IOMMU = 0
GET_DEVICE_FD = 0
`;
const TYPE1 = ['--platform', 'qemu-q35-vtd', '--kernel', '6.12', '--bind', '0000:00:01.0'];

describe.skipIf(!hasCc)('emulated fds across execve', () => {
  // The exec closed the O_CLOEXEC cdev, its last reference: its release (vfio_df_unbind_iommufd,
  // the device object destroyed) ran before the new image's first call, so the kept cdev binds
  // (vfio_df_open: a cdev binds only while the device has no other open). Ids are the lowest free
  // (iommufd_object_alloc's xa_alloc): the IOAS takes the destroyed device's 1. The kept cdev keeps
  // its file position: read(2) there is config space's vendor and device id.
  test('libvirt-style: /dev/iommu and a cdev passed to the exec\'d image by number', () => {
    const r = exec('exec-fds-launch', IOMMUFD, [prog, 'launch', '/dev/vfio/devices/vfio0']);
    expect(r.stdout).toBe(
      `${LAUNCH}IOMMU_IOAS_ALLOC = 0
ioas 0x1
BIND_IOMMUFD = 0
devid 0x2
ATTACH_IOMMUFD_PT = 0
pt 0x3
DEVICE_GET_INFO = 0
flags 0x2 regions 9 irqs 5
read at the inherited position = 4
config id 0x11e81234
close cdev = 0
close iommufd = 0
`,
    );
    expect(calls(r.events)).toEqual([
      'bind',
      'open /dev/iommu',
      'open /dev/vfio/devices/vfio0',
      'open /dev/vfio/devices/vfio0',
      'ioctl 5 VFIO_DEVICE_BIND_IOMMUFD',
      'close 5',
      'ioctl 3 IOMMU_IOAS_ALLOC',
      'ioctl 4 VFIO_DEVICE_BIND_IOMMUFD',
      'ioctl 4 VFIO_DEVICE_ATTACH_IOMMUFD_PT',
      'ioctl 4 VFIO_DEVICE_GET_INFO',
      'pread 4',
      'close 4',
      'close 3',
    ]);
    expect(replaySummary(r.trace)).toBe('14 events, 14 match, 0 differ, 0 skipped');
  });

  // fork, then exec in the child: the child's exec closes its copy of the O_CLOEXEC cdev, but the
  // parent's copy is the same file, still open and bound, so nothing is released and the child's
  // BIND of the kept cdev is vfio_df_open's -EINVAL (as are the calls that need a bound device).
  // The parent's close then releases it, and the parent's BIND takes the freed id 1.
  test('fork, then exec in the child', () => {
    const r = exec('exec-fds-fork', IOMMUFD, [prog, 'fork', '/dev/vfio/devices/vfio0']);
    expect(r.stdout).toBe(
      `${LAUNCH}IOMMU_IOAS_ALLOC = 0
ioas 0x2
BIND_IOMMUFD = -1 Invalid argument
devid 0xaaaaaaaa
ATTACH_IOMMUFD_PT = -1 Invalid argument
pt 0x2
DEVICE_GET_INFO = -1 Invalid argument
flags 0xaaaaaaaa regions 2863311530 irqs 2863311530
read at the inherited position = -1 Invalid argument
config id 0xaaaaaaaa
close cdev = 0
close iommufd = 0
waitpid = 0
child exit 0
close O_CLOEXEC fd = 0
BIND_IOMMUFD the kept fd = 0
devid 0x1
close cdev = 0
close iommufd = 0
`,
    );
    expect(calls(r.events).slice(5)).toEqual([
      'ioctl 3 IOMMU_IOAS_ALLOC',
      'ioctl 4 VFIO_DEVICE_BIND_IOMMUFD',
      'ioctl 4 VFIO_DEVICE_ATTACH_IOMMUFD_PT',
      'ioctl 4 VFIO_DEVICE_GET_INFO',
      'pread 4',
      'close 5',
      'ioctl 4 VFIO_DEVICE_BIND_IOMMUFD',
      'close 4',
      'close 3',
    ]);
    expect(replaySummary(r.trace)).toBe('15 events, 15 match, 0 differ, 0 skipped');
  });

  // The legacy path: the group fd (O_CLOEXEC) and the device fd (O_CLOEXEC as
  // VFIO_GROUP_GET_DEVICE_FD gives it: get_unused_fd_flags(O_CLOEXEC)) close at the exec. The
  // group's release detaches it from the kept container, the last group there, so the container
  // loses its IOMMU driver (__vfio_group_unset_container): IOMMU_GET_INFO is the container's
  // -EINVAL for no driver. The group opens again (not -EBUSY: its opened_file is gone).
  test('container kept, group and device closed by the exec', () => {
    const r = exec('exec-fds-group', TYPE1, [prog, 'group', '1', '0000:00:01.0']);
    expect(r.stdout).toBe(`${LEGACY}device fd FD_CLOEXEC = 1
fcntl group = -1 Bad file descriptor
fcntl device = -1 Bad file descriptor
fcntl container = 0
IOMMU_GET_INFO = -1 Invalid argument
${LEGACY.slice(LEGACY.indexOf('open group'))}IOMMU_GET_INFO = 0
DEVICE_GET_INFO = 0
flags 0x2 regions 9 irqs 5
close device = 0
close group = 0
close container = 0
`);
    expect(calls(r.events).slice(5, 9)).toEqual(['ioctl 4 VFIO_GROUP_GET_DEVICE_FD', 'close 4', 'close 5', 'ioctl 3 VFIO_IOMMU_GET_INFO']);
    expect(replaySummary(r.trace)).toBe('19 events, 19 match, 0 differ, 0 skipped');
  });

  // An eventfd the model mirrors (SET_IRQS' trigger) stays wired across the exec: INTx looped
  // back in the new image signals the model's eventfd, and the program's inherited one counts 1.
  // The group fd closes at the exec, but the kept device fd holds the group's file (the device
  // file's reference, vfio_group_fops_release), so nothing is released until the device goes.
  test('an INTx eventfd set before the exec is signalled after it', () => {
    const r = exec('exec-fds-irq', TYPE1, [prog, 'irq', '1', '0000:00:01.0']);
    expect(r.stdout).toBe(`${LEGACY}clear FD_CLOEXEC = 0
SET_IRQS INTx eventfd = 0
SET_IRQS INTx loopback = 0
read eventfd = 8
eventfd count 1
close device = 0
`);
    expect(replaySummary(r.trace)).toBe('14 events, 14 match, 0 differ, 0 skipped');
  });

  // The library's fd closed behind its back (a raw close) and a memfd of the program's own at
  // that number: across the exec it stays the program's (an ioctl is libc's -ENOTTY), and the
  // model's container, which no fd holds any more, is released at the exec.
  test('a program\'s own memfd at an emulated fd\'s number is not taken for it', () => {
    const r = exec('exec-fds-own', ['--platform', 'qemu-q35-vtd', '--kernel', '6.12'], [prog, 'own']);
    expect(r.stdout).toBe(`open container = 0
clear FD_CLOEXEC = 0
raw close = 0
memfd at the same number = 0
fcntl = 0
GET_API_VERSION = -1 Inappropriate ioctl for device
fstat = 0
regular file
close = 0
`);
    expect(calls(r.events)).toEqual(['open /dev/vfio/vfio', 'close 3']);
  });

  // `echo BDF > …/bind` for a program the shell execs: dash opens the file, moves it to fd 1 and
  // execs /bin/echo (after a vfork, for all but the last command), whose stdio flush is the
  // store (bind_store: -EBUSY for a device that has a driver, 5.14+); `env echo` execs twice.
  // coreutils' readlink, exec'd the same way, reads the device's driver link.
  test('a shell redirection into sysfs stores for an exec\'d /bin/echo', () => {
    const DEV = '/sys/bus/pci/devices/0000:00:02.0';
    const BIND = '/sys/bus/pci/drivers/vfio-pci/bind';
    const script = [
      `/bin/echo vfio-pci > ${DEV}/driver_override`,
      `env echo 0000:00:02.0 > ${DEV}/driver/unbind`,
      `/bin/echo 0000:00:02.0 > ${BIND}`,
      `/bin/readlink ${DEV}/driver`,
      `/bin/echo 0000:00:02.0 > ${BIND}`,
    ].join('; ');
    const r = exec_('exec-fds-sh', ['--platform', 'qemu-q35-vtd', '--kernel', '6.1'], ['sh', '-c', script]);
    expect(r.stdout).toBe('../../../bus/pci/drivers/vfio-pci\n');
    expect(r.stderr).toBe('/bin/echo: write error: Device or resource busy\n');
    expect(r.status).toBe(1);
    expect(r.events.filter((e) => e.op === 'sysfs-write').map((e) => `${e.path} ${JSON.stringify(e.content)} ${e.errno}`)).toEqual([
      `${DEV}/driver_override "vfio-pci\\n" 0`,
      `${DEV}/driver/unbind "0000:00:02.0\\n" 0`,
      `${BIND} "0000:00:02.0\\n" 0`,
      `${BIND} "0000:00:02.0\\n" 16`,
    ]);
    expect(replaySummary(r.trace)).toBe('5 events, 5 match, 0 differ, 0 skipped');
  });
});
