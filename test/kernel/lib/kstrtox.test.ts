// kstrtou16(s, 0) (src/kernel/lib/kstrtox.ts, lib/kstrtox.c): what sriov_numvfs accepts.

import { describe, expect, it } from 'vitest';
import { EINVAL, ERANGE } from '../../../src/uapi/errno.js';
import { kstrtou16 } from '../../../src/kernel/lib/kstrtox.js';

describe('kstrtou16', () => {
  // base 0: "0x" then a hex digit is hex, a leading "0" octal, anything else decimal
  it('radix from the prefix', () => {
    expect(kstrtou16('4')).toBe(4);
    expect(kstrtou16('0x10')).toBe(16);
    expect(kstrtou16('0X1f')).toBe(31);
    expect(kstrtou16('010')).toBe(8);
    expect(kstrtou16('0')).toBe(0);
  });

  // "0x" with no hex digit after it is octal 0 followed by junk
  it('0x alone', () => expect(kstrtou16('0x')).toBe(-EINVAL));

  // a digit outside the radix ends the number: the rest is junk
  it('digit outside the radix', () => expect(kstrtou16('08')).toBe(-EINVAL));

  // one optional '+', never '-'
  it('sign', () => {
    expect(kstrtou16('+4')).toBe(4);
    expect(kstrtou16('-1')).toBe(-EINVAL);
  });

  // one trailing newline, nothing else: no spaces either side, no second newline, no digits
  it('what may follow', () => {
    expect(kstrtou16('4\n')).toBe(4);
    expect(kstrtou16(' 4')).toBe(-EINVAL);
    expect(kstrtou16('4 ')).toBe(-EINVAL);
    expect(kstrtou16('4\n\n')).toBe(-EINVAL);
    expect(kstrtou16('\n')).toBe(-EINVAL);
    expect(kstrtou16('')).toBe(-EINVAL);
  });

  // the buffer ends at its first NUL
  it('NUL', () => expect(kstrtou16('4\0junk')).toBe(4));

  // above 0xffff: -ERANGE; past unsigned long long: -ERANGE even with junk after
  it('range', () => {
    expect(kstrtou16('65535')).toBe(65535);
    expect(kstrtou16('65536')).toBe(-ERANGE);
    expect(kstrtou16('99999999999999999999x')).toBe(-ERANGE);
  });
});
