// Acceptance through iommufd: QEMU 10 (bookworm-backports, unpacked beside the system's 7.2 by
// scripts/qemu10.sh) boots the test guest with edu assigned on the model. With `-object
// iommufd` on a kernel built with IOMMUFD and VFIO_DEVICE_CDEV (`config=iommufd`), QEMU finds
// the device's cdev through vfio-dev/, binds it to /dev/iommu, reads the IOMMU's hardware info
// and IOVA ranges through user pointers, allocates a paging HWPT, attaches the device to it and
// maps guest RAM with IOMMU_IOAS_MAP (hw/vfio/iommufd.c, backends/iommufd.c). Without the
// object, on `config=iommufd-compat`, QEMU's legacy container ioctls are served by iommufd's
// compat /dev/vfio/vfio (drivers/iommu/iommufd/vfio_compat.c). The guest must see the same
// INTx, MSI and DMA either way, and each trace replays with no difference.

import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cli, tmp } from '../cli/run-cli.js';
import { EDU_SERIAL, runGuest_, type Qemu10 } from './edu-guest.js';

/** QEMU 10's binary, from scripts/qemu10.sh (which unpacks it the first time; .ci/run runs it). */
function qemu10_(args: string[], device: string): Qemu10 {
  const r = spawnSync('bash', ['scripts/qemu10.sh'], { encoding: 'utf8', timeout: 600_000 });
  expect(r.status, `scripts/qemu10.sh: ${r.stderr}`).toBe(0);
  const bin = r.stdout.trim();
  return { bin, firmware: join(dirname(dirname(bin)), 'share', 'qemu'), args, device };
}

interface Ev {
  op: string;
  path?: string;
  request?: string;
  in?: string;
  out?: string;
  arg?: number;
  addr?: string;
  len?: number | string;
  ret: number | string;
  errno?: number;
}

const events_ = (trace: string): Ev[] =>
  readFileSync(trace, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as Ev);

/** A little-endian field of a hex buffer: `bytes` bytes at `off`. */
const le = (hex: string | undefined, off: number, bytes: number): bigint =>
  BigInt(`0x${(hex ?? '').slice(off * 2, (off + bytes) * 2).match(/../g)!.reverse().join('')}`);

const RESET_WARNING = 'qemu-system-x86_64: vfio: Cannot reset device 0000:00:01.0, no available reset mechanism.\n';

/**
 * What QEMU 10 does through native iommufd, however it got its fds: bound, the hardware info
 * and IOVA ranges through their pointers, a paging HWPT the device is attached to, guest RAM
 * mapped; and the trace replays.
 */
function expectIommufdGuest(events: Ev[], trace: string): void {
  const ioctl = (name: string): Ev[] => events.filter((e) => e.request === name);
  // Bound, then IOMMU_GET_HW_INFO with its data_uptr (the call that faulted before the
  // library copied pointed-to memory) answered 0.
  expect(ioctl('VFIO_DEVICE_BIND_IOMMUFD').map((e) => e.ret)).toEqual([0]);
  expect(ioctl('IOMMU_GET_HW_INFO').map((e) => [e.ret, le(e.in, 16, 8) !== 0n])).toEqual([[0, true]]);
  // IOVA_RANGES twice: with no room, -EMSGSIZE and the count (iommufd_ioas_iova_ranges); then the second writes VT-d's ranges around the
  // interrupt window 0xfee00000..0xfeefffff into QEMU's array, traced as loads.
  const ranges = ioctl('IOMMU_IOAS_IOVA_RANGES');
  expect(ranges.map((e) => [e.ret, e.errno, le(e.out, 8, 4)])).toEqual([[-1, 90, 2n], [0, 0, 2n]]);
  const at = events.indexOf(ranges[1]!);
  const array = le(ranges[1]!.in, 16, 8);
  expect(events.slice(at + 1, at + 5).map((e) => [e.op, BigInt(e.addr!) - array, e.len, e.out])).toEqual([
    ['load', 0n, 8, '0000000000000000'],
    ['load', 8n, 8, 'ffffdffe00000000'],
    ['load', 16n, 8, '0000f0fe00000000'],
    ['load', 24n, 8, 'ffffffff7f000000'],
  ]);
  // A paging HWPT on the IOAS, and the device attached to it: pt_id is HWPT_ALLOC's out_hwpt_id.
  const hwpt = ioctl('IOMMU_HWPT_ALLOC');
  expect(hwpt.map((e) => e.ret)).toEqual([0]);
  const attach = ioctl('VFIO_DEVICE_ATTACH_IOMMUFD_PT');
  expect(attach.map((e) => [e.ret, le(e.out, 8, 4)])).toEqual([[0, le(hwpt[0]!.out, 16, 4)]]);
  // Guest RAM: 128 MiB at IOVA 0, from the program's address the model learned by an mmap
  // event; every IOAS_MAP answered 0.
  const maps = ioctl('IOMMU_IOAS_MAP');
  expect(maps.map((e) => e.ret).filter((ret) => ret !== 0)).toEqual([]);
  const ram = maps.find((e) => le(e.in, 24, 8) === 0x8000000n && le(e.in, 32, 8) === 0n);
  const va = `0x${le(ram?.in, 16, 8).toString(16)}`;
  expect(events.filter((e) => e.op === 'mmap' && e.addr === va).map((e) => [e.len, e.ret])).toEqual([[134217728, va]]);
  const n = events.length;
  expect(cli(['replay', trace]).stdout.trim().split('\n').at(-1)).toBe(`${n} events, ${n} match, 0 differ, 0 skipped`);
}

