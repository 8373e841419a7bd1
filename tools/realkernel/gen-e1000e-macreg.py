#!/usr/bin/env python3
"""Print QEMU's e1000e MAC register file as rows for src/hw/pci/e1000e-macreg.ts.

usage: gen-e1000e-macreg.py <qemu-source-tree> [--c]   (QEMU 7.2: `apt-get source qemu` on bookworm)

Reads hw/net/e1000_regs.h (offsets, bit names), e1000x_common.h (the register enum),
e1000e_core.c (e1000e_macreg_readops[], e1000e_macreg_writeops[], e1000e_mac_reg_init[],
mac_reg_access[]) and evaluates their designated initializers as C does: a later initializer
of the same index replaces an earlier one. Prints one row per register or register range, in
offset order, with the read op, the write op and the reset value; and the alias rows.
With --c: devprobe.c's E1K_WRITABLE[] (registers with a write op, one by one) and E1K_ARRAYS[]
(register arrays with a write op, written in blocks) instead.
"""
import re
import sys

src = sys.argv[1] + '/hw/net/'
regs_h = open(src + 'e1000_regs.h').read()
core_c = open(src + 'e1000e_core.c').read()
core_h = open(src + 'e1000e_core.h').read()

defs = {}
for name, val in re.findall(r'(?m)^#define\s+(\w+)\s+(.+?)\s*(?:/\*.*)?$', regs_h + core_h + core_c):
    defs.setdefault(name, val)


def ev(expr, extra=None):
    """Evaluate a C constant expression over the #defines (and register indices)."""
    e = expr.strip()
    e = re.sub(r'\bBIT\(', '_bit(', e)
    e = re.sub(r'(0x[0-9A-Fa-f]+|\d+)[uUlL]+\b', r'\1', e)

    def name(m):
        n = m.group(0)
        if extra and n in extra:
            return str(extra[n])
        if n in defs:
            return '(' + str(ev(defs[n], extra)) + ')'
        if 'E1000_' + n in defs and extra is not None:
            return str(ev(defs['E1000_' + n]) >> 2)
        if n == '_bit':
            return n
        raise KeyError(n)
    e = re.sub(r'\b[A-Za-z_]\w*\b', name, e)
    return int(eval(e, {'_bit': lambda n: 1 << n}))


IDX = {}  # register name -> dword index (defreg(x): E1000_x >> 2)


def idx(expr):
    return ev(expr, IDX)


def assign(out, rng, val):
    """[A ... B] = val or [A] = val."""
    a, b = rng.split('...') if '...' in rng else (rng, rng)
    for i in range(idx(a), idx(b) + 1):
        out[i] = val


def table(name):
    body = re.search(r'%s\[[^\]]*\]\s*=\s*\{(.*?)\n\};' % re.escape(name), core_c, re.S).group(1)
    body = re.sub(r'/\*.*?\*/', '', body, flags=re.S)
    out = {}
    for item in [x.strip() for x in body.split(',\n') if x.strip()]:
        for it in [i.strip() for i in re.split(r',\s*(?=\[|e1000e_(?:get|put)reg)', item) if i.strip()]:
            m = re.match(r'e1000e_(get|put)reg\((\w+)\)$', it)
            if m:
                out[idx(m.group(2))] = 'readreg' if m.group(1) == 'get' else 'writereg'
                continue
            m = re.match(r'\[(.+?)\]\s*=\s*(.+?),?$', it, re.S)
            assert m, it
            rng, fn = m.group(1), m.group(2).strip().rstrip(',')
            fn = re.sub(r'^E1000E_LOW_BITS_READ\((\d+)\)$', r'low\1', fn)
            fn = re.sub(r'^e1000e_(mac_)?', '', fn)
            assign(out, rng, fn)
    return out


def reset_table():
    body = re.search(r'e1000e_mac_reg_init\[\]\s*=\s*\{(.*?)\n\};', core_c, re.S).group(1)
    out = {}
    for m in re.finditer(r'\[([^\]]+)\]\s*=\s*(.*?),\s*(?=\n\s*\[|\s*$)', body, re.S):
        assign(out, m.group(1), ev(m.group(2).replace('\n', ' ')) & 0xffffffff)
    return out


enum = re.search(r'enum \{(.*?)\};', open(src + 'e1000x_common.h').read(), re.S).group(1)
for n in re.findall(r'defreg\((\w+)\)', enum):
    IDX[n] = ev(defs['E1000_' + n]) >> 2
IDX['E1000E_MSIX_VEC_NUM'] = ev(defs['E1000E_MSIX_VEC_NUM'])

rd, wr, rst = table('e1000e_macreg_readops'), table('e1000e_macreg_writeops'), reset_table()
NAMES = {}
for n, i in sorted(IDX.items(), key=lambda kv: kv[0]):
    if n.endswith('_A') or n == 'E1000E_MSIX_VEC_NUM':
        continue
    NAMES.setdefault(i, n)

# one row per register; runs of an array (same name base, same ops, reset 0) folded
rows = []
for i in sorted(set(rd) | set(wr)):
    row = [i, rd.get(i, ''), wr.get(i, ''), rst.get(i, 0)]
    base = max((k for k in NAMES if k <= i and (rd.get(k) or wr.get(k))), default=None)
    name = NAMES.get(i)
    if name is None and base is not None:
        name = '%s+%d' % (NAMES[base], i - base)
    row.append(name)
    rows.append(row)
folded = []
for r in rows:
    p = folded[-1] if folded else None
    if p and r[4] and '+' in r[4] and r[0] == p[0] + p[5] and r[1:4] == p[1:4] and r[4].split('+')[0] == p[4].split('+')[0]:
        p[5] += 1
        continue
    folded.append(r + [1])
if '--c' in sys.argv:
    singles = [(n if c == 1 else '%s%d' % (n, k), (i << 2) + 4 * k) for i, r, w, v, n, c in folded if w and (c == 1 or n == 'EITR') for k in range(c)]
    arrays = [(n, i << 2, c) for i, r, w, v, n, c in folded if w and c > 1 and n != 'EITR']
    print('static const struct e1k_reg { const char *name; uint32_t off; } E1K_WRITABLE[] = {')
    print('\n'.join('\t{"%s", 0x%05x},' % s for s in singles))
    print('};\nstatic const struct e1k_range { const char *name; uint32_t off, n; } E1K_ARRAYS[] = {')
    print('\n'.join('\t{"%s", 0x%05x, %d},' % a for a in arrays))
    print('};')
    sys.exit(0)
for i, r, w, v, name, n in folded:
    print("  ['%s', 0x%05x, %d, '%s', '%s', 0x%08x]," % (name, i << 2, n, r, w, v))

acc = re.search(r'mac_reg_access\[[^\]]*\]\s*=\s*\{(.*?)/\* Access options', core_c, re.S).group(1)
print('// aliases')
for m in re.finditer(r'\[([^\]]+)\]\s*=\s*(0x[0-9a-fA-F]+)', acc):
    rng, d = m.group(1), int(m.group(2), 16)
    a, b = (rng.split('...') + [rng])[:2]
    lo, hi = idx(a), idx(b)
    print("  [0x%05x, %d, 0x%05x], // %s" % (lo << 2, hi - lo + 1, ((lo + d) & 0xffff) << 2, rng.strip()))
