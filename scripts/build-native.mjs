// Builds the preload library of `vfio-emu exec` (native/vfio-preload.c) with the system's cc.
// Where there is no C compiler the build still succeeds: `exec` then says the library is
// missing, in one line. VFIO_EMU_NO_CC=1 behaves as if there were none (for the test of that).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';

const out = 'dist/vfio-preload.so';
const cc = process.env.CC || 'cc';
const args = ['-shared', '-fPIC', '-O2', '-Wall', '-Wno-missing-attributes', '-o', out, 'native/vfio-preload.c', 'native/vfio-record.c', '-ldl', '-lpthread'];
const have = !process.env.VFIO_EMU_NO_CC && spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0;
if (!have) {
  console.log(`build-native: no C compiler (${cc}); vfio-emu exec and record will be unavailable`);
} else {
  mkdirSync('dist', { recursive: true });
  const r = spawnSync(cc, args, { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(out)) {
    console.error(`build-native: ${cc} failed to build ${out}`);
    process.exit(1);
  }
}