describe('QEMU 10 through iommufd', () => {
  // Native iommufd: the device cdev bound to /dev/iommu, guest RAM in an IOAS.
  test('-object iommufd on config=iommufd: the guest sees INTx, MSI and DMA', () => {
    const trace = join(tmp, 'qemu10-iommufd.jsonl');
    const r = runGuest_(['--platform', 'qemu-q35-vtd', '--kernel', '6.12 config=iommufd'], '0000:00:01.0', trace, undefined, qemu10_(['-object', 'iommufd,id=i0'], ',iommufd=i0'));
    expect(r.stderr).toBe(RESET_WARNING.repeat(2));
    expect(r.status).toBe(1);
    expect(r.stdout.slice(r.stdout.indexOf('edu: '))).toBe(EDU_SERIAL);
    const events = events_(trace);
    // The nodes QEMU opens: the cdev (found through vfio-dev/) and /dev/iommu; no group, no container.
    expect(events.filter((e) => e.op === 'open').map((e) => e.path)).toEqual(['/dev/vfio/devices/vfio0', '/dev/iommu']);
    expectIommufdGuest(events, trace);
  });

  // memfd guest RAM: QEMU 10.0 maps it with IOMMU_IOAS_MAP of its shared mapping of the memfd
  // (MAP_FILE came later, with CPR); the server backs the pinned pages with QEMU's memfd itself
  // (docs/exec.md, "Memory"), and the guest sees the same DMA as with anonymous RAM.
  test('-object memory-backend-memfd guest RAM: the same guest', () => {
    const trace = join(tmp, 'qemu10-memfd.jsonl');
    const ram = ['-object', 'memory-backend-memfd,id=mem,size=128M,share=on', '-machine', 'memory-backend=mem'];
    const r = runGuest_(['--platform', 'qemu-q35-vtd', '--kernel', '6.12 config=iommufd'], '0000:00:01.0', trace, undefined, qemu10_(['-object', 'iommufd,id=i0', ...ram], ',iommufd=i0'));
    expect(r.stderr).toBe(RESET_WARNING.repeat(2));
    expect(r.status).toBe(1);
    expect(r.stdout.slice(r.stdout.indexOf('edu: '))).toBe(EDU_SERIAL);
    expectIommufdGuest(events_(trace), trace);
  });

  // The compat container: QEMU 10 without the object uses the group and /dev/vfio/vfio, which
  // iommufd serves (VFIO_CONTAINER=n, IOMMUFD_VFIO_CONTAINER=y).
  test('legacy container on config=iommufd-compat: the guest sees INTx, MSI and DMA', () => {
    const trace = join(tmp, 'qemu10-compat.jsonl');
    const r = runGuest_(['--platform', 'qemu-q35-vtd', '--kernel', '6.12 config=iommufd-compat'], '0000:00:01.0', trace, undefined, qemu10_([], ''));
    expect(r.stderr).toBe(RESET_WARNING.repeat(2));
    expect(r.status).toBe(1);
    expect(r.stdout.slice(r.stdout.indexOf('edu: '))).toBe(EDU_SERIAL);
    const events = events_(trace);
    expect(events.filter((e) => e.op === 'open').map((e) => e.path)).toEqual(['/dev/vfio/1', '/dev/vfio/vfio']);
    expect(events.filter((e) => e.request === 'VFIO_SET_IOMMU').map((e) => [e.arg, e.ret])).toEqual([[3, 0]]);
    const maps = events.filter((e) => e.request === 'VFIO_IOMMU_MAP_DMA');
    expect([maps.length, maps.filter((e) => e.ret !== 0).length]).toEqual([18, 0]);
    const n = events.length;
    expect(cli(['replay', trace]).stdout.trim().split('\n').at(-1)).toBe(`${n} events, ${n} match, 0 differ, 0 skipped`);
  });

  // libvirt's way: a launcher (test/native/exec-fds.c `pass`) opens /dev/iommu and the cdev,
  // clears FD_CLOEXEC and execs QEMU with `-object iommufd,fd=N -device vfio-pci,fd=M` and no
  // host=: QEMU opens nothing itself and names the device VFIO_FD<M> (hw/vfio/device.c
  // vfio_device_get_name), and the guest sees what it sees when QEMU opens the paths.
  test('fds passed across exec: -object iommufd,fd= and -device vfio-pci,fd=', () => {
    const trace = join(tmp, 'qemu10-iommufd-fds.jsonl');
    const launcher = join(tmp, 'exec-fds');
    const cc = spawnSync('cc', ['-O1', '-Wall', '-o', launcher, 'test/native/exec-fds.c'], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    const qemu = { ...qemu10_(['-object', 'iommufd,id=i0,fd=@IOMMUFD@'], ',iommufd=i0,fd=@DEV@'), launcher: [launcher, 'pass', '/dev/vfio/devices/vfio0'] };
    const r = runGuest_(['--platform', 'qemu-q35-vtd', '--kernel', '6.12 config=iommufd'], '0000:00:01.0', trace, undefined, qemu);
    expect(r.stderr).toBe(RESET_WARNING.replace('0000:00:01.0', 'VFIO_FD4').repeat(2));
    expect(r.status).toBe(1);
    expect(r.stdout.slice(r.stdout.indexOf('edu: '))).toBe(EDU_SERIAL);
    const events = events_(trace);
    // The launcher's opens, in its order; QEMU's own none.
    expect(events.filter((e) => e.op === 'open').map((e) => e.path)).toEqual(['/dev/iommu', '/dev/vfio/devices/vfio0']);
    expectIommufdGuest(events, trace);
  });
});
