// PCI requester IDs: bus << 8 | device << 3 | function, the number IOMMUs see on the wire
// (an SMMU StreamID for a PCI root complex with an identity id-map, a VT-d source-id).

import { hexPad } from '../../lib/hex.js';

/**
 * A PCI address `DDDD:BB:dd.f` (device 00-1f, function 0-7). `BB:dd.f` is domain 0 unless
 * `requireDomain` (a name the user wrote, as sysfs spells it).
 */
export function parseBdf(bdf: string, requireDomain = false): { domain: number; bus: number; dev: number; fn: number } | undefined {
  const m = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([01][0-9a-f])\.([0-7])$/i.exec(bdf);
  if (!m || (requireDomain && m[1] === undefined)) return undefined;
  return { domain: parseInt(m[1] ?? '0', 16), bus: parseInt(m[2]!, 16), dev: parseInt(m[3]!, 16), fn: parseInt(m[4]!, 10) };
}

export function requesterId(bdf: string): number {
  const b = parseBdf(bdf);
  return b ? (b.bus << 8) | (b.dev << 3) | b.fn : 0;
}

/** A requester ID (bus << 8 | devfn) in `domain` → `DDDD:BB:DD.F`, the form dev_name() gives. */
export function ridToBdf(domain: number, rid: number): string {
  return `${hexPad(domain, 4)}:${hexPad((rid >> 8) & 0xff, 2)}:${hexPad((rid >> 3) & 0x1f, 2)}.${rid & 7}`;
}

/**
 * The requester ID of SR-IOV VF `index` (0-based): the PF's plus First VF Offset plus
 * index × VF Stride, carried from devfn into the bus number (pci_iov_virtfn_bus/_devfn).
 */
export function virtfnRid(pfRid: number, offset: number, stride: number, index: number): number {
  return (pfRid + offset + stride * index) & 0xffff;
}
