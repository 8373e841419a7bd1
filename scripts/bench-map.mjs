// One MAP/UNMAP measurement (run by bench.mjs in a fresh process): N 4 KiB mappings at
// distinct IOVAs in one type1v2 container, then N unmaps; times and peak memory as JSON.
import { Kernel } from '../dist/kernel/kernel.js';
import { resolveEra } from '../dist/kernel/era.js';
import { buildPlatform, findPreset } from '../dist/hw/presets.js';

const n = Number(process.argv[2] ?? 100000);
const k = new Kernel(resolveEra('6.12'), buildPlatform(findPreset('qemu-virt-smmuv3'), {}));
k.sysfsWrite('/sys/module/vfio_iommu_type1/parameters/dma_entry_limit', String(n + 16));
const p = k.newProcess();
k.bind('0000:00:01.0', 'vfio-pci');
const c = Number(k.open(p, '/dev/vfio/vfio').ret);
const g = Number(k.open(p, '/dev/vfio/0').ret);
const fdbuf = new Uint8Array(4);
new DataView(fdbuf.buffer).setInt32(0, c, true);
const NR = (x) => (0x3b << 8) | (100 + x);
if (k.ioctl(p, g, NR(4), { value: 1n, buf: fdbuf }).errno) throw new Error('SET_CONTAINER');
if (k.ioctl(p, c, NR(2), { value: 3n }).errno) throw new Error('SET_IOMMU');
const PAGE = 0x1000n;
const base = k.mmap(p, BigInt(n) * PAGE, { read: true, write: true }).ret;

let peakRss = 0;
let peakHeap = 0;
const sample = () => {
  const m = process.memoryUsage();
  if (m.rss > peakRss) peakRss = m.rss;
  if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
};
const map = new Uint8Array(32);
const mv = new DataView(map.buffer);
const unmap = new Uint8Array(24);
const uv = new DataView(unmap.buffer);
const iovaBase = 0x1_0000_0000n;
let t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  mv.setUint32(0, 32, true);
  mv.setUint32(4, 3, true);
  mv.setBigUint64(8, base + BigInt(i) * PAGE, true);
  mv.setBigUint64(16, iovaBase + BigInt(i) * 2n * PAGE, true);
  mv.setBigUint64(24, PAGE, true);
  const r = k.ioctl(p, c, NR(13), { value: 1n, buf: map });
  if (r.errno) throw new Error(`MAP ${i}: errno ${r.errno}`);
  if ((i & 0xffff) === 0) sample();
}
const mapSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
sample();
t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  uv.setUint32(0, 24, true);
  uv.setUint32(4, 0, true);
  uv.setBigUint64(8, iovaBase + BigInt(i) * 2n * PAGE, true);
  uv.setBigUint64(16, PAGE, true);
  const r = k.ioctl(p, c, NR(14), { value: 1n, buf: unmap });
  if (r.errno) throw new Error(`UNMAP ${i}: errno ${r.errno}`);
}
const unmapSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ n, mapSeconds, unmapSeconds, peakRss, peakHeap }) + '\n');
