// DEVICE_GET_INFO, GET_REGION_INFO and GET_IRQ_INFO, one stanza per rule. Expected bytes are
// the real kernels' (reference/real-kernel traces) where the traces have them.

import { describe, expect, test } from 'vitest';
import { EFAULT, EINVAL } from '../../src/uapi/errno.js';
import {
  GET_INFO,
  GET_IRQ_INFO,
  GET_REGION_INFO,
  buf,
  hex,
  ioctl,
  ioctl_err,
  open,
  u32,
  u64,
  _ioctl,
} from './helpers.js';

const POISON4 = 'aaaaaaaa';

describe('VFIO_DEVICE_GET_INFO', () => {
  // vfio_pci_ioctl_get_info: argsz below offsetofend(num_irqs) (16) is EINVAL, nothing written
  test('argsz < minsz', () => {
    const r = open('e1000e', '6.1');
    const b = buf(24, 8);
    ioctl_err(r, GET_INFO, b, EINVAL);
    expect(hex(b)).toBe('08000000' + POISON4.repeat(5));
  });

  // copy_from_user of minsz faults on a short buffer
  test('unreadable argument', () => {
    const r = open('e1000e', '6.1');
    ioctl_err(r, GET_INFO, undefined, EFAULT);
    ioctl_err(r, GET_INFO, new Uint8Array(12), EFAULT);
  });

  // argsz 16: 16 bytes back; e1000e PCI|RESET, 9 regions, 5 irqs (trace)
  test('argsz 16 (minsz)', () => {
    const r = open('e1000e', '6.1');
    const b = buf(24, 16);
    ioctl(r, GET_INFO, b);
    expect(hex(b)).toBe('10000000030000000900000005000000aaaaaaaaaaaaaaaa');
  });

  // edu has no reset method: flags PCI only (trace)
  test('edu flags', () => {
    const r = open('edu', '6.1');
    const b = buf(24, 16);
    ioctl(r, GET_INFO, b);
    expect(hex(b)).toBe('10000000020000000900000005000000aaaaaaaaaaaaaaaa');
  });

  // 6.1: argsz >= 20 writes cap_offset 0 and copies 20 bytes: the pad stays the user's (trace)
  test('6.1 argsz 24 leaves pad', () => {
    const r = open('e1000e', '6.1');
    const b = buf(24, 24);
    ioctl(r, GET_INFO, b);
    expect(hex(b)).toBe('1800000003000000090000000500000000000000aaaaaaaa');
  });

  // 6.6+: zeroed struct copied as min(argsz, 24): pad written 0 (trace, 6.12)
  test('6.12 argsz 24 zeroes pad', () => {
    const r = open('e1000e', '6.12');
    const b = buf(24, 24);
    ioctl(r, GET_INFO, b);
    expect(hex(b)).toBe('180000000300000009000000050000000000000000000000');
  });

  // 6.6+: argsz 20 copies 20
  test('6.12 argsz 20', () => {
    const r = open('edu', '6.12');
    const b = buf(24, 20);
    ioctl(r, GET_INFO, b);
    expect(hex(b)).toBe('1400000002000000090000000500000000000000aaaaaaaa');
  });

  // before the device-info capability chain: 16 bytes back whatever argsz says
  test('4.10 copies 16', () => {
    const r = open('e1000e', '4.10');
    const b = buf(24, 24);
    ioctl(r, GET_INFO, b);
    expect(hex(b)).toBe('18000000030000000900000005000000aaaaaaaaaaaaaaaa');
  });
});

