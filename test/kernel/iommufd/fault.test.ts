// IOMMU_FAULT_QUEUE_ALLOC (6.11) and HWPT_ALLOC's fault_id: 7.2's eventq.c iommufd_fault_alloc,
// iommufd_fault_fops_read/write, hw_pagetable.c iommufd_hwpt_alloc and the drivers' IOPF set-up
// at attach. Oracle: test/fixtures/real-kernel-iommufd/*/edu-file.jsonl (q35 VT-d, edu) and the
// read/write answers the same probe printed beside it (tools/realkernel/iommufdprobe.c `file`).

import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, ENODEV, ENOENT, ENOTTY, EOPNOTSUPP, ESPIPE } from '../../../src/uapi/errno.js';
import { Iommufd, PAGE, RW, FIXED } from './fixture.js';

const EDU = '0000:00:01.0';
const FAULT_ID_VALID = 4n;
const NEST_PARENT = 1n;

/** read(2) of `len` bytes into a 0xaa-filled buffer: the answer and the buffer. */
function readFd(t: Iommufd, fd: number, len: number): { ret: number; errno: number; buf: Uint8Array } {
  const buf = new Uint8Array(len).fill(0xaa);
  const r = t.kernel.read(t.proc, fd, buf);
  return { ret: Number(r.ret), errno: r.errno, buf };
}

describe('IOMMU_FAULT_QUEUE_ALLOC', () => {
  // Rule: flags must be 0 (-EOPNOTSUPP); the object takes the next id, the fd the lowest free
  // number, both written back; the fd is an anon inode "[iommufd-pgfault]".
  it('allocates an object and an fd', () => {
    const t = new Iommufd('7.2');
    t.fault_alloc_err(EOPNOTSUPP, 1n);
    const ioas = t.ioas_alloc();
    const q = t.fault_alloc();
    expect(q).toEqual({ id: ioas + 1, fd: t.fd + 1 });
    const f = t.proc.file(q.fd)!;
    expect([f.ops.kind, f.path]).toEqual(['fault', 'anon_inode:[iommufd-pgfault]']);
  });

  // Rule: the command is 6.11's: 6.6's table ends at GET_HW_INFO.
  it('ENOTTY before 6.11', () => {
    const t = new Iommufd('6.6');
    t.err(ENOTTY, t.fault_alloc_());
  });
});

describe('the fault fd', () => {
  // Rule (7.2, recorded): records are 40 bytes; a count that is not whole records is -ESPIPE;
  // with nothing queued whole records read 0 bytes, and nothing is written to the buffer.
  it('read', () => {
    const t = new Iommufd('7.2');
    const { fd } = t.fault_alloc();
    for (const [len, ret, errno] of [[40, 0, 0], [39, -1, ESPIPE], [48, -1, ESPIPE], [0, 0, 0], [80, 0, 0]] as const) {
      const r = readFd(t, fd, len);
      expect([len, r.ret, r.errno]).toEqual([len, ret, errno]);
      expect(r.buf.every((b) => b === 0xaa)).toBe(true);
    }
    // A pseudo file has no FMODE_PREAD: pread is the VFS's -ESPIPE, whatever the count.
    expect(t.kernel.pread(t.proc, fd, new Uint8Array(40), 0n).errno).toBe(ESPIPE);
    // No unlocked_ioctl.
    expect(t.kernel.ioctl(t.proc, fd, 0x3b80, { value: 0n }).errno).toBe(ENOTTY);
  });

  // Rule (7.2, recorded): responses are 8 bytes (cookie, code); a partial one is -ESPIPE, a
  // code other than SUCCESS/INVALID -EINVAL, a cookie no read handed out -EINVAL; 0 bytes: 0.
  it('write', () => {
    const t = new Iommufd('7.2');
    const { fd } = t.fault_alloc();
    const w = (hex: string) => t.kernel.write(t.proc, fd, Buffer.from(hex, 'hex'));
    expect(w('0100000000000000').errno).toBe(EINVAL);
    expect(w('01000000000000').errno).toBe(ESPIPE);
    expect(w('0100000007000000').errno).toBe(EINVAL);
    expect([w('').ret, w('').errno]).toEqual([0, 0]);
  });

  // Rule: the fd holds the object (obj.users) until its last close: DESTROY is -EBUSY before.
  it('DESTROY waits for the close', () => {
    const t = new Iommufd('7.2');
    const q = t.fault_alloc();
    t.destroy_err(EBUSY, q.id);
    expect(t.kernel.close(t.proc, q.fd).errno).toBe(0);
    t.destroy(q.id);
    t.destroy_err(ENOENT, q.id);
  });
});

