// lib/kstrtox.c: the strict string-to-integer conversions sysfs stores use.

import { EINVAL, ERANGE } from '../../uapi/errno.js';

const ULLONG_MAX = (1n << 64n) - 1n;

/**
 * kstrtou16(s, 0, &res): an optional '+', then the radix from the prefix ("0x" followed by a
 * hex digit: 16; "0": 8; else 10), digits, one optional '\n', and nothing else (the buffer
 * ends at its first NUL). The value, or -EINVAL / -ERANGE.
 */
export function kstrtou16(text: string): number {
  const nul = text.indexOf('\0');
  const s = nul < 0 ? text : text.slice(0, nul);
  let i = s[0] === '+' ? 1 : 0;
  let base = 10;
  if (s[i] === '0') {
    if ((s[i + 1] === 'x' || s[i + 1] === 'X') && /^[0-9a-fA-F]$/.test(s[i + 2] ?? '')) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  // _parse_integer(): digits until the first that is not one in this radix; overflow of
  // unsigned long long is remembered and answered as -ERANGE.
  let res = 0n;
  let digits = 0;
  let overflow = false;
  for (; i < s.length; i++, digits++) {
    const c = s[i]!.toLowerCase();
    const v = c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : c >= 'a' && c <= 'f' ? c.charCodeAt(0) - 87 : 99;
    if (v >= base) break;
    res = res * BigInt(base) + BigInt(v);
    if (res > ULLONG_MAX) overflow = true;
  }
  if (overflow) return -ERANGE;
  if (digits === 0) return -EINVAL;
  if (s[i] === '\n') i++;
  if (i < s.length) return -EINVAL;
  // kstrtouint, then kstrtou16: the value must fit.
  if (res > 0xffffn) return -ERANGE;
  return Number(res);
}