describe('VFIO_DEVICE_GET_REGION_INFO', () => {
  const ri = (argsz: number, index: number, len = 32): Uint8Array => buf(len, argsz, 0xaaaaaaaa, index);

  // argsz below offsetofend(offset) (32) is EINVAL (trace)
  test('argsz 16', () => {
    const r = open('e1000e', '6.1');
    const b = ri(16, 0);
    ioctl_err(r, GET_REGION_INFO, b, EINVAL);
    expect(hex(b)).toBe('10000000aaaaaaaa00000000' + POISON4.repeat(5));
  });

  // a BAR: READ|WRITE|MMAP, size, index<<40; cap_offset is the caller's own, copied back (trace)
  test('BAR0 keeps the caller cap_offset', () => {
    const r = open('e1000e', '6.1');
    const b = ri(32, 0);
    ioctl(r, GET_REGION_INFO, b);
    expect(hex(b)).toBe('200000000700000000000000aaaaaaaa00000200000000000000000000000000');
  });

  // edu BAR0 1 MiB (trace)
  test('edu BAR0', () => {
    const r = open('edu', '6.1');
    const b = ri(32, 0);
    ioctl(r, GET_REGION_INFO, b);
    expect(u32(b, 4)).toBe(0x7);
    expect(u64(b, 16)).toBe(0x100000n);
  });

  // an I/O BAR cannot be mmapped: READ|WRITE only (trace)
  test('I/O BAR', () => {
    const r = open('e1000e', '6.1');
    const b = ri(32, 2);
    ioctl(r, GET_REGION_INFO, b);
    expect(hex(b)).toBe('200000000300000002000000aaaaaaaa20000000000000000000000000020000');
  });

  // an unimplemented BAR: flags 0, size 0 (trace)
  test('empty BAR', () => {
    const r = open('e1000e', '6.1');
    const b = ri(32, 4);
    ioctl(r, GET_REGION_INFO, b);
    expect(hex(b)).toBe('200000000000000004000000aaaaaaaa00000000000000000000000000040000');
  });

  // MSI-X BAR, argsz too small for the cap: argsz rewritten to 40, CAPS set, cap_offset 0 (trace)
  test('MSI-X BAR, argsz 32', () => {
    const r = open('e1000e', '6.1');
    const b = ri(32, 3);
    ioctl(r, GET_REGION_INFO, b);
    expect(hex(b)).toBe('280000000f000000030000000000000000400000000000000000000000030000');
  });

  // MSI-X BAR with room: MSIX_MAPPABLE (id 3, v1, next 0) at 32 (trace)
  test('MSI-X BAR, big buffer: MSIX_MAPPABLE', () => {
    for (const e of ['6.1', '6.12']) {
      const r = open('e1000e', e);
      const b = ri(256, 3, 256);
      ioctl(r, GET_REGION_INFO, b);
      expect(hex(b.subarray(0, 48))).toBe('000100000f000000030000002000000000400000000000000000000000030000' + '0300010000000000' + POISON4.repeat(2));
    }
  });

  // before 4.16: SPARSE_MMAP around the table page: one area [0x1000, 0x4000) for a table at 0
  test('4.10 MSI-X BAR: SPARSE_MMAP', () => {
    const r = open('e1000e', '4.10');
    const small = ri(32, 3);
    ioctl(r, GET_REGION_INFO, small);
    expect(u32(small, 0)).toBe(32 + 32);
    expect(u32(small, 4)).toBe(0xf);
    const b = ri(256, 3, 256);
    ioctl(r, GET_REGION_INFO, b);
    expect(u32(b, 12)).toBe(32);
    expect(hex(b.subarray(32, 64))).toBe('01000100000000000100000000000000' + '0010000000000000' + '0030000000000000');
  });

  // the caps do not fit the real buffer although argsz claims they do: EFAULT
  test('caps past the buffer', () => {
    const r = open('e1000e', '6.1');
    ioctl_err(r, GET_REGION_INFO, ri(256, 3, 36), EFAULT);
  });

  // ROM: READ only, the BAR's size (trace)
  test('ROM', () => {
    for (const fw of ['x86', 'arm64'] as const) {
      const r = open('e1000e', '6.1', { firmware: fw });
      const b = ri(32, 6);
      ioctl(r, GET_REGION_INFO, b);
      expect(hex(b)).toBe('200000000100000006000000aaaaaaaa00000400000000000000000000060000');
    }
  });

  // a ROM BAR without a valid image reads as no ROM: size 0, flags 0
  test('blank ROM', () => {
    const r = open('x540', '6.1', { params: { bars: { 0: '0x80000000', 4: '0x80200000' }, rom: '0x80400000' } });
    const b = ri(32, 6);
    const seen = r.log.lines.length;
    ioctl(r, GET_REGION_INFO, b);
    expect(u32(b, 4)).toBe(0);
    expect(u64(b, 16)).toBe(0n);
    expect(r.log.lines.slice(seen)).toEqual([
      { level: 'info', text: 'vfio-pci 0000:00:02.0: Invalid PCI ROM header signature: expecting 0xaa55, got 0x0000' },
    ]);
  });

  // config: READ|WRITE, cfg_size: 4 KiB for PCIe, 256 for conventional (trace)
  test('config', () => {
    const r = open('e1000e', '6.1');
    const b = ri(32, 7);
    ioctl(r, GET_REGION_INFO, b);
    expect(hex(b)).toBe('200000000300000007000000aaaaaaaa00100000000000000000000000070000');
    const e = open('edu', '6.1');
    const c = ri(32, 7);
    ioctl(e, GET_REGION_INFO, c);
    expect(u64(c, 16)).toBe(0x100n);
  });

  // VGA without VGA support, index = num_regions, index 99: EINVAL, untouched (trace)
  test('VGA and out of range', () => {
    const r = open('e1000e', '6.1');
    for (const idx of [8, 9, 99, 0xffffffff]) {
      const b = ri(32, idx);
      const before = hex(b);
      ioctl_err(r, GET_REGION_INFO, b, EINVAL);
      expect(hex(b)).toBe(before);
    }
  });
});

