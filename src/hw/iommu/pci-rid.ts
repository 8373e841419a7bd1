// PCI requester IDs: bus << 8 | device << 3 | function, the number IOMMUs see on the wire
// (an SMMU StreamID for a PCI root complex with an identity id-map, a VT-d source-id).

export function parseBdf(bdf: string): { domain: number; bus: number; dev: number; fn: number } | undefined {
  const m = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(bdf);
  if (!m) return undefined;
  return { domain: parseInt(m[1] ?? '0', 16), bus: parseInt(m[2], 16), dev: parseInt(m[3], 16), fn: parseInt(m[4], 10) };
}

export function requesterId(bdf: string): number {
  const b = parseBdf(bdf);
  return b ? (b.bus << 8) | (b.dev << 3) | b.fn : 0;
}

export const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
