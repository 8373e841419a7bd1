// npm run bench: figures only, no pass/fail.
//   - cold start of `vfio-emu run` on a shipped scenario beside `node -e 0` (median, ratio);
//   - MAP_DMA + UNMAP_DMA throughput and peak memory for 10^5 and 10^6 mappings in one container;
//   - scenarios checked per second.
// Each figure comes from fresh child processes, so one measurement does not warm another.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// NODE_EXTRA_CA_CERTS adds ~70 ms to every node start here; it is not ours to measure.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const SCENARIO = 'scenarios/seeds/000-doorbell-safety-v2m.vfio';

function timeRun(args, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(' ')} exited ${r.status}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const runs = 15;
const bare = timeRun(['-e', '0'], runs);
const cli = timeRun(['bin/vfio-emu.cjs', 'run', SCENARIO], runs);
console.log(`cold start (median of ${runs}): node -e 0 ${bare.toFixed(1)} ms, vfio-emu run ${cli.toFixed(1)} ms, ratio ${(cli / bare).toFixed(2)}x`);

for (const n of [100_000, 1_000_000]) {
  const r = spawnSync(process.execPath, ['scripts/bench-map.mjs', String(n)], { env, encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`MAP/UNMAP ${n}: failed: ${r.stderr.trim().split('\n').pop()}`);
    continue;
  }
  const m = JSON.parse(r.stdout);
  console.log(
    `MAP/UNMAP ${n.toLocaleString('en')} mappings: map ${m.mapSeconds.toFixed(2)} s (${Math.round(n / m.mapSeconds).toLocaleString('en')}/s), ` +
      `unmap ${m.unmapSeconds.toFixed(2)} s (${Math.round(n / m.unmapSeconds).toLocaleString('en')}/s), ` +
      `peak RSS ${(m.peakRss / 2 ** 20).toFixed(0)} MiB, heap at peak ${(m.peakHeap / 2 ** 20).toFixed(0)} MiB`,
  );
}

const files = [];
const walk = (d) => {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith('.vfio')) files.push(p);
  }
};
walk('scenarios');
const rounds = 20;
const args = ['bin/vfio-emu.cjs', 'check', ...Array(rounds).fill('scenarios').flat()];
const t0 = process.hrtime.bigint();
spawnSync(process.execPath, args, { env, stdio: 'ignore' });
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`scenarios checked: ${files.length * rounds} in ${secs.toFixed(2)} s (${Math.round((files.length * rounds) / secs)}/s, one process)`);
