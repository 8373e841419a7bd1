// The hot path's anchor: a plain reader of a scenario file of MAP_DMA/UNMAP_DMA lines. It
// splits lines, parses each line's key=value words, and keeps the mappings as ranges in a
// B+ tree (refusing an overlapping MAP, removing on UNMAP), which is the least any
// implementation of the same file must do. Prints how many operations it applied.
import { readFileSync } from 'node:fs';
import * as btreeModule from 'sorted-btree';

const mod = btreeModule.default;
const BTree = mod.default ?? mod;
const SUFFIX = new Map([
  ['K', 10n],
  ['M', 20n],
  ['G', 30n],
]);

/** 0x hex, decimal, or a K/M/G size; a name (`ram`, `ram+0x1000`) stays a string. */
function value(text) {
  const shift = SUFFIX.get(text[text.length - 1]);
  if (shift !== undefined) return BigInt(text.slice(0, -1)) << shift;
  return /^(0x[0-9a-f]+|\d+)$/i.test(text) ? BigInt(text) : text;
}

const ranges = new BTree(undefined, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
let ops = 0;
for (const line of readFileSync(process.argv[2], 'utf8').split('\n')) {
  const words = line.trim().split(/\s+/);
  if (words[0] !== 'ioctl') continue;
  const args = new Map();
  for (const w of words.slice(3)) {
    const eq = w.indexOf('=');
    if (eq > 0) args.set(w.slice(0, eq), value(w.slice(eq + 1)));
  }
  const iova = args.get('iova');
  const size = args.get('size');
  if (words[2] === 'MAP_DMA') {
    const below = ranges.getPairOrNextLower(iova);
    const above = ranges.nextHigherPair(iova);
    if ((below && below[1] > iova) || (above && above[0] < iova + size)) throw new Error(`overlap at ${iova}`);
    ranges.set(iova, iova + size);
    ops++;
  } else if (words[2] === 'UNMAP_DMA') {
    if (!ranges.delete(iova)) throw new Error(`no mapping at ${iova}`);
    ops++;
  }
}
process.stdout.write(`${ops}\n`);
