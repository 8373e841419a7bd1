// The protections a scenario names (`prot=r|w|rw|none`) and mmap(2)'s PROT_* bits for each.

import type { Prot } from '../kernel/file.js';

export type ProtName = 'r' | 'w' | 'rw' | 'none';

export interface NamedProt {
  name: ProtName;
  prot: Prot;
}

const PROTS = new Map<string, NamedProt>(
  (
    [
      ['r', { read: true, write: false }],
      ['w', { read: false, write: true }],
      ['rw', { read: true, write: true }],
      ['none', { read: false, write: false }],
    ] as const
  ).map(([name, prot]) => [name, { name, prot }]),
);

/** The protection a word names, if it names one. */
export const protNamed = (text: string): NamedProt | undefined => PROTS.get(text);

export const PROT_CHOICES = `expected one of ${[...PROTS.keys()].join(', ')}`;

/** As strace prints it: PROT_READ|PROT_WRITE, PROT_NONE. */
export const protText = (p: Prot): string =>
  p.read || p.write ? [p.read && 'PROT_READ', p.write && 'PROT_WRITE'].filter(Boolean).join('|') : 'PROT_NONE';
