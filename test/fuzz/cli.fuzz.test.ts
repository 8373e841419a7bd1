// Odd command lines: any mix of commands, options, values and paths ends with exit status 0,
// 1 or 2, and never with an internal error or a stack trace.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cli, scenario } from '../cli/run-cli.js';
import { budget, TIMEOUT } from './budget.js';

const GOOD = scenario('fuzz-good.vfio', 'platform qemu-q35-vtd\nopen /dev/vfio/vfio as c\nexpect ok\n');
const WORDS = [
  'run', 'check', 'decode', 'replay', 'platforms', 'kernels', 'conformance', 'help', '--json', '--trace', '--out',
  '--reporter', 'junit', '--kernel', '6.12', '4.10', 'rfc-v10', '99.99', '', '-', '--platform', 'qemu-q35-vtd',
  'qemu-q35-vtd,intremap=off', 'nosuch,constructor=1', ',', '--fd', 'container', 'device', '--backend', 'spapr',
  'VFIO_IOMMU_GET_INFO', 'GET_INFO', '0x3b70', '7400000000', 'zz', GOOD, '/dev/null', '/proc/self/status', '/',
  'scenarios', '--', '-x', '--no-such-option', '--verbose', '__proto__', 'toString',
];

describe('odd command lines', () => {
  it('exit 0, 1 or 2, never an internal error', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 6 }), (argv) => {
        const r = cli(argv);
        expect([0, 1, 2]).toContain(r.status);
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      }),
      budget(25),
    );
  });
});
