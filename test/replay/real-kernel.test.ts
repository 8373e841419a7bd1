// Every real-kernel trace replays with no differing event (TRACE-FORMAT.md, "What replay
// compares"). Skips are allowed only for the reasons documented here:
//
// - kernel log lines printed once per boot on a first enable (pci_enable_device's "enabling
//   device (0000 -> 0002)" on arm64, an ACPI interrupt link's "Enabled at IRQ 21" on x86):
//   the recorded traces are processes of one boot, so only the first process that opened a
//   device saw them; the model cannot know what earlier processes did, so a line the model
//   prints and the recording lacks is skipped, never the other way round.
//
// One allowance depends on the host: the device-fd recordings read QEMU's e1000e option ROM
// (efi-e1000e.rom of Debian's ipxe-qemu) through the ROM BAR, and the model answers with the
// installed file (hw/pci/option-rom.ts). Where the host lacks it, the model's synthetic image
// answers instead, and only then may preads of the ROM region (index 6, offset 6 << 40)
// differ, in their bytes only: their ret and errno are still compared.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrace } from '../../src/trace/reader.js';
import { ONCE_PER_BOOT_REASON, replayTrace } from '../../src/trace/replay.js';
import { installedQemuRom } from '../../src/hw/pci/option-rom.js';

// The shipped recordings, a second set recorded later with the same harness on all eight
// configurations and other random seeds (test/fixtures/real-kernel-extra/README.md), and the
// device-fd recordings (tools/realkernel/README.md), both sets again on Debian's 7.2.13, and the
// device-fd set on 6.16 and 6.18, which pin the era rows between 6.12 and 7.2.
const DIRS = [
  'test/fixtures/real-kernel',
  'test/fixtures/real-kernel-extra',
  'test/fixtures/real-kernel-device',
  'test/fixtures/real-kernel-7.2',
  'test/fixtures/real-kernel-7.2-device',
  'test/fixtures/real-kernel-7.2-pins',
].filter((d) => existsSync(d));
const ROM_INSTALLED = installedQemuRom('efi-e1000e.rom') !== null;
/** A pread of the ROM region whose only differences are its bytes (see above). */
const romBytesOnly = (what: string, diffs: { field: string }[]): boolean =>
  /^pread fd \d+ 0x6[0-9a-f]{10}\b/.test(what) && diffs.every((d) => d.field.startsWith('out['));

function configs(dir: string): string[] {
  return readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
}

for (const dir of DIRS) {
  for (const cfg of configs(dir)) {
    describe(`${dir.split('/').pop()}/${cfg}`, () => {
      for (const f of readdirSync(join(dir, cfg)).filter((x) => x.endsWith('.jsonl')).sort()) {
        it(f, () => {
          const file = join(dir, cfg, f);
          const rep = replayTrace(readTrace(readFileSync(file, 'utf8'), file), file);
          const differ = rep.results
            .filter((r) => r.status === 'differs')
            .filter((r) => ROM_INSTALLED || !romBytesOnly(r.what, r.diffs))
            .map((r) => `${r.line}: ${r.what}: ${JSON.stringify(r.diffs)}`);
          expect(differ).toEqual([]);
          for (const s of rep.results.filter((r) => r.status === 'skipped')) expect(s.reason).toBe(ONCE_PER_BOOT_REASON);
          // Every recorded event was compared (kmsg lines the model added are extra results).
          const recorded = readFileSync(file, 'utf8').trim().split('\n').length - 1;
          expect(rep.results.filter((r) => !r.what.endsWith('(model only)')).length).toBe(recorded);
        });
      }
    });
  }
}
