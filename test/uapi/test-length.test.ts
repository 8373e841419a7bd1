// An iommufd-style TEST_LENGTH sweep (tools/testing/selftests/iommu/iommufd.c) over every
// request of the table with an argsz struct: on a machine where the call can succeed, each is
// made with argsz one byte short of minsz, exactly minsz, and minsz + 8 with a zero tail and
// with a 0xaa tail. The kernel rule under test, common to VFIO's handlers
// (drivers/vfio/group.c, vfio_iommu_type1.c, vfio_iommu_spapr_tce.c, pci/vfio_pci_core.c):
//
//   copy_from_user(&s, arg, minsz); if (s.argsz < minsz) return -EINVAL;
//   ...; copy_to_user(arg, &s, <what the handler copies back>);
//
// so a short argsz fails before anything is written, a larger one is accepted and its tail is
// neither read nor checked (VFIO, unlike iommufd, does not require the tail to be zero) nor
// written, except where a GET_INFO-style handler copies back more because argsz allows it.
// Era 6.12 throughout, as the real-kernel traces under test/fixtures (which record several
// of these answers: "argsz 8 < minsz", "argsz 16 (minsz)", "argsz 64 > sizeof", ...).

import { describe, expect, it } from 'vitest';
import { EINVAL, ENODEV, errnoName } from '../../src/uapi/errno.js';
import { REQUESTS, type RequestDef } from '../../src/uapi/requests.js';
import { encodeStruct, findField } from '../../src/uapi/struct.js';
import { Machine, hex, RW } from '../kernel/fixture.js';
import { boot } from '../../src/machine/boot.js';

const ERA = '6.12';
const TAIL = 8;
const M = 0x100000n;

/** A machine where the request can succeed, the fd it goes to, and the fields to send. */
interface Ready {
  m: Machine;
  fd: number;
  fields: Record<string, bigint | number>;
}

interface Sweep {
  /** minsz as the handler computes it (offsetofend of its last required field). */
  minsz: number;
  /** The answer once argsz >= minsz (0, or the errno the machine's state leads to). */
  errno?: number;
  /**
   * How many bytes the handler copies back for `argsz` (0: none). Most copy minsz; the
   * GET_INFO-style ones that zero their struct copy min(argsz, sizeof) (6.6+).
   */
  copied: (argsz: number) => number;
  ready: () => Ready;
}

// ---- machines ---------------------------------------------------------------------------------

const EDU = '0000:00:01.0';
const X540 = '0001:01:00.0';
const SPAPR_TCE_V2 = 7;

function deviceFd(m: Machine, bdf: string): number {
  const name = new TextEncoder().encode(`${bdf}\0`);
  const o = m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', name);
  expect(errnoName(o.errno)).toBe(errnoName(0));
  return o.ret;
}
/** q35 with VT-d, edu in a type1v2 container. */
function type1(): Machine {
  const m = new Machine(ERA, 'qemu-q35-vtd');
  m.setup(EDU);
  return m;
}
/** PowerNV, the X540 in a SPAPR_TCE_v2 container. */
function spapr(): Machine {
  const m = new Machine(ERA, 'powernv');
  m.setup(X540, SPAPR_TCE_V2);
  return m;
}
const onType1 = (fields: Ready['fields'] = {}, prep?: (m: Machine) => Ready['fields']): (() => Ready) => () => {
  const m = type1();
  return { m, fd: m.container, fields: { ...fields, ...prep?.(m) } };
};
const onSpapr = (prep?: (m: Machine) => Ready['fields']): (() => Ready) => () => {
  const m = spapr();
  return { m, fd: m.container, fields: prep?.(m) ?? {} };
};
const onDevice = (fields: Ready['fields'] = {}, prep?: (m: Machine, fd: number) => Ready['fields']): (() => Ready) => () => {
  const m = type1();
  const fd = deviceFd(m, EDU);
  return { m, fd, fields: { ...fields, ...prep?.(m, fd) } };
};
/**
 * q35 built with iommufd and the device cdev (config=iommufd), edu's cdev open; bound
 * to /dev/iommu when `bound`. The fields name the iommufd, and for a bound device an IOAS.
 */
