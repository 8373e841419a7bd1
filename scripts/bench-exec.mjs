// npm run bench, `exec` part: the cost of one call from a real program through the preload
// library and the socket to the model and back (test/native/bench.c, built here with cc).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const bin = join(mkdtempSync(join(tmpdir(), 'vfio-emu-bench-')), 'bench');
const cc = spawnSync('cc', ['-O2', '-o', bin, 'test/native/bench.c'], { encoding: 'utf8' });
if (cc.status !== 0) {
  console.log('exec round trip: skipped (no C compiler)');
  process.exit(0);
}
const n = 20000;
const r = spawnSync(process.execPath, ['bin/vfio-emu.cjs', 'exec', '--platform', 'qemu-q35-vtd', '--bind', '0000:00:01.0', '--', bin, String(n)], {
  env,
  encoding: 'utf8',
});
if (r.status !== 0) {
  console.log(`exec round trip: failed (${r.status}): ${r.stderr.trim()}`);
  process.exit(0);
}
const m = JSON.parse(r.stdout);
const us = (s) => `${(s * 1e6).toFixed(1)} µs`;
console.log(
  `exec round trip (${n.toLocaleString('en')} calls each): CHECK_EXTENSION ${us(m.valueIoctl)}, DEVICE_GET_INFO ${us(m.structIoctl)}, config pread ${us(m.pread)}`,
);
