// Kernel log lines printed after the call that caused them returned (LogLine.afterCall): edu's
// DMA runs from its timer (QEMU hw/misc/edu.c dma_timer, 100 ms after the command), so the
// DMAR fault interrupt (intel/dmar.c dmar_fault) prints while the process is between calls, and
// the recorder, which drains /dev/kmsg after each call, writes the lines after the next one.
// Oracle: test/fixtures/real-kernel-iommufd/x86-7.2-iommufd-intremap-on/edu-dma.jsonl.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTrace } from '../../src/trace/reader.js';
import { replayTrace } from '../../src/trace/replay.js';

const FIXTURE = 'test/fixtures/real-kernel-iommufd/x86-7.2-iommufd-intremap-on/edu-dma.jsonl';
/** The recording up to the DMA to a READ-only mapping: its pread (39), the fault's two lines (40, 41), a load (42). */
const LINES = readFileSync(FIXTURE, 'utf8').split('\n').slice(0, 42);
const KMSG = [LINES[39]!, LINES[40]!];

/** The recording with its fault lines moved to follow file line `after` (1-based, as recorded), replayed. */
function differences_(after: number): string[] {
  const moved = LINES.flatMap((l, i) => (i === 39 || i === 40 ? [] : i === after - 1 ? [l, ...KMSG] : [l]));
  const text = moved.join('\n') + '\n';
  return replayTrace(readTrace(text, 't.jsonl'), 't.jsonl')
    .results.filter((r) => r.status === 'differs')
    .map((r) => `${r.line}: ${r.what}`);
}

describe('fault lines of a device timer follow the next call (LogLine.afterCall)', () => {
  // Rule: as recorded, after the pread that follows the command's pwrite: no difference.
  it('after the next call (the pread 400 ms later)', () => {
    expect(differences_(39)).toEqual([]);
  });

  // Rule: right after the pwrite that armed the timer (what `run --trace` writes): no difference.
  it('after the arming call', () => {
    expect(differences_(38)).toEqual([]);
  });

  // Rule: a line is held through one call only; after two it is the model's alone.
  it('after the call after next: model-only lines at the pwrite, recorded lines unmatched', () => {
    expect(differences_(42)).toEqual([
      '38: kmsg "DMAR: DRHD: handling fault status reg 2" (model only)',
      '38: kmsg "DMAR: [DMA Write NO_PASID] Request device [0000:00:01.0] fault addr 0x102000 [fault reason 0x05] PTE Write access is not set" (model only)',
      '41: kmsg "DMAR: DRHD: handling fault status reg 2"',
      '42: kmsg "DMAR: [DMA Write NO_PASID] Request device [0000:00:01.0] fault addr 0x102000 [fault reason 0x05] PTE Write access is not set"',
    ]);
  });
});
