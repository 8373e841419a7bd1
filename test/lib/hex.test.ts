// The hex helpers (src/lib/hex.ts) every log line and report prints numbers with.

import { describe, expect, it } from 'vitest';
import { hex, hexPad } from '../../src/lib/hex.js';

describe('hex', () => {
  // 0x%llx: "0x", then the minimal lowercase digits; zero is 0x0.
  it('minimal digits after 0x', () => {
    expect(hex(0)).toBe('0x0');
    expect(hex(0xfee0_0000n)).toBe('0xfee00000');
    expect(hex(0xffff_ffff_ffff_ffffn)).toBe('0xffffffffffffffff');
    expect(hex(0xab)).toBe('0xab');
  });

  // %0Nx: padded to the width, never cut to it.
  it('zero-padded digits', () => {
    expect(hexPad(1, 2)).toBe('01');
    expect(hexPad(0x94_0081, 8)).toBe('00940081');
    expect(hexPad(0x1000n, 16)).toBe('0000000000001000');
    expect(hexPad(0x1234, 2)).toBe('1234');
  });
});