describe('HWPT_ALLOC with FAULT_ID_VALID', () => {
  /** 7.2 on `preset`: an IOAS with a page, edu bound, a fault queue. */
  function setup(preset = 'qemu-q35-vtd', opts: Record<string, string> = {}) {
    const t = new Iommufd('7.2', preset, opts);
    const ioas = t.ioas_alloc();
    t.map(ioas, t.mmap(PAGE), PAGE, 0x100000n, RW | FIXED);
    const dev = t.bind(EDU);
    const q = t.fault_alloc();
    return { t, ioas, dev, q };
  }

  // Rule (recorded): fault_id must name a fault queue (an IOAS id or an unknown one: -ENOENT,
  // and the HWPT made first goes again); with NEST_PARENT the flag is -EOPNOTSUPP; fault_id
  // without the flag is ignored.
  it('fault_id lookup', () => {
    const { t, ioas, dev, q } = setup();
    t.err(ENOENT, t.hwpt_alloc_(dev.id, ioas, FAULT_ID_VALID, ioas));
    t.err(ENOENT, t.hwpt_alloc_(dev.id, ioas, FAULT_ID_VALID, 0xfffff));
    t.err(EOPNOTSUPP, t.hwpt_alloc_(dev.id, ioas, FAULT_ID_VALID | NEST_PARENT, q.id));
    expect(t.ok(t.hwpt_alloc_(dev.id, ioas, 0n, q.id)).k.num('out_hwpt_id')).toBe(q.id + 1);
    expect(t.ok(t.hwpt_alloc_(dev.id, ioas, FAULT_ID_VALID, q.id)).k.num('out_hwpt_id')).toBe(q.id + 2);
  });

  // Rule (recorded): the HWPT and the fd both hold the queue: DESTROY is -EBUSY until both go.
  it('the HWPT holds the queue', () => {
    const { t, ioas, dev, q } = setup();
    const hwpt = t.ok(t.hwpt_alloc_(dev.id, ioas, FAULT_ID_VALID, q.id)).k.num('out_hwpt_id');
    t.destroy_err(EBUSY, q.id);
    t.destroy(hwpt);
    t.destroy_err(EBUSY, q.id);
    expect(t.kernel.close(t.proc, q.fd).errno).toBe(0);
    t.destroy(q.id);
  });

  // Rule (recorded on VT-d): an HWPT with a fault queue needs the device's IOPF; VT-d without
  // PRI refuses the attach (intel_iommu_enable_iopf: -ENODEV), first attach and replace alike,
  // and the device stays where it was. 7.2's SMMUv3 driver attaches a device without stall
  // (arm_smmu_enable_iopf answers 0 for it).
  it('attach: ENODEV on VT-d, SMMUv3 attaches', () => {
    const { t, ioas, dev, q } = setup();
    const fh = t.ok(t.hwpt_alloc_(dev.id, ioas, FAULT_ID_VALID, q.id)).k.num('out_hwpt_id');
    expect(dev.attach(fh).ret).toBe(-ENODEV);
    const plain = t.ok(t.hwpt_alloc_(dev.id, ioas)).k.num('out_hwpt_id');
    expect(dev.attach(plain).ret).toBe(0);
    expect(dev.replace(fh).ret).toBe(-ENODEV);
    expect(t.kernel.devices.get(EDU)!.group.domain?.hw.translate(0x100000n)?.pa).toBe(t.proc.mm.physOf(t.proc.mm.list()[0]!.start));
    const arm = setup('qemu-virt-smmuv3', { gic: 'v3' });
    const armHwpt = arm.t.ok(arm.t.hwpt_alloc_(arm.dev.id, arm.ioas, FAULT_ID_VALID, arm.q.id)).k.num('out_hwpt_id');
    expect(arm.dev.attach(armHwpt).ret).toBe(0);
  });
});
