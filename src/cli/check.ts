// `vfio-emu check`: scenarios as tests, for people and for CI. Each scenario file runs once per
// kernel of --kernel (a comma-separated list is a matrix); the counts are of those runs
// (scenario files, or file × kernel), never of expectations, and the closing line says so.
// Reports: text (one line per failed expectation), JSON lines (--json: an event per failed
// expectation or scenario error, one per run, a summary), JUnit XML (--reporter junit / --out).

import { basename, dirname } from 'node:path';
import { UserError } from '../lib/user-error.js';
import type { ExpectEvent, RunSink } from '../script/events.js';
import { ScenarioSetup } from '../script/setup.js';
import { collectScenarios, checkOutputPath, readInput } from './input.js';
import type { CaseResult } from './junit.js';
import { makeChalk, renderText } from './render.js';
import { writeOut, writeUserFile } from './out.js';

export interface CheckOptions {
  kernel?: string;
  platform?: string;
  reporter?: string;
  out?: string;
  json?: boolean;
  grep?: string;
  bail?: boolean;
  verbose?: boolean;
  shard?: string;
}

/** `--kernel A,B,C`: each era checked once, before any file runs. */
function kernelsOf(o: CheckOptions): (string | undefined)[] {
  if (o.kernel === undefined) {
    new ScenarioSetup({ platform: o.platform }).checkOptions();
    return [undefined];
  }
  const list = [...new Set(o.kernel.split(',').map((k) => k.trim()))];
  if (list.some((k) => k === '')) throw new UserError(`--kernel: "${o.kernel}" has an empty name: expected ERA or ERA,ERA,…`);
  for (const k of list) new ScenarioSetup({ kernel: k, platform: o.platform }).checkOptions();
  return list;
}

/** `--shard i/n`, as vitest: the sorted files cut in n contiguous parts, the i-th (1-based). */
export function shardOf<T>(files: readonly T[], spec: string): T[] {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const i = m ? Number(m[1]) : 0;
  const n = m ? Number(m[2]) : 0;
  if (!m || n < 1 || i < 1 || i > n) throw new UserError(`--shard: "${spec}": expected i/n with 1 ≤ i ≤ n, e.g. 1/3`);
  const size = Math.ceil(files.length / n);
  return files.slice((i - 1) * size, i * size);
}

/** `-k/--grep`: a regular expression the file's path must match. */
function grepOf(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (e) {
    throw new UserError(`--grep: "${pattern}" is not a regular expression: ${(e as Error).message}`);
  }
}

/**
 * How one scenario runs (main.ts's runScenario, passed in so this file does not import the CLI's
 * root), streaming its events to the sink.
 */
export type RunOne = (file: string, text: string, opts: { kernel?: string; platform?: string }, sink: RunSink) => { error?: UserError };

export async function checkCommand(paths: string[], o: CheckOptions, runScenario: RunOne): Promise<number> {
  // --out alone implies the only reporter there is.
  const reporter = o.reporter ?? (o.out !== undefined ? 'junit' : undefined);
  if (reporter && o.out === undefined) throw new UserError(`--reporter ${reporter} needs --out FILE`);
  const kernels = kernelsOf(o);
  const matrix = o.kernel !== undefined && o.kernel.includes(',');
  let files = collectScenarios(paths);
  if (files.length === 0) throw new UserError(`no scenario (*.vfio) found in ${paths.join(' ')}`);
  if (o.grep !== undefined) {
    const re = grepOf(o.grep);
    files = files.filter((f) => re.test(f));
    if (files.length === 0) throw new UserError(`--grep ${o.grep}: no scenario matches`);
  }
  if (o.shard !== undefined) files = shardOf(files, o.shard);
  if (o.out !== undefined) checkOutputPath('--out', o.out, files);

  const lines: string[] = [];
  const emit = (s: string): void => {
    lines.push(s);
    if (lines.length >= 512) flush();
  };
  const flush = (): void => {
    if (lines.length) writeOut(lines.join('\n') + '\n');
    lines.length = 0;
  };
  const json = (o: object): void => emit(JSON.stringify(o));
  const plain = makeChalk(true);
  const cases: CaseResult[] = [];
  const runs = files.length * kernels.length;
  let passed = 0;
  let failed = 0;
  let errors = 0;
  let held = 0;
  let broken = 0;
  let ran = 0;
  outer: for (const f of files) {
    for (const kernel of kernels) {
      const t0 = process.hrtime.bigint();
      // Check shows no event: the run builds none but the failed expectations (and counts those
      // that held); only the JUnit report, whose system-out is the run's text, has them all.
      const bad: ExpectEvent[] = [];
      let good = 0;
      const out: string[] = [];
      const res = runScenario(f, readInput(f), { kernel, platform: o.platform }, {
        failed: (e) => bad.push(e),
        held: () => good++,
        event: reporter ? (ev) => out.push(renderText(ev, plain)) : undefined,
      });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      ran++;
      held += good;
      broken += bad.length;
      const tag = matrix && kernel ? ` (kernel ${kernel})` : '';
      const status = res.error ? 'error' : bad.length ? 'failed' : 'passed';
      if (o.json) {
        for (const e of bad) json({ type: 'expect', ok: false, file: e.at.file, line: e.at.line, kernel, text: e.text, expected: e.expected, got: e.got });
        if (res.error) json({ type: 'error', ...(res.error.where ?? { file: f }), kernel, message: res.error.message });
        json({ type: 'file', file: f, kernel, status, expectations: { held: good, failed: bad.length }, seconds: Number(seconds.toFixed(3)) });
      } else {
        for (const e of bad) emit(`${e.at.file}:${e.at.line}: expected ${e.expected}, got ${e.got}${tag}`);
        if (res.error) emit(res.error.format() + tag);
        if (o.verbose && status === 'passed') emit(`ok ${f}${tag}`);
      }
      if (status === 'passed') passed++;
      else failed++;
      if (res.error) errors++;
      cases.push({
        name: basename(f) + (matrix && kernel ? ` [${kernel}]` : ''),
        classname: dirname(f).split(/[\\/]/).filter((p) => p && p !== '.').join('.') || '.',
        file: f,
        kernel,
        failures: bad.map((e) => ({ file: e.at.file, line: e.at.line, message: `expected ${e.expected}, got ${e.got}`, text: `${e.at.file}:${e.at.line}: expect ${e.text}: expected ${e.expected}, got ${e.got}` })),
        error: res.error?.format(),
        out: out.join('\n'),
        seconds,
      });
      process.exitCode = errors ? 2 : failed ? 1 : 0;
      if (o.bail && status !== 'passed') break outer;
    }
  }
  const notRun = runs - ran;
  const unit = kernels.length > 1 ? `scenario files × kernels ${kernels.join(', ')}` : 'scenario files';
  if (o.json) {
    json({ type: 'summary', unit: kernels.length > 1 ? 'file×kernel' : 'file', passed, failed, errors, notRun, expectations: { held, failed: broken } });
  } else {
    emit(`${passed} passed, ${failed} failed${notRun ? `, ${notRun} not run (--bail)` : ''} (${unit})`);
  }
  flush();
  if (reporter === 'junit') {
    const { junitXml } = await import('./junit.js');
    writeUserFile(o.out!, junitXml(cases, kernels.length > 1));
  }
  return errors ? 2 : failed ? 1 : 0;
}