describe('VFIO_DEVICE_GET_IRQ_INFO', () => {
  const ii = (argsz: number, index: number): Uint8Array => buf(16, argsz, 0xaaaaaaaa, index);
  const info = (model: string, e: string, index: number, dynamic = false): string => {
    const r = open(model, e, { dynamic });
    const b = ii(16, index);
    ioctl(r, GET_IRQ_INFO, b);
    return hex(b);
  };

  // INTx: EVENTFD|MASKABLE|AUTOMASKED, count 1 (trace)
  test('INTx', () => expect(info('e1000e', '6.1', 0)).toBe('10000000070000000000000001000000'));

  // MSI: EVENTFD|NORESIZE, count 1 (trace)
  test('MSI', () => expect(info('edu', '6.1', 1)).toBe('10000000090000000100000001000000'));

  // MSI-X: count = table size; edu has none: count 0 (trace)
  test('MSI-X', () => {
    expect(info('e1000e', '6.1', 2)).toBe('10000000090000000200000005000000');
    expect(info('edu', '6.1', 2)).toBe('10000000090000000200000000000000');
  });

  // 6.5+ with a domain that can grow MSI-X: NORESIZE dropped (trace, 6.12 x86); else kept (6.12 arm64)
  test('MSI-X NORESIZE and dynamic MSI-X', () => {
    expect(info('e1000e', '6.12', 2, true)).toBe('10000000010000000200000005000000');
    expect(info('e1000e', '6.12', 2, false)).toBe('10000000090000000200000005000000');
    expect(info('e1000e', '6.1', 2, true)).toBe('10000000090000000200000005000000');
  });

  // ERR only for PCI Express functions: edu EINVAL (trace)
  test('ERR', () => {
    expect(info('e1000e', '6.1', 3)).toBe('10000000090000000300000001000000');
    const r = open('edu', '6.1');
    ioctl_err(r, GET_IRQ_INFO, ii(16, 3), EINVAL);
  });

  // REQ: count 1 (trace)
  test('REQ', () => expect(info('edu', '6.1', 4)).toBe('10000000090000000400000001000000'));

  // argsz < 16 and index >= num_irqs: EINVAL, untouched (trace)
  test('bad argsz or index', () => {
    const r = open('e1000e', '6.1');
    const a = ii(8, 1);
    ioctl_err(r, GET_IRQ_INFO, a, EINVAL);
    expect(hex(a)).toBe('08000000aaaaaaaa01000000aaaaaaaa');
    ioctl_err(r, GET_IRQ_INFO, ii(16, 5), EINVAL);
  });

  // argsz larger than the struct: only 16 bytes back
  test('argsz 64', () => {
    const r = open('e1000e', '6.1');
    const b = buf(32, 64, 0xaaaaaaaa, 0);
    expect(_ioctl(r, GET_IRQ_INFO, b)).toBe(0);
    expect(hex(b.subarray(16))).toBe(POISON4.repeat(4));
  });
});
