// Record mode proven on real kernels (issue 9, item 6). test/native/record-client.c ran inside the
// real-kernel harness's guest (tools/realkernel/record-client.sh: Debian kernels under QEMU TCG,
// q35 with VT-d, edu and e1000e bound to vfio-pci) under the preload library in record mode, with
// no Node in the guest; the trace the library wrote came out of the guest as is and is kept in
// test/fixtures/recorded-in-guest/<config>/client.jsonl, the client's own output beside it.
//
// Oracles: the recordings themselves (the real kernel's answers), and the client's output on the
// real kernel against its output under `vfio-emu exec`.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { readTrace } from '../../src/trace/reader.js';
import { replayTrace } from '../../src/trace/replay.js';
import { cli, env, tmp } from '../cli/run-cli.js';

const DIR = 'test/fixtures/recorded-in-guest';
const CONFIGS = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const client = join(tmp, 'record-client');
if (hasCc) {
  const r = spawnSync('cc', ['-O1', '-Wall', '-o', client, 'test/native/record-client.c'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc test/native/record-client.c: ${r.stderr}`);
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').trim().split('\n');
const header = (cfg: string) => JSON.parse(lines(join(DIR, cfg, 'client.jsonl'))[0]!) as { kernel: string; platform: { options: { intremap: string } } };

// The recordings made: 6.1 and 6.12 with and without interrupt remapping, and 7.2.
test('recorded configurations', () => {
  expect(CONFIGS).toEqual(['x86-6.1-intremap-off', 'x86-6.1-intremap-on', 'x86-6.12-intremap-off', 'x86-6.12-intremap-on', 'x86-7.2-intremap-on']);
});

describe.each(CONFIGS)('%s', (cfg) => {
  const file = join(DIR, cfg, 'client.jsonl');
  const events = lines(file)
    .slice(1)
    .map((l) => JSON.parse(l) as { op: string; text?: string; name?: string; value?: string });

  // The trace replays on the model as it came out of the guest: every event compared, none differs,
  // and no model log line goes unmatched (the client was the boot's first VFIO user, so the
  // once-per-boot lines are in the recording too).
  test('replays with no difference', () => {
    const rep = replayTrace(readTrace(readFileSync(file, 'utf8'), file), file);
    expect(rep.results.filter((r) => r.status !== 'match').map((r) => `${r.line}: ${r.what}: ${JSON.stringify(r.diffs)}`)).toEqual([]);
    expect(rep.events).toBe(events.length);
  });

  // What the recorder took from the real kernel besides the calls: its log through /dev/kmsg (the
  // INTx link of each device, ACPI's "Enabled at IRQ"), and the parameter the guest's set-up
  // changed before the client ran (init-record.sh: allow_unsafe_interrupts=Y without remapping).
  test('kernel log lines and module parameters come from the guest', () => {
    expect(events.filter((e) => e.op === 'kmsg' && e.text!.startsWith('ACPI:')).map((e) => e.text)).toEqual([
      'ACPI: \\_SB_.GSIF: Enabled at IRQ 21',
      'ACPI: \\_SB_.GSIG: Enabled at IRQ 22',
    ]);
    const params = events.filter((e) => e.op === 'param').map((e) => `${e.name}=${e.value}`);
    expect(params).toEqual(header(cfg).platform.options.intremap === 'off' ? ['vfio_iommu_type1.allow_unsafe_interrupts=Y'] : []);
  });

  // The same client under `vfio-emu exec`, on the model booted as that kernel: its trace replays,
  // and it saw what it saw on the real kernel, but for BAR mmap, which exec's library refuses
  // (docs/exec.md): the regions lose VFIO_REGION_INFO_FLAG_MMAP (4) and the mmap answers EINVAL.
  test.skipIf(!hasCc)('under exec: the trace replays and the client sees the real kernel\'s answers', () => {
    const h = header(cfg);
    const trace = join(tmp, `exec-${cfg}.jsonl`);
    const unsafe = h.platform.options.intremap === 'off' ? ['--param', 'vfio_iommu_type1.allow_unsafe_interrupts=Y'] : [];
    const args = ['exec', '--kernel', h.kernel, '--platform', `qemu-q35-vtd,intremap=${h.platform.options.intremap}`, ...unsafe];
    args.push('--bind', '0000:00:01.0', '--bind', '0000:00:02.0', '--trace', trace, '--', client, '0000:00:01.0', '0000:00:02.0');
    const r = spawnSync(process.execPath, ['bin/vfio-emu.cjs', ...args], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(cli(['replay', trace]).stdout.trim().split('\n').pop()).toMatch(/^(\d+) events, \1 match, 0 differ, 0 skipped$/);

    const real = lines(join(DIR, cfg, 'client.out'));
    const withoutMmap = real
      .filter((l) => !/^(BAR0\[0x0\] through the mapping|munmap BAR0) /.test(l))
      .map((l) => l.replace(/^mmap BAR0 = 0$/, 'mmap BAR0 = -1 Invalid argument'))
      .map((l) => l.replace(/^(region \d+ .* flags )0x([0-9a-f]+)( .*)$/, (_, a: string, f: string, b: string) => `${a}0x${(parseInt(f, 16) & ~4).toString(16)}${b}`));
    expect(r.stdout.trim().split('\n')).toEqual(withoutMmap);
  });
});
