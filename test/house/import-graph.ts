// The source tree's import graph, for the layering test: every relative import of every file
// under src/, resolved to the file it names.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

export const SRC = join(dirname(new URL(import.meta.url).pathname), '..', '..', 'src');

export function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

/** File (relative to src/) → the files it imports (relative to src/), type-only imports included. */
export function importGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const abs of sourceFiles()) {
    const text = readFileSync(abs, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?(?:from\s*)?'(\.{1,2}\/[^']+)'/g)) {
      deps.push(relative(SRC, normalize(join(dirname(abs), m[1]!))).replace(/\.js$/, '.ts'));
    }
    for (const m of text.matchAll(/\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) {
      deps.push(relative(SRC, normalize(join(dirname(abs), m[1]!))).replace(/\.js$/, '.ts'));
    }
    g.set(relative(SRC, abs), deps);
  }
  return g;
}

/** Strongly connected components of more than one file (Tarjan): the import cycles. */
export function cycles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}
