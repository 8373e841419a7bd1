// VFIO_DEVICE_FEATURE: the VFIO core's checks (vfio_ioctl_device_feature, vfio_check_feature in
// drivers/vfio/vfio_main.c) and vfio-pci's features (vfio_pci_core_ioctl_feature), as the
// device-fd recordings on Debian 6.1 and 6.12 answered them. One stanza per rule.

import { describe, expect, it } from 'vitest';
import { EBADF, EINVAL, ENOTTY } from '../../src/uapi/errno.js';
import { VFIO_DEVICE_FEATURE } from '../../src/uapi/structs.js';
import { Machine, hex, poisoned } from '../kernel/fixture.js';

const EDU = '0000:00:01.0';
const GET = 1 << 16;
const SET = 1 << 17;
const PROBE = 1 << 18;
const LOW_POWER_ENTRY = 3;
const LOW_POWER_ENTRY_WITH_WAKEUP = 4;
const LOW_POWER_EXIT = 5;

function device(era = '6.1') {
  const m = new Machine(era, 'qemu-q35-vtd');
  m.setup(EDU);
  const dev = Number(m.ioctl_(m.group, 'VFIO_GROUP_GET_DEVICE_FD', Uint8Array.from([...Buffer.from(EDU), 0])).ret);
  /** The errno; the buffer (header, then `data` as u32 words) is input only and must come back as sent. */
  const feature_ = (flags: number, argsz = 8, data: number[] = []): number => {
    const b = poisoned(VFIO_DEVICE_FEATURE, { argsz, flags }, 8 + data.length * 4);
    data.forEach((w, i) => new DataView(b.buffer).setUint32(8 + i * 4, w >>> 0, true));
    const sent = hex(b);
    const o = m.ioctl_(dev, 'VFIO_DEVICE_FEATURE', b);
    expect(hex(o.buf)).toBe(sent);
    return o.errno;
  };
  const feature = (flags: number, argsz = 8, data: number[] = []): void => expect(feature_(flags, argsz, data)).toBe(0);
  const feature_err = (errno: number, flags: number, argsz = 8, data: number[] = []): void => expect(feature_(flags, argsz, data)).toBe(errno);
  return { m, feature, feature_err, feature_ };
}

describe('VFIO_DEVICE_FEATURE', () => {
  // Before the ioctl existed (5.7 [U]; first modelled era 5.8) it is an unknown request.
  it('unknown before it existed', () => {
    device('5.4').feature_err(ENOTTY, PROBE | SET | LOW_POWER_ENTRY);
    device('5.8').feature_err(EINVAL, PROBE | SET | LOW_POWER_ENTRY, 7);
  });

  // argsz below the 8-byte header: EINVAL, before the flags are looked at.
  it('argsz below minsz', () => {
    const { feature_err } = device();
    for (const argsz of [0, 4, 7]) feature_err(EINVAL, PROBE | SET | LOW_POWER_ENTRY, argsz);
  });

  // Flag bits outside MASK|GET|SET|PROBE, and GET with SET without PROBE: EINVAL for any feature.
  it('unknown flags, GET|SET', () => {
    const { feature_err } = device();
    feature_err(EINVAL, (1 << 19) | PROBE | SET | LOW_POWER_ENTRY);
    feature_err(EINVAL, (1 << 31) | PROBE | LOW_POWER_EXIT);
    feature_err(EINVAL, GET | SET | LOW_POWER_ENTRY);
    feature_err(EINVAL, GET | SET | 1);
  });

  // The migration and dirty-logging features need mig_ops/log_ops, which vfio-pci lacks: ENOTTY.
  it('core features without mig_ops/log_ops', () => {
    const { feature_err } = device();
    for (const f of [1, 2, 6, 7, 8, 9]) for (const flags of [PROBE | GET, GET, SET]) feature_err(ENOTTY, flags | f, 64);
    feature_err(ENOTTY, PROBE | 0xffff);
  });

  // PCI_VF_TOKEN: only a PF has a vf_token.
  it('VF token on a function without SR-IOV', () => {
    device().feature_err(ENOTTY, PROBE | SET | 0, 24);
  });

  // vfio_check_feature(): the low-power features are SET-only; PROBE of SET answers 0 at any
  // argsz >= 8, a GET bit EINVAL, neither GET nor SET EINVAL.
  it('low-power features: PROBE and flag rules', () => {
    const { feature, feature_err } = device();
    for (const f of [LOW_POWER_ENTRY, LOW_POWER_ENTRY_WITH_WAKEUP, LOW_POWER_EXIT]) {
      feature(PROBE | f);
      feature(PROBE | SET | f);
      feature_err(EINVAL, PROBE | GET | f);
      feature_err(EINVAL, PROBE | GET | SET | f);
      feature_err(EINVAL, f);
    }
    for (const argsz of [9, 16, 64, 0xffffffff]) feature(PROBE | SET | LOW_POWER_ENTRY, argsz);
    feature_err(EINVAL, GET | LOW_POWER_ENTRY);
  });

  // vfio_pci_runtime_pm_entry(): a second entry while engaged is EINVAL; exit always answers 0.
  it('entry, entry again, exit', () => {
    const { feature, feature_err } = device();
    feature(SET | LOW_POWER_ENTRY);
    feature_err(EINVAL, SET | LOW_POWER_ENTRY);
    feature(SET | LOW_POWER_EXIT);
    feature(SET | LOW_POWER_EXIT);
    feature(SET | LOW_POWER_ENTRY);
  });

  // Entry with wakeup: argsz covers the 8-byte {s32 eventfd, u32 reserved}; a negative fd is
  // EINVAL, a closed fd EBADF; a real eventfd enters.
  it('entry with wakeup', () => {
    const { m, feature, feature_err } = device();
    const efd = Number(m.kernel.eventfd(m.proc).ret);
    feature_err(EINVAL, SET | LOW_POWER_ENTRY_WITH_WAKEUP, 12, [0xffffffff]);
    feature_err(EINVAL, SET | LOW_POWER_ENTRY_WITH_WAKEUP, 16, [0xffffffff, 0]);
    feature_err(EBADF, SET | LOW_POWER_ENTRY_WITH_WAKEUP, 16, [99, 0]);
    feature(SET | LOW_POWER_ENTRY_WITH_WAKEUP, 16, [efd, 0]);
    feature_err(EINVAL, SET | LOW_POWER_ENTRY, 8);
    feature(SET | LOW_POWER_EXIT);
  });

  // Low power is an era's feature (6.0 [U]): before, vfio-pci answers ENOTTY to all three.
  it('no low-power features before 6.0', () => {
    const { feature_err } = device('5.12');
    for (const f of [LOW_POWER_ENTRY, LOW_POWER_ENTRY_WITH_WAKEUP, LOW_POWER_EXIT]) feature_err(ENOTTY, PROBE | SET | f);
  });
});
