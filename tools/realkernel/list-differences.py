#!/usr/bin/env python3
"""Replay every device-fd trace against the model and list each differing event as one TSV row:
config, file, line, op, what (request or region+offset), label, field, recorded, model.
usage: list-differences.py [FIXTURE_DIR] > differences.tsv   (run from the project root after npm run build)"""
import json, os, subprocess, sys

root = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/real-kernel-device'
REG = {7: 'config', 6: 'ROM', 8: 'VGA'}
for cfg in sorted(os.listdir(root)):
    d = os.path.join(root, cfg)
    for f in sorted(x for x in os.listdir(d) if x.endswith('.jsonl')):
        path = os.path.join(d, f)
        lines = open(path).read().splitlines()
        out = subprocess.run(['node', 'bin/vfio-emu.cjs', 'replay', '--json', path], capture_output=True, text=True).stdout
        for row in out.splitlines():
            r = json.loads(row)
            if r.get('status') != 'differs':
                continue
            ev = json.loads(lines[r['line'] - 1]) if r['line'] <= len(lines) else {}
            what = ev.get('request', '')
            if ev.get('op') in ('pread', 'pwrite'):
                off = int(ev['offset'], 16)
                reg = off >> 40
                what = f"{REG.get(reg, 'BAR%d' % reg if reg < 6 else 'region%d' % reg)}+0x{off & ((1 << 40) - 1):x}/{ev['len']}"
            for dif in r['diffs']:
                print('\t'.join([cfg, f, str(r['line']), ev.get('op', r.get('op', '')), what, ev.get('label', ''),
                                 dif['field'], str(dif['recorded']), str(dif['model'])]))
