// "did you mean": the known name nearest to a misspelt one, by edit distance (insertions,
// deletions, substitutions and swaps of neighbours, case ignored), when one is near enough
// and nearer than every other.

/** Optimal string alignment distance between a and b. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The one candidate within reach of `word` (a third of its length, at least 1), or undefined. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  if (w.length > 64) return undefined;
  const reach = Math.max(1, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestD = reach + 1;
  let tie = false;
  for (const c of candidates) {
    const dist = distance(w, c.toLowerCase());
    if (dist < bestD) [best, bestD, tie] = [c, dist, false];
    else if (dist === bestD && c !== best) tie = true;
  }
  return tie ? undefined : best;
}

/** `; did you mean "X"?` for a message's end, or nothing. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const n = nearest(word, candidates);
  return n === undefined ? '' : `; did you mean "${n}"?`;
}
