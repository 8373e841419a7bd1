// The hardware side (src/hw/pci): config-space semantics, the device models' registers and
// interrupts, and the model registry's parameters. No kernel involved.

import { describe, expect, test } from 'vitest';
import { buildConfigSpace, type0Header } from '../../src/hw/pci/config-space.js';
import type { PciDeviceModel } from '../../src/hw/pci/device.js';
import { mmioRead, type MmioOps } from '../../src/hw/pci/mmio.js';
import { createPciDevice, PCI_MODELS } from '../../src/hw/pci/registry.js';
import {
  PCI_COMMAND,
  PCI_EXP_DEVCTL,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_SRIOV_INITIAL_VF,
  PCI_SRIOV_TOTAL_VF,
  PCI_SRIOV_VF_DID,
  PCI_SRIOV_VF_OFFSET,
  PCI_SRIOV_VF_STRIDE,
  PCI_STATUS,
} from '../../src/hw/pci/regs.js';
import { makeHw, recorder } from './helpers.js';


describe('config space', () => {
  const cs = () =>
    buildConfigSpace({
      size: 256,
      header: type0Header({
        vendorId: 0x1234,
        deviceId: 0x5678,
        revision: 1,
        classCode: 0x020000,
        subsystemVendorId: 0,
        subsystemId: 0,
        interruptPin: 1,
        bars: [{ index: 0, size: 0x1000n, kind: 'mem32', prefetchable: false }],
        romSize: 0n,
        status: 0x0010,
      }),
    });

  // read-only registers keep their value; reads are little-endian at any width
  test('read-only and widths', () => {
    const c = cs();
    c.write(0, 4, 0);
    expect(c.read(0, 4)).toBe(0x56781234);
    expect(c.read(1, 2)).toBe(0x7812);
    expect(c.read(3, 1)).toBe(0x56);
  });

  // a BAR sizes by its write mask
  test('BAR sizing', () => {
    const c = cs();
    c.write(0x10, 4, 0xffffffff);
    expect(c.read(0x10, 4)).toBe(0xfffff000);
  });

  // W1C status bits clear when written 1
  test('status W1C', () => {
    const c = cs();
    c.set(PCI_STATUS, 2, 0x2010);
    c.write(PCI_STATUS, 2, 0x2000);
    expect(c.read(PCI_STATUS, 2)).toBe(0x0010);
  });

  // past the end reads all ones, writes vanish
  test('past the end', () => {
    const c = cs();
    expect(c.read(0x100, 4)).toBe(0xffffffff);
    expect(c.read(0xfe, 4)).toBe(0xffffffff);
  });

  // reset brings back the values after power-on
  test('reset', () => {
    const c = cs();
    c.write(0x10, 4, 0xfeb00000);
    c.reset();
    expect(c.read(0x10, 4)).toBe(0);
  });

  // overlapping declarations are an error of the model, caught when it is built
  test('overlap', () => {
    expect(() =>
      buildConfigSpace({
        size: 256,
        header: [
          { name: 'a', off: 0, width: 4, reset: 0 },
          { name: 'b', off: 2, width: 2, reset: 0 },
        ],
      }),
    ).toThrow(/overlaps/);
  });
});

describe('mmio dispatch (QEMU memory API)', () => {
  const seen: string[] = [];
  const ops: MmioOps = {
    read: (off, size) => {
      seen.push(`${off}/${size}`);
      return 0x11223344n;
    },
    write: () => {},
    impl: { min: 4, max: 4 },
  };

  // an 8-byte access to a 4-byte implementation is two callbacks, low first
  test('split', () => {
    seen.length = 0;
    expect(mmioRead(ops, 0n, 8)).toBe(0x1122334411223344n);
    expect(seen).toEqual(['0/4', '4/4']);
  });

  // a 1-byte access is widened to 4 at the same address and truncated
  test('widen', () => {
    seen.length = 0;
    expect(mmioRead(ops, 1n, 1)).toBe(0x44n);
    expect(seen).toEqual(['1/4']);
  });

  // outside `valid`: a decode error, read as 0
  test('invalid size', () => {
    expect(mmioRead({ ...ops, valid: { min: 4, max: 8 } }, 0n, 2)).toBe(0n);
  });
});

