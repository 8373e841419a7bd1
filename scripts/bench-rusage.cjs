// Preloaded (node --require) into each process the benchmark times: at exit, writes the
// process's own CPU time and peak RSS as JSON to $BENCH_RUSAGE_OUT. The child measures itself,
// so nothing of the parent's or of another child's work is counted.
'use strict';
const { writeFileSync } = require('node:fs');

const out = process.env.BENCH_RUSAGE_OUT;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssBytes: u.maxRSS * 1024 }));
  });
}
