// The uapi codec against bytes the real kernels wrote (test/fixtures/real-kernel).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERAS } from '../../src/kernel/era.js';
import { CapChain, capDefs, walkChain } from '../../src/uapi/caps.js';
import { decodeFields, formatStruct, structCaps } from '../../src/uapi/display.js';
import { encodeStruct, KStruct } from '../../src/uapi/struct.js';
import { resolveRequest, requestByNr } from '../../src/uapi/requests.js';
import {
  VFIO_IOMMU_TYPE1_DMA_MAP,
  VFIO_IOMMU_TYPE1_DMA_UNMAP,
  VFIO_IOMMU_TYPE1_INFO,
} from '../../src/uapi/structs.js';

const era = (n: string) => ERAS.get(n)!;
const FIX = 'test/fixtures/real-kernel';

/** The `out` (or `in`) bytes of the first event with `label` in a fixture trace. */
function recorded(file: string, label: string, field: 'in' | 'out' = 'out'): Uint8Array {
  for (const line of readFileSync(`${FIX}/${file}`, 'utf8').split('\n')) {
    if (!line.includes(`"label":"${label}"`)) continue;
    return Uint8Array.from(Buffer.from(JSON.parse(line)[field], 'hex'));
  }
  throw new Error(`no event "${label}" in ${file}`);
}

describe('request table', () => {
  // Short names resolve by fd kind: GET_INFO is the IOMMU's on a container, the device's on a device.
  it('short names by fd kind', () => {
    expect(resolveRequest('GET_INFO', 'container')?.name).toBe('VFIO_IOMMU_GET_INFO');
    expect(resolveRequest('GET_INFO', 'device')?.name).toBe('VFIO_DEVICE_GET_INFO');
    expect(resolveRequest('SET_CONTAINER', 'group')?.name).toBe('VFIO_GROUP_SET_CONTAINER');
    expect(resolveRequest('MAP_DMA', 'container')?.nr).toBe(0x3b71);
  });

  // One number, two requests: 0x3b70 is IOMMU_GET_INFO on a container, GET_PCI_HOT_RESET_INFO on a device.
  it('shared numbers', () => {
    expect(requestByNr(0x3b70, 'container')?.name).toBe('VFIO_IOMMU_GET_INFO');
    expect(requestByNr(0x3b70, 'device')?.name).toBe('VFIO_DEVICE_GET_PCI_HOT_RESET_INFO');
    expect(requestByNr(0x3b64, 'container')?.name).toBe('VFIO_GET_API_VERSION');
  });
});

describe('GET_INFO answers', () => {
  // 6.1: 116 bytes, IOVA_RANGE at the unaligned offset 68, pad untouched.
  it('6.1 x86', () => {
    const b = recorded('x86-6.1-intremap-on/edu-type1v2.jsonl', 'big-buffer').subarray(0, 116);
    expect(decodeFields(VFIO_IOMMU_TYPE1_INFO, era('6.1'), b)).toEqual({
      argsz: '4096',
      flags: 'PGSIZES|CAPS',
      iova_pgsizes: '0x40201000',
      cap_offset: '24',
    });
    const { caps, problem } = structCaps(VFIO_IOMMU_TYPE1_INFO, era('6.1'), b);
    expect(problem).toBeUndefined();
    expect(caps.map((c) => [c.def?.name, c.off, c.next])).toEqual([
      ['MIGRATION', 24, 56],
      ['DMA_AVAIL', 56, 68],
      ['IOVA_RANGE', 68, 0],
    ]);
    expect(caps[1].fields.get('avail')).toBe(65535n);
    expect(caps[2].entries.map((e) => [e.get('start'), e.get('end')])).toEqual([
      [0n, 0xfedfffffn],
      [0xfef00000n, 0x7fffffffffn],
    ]);
  });

  // 6.12: 120 bytes, every capability 8-byte aligned.
  it('6.12 arm64', () => {
    const b = recorded('arm64-6.12-gicv3/edu-type1v2.jsonl', 'big-buffer').subarray(0, 120);
    const { caps } = structCaps(VFIO_IOMMU_TYPE1_INFO, era('6.12'), b);
    expect(caps.map((c) => [c.def?.name, c.off])).toEqual([
      ['MIGRATION', 24],
      ['DMA_AVAIL', 56],
      ['IOVA_RANGE', 72],
    ]);
    expect(caps[2].entries.map((e) => [e.get('start'), e.get('end')])).toEqual([
      [0n, 0x7ffffffn],
      [0x8100000n, 0xffffffffffffn],
    ]);
  });

  // The same id means different capabilities by era.
  it('id 1 per era', () => {
    expect(capDefs('iommu-info', era('rfc-v10'))[0].name).toBe('MSI_GEOMETRY');
    expect(capDefs('iommu-info', era('rfc-v14'))[0].name).toBe('MSI_RESV');
    expect(capDefs('iommu-info', era('6.1'))[0].name).toBe('IOVA_RANGE');
  });
});