const onCdev = (bound: 'unbound' | 'bound' | 'attached'): (() => Ready) => (): Ready => {
  const m = new Machine(boot(ERA, 'qemu-q35-vtd', {}, 'iommufd').kernel);
  m.kernel.bind(EDU, 'vfio-pci');
  const iommufd = m.open('/dev/iommu');
  const fd = m.open('/dev/vfio/devices/vfio0');
  if (bound === 'unbound') return { m, fd, fields: { flags: 0, iommufd } };
  const b = encodeStruct(BIND, new Map([['argsz', 16n], ['flags', 0n], ['iommufd', BigInt(iommufd)]]), 16, 0);
  expect(errnoName(m.ioctl_(fd, 'VFIO_DEVICE_BIND_IOMMUFD', b).errno)).toBe(errnoName(0));
  const alloc = encodeStruct(IOAS_ALLOC, new Map([['size', 12n]]), 12, 0);
  expect(errnoName(m.ioctl_(iommufd, 'IOMMU_IOAS_ALLOC', alloc).errno)).toBe(errnoName(0));
  const ioas = new DataView(alloc.buffer).getUint32(8, true);
  if (bound === 'bound') return { m, fd, fields: { flags: 0, pt_id: ioas } };
  const a = encodeStruct(ATTACH, new Map([['argsz', 12n], ['flags', 0n], ['pt_id', BigInt(ioas)]]), 12, 0);
  expect(errnoName(m.ioctl_(fd, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', a).errno)).toBe(errnoName(0));
  return { m, fd, fields: { flags: 0 } };
};
const IOAS_ALLOC = REQUESTS.find((r) => r.name === 'IOMMU_IOAS_ALLOC')!.struct!;
const BIND = REQUESTS.find((r) => r.name === 'VFIO_DEVICE_BIND_IOMMUFD')!.struct!;
const ATTACH = REQUESTS.find((r) => r.name === 'VFIO_DEVICE_ATTACH_IOMMUFD_PT')!.struct!;
/** 16 MiB of anonymous memory registered with the spapr container (tce_iommu_register_pages). */
function registered(m: Machine): bigint {
  const vaddr = m.mmap(16n * M);
  const b = encodeStruct(SPAPR_REG, new Map([['argsz', 24n], ['vaddr', vaddr], ['size', 16n * M]]), 24, 0);
  expect(errnoName(m.ioctl_(m.container, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', b).errno)).toBe(errnoName(0));
  return vaddr;
}
/** SET_IRQS(INTx, DATA_EVENTFD | ACTION_TRIGGER, start 0, count 1, an eventfd): INTx on. */
function intxEnabled(m: Machine, fd: number): Ready['fields'] {
  const efd = Number(m.kernel.eventfd(m.proc).ret);
  const values = new Map([['argsz', 24n], ['flags', 0x24n], ['index', 0n], ['start', 0n], ['count', 1n]]);
  const b = encodeStruct(IRQ_SET, values, 24, 0);
  new DataView(b.buffer).setInt32(20, efd, true);
  expect(errnoName(m.ioctl_(fd, 'VFIO_DEVICE_SET_IRQS', b).errno)).toBe(errnoName(0));
  return {};
}
const IRQ_SET = REQUESTS.find((r) => r.name === 'VFIO_DEVICE_SET_IRQS')!.struct!;
const SPAPR_REG = REQUESTS.find((r) => r.name === 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY')!.struct!;

const copyMinsz = (minsz: number) => (): number => minsz;
const copyNone = (): number => 0;
/** `struct x info = {}` ... copy_to_user(arg, &info, min(info.argsz, sizeof(info))). */
const copyMinArgsz = (size: number) => (argsz: number): number => Math.min(argsz, size);

// ---- the table: every argsz request, with the kernel's minsz and copy-back ---------------------

const SWEEPS = new Map<string, Sweep>([
  // vfio_group_ioctl_get_status(): minsz = offsetofend(flags); copy_to_user(.., minsz).
  ['VFIO_GROUP_GET_STATUS', { minsz: 8, copied: copyMinsz(8), ready: () => { const m = type1(); return { m, fd: m.group, fields: {} }; } }],
  // vfio_pci_ioctl_get_info() (6.6+): minsz = offsetofend(num_irqs); info = {}; copy
  // min(argsz, sizeof(info)) (trace: "argsz 16 (minsz)", "argsz 24 (sizeof)").
  ['VFIO_DEVICE_GET_INFO', { minsz: 16, copied: copyMinArgsz(24), ready: onDevice() }],
  // vfio_pci_ioctl_get_region_info(): minsz = offsetofend(offset) = sizeof; BAR0 of edu has no
  // capabilities, so exactly minsz is copied (trace: "argsz 16 < minsz", "argsz 32 (sizeof)").
  ['VFIO_DEVICE_GET_REGION_INFO', { minsz: 32, copied: copyMinsz(32), ready: onDevice({ index: 0 }) }],
  // vfio_pci_ioctl_get_irq_info(): minsz = offsetofend(count) (trace: "argsz 8 < minsz").
  ['VFIO_DEVICE_GET_IRQ_INFO', { minsz: 16, copied: copyMinsz(16), ready: onDevice({ index: 0 }) }],
  // vfio_pci_ioctl_set_irqs(): minsz = offsetofend(count); with INTx enabled, DATA_NONE |
  // ACTION_TRIGGER with count 0 disables it (vfio_pci_set_intx_trigger); the data (none)
  // would follow minsz; nothing is copied back.
  ['VFIO_DEVICE_SET_IRQS', { minsz: 20, copied: copyNone, ready: onDevice({ flags: 0x21, index: 0, start: 0, count: 0 }, intxEnabled) }],
  // vfio_pci_ioctl_get_pci_hot_reset_info(): minsz = offsetofend(count); no modelled device can
  // be slot- or bus-reset, so past the minsz check every call is -ENODEV, nothing copied.
  ['VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', { minsz: 12, errno: ENODEV, copied: copyNone, ready: onDevice() }],
  // vfio_pci_ioctl_pci_hot_reset(): minsz = offsetofend(count), flags must be 0; then the
  // reset probe fails as above (count 1: 6.6+ rejects count 0 for a group-opened device first).
  ['VFIO_DEVICE_PCI_HOT_RESET', { minsz: 12, errno: ENODEV, copied: copyNone, ready: onDevice({ flags: 0, count: 1 }) }],
  // vfio_pci_ioctl_ioeventfd(): minsz = offsetofend(fd); a 4-byte write to BAR0 at 0.
  [
    'VFIO_DEVICE_IOEVENTFD',
    {
      minsz: 28,
      copied: copyNone,
      ready: onDevice({ flags: 4, offset: 0, data: 1 }, (m) => ({ fd: Number(m.kernel.eventfd(m.proc).ret) })),
    },
  ],
  // vfio_ioctl_device_feature(): minsz = offsetofend(flags); PROBE|SET of LOW_POWER_ENTRY
  // answers 0 at any argsz from there (vfio_check_feature), nothing copied back (trace: edu-feature).
  ['VFIO_DEVICE_FEATURE', { minsz: 8, copied: copyNone, ready: onDevice({ flags: (1 << 18) | (1 << 17) | 3 }) }],
  // vfio_df_ioctl_bind_iommufd() (6.6-6.16): minsz = offsetofend(out_devid); out_devid is
  // written back inside it.
  ['VFIO_DEVICE_BIND_IOMMUFD', { minsz: 16, copied: copyMinsz(16), ready: onCdev('unbound') }],
  // vfio_df_ioctl_attach_pt(): minsz = offsetofend(pt_id); pt_id is written back.
  ['VFIO_DEVICE_ATTACH_IOMMUFD_PT', { minsz: 12, copied: copyMinsz(12), ready: onCdev('bound') }],
  // vfio_df_ioctl_detach_pt(): minsz = offsetofend(flags); nothing copied back.
  ['VFIO_DEVICE_DETACH_IOMMUFD_PT', { minsz: 8, copied: copyNone, ready: onCdev('attached') }],
  // vfio_iommu_type1_get_info() (6.6+): minsz = offsetofend(iova_pgsizes); info = {}; copy
  // min(argsz, sizeof(info)); argsz is raised to what the capabilities need (trace:
  // "argsz=minsz(offsetofend iova_pgsizes)", "argsz=sizeof(struct)").
  ['VFIO_IOMMU_GET_INFO', { minsz: 16, copied: copyMinArgsz(24), ready: onType1() }],
  // vfio_iommu_type1_map_dma(): minsz = offsetofend(size); nothing copied back (trace: "argsz
  // 64 > sizeof").
  [
    'VFIO_IOMMU_MAP_DMA',
    { minsz: 32, copied: copyNone, ready: onType1({ flags: RW, iova: 0x100000, size: 0x1000 }, (m) => ({ vaddr: m.mmap(0x1000n) })) },
  ],
  // vfio_iommu_type1_unmap_dma(): minsz = offsetofend(size); the struct (size updated) is
  // copied back, minsz bytes.
  [
    'VFIO_IOMMU_UNMAP_DMA',
    {
      minsz: 24,
      copied: copyMinsz(24),
      ready: onType1({ flags: 0, iova: 0x100000, size: 0x1000 }, (m) => {
        m.map_dma(m.mmap(0x1000n), 0x100000n, 0x1000n);
        return {};
      }),
    },
  ],
  // vfio_iommu_type1_dirty_pages(): minsz = offsetofend(flags); START needs nothing after it.
  ['VFIO_IOMMU_DIRTY_PAGES', { minsz: 8, copied: copyNone, ready: onType1({ flags: 1 }) }],
  // tce_iommu_ioctl(SPAPR_TCE_GET_INFO): minsz = offsetofend(dma32_window_size); ddw only
  // when argsz >= offsetofend(ddw.levels) = 32, so minsz + 8 still copies minsz.
  ['VFIO_IOMMU_SPAPR_TCE_GET_INFO', { minsz: 16, copied: copyMinsz(16), ready: onSpapr() }],
  // tce_iommu_ioctl(SPAPR_REGISTER_MEMORY): minsz = offsetofend(size); nothing copied back.
  [
    'VFIO_IOMMU_SPAPR_REGISTER_MEMORY',
    { minsz: 24, copied: copyNone, ready: onSpapr((m) => ({ flags: 0, vaddr: m.mmap(16n * M), size: 16n * M })) },
  ],
  ['VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { minsz: 24, copied: copyNone, ready: onSpapr((m) => ({ flags: 0, vaddr: registered(m), size: 16n * M })) }],
  // tce_iommu_ioctl(SPAPR_TCE_CREATE): minsz = offsetofend(start_addr); start_addr is
  // copied back, minsz bytes.
  ['VFIO_IOMMU_SPAPR_TCE_CREATE', { minsz: 40, copied: copyMinsz(40), ready: onSpapr(() => ({ flags: 0, page_shift: 16, window_size: 0x4000_0000, levels: 1 })) }],
  // tce_iommu_ioctl(SPAPR_TCE_REMOVE): minsz = offsetofend(start_addr); removes the default
  // 32-bit window at 0.
  ['VFIO_IOMMU_SPAPR_TCE_REMOVE', { minsz: 16, copied: copyNone, ready: onSpapr(() => ({ flags: 0, start_addr: 0 })) }],
]);

// ---- the sweep --------------------------------------------------------------------------------

const hasArgsz = (r: RequestDef): boolean => r.struct !== undefined && findField(r.struct, 'argsz')?.off === 0;

interface Call {
  errno: number;
  sent: Uint8Array;
  out: Uint8Array;
}

function call(r: RequestDef, s: Sweep, argsz: number, tailFill = 0xaa): Call {
  const { m, fd, fields } = s.ready();
  const len = Math.max(argsz, s.minsz);
  const sent = encodeStruct(r.struct!, new Map(Object.entries({ ...fields, argsz }).map(([k, v]) => [k, BigInt(v)])), len, 0xaa);
  sent.fill(tailFill, s.minsz);
  const out = sent.slice();
  return { errno: m.ioctl_(fd, r.name, out).errno, sent, out };
}

describe('TEST_LENGTH: argsz below, at and above minsz', () => {
  // Rule: every request with an argsz struct is swept (GROUP_SET_CONTAINER takes a bare
  // __s32 fd, no argsz).
  it('covers every argsz request of the table', () => {
    expect(REQUESTS.filter(hasArgsz).map((r) => r.name).sort()).toEqual([...SWEEPS.keys()].sort());
    // iommufd's commands start with `size`, swept by test/kernel/iommufd (copy_struct_from_user).
    expect(REQUESTS.filter((r) => r.arg === 'struct' && r.fd !== 'iommufd' && !hasArgsz(r)).map((r) => r.name)).toEqual(['VFIO_GROUP_SET_CONTAINER']);
  });

  for (const r of REQUESTS.filter(hasArgsz)) {
    const s = SWEEPS.get(r.name)!;
    describe(r.name, () => {
      const want = s.errno ?? 0;

      // Rule: argsz < minsz is -EINVAL, before anything is written.
      it('argsz = minsz - 1: -EINVAL, nothing written', () => {
        const c = call(r, s, s.minsz - 1);
        expect(errnoName(c.errno)).toBe(errnoName(EINVAL));
        expect(hex(c.out)).toBe(hex(c.sent));
      });

      // Rule: argsz = minsz is accepted; at most `copied(minsz)` bytes are written.
      it('argsz = minsz', () => {
        const c = call(r, s, s.minsz);
        expect(errnoName(c.errno)).toBe(errnoName(want));
        expect(hex(c.out.subarray(s.copied(s.minsz)))).toBe(hex(c.sent.subarray(s.copied(s.minsz))));
      });

      // Rule: a larger argsz is accepted whatever the tail holds (VFIO does not check it is
      // zero), the answer is the same as at minsz, and the tail is only written where the
      // handler copies more back (then with its zeroed struct's bytes).
      for (const [what, fill] of [['zero', 0], ['non-zero (0xaa)', 0xaa]] as const) {
        it(`argsz = minsz + ${TAIL}, ${what} tail`, () => {
          const exact = call(r, s, s.minsz);
          const c = call(r, s, s.minsz + TAIL, fill);
          expect(errnoName(c.errno)).toBe(errnoName(want));
          const n = s.copied(s.minsz);
          const more = s.copied(s.minsz + TAIL);
          // The first copied bytes as at minsz, but for argsz itself when the handler echoes it.
          const head = c.out.slice(0, n);
          const headExact = exact.out.slice(0, n);
          if (n >= 4 && new DataView(headExact.buffer).getUint32(0, true) === s.minsz) {
            expect(new DataView(head.buffer).getUint32(0, true)).toBe(s.minsz + TAIL);
            head.fill(0, 0, 4);
            headExact.fill(0, 0, 4);
          }
          expect(hex(head)).toBe(hex(headExact));
          expect(hex(c.out.subarray(n, more))).toBe('00'.repeat(more - n));
          expect(hex(c.out.subarray(more))).toBe(hex(c.sent.subarray(more)));
        });
      }
    });
  }
});

describe('TEST_LENGTH: VFIO_IOMMU_GET_INFO capabilities', () => {
  // vfio_iommu_type1_get_info(): `if (info.argsz < sizeof(info) + caps.size) info.argsz =
  // sizeof(info) + caps.size; else { copy the chain after the struct; info.cap_offset =
  // sizeof(info); }`. On q35/VT-d 6.12 the chain needs 120 bytes in all (trace
  // x86-6.12-intremap-off, "argsz=sizeof(struct)": argsz 24 comes back as 120).
  const NEEDED = 120;
  const r = REQUESTS.find((x) => x.name === 'VFIO_IOMMU_GET_INFO')!;
  const s = SWEEPS.get(r.name)!;
  const u32 = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset).getUint32(off, true);

  it('one byte short of the chain: argsz raised to what it needs, no chain, tail untouched', () => {
    const c = call(r, s, NEEDED - 1);
    expect(errnoName(c.errno)).toBe(errnoName(0));
    expect([u32(c.out, 0), u32(c.out, 16), u32(c.out, 20)]).toEqual([NEEDED, 0, 0]);
    expect(hex(c.out.subarray(24))).toBe(hex(c.sent.subarray(24)));
  });

  it('room for the chain: argsz kept, the chain right after the struct', () => {
    const c = call(r, s, NEEDED);
    expect(errnoName(c.errno)).toBe(errnoName(0));
    expect([u32(c.out, 0), u32(c.out, 16)]).toEqual([NEEDED, 24]);
  });
});
