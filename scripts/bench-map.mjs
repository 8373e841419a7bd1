// One MAP/UNMAP measurement, run by bench.mjs in a fresh process with --expose-gc:
//   node --expose-gc scripts/bench-map.mjs N model         N 4 KiB MAP_DMAs at distinct IOVAs in
//                                                        one type1v2 container, then N UNMAP_DMAs
//   node --expose-gc scripts/bench-map.mjs N btree-bigint  the anchor: a bare sorted-btree doing
//   node --expose-gc scripts/bench-map.mjs N btree-number  the same inserts and deletes (start → end)
// Prints JSON: CPU seconds (user + system, this process) for the inserts and for the deletes,
// which a loaded machine disturbs less than wall time; bytes retained per live mapping
// (heap after a full GC with all N live, less the heap before), peak RSS.
import * as btreeModule from 'sorted-btree';

const n = Number(process.argv[2] ?? 100000);
const mode = process.argv[3] ?? 'model';
const gc = globalThis.gc ?? (() => {});
const PAGE = 0x1000n;
const IOVA_BASE = 0x1_0000_0000n;

let peakRss = 0;
const sample = () => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
};
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Times `insert(i)` then `remove(i)` for every i, and the heap the live set holds. */
function measure(insert, remove) {
  const before = heap();
  let t0 = cpuSeconds();
  for (let i = 0; i < n; i++) {
    insert(i);
    if ((i & 0xffff) === 0) sample();
  }
  const mapSeconds = cpuSeconds() - t0;
  sample();
  const bytesPerMapping = (heap() - before) / n;
  t0 = cpuSeconds();
  for (let i = 0; i < n; i++) remove(i);
  const unmapSeconds = cpuSeconds() - t0;
  sample();
  return { n, mode, mapSeconds, unmapSeconds, bytesPerMapping, peakRss };
}

async function model() {
  const { Kernel } = await import('../dist/kernel/kernel.js');
  const { resolveEra } = await import('../dist/kernel/era.js');
  const { buildPlatform, findPreset } = await import('../dist/hw/presets.js');
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
  const base = k.mmap(p, BigInt(n) * PAGE, { read: true, write: true }).ret;
  const map = new Uint8Array(32);
  const mv = new DataView(map.buffer);
  const unmap = new Uint8Array(24);
  const uv = new DataView(unmap.buffer);
  const mapArg = { value: 1n, buf: map };
  const unmapArg = { value: 1n, buf: unmap };
  return measure(
    (i) => {
      mv.setUint32(0, 32, true);
      mv.setUint32(4, 3, true);
      mv.setBigUint64(8, base + BigInt(i) * PAGE, true);
      mv.setBigUint64(16, IOVA_BASE + BigInt(i) * 2n * PAGE, true);
      mv.setBigUint64(24, PAGE, true);
      const r = k.ioctl(p, c, NR(13), mapArg);
      if (r.errno) throw new Error(`MAP ${i}: errno ${r.errno}`);
    },
    (i) => {
      uv.setUint32(0, 24, true);
      uv.setUint32(4, 0, true);
      uv.setBigUint64(8, IOVA_BASE + BigInt(i) * 2n * PAGE, true);
      uv.setBigUint64(16, PAGE, true);
      const r = k.ioctl(p, c, NR(14), unmapArg);
      if (r.errno) throw new Error(`UNMAP ${i}: errno ${r.errno}`);
    },
  );
}

/** The anchor: the B+ tree the model's tables are built on, alone, keyed by start, value end. */
function bare(keys) {
  const mod = btreeModule.default;
  const BTree = mod.default ?? mod;
  if (keys === 'bigint') {
    const t = new BTree(undefined, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return measure(
      (i) => {
        const start = IOVA_BASE + BigInt(i) * 2n * PAGE;
        t.set(start, start + PAGE);
      },
      (i) => t.delete(IOVA_BASE + BigInt(i) * 2n * PAGE),
    );
  }
  const t = new BTree(undefined, (a, b) => a - b);
  const base = Number(IOVA_BASE);
  const page = Number(PAGE);
  return measure(
    (i) => {
      const start = base + i * 2 * page;
      t.set(start, start + page);
    },
    (i) => t.delete(base + i * 2 * page),
  );
}

const result = mode === 'model' ? await model() : bare(mode === 'btree-bigint' ? 'bigint' : 'number');
process.stdout.write(JSON.stringify(result) + '\n');