describe('edu', () => {
  const edu = (): PciDeviceModel => makeHw('edu', '0000:00:01.0', { firmware: 'x86' });

  // identification and liveness (edu.rst)
  test('registers', () => {
    const d = edu();
    expect(d.barRead(0, 0n, 4)).toBe(0x010000edn);
    d.barWrite(0, 4n, 4, 0x0f0f0f0fn);
    expect(d.barRead(0, 4n, 4)).toBe(0xf0f0f0f0n);
    expect(d.barRead(0, 0x0cn, 4)).toBe(0xffffffffn);
  });

  // factorial, with the interrupt on completion (INTx: MSI is off)
  test('factorial and INTx', () => {
    const d = edu();
    const s = recorder();
    d.connectInterrupts(s);
    d.barWrite(0, 0x20n, 4, 0x80n);
    d.barWrite(0, 8n, 4, 5n);
    expect(d.barRead(0, 8n, 4)).toBe(120n);
    expect(d.barRead(0, 0x24n, 4)).toBe(1n);
    expect(s.events).toEqual(['intx true']);
    expect(d.config.read(PCI_STATUS, 2) & 0x8).toBe(0x8);
    d.barWrite(0, 0x64n, 4, 1n);
    expect(s.events).toEqual(['intx true', 'intx false']);
  });

  // INTx disable in the command register keeps the pin quiet
  test('INTx disable', () => {
    const d = edu();
    const s = recorder();
    d.connectInterrupts(s);
    d.config.write(PCI_COMMAND, 2, 0x0400);
    d.barWrite(0, 0x60n, 4, 2n);
    expect(s.events).toEqual([]);
  });

  // with MSI enabled (and bus mastering on: an MSI is a memory write) the device writes its message
  test('MSI', () => {
    const d = edu();
    const s = recorder();
    d.connectInterrupts(s);
    d.config.write(PCI_COMMAND, 2, 0x0004);
    d.config.write(0x44, 4, 0xfee00000);
    d.config.write(0x4c, 2, 0x4021);
    d.config.write(0x42, 2, 0x0001);
    d.barWrite(0, 0x60n, 4, 1n);
    expect(s.events).toEqual(['msi 0 0xfee00000 0x4021']);
  });

  // 8-byte accesses below 0x80 and 1-byte ones anywhere read all ones / are refused
  test('access sizes', () => {
    const d = edu();
    expect(d.barRead(0, 0n, 8)).toBe(0xffffffffffffffffn);
    expect(d.barRead(0, 0n, 1)).toBe(0n);
    d.barWrite(0, 0x80n, 8, 0x123456789n);
    expect(d.barRead(0, 0x80n, 8)).toBe(0x123456789n);
  });
});

describe('e1000e', () => {
  // CTRL.RST self-clears; STATUS is read-only
  test('CTRL and STATUS', () => {
    const d = makeHw('e1000e', '0000:00:02.0', { firmware: 'x86' });
    d.barWrite(0, 0n, 4, BigInt(0x00140241 | (1 << 26)));
    expect(d.barRead(0, 0n, 4)).toBe(0x00140241n);
    d.barWrite(0, 8n, 4, 0n);
    expect(d.barRead(0, 8n, 4)).toBe(0x00080283n);
  });

  // the MSI-X table starts masked, and QEMU's table answers 4- and 8-byte accesses
  test('MSI-X table', () => {
    const d = makeHw('e1000e', '0000:00:02.0', { firmware: 'x86' });
    expect(d.barRead(3, 12n, 4)).toBe(1n);
    expect(d.msix).toEqual({ offset: 0xa0, tableSize: 5, tableBar: 3, tableOffset: 0, pbaBar: 3, pbaOffset: 0x2000 });
  });

  // only a PM reset (no FLR in DEVCAP)
  test('reset methods', () => expect(makeHw('e1000e', '0000:00:02.0').resetMethods).toEqual(['pm']));
});

