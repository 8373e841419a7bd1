// The documents users read (docs/, the READMEs) say what the tool does: every scenario they
// show runs with all its expectations met and prints the output they show, every trace they
// show replays with no difference, every verb and trace op is described, and every relative
// link leads to a file.

import { readdirSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { VERBS } from '../../src/script/verbs/index.js';
import { TRACE_OPS } from '../../src/trace/format.js';
import { cli, tmp } from './run-cli.js';

const SCENARIO_DOC = 'docs/scenario-language.md';
const TRACE_DOC = 'docs/trace-format.md';

interface Block {
  lang: string;
  text: string;
  line: number;
}

/** The fenced code blocks of a markdown file, in order. */
function blocks(file: string): Block[] {
  const out: Block[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    out.push({ lang: open[1]!, text: body.join('\n') + '\n', line: start + 1 });
  }
  return out;
}

/** Each line of `sample` other than `…` appears in `actual`, in that order. */
function inOrder(sample: string, actual: string): string[] {
  const missing: string[] = [];
  const got = actual.split('\n');
  let at = 0;
  for (const l of sample.split('\n').filter((x) => x !== '' && x !== '…')) {
    const i = got.indexOf(l, at);
    if (i < 0) missing.push(l);
    else at = i + 1;
  }
  return missing;
}

describe('docs/scenario-language.md', () => {
  const all = blocks(SCENARIO_DOC);
  const scenarios = all.filter((b) => b.lang === 'vfio');

  // The page has examples to run (the test below could otherwise pass on none).
  test('has scenarios', () => {
    expect(scenarios.length).toBe(7);
  });

  // Every scenario runs to the end with each expectation met; an `output` block right after it
  // shows lines of what it prints, in order.
  for (const b of scenarios) {
    test(`the scenario at line ${b.line} runs as shown`, () => {
      const r = cli(['run', '-'], b.text);
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toContain('✗');
      expect(r.status).toBe(0);
      const next = all[all.indexOf(b) + 1];
      if (next?.lang === 'output') expect(inOrder(next.text, r.stdout)).toEqual([]);
    });
  }

  // Every verb of the language has its row or heading.
  test('describes every verb', () => {
    const doc = readFileSync(SCENARIO_DOC, 'utf8');
    const missing = [...VERBS.keys()].filter((v) => !doc.includes(`| \`${v} `) && !doc.includes(`| \`${v}\``) && !doc.includes(`\`${v} `));
    expect(missing).toEqual([]);
  });
});

describe('docs/trace-format.md', () => {
  // The example trace is what the emulator records, and replays with no difference.
  test('the example replays', () => {
    const ex = blocks(TRACE_DOC).filter((b) => b.lang === 'jsonl');
    expect(ex.length).toBe(1);
    const f = join(tmp, 'doc-example.jsonl');
    writeFileSync(f, ex[0]!.text);
    const r = cli(['replay', f]);
    expect(r.stdout).toContain('8 events, 8 match, 0 differ, 0 skipped');
    expect(r.status).toBe(0);
  });

  // Every op the reader accepts has its row in the table.
  test('describes every op', () => {
    const doc = readFileSync(TRACE_DOC, 'utf8');
    expect(TRACE_OPS.filter((op) => !doc.includes(`| \`${op}\` |`))).toEqual([]);
  });
});

/** Markdown files a user reads: the README, docs/, and the fixtures' READMEs. */
function readmes(): string[] {
  const found: string[] = ['README.md', ...readdirSync('docs').map((f) => join('docs', f))];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^README/i.test(e.name)) found.push(p);
    }
  };
  walk('test/fixtures');
  return found.filter((f) => f.endsWith('.md'));
}

describe('links', () => {
  // A relative link (markdown or a `../x` path in backticks) names a file or folder that exists.
  test('every relative link resolves', () => {
    const broken: string[] = [];
    for (const f of readmes()) {
      const text = readFileSync(f, 'utf8');
      const targets = [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
      for (const m of text.matchAll(/`(\.\.\/[^`\s]+)`/g)) targets.push(m[1]!);
      for (const t of targets) if (!existsSync(join(dirname(f), t))) broken.push(`${f}: ${t}`);
    }
    expect(broken).toEqual([]);
  });

  // The README leads to the documents.
  test('the README links docs/', () => {
    const text = readFileSync('README.md', 'utf8');
    expect([SCENARIO_DOC, TRACE_DOC].filter((d) => !text.includes(`](${d})`))).toEqual([]);
    expect(statSync('docs').isDirectory()).toBe(true);
  });
});
