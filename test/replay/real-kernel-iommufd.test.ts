// The iommufd, device-cdev and compat-container recordings of Linux 7.2
// (test/fixtures/real-kernel-iommufd/README.md) replay with no differing event, under the same
// rules as the other real-kernel traces (real-kernel.test.ts: kernel log lines printed once per
// boot may be skipped), a WARN report's lines that belong to the recorded machine (registers,
// call trace: replay.ts WARN_MACHINE_REASON) and deferred boot work's lines (the TSC's refined
// calibration: DEFERRED_BOOT_REASON), nothing else.
//
// Until the model serves /dev/iommu for a trace's kernel and platform, that configuration is
// skipped, and the reason says so. Whether it does is asked of the model itself: the header's
// machine (era, platform and `config`) is booted and /dev/iommu opened, as the traces do.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { boot, type Machine } from '../../src/machine/boot.js';
import { BootError, bootProblemText } from '../../src/machine/boot-problem.js';
import { readTrace } from '../../src/trace/reader.js';
import { DEFERRED_BOOT_REASON, ONCE_PER_BOOT_REASON, replayTrace, WARN_MACHINE_REASON } from '../../src/trace/replay.js';

const DIR = 'test/fixtures/real-kernel-iommufd';

/**
 * The differences the model still has, each listed exactly (trace → `line: what: diffs`), so a
 * fix and a regression both fail this test: a fix removes its lines here, in the same commit.
 * Every trace not listed replays with no difference. `VFIO_EMU_WRITE_LEDGER=1 npx vitest run
 * test/replay/real-kernel-iommufd.test.ts` rewrites the file from the current model.
 */
const LEDGER_FILE = 'test/replay/real-kernel-iommufd.known-differences.json';
const LEDGER: Record<string, string[]> = existsSync(LEDGER_FILE) ? JSON.parse(readFileSync(LEDGER_FILE, 'utf8')) : {};
const written: Record<string, string[]> = {};

function configs(): string[] {
  if (!existsSync(DIR)) return [];
  return readdirSync(DIR).filter((d) => statSync(join(DIR, d)).isDirectory()).sort();
}

function traces(cfg: string): string[] {
  return readdirSync(join(DIR, cfg)).filter((x) => x.endsWith('.jsonl')).sort();
}

/** Whether the model, booted as a trace's header says, has /dev/iommu (errno of the open otherwise). */
function modelIommufd(file: string): { ok: true } | { ok: false; why: string } {
  const h = readTrace(readFileSync(file, 'utf8'), file).header;
  let m: Machine;
  try {
    m = boot(h.kernel, h.platform.preset, h.platform.options ?? {}, h.config);
  } catch (e) {
    if (e instanceof BootError) return { ok: false, why: `the model cannot boot kernel ${h.kernel} config=${h.config}: ${bootProblemText(e.problem)}` };
    throw e;
  }
  const r = m.kernel.open(m.proc, '/dev/iommu');
  if (r.errno === 0) {
    m.kernel.close(m.proc, Number(r.ret));
    return { ok: true };
  }
  return { ok: false, why: `the model (era ${m.era.name}) answers open("/dev/iommu") with errno ${r.errno}` };
}

const CONFIGS = configs();
// Before the first recording (tools/realkernel/record-iommufd.sh) there is nothing to replay.
if (CONFIGS.length === 0) it.skip(`${DIR}: no recordings yet (tools/realkernel/record-iommufd.sh makes them)`, () => {});

for (const cfg of CONFIGS) {
  const files = traces(cfg);
  const probe = files.length ? modelIommufd(join(DIR, cfg, files[0]!)) : { ok: false as const, why: 'no traces' };
  const title = `real-kernel-iommufd/${cfg}${probe.ok ? '' : ` (skipped: ${probe.why}; iommufd is not modelled yet)`}`;
  describe.skipIf(!probe.ok)(title, () => {
    for (const f of files) {
      it(f, () => {
        const file = join(DIR, cfg, f);
        const rep = replayTrace(readTrace(readFileSync(file, 'utf8'), file), file);
        const differ = rep.results.filter((r) => r.status === 'differs').map((r) => `${r.line}: ${r.what}: ${JSON.stringify(r.diffs)}`);
        const key = `${cfg}/${f}`;
        if (process.env.VFIO_EMU_WRITE_LEDGER) {
          if (differ.length) written[key] = differ;
        } else {
          expect(differ).toEqual(Object.hasOwn(LEDGER, key) ? LEDGER[key] : []);
        }
        for (const s of rep.results.filter((r) => r.status === 'skipped')) expect([ONCE_PER_BOOT_REASON, WARN_MACHINE_REASON, DEFERRED_BOOT_REASON]).toContain(s.reason);
        // Every recorded event was compared (kmsg lines the model added are extra results).
        const recorded = readFileSync(file, 'utf8').trim().split('\n').length - 1;
        expect(rep.results.filter((r) => !r.what.endsWith('(model only)')).length).toBe(recorded);
      });
    }
  });
}

if (process.env.VFIO_EMU_WRITE_LEDGER) {
  afterAll(() => writeFileSync(LEDGER_FILE, `${JSON.stringify(written, null, 1)}\n`));
}