describe('x540 and 82599', () => {
  // SR-IOV capability: TotalVFs = InitialVFs = 64 (sriov_enable needs them equal), VF 8086:1515, offset 0x80 stride 2
  test('x540 SR-IOV', () => {
    const d = makeHw('x540', '0000:01:00.0');
    const s = d.config.findExtCap(PCI_EXT_CAP_ID_SRIOV)!;
    expect(s).toBe(0x160);
    expect(d.config.read(s + PCI_SRIOV_TOTAL_VF, 2)).toBe(64);
    expect(d.config.read(s + PCI_SRIOV_INITIAL_VF, 2)).toBe(64);
    expect(d.config.read(s + PCI_SRIOV_VF_DID, 2)).toBe(0x1515);
    expect(d.config.read(s + PCI_SRIOV_VF_OFFSET, 2)).toBe(0x80);
    expect(d.config.read(s + PCI_SRIOV_VF_STRIDE, 2)).toBe(2);
    expect(d.deviceId).toBe(0x1528);
    expect(d.msix?.tableSize).toBe(64);
    expect(d.msi?.vectors).toBe(1);
    expect(d.resetMethods).toEqual(['flr', 'pm']);
  });

  // Initiate FLR resets the function: BARs and registers back to power-on values
  test('FLR', () => {
    const d = makeHw('x540', '0000:01:00.0', { bars: { 0: '0x80000000' } });
    d.barWrite(0, 0x100n, 4, 7n);
    d.config.write(d.pcieCap! + PCI_EXP_DEVCTL, 2, 0x8000);
    expect(d.config.read(0x10, 4)).toBe(0x0000000c);
    expect(d.barRead(0, 0x100n, 4)).toBe(0n);
    expect(d.config.read(d.pcieCap! + PCI_EXP_DEVCTL, 2) & 0x8000).toBe(0);
  });

  // 82599ES: 8086:10fb, VF 8086:10ed, an I/O BAR; function 1 from the BDF
  test('82599es', () => {
    const d = makeHw('82599es', '0000:01:00.1');
    expect(d.deviceId).toBe(0x10fb);
    expect(d.config.read(0x160 + PCI_SRIOV_VF_DID, 2)).toBe(0x10ed);
    expect(d.bars.map((b) => [b.index, b.kind])).toEqual([
      [0, 'mem64'],
      [2, 'io'],
      [4, 'mem64'],
    ]);
    expect(d.barRead(0, 8n, 4)).toBe(4n); // STATUS.LAN_ID = 1
  });
});

describe('registry', () => {
  // the rows presets refer to, each building the function its name promises (vendor:device)
  test('models', () => {
    const ids = Object.keys(PCI_MODELS).map((m) => {
      const hw = makeHw(m, '0000:00:03.0');
      return [m, `${hw.vendorId.toString(16)}:${hw.deviceId.toString(16)}`];
    });
    expect(ids).toEqual([
      ['edu', '1234:11e8'],
      ['e1000e', '8086:10d3'],
      ['x540', '8086:1528'],
      ['82599es', '8086:10fb'],
      ['q35-host-bridge', '8086:29c0'],
      ['ich9-lpc', '8086:2918'],
      ['ich9-ahci', '8086:2922'],
      ['ich9-smbus', '8086:2930'],
    ]);
  });

  // addresses as bigint, number or hex string; explicit values override `firmware`
  test('placement parameters', () => {
    const a = makeHw('e1000e', '0000:00:02.0', { firmware: 'x86', bars: { 0: 0xfebc0000n }, interruptLine: 5 });
    expect(a.config.read(0x10, 4)).toBe(0xfebc0000);
    expect(a.config.read(0x14, 4)).toBe(0xfeb60000);
    expect(a.config.read(0x3c, 1)).toBe(5);
    const b = makeHw('edu', '0000:00:01.0', { bars: { 0: '0xfe000000' }, command: 0x0103 });
    expect(b.config.read(0x10, 4)).toBe(0xfe000000);
    expect(b.config.read(PCI_COMMAND, 2)).toBe(0x0103);
    const c = makeHw('edu', '0000:00:01.0', { bars: { 0: 0xfd000000 } });
    expect(c.bars[0]!.base).toBe(0xfd000000n);
  });

  // mistakes come back as messages
  test('errors', () => {
    expect(createPciDevice('nic', '0000:00:02.0')).toBe(
      'unknown PCI device model "nic" (models: edu, e1000e, x540, 82599es, q35-host-bridge, ich9-lpc, ich9-ahci, ich9-smbus)',
    );
    expect(createPciDevice('edu', '00:02.0')).toBe('bad BDF "00:02.0" (expected e.g. 0000:00:01.0)');
    expect(createPciDevice('edu', '0000:00:01.0', { bar: {} })).toBe('edu: Invalid input');
    expect(createPciDevice('edu', '0000:00:01.0', { bars: { 7: '0x1000' } })).toBe('edu: bars.7: Invalid input');
    expect(createPciDevice('edu', '0000:00:01.0', { bars: { 0: 'fe000000' } })).toBe('edu: bars.0: expected a hex address such as "0xfebc0000"');
    expect(createPciDevice('x540', '0000:01:00.0', { function: 2 })).toBe('x540: function: Invalid input');
  });

  // the q35 chipset functions exist for binding (identity only)
  test('q35 functions', () => {
    const lpc = makeHw('ich9-lpc', '0000:00:1f.0');
    expect(lpc.config.read(0, 4)).toBe(0x29188086);
    expect(lpc.config.read(0x0e, 1)).toBe(0x80);
  });
});