describe('MAP and UNMAP structs', () => {
  // A recorded MAP_DMA buffer decodes to its fields; encoding them gives the bytes back.
  it('MAP round trip', () => {
    const b = recorded('x86-6.1-intremap-on/e1000e-type1v2.jsonl', 'good 64K', 'in');
    const f = decodeFields(VFIO_IOMMU_TYPE1_DMA_MAP, era('6.1'), b);
    expect(f.argsz).toBe('32');
    expect(f.flags).toBe('READ|WRITE');
    expect(f.iova).toBe('0x100000');
    expect(f.size).toBe('0x10000');
    const k = KStruct.fromUser(VFIO_IOMMU_TYPE1_DMA_MAP, b, 32)!;
    const again = encodeStruct(
      VFIO_IOMMU_TYPE1_DMA_MAP,
      new Map(['argsz', 'flags', 'vaddr', 'iova', 'size'].map((n) => [n, k.get(n)])),
    );
    expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(b).toString('hex'));
  });

  // UNMAP writes the unmapped size back into `size` (ALL on the recorded trace: 0x21d000).
  it('UNMAP size written back', () => {
    const before = recorded('x86-6.1-intremap-on/e1000e-type1v2.jsonl', 'ALL', 'in');
    const after = recorded('x86-6.1-intremap-on/e1000e-type1v2.jsonl', 'ALL');
    expect(formatStruct(VFIO_IOMMU_TYPE1_DMA_UNMAP, era('6.1'), after, before)).toBe(
      '{argsz=24, flags=ALL, iova=0x0, size=0x0 => 0x21d000}',
    );
  });

  // Bit 2 of DMA_MAP is RESERVED_MSI_IOVA in the series and VADDR upstream.
  it('flag bit 2 by era', () => {
    const b = encodeStruct(VFIO_IOMMU_TYPE1_DMA_MAP, new Map([['flags', 4n]]));
    expect(decodeFields(VFIO_IOMMU_TYPE1_DMA_MAP, era('rfc-v10'), b).flags).toBe('RESERVED_MSI_IOVA');
    expect(decodeFields(VFIO_IOMMU_TYPE1_DMA_MAP, era('6.12'), b).flags).toBe('VADDR');
  });
});

describe('capability chains', () => {
  // vfio_info_cap_add pads to 8 bytes only in aligned eras; shift makes next absolute.
  it('builder', () => {
    for (const [align, offs] of [
      [false, [0, 12]],
      [true, [0, 16]],
    ] as const) {
      const c = new CapChain(align);
      expect(c.add(12, 3, 1)).toBe(offs[0]);
      expect(c.add(16, 1, 1)).toBe(offs[1]);
      c.shift(24);
      expect(new DataView(c.buf.buffer).getUint32(4, true)).toBe(24 + offs[1]);
      expect(new DataView(c.buf.buffer).getUint32(offs[1] + 4, true)).toBe(0);
    }
  });

  // A user buffer whose chain loops back, or points outside the buffer, is reported, not followed.
  it('cyclic and out-of-range chains', () => {
    const b = new Uint8Array(64);
    const dv = new DataView(b.buffer);
    dv.setUint16(24, 3, true);
    dv.setUint32(28, 40, true);
    dv.setUint16(40, 3, true);
    dv.setUint32(44, 24, true);
    const loop = walkChain(b, 24, capDefs('iommu-info', era('6.12')));
    expect(loop.caps.length).toBe(2);
    expect(loop.problem).toBe('capability chain loops back to offset 24');
    dv.setUint32(44, 0xfffffff0, true);
    expect(walkChain(b, 24, []).problem).toBe('capability offset 4294967280 is outside the 64-byte buffer');
  });
});

describe('requests by backend', () => {
  // On a spapr container GET_INFO is SPAPR_TCE_GET_INFO and 117 is REGISTER_MEMORY; on type1
  // they are IOMMU_GET_INFO and DIRTY_PAGES.
  it('one number, two meanings', () => {
    expect(resolveRequest('GET_INFO', 'container', 'spapr')?.name).toBe('VFIO_IOMMU_SPAPR_TCE_GET_INFO');
    expect(resolveRequest('GET_INFO', 'container', 'type1')?.name).toBe('VFIO_IOMMU_GET_INFO');
    expect(requestByNr(0x3b75, 'container', 'spapr')?.name).toBe('VFIO_IOMMU_SPAPR_REGISTER_MEMORY');
    expect(requestByNr(0x3b75, 'container', 'type1')?.name).toBe('VFIO_IOMMU_DIRTY_PAGES');
  });
});
