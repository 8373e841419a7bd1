// The Freescale PAMU and MPIC MSI bank models (src/hw/iommu/fsl-pamu.ts, src/hw/msi/fsl-msi.ts):
// one stanza per driver rule, exact values. No kernel involved.

import { describe, expect, it } from 'vitest';
import { FslPamu, type FslPamuParams } from '../../src/hw/iommu/fsl-pamu.js';
import type { IommuHw } from '../../src/hw/iommu/iommu.js';
import { FslMsi } from '../../src/hw/msi/fsl-msi.js';
import { buildPlatform, findPreset } from '../../src/hw/presets.js';
import { EBUSY, EINVAL } from '../../src/uapi/errno.js';

const K = 0x400n;
const M = 0x100000n;
const G = 0x40000000n;
const RW = { read: true, write: true };
const W = { read: false, write: true, mmio: true };
const DEV = '0000:01:00.0';

/** The class and message of the model's refusal of its parameters. */
function refusal(p: FslPamuParams): [string, string] {
  try {
    new FslPamu(p);
  } catch (e) {
    return [(e as Error).name, (e as Error).message];
  }
  return ['built', ''];
}

/** The preset's PAMU: [0, 4 GiB) in 256 windows of 16 MiB, LIODN 148. */
const pamu = (windows = 256) => new FslPamu({ name: 'pamu0', liodn: 148, apertureSize: 4n * G, windows });

describe('geometry', () => {
  // configure_domain_geometry → check_size: a power of two of at least 4 KiB, start aligned to it.
  it('aperture', () => {
    expect(refusal({ name: 'p', liodn: 1, apertureSize: 3n * G })).toEqual([
      'ModelConfigError',
      'p: PAMU aperture size 0xc0000000 is not a power of two of at least 4 KiB (check_size)',
    ]);
    expect(refusal({ name: 'p', liodn: 1, apertureSize: 2n * K })).toEqual([
      'ModelConfigError',
      'p: PAMU aperture size 0x800 is not a power of two of at least 4 KiB (check_size)',
    ]);
    expect(refusal({ name: 'p', liodn: 1, apertureStart: 2n * G, apertureSize: 4n * G })).toEqual([
      'ModelConfigError',
      'p: PAMU aperture start 0x80000000 is not aligned to its size (check_size)',
    ]);
    expect(new FslPamu({ name: 'p', liodn: 1, apertureStart: 4n * G, apertureSize: 4n * G }).allocDomain().aperture).toEqual({
      start: 0x1_0000_0000n,
      end: 0x1_ffff_ffffn,
    });
  });

  // fsl_pamu_domain_alloc(): the default aperture is 64 GiB; 256 windows by default.
  it('defaults', () => {
    const p = new FslPamu({ name: 'p', liodn: 1 });
    expect(p.allocDomain().aperture).toEqual({ start: 0n, end: 0xf_ffff_ffffn });
    expect(p.windowCount).toBe(256);
    expect(p.pgsizeBitmap).toBe(0x1000_0000n);
  });

  // fsl_pamu_set_windows: a power of two, at most the subwindow count; pamu_config_spaace: >= 4 KiB.
  it('window count', () => {
    const count = (n: number) => `pamu0: PAMU window count ${n} is not a power of two of at most 256 (fsl_pamu_set_windows)`;
    expect(refusal({ name: 'pamu0', liodn: 148, apertureSize: 4n * G, windows: 3 })).toEqual(['ModelConfigError', count(3)]);
    expect(refusal({ name: 'pamu0', liodn: 148, apertureSize: 4n * G, windows: 512 })).toEqual(['ModelConfigError', count(512)]);
    expect(refusal({ name: 'p', liodn: 1, apertureSize: 64n * K, windows: 32 })).toEqual([
      'ModelConfigError',
      'p: PAMU windows of 0x800 bytes are smaller than 4 KiB (pamu_config_spaace)',
    ]);
  });

  // pgsize_bitmap is the window size (the model's choice, so type1 maps whole windows).
  it('pgsize_bitmap', () => {
    expect(pamu().pgsizeBitmap).toBe(0x100_0000n);
    expect(pamu(16).pgsizeBitmap).toBe(0x1000_0000n);
    expect(pamu(1).pgsizeBitmap).toBe(0x1_0000_0000n);
  });
});

describe('driver facts', () => {
  // fsl_pamu_capable: IOMMU_CAP_CACHE_COHERENCY only.
  it('capabilities', () => {
    const p = pamu();
    expect(p.capable('cache-coherency')).toBe(true);
    expect(p.capable('intr-remap')).toBe(false);
    expect(p.capable('noexec')).toBe(false);
    expect((p as IommuHw).legacyDriverClaims).toBeUndefined();
  });

  // no get_resv_regions; MSIs are checked like DMA; no default domain.
  it('regions, MSIs, default domain', () => {
    const p = pamu();
    expect(p.reservedRegions()).toEqual([]);
    expect(p.msiTranslated).toBe(true);
    expect(p.defaultDomainType).toBe('unknown');
    expect(p.sourceId(DEV)).toBe('liodn=0x94');
  });
});

describe('fsl_pamu_window_enable as map', () => {
  // A whole window at its base maps; the address translates with its offset.
  it('one window', () => {
    const d = pamu().allocDomain();
    expect(d.map(0n, 0x1_0000_0000n, 16n * M, RW)).toBe(0);
    expect(d.translate(0x12_3456n)).toEqual({ pa: 0x1_0012_3456n, prot: RW });
    expect(d.translate(16n * M)).toBeUndefined();
    expect(d.mappedRanges).toBe(1);
  });

  // A window maps from its base: an IOVA inside a window is -EINVAL.
  it('window base', () => {
    const d = pamu().allocDomain();
    expect(d.map(8n * M, 0x1_0000_0000n, 16n * M, RW)).toBe(-EINVAL);
    expect(d.map(4n * K, 0x1_0000_0000n, 4n * K, RW)).toBe(-EINVAL);
  });

  // Past the last window ("Invalid window index"): -EINVAL.
  it('aperture', () => {
    const d = pamu().allocDomain();
    expect(d.map(4n * G, 0x1_0000_0000n, 16n * M, RW)).toBe(-EINVAL);
    expect(d.map(4n * G - 16n * M, 0x1_0000_0000n, 32n * M, RW)).toBe(-EINVAL);
    expect(d.map(0n, 0n, 0n, RW)).toBe(-EINVAL);
  });

  // pamu_config_spaace: a subwindow is a power of two of at least 4 KiB; the PA is aligned to it.
  it('sub-window mappings', () => {
    const d = pamu().allocDomain();
    expect(d.map(0n, 0x1_0000_0000n, 12n * K, RW)).toBe(-EINVAL);
    expect(d.map(0n, 0x1_0000_0000n, 2n * K, RW)).toBe(-EINVAL);
    expect(d.map(0n, 0x1_0000_1000n, 8n * K, RW)).toBe(-EINVAL);
    // The MSI bank page: 4 KiB at a window base; only those 4 KiB translate.
    expect(d.map(0xff00_0000n, 0xf_fe04_4000n, 4n * K, W)).toBe(0);
    expect(d.translate(0xff00_0148n)).toEqual({ pa: 0xf_fe04_4148n, prot: W });
    expect(d.translate(0xff00_1000n)).toBeUndefined();
  });

  // Larger than a window: iommu_map splits into whole windows; the PA is window-aligned.
  it('several windows', () => {
    const d = pamu().allocDomain();
    expect(d.map(0n, 0x1_0000_0000n, 24n * M, RW)).toBe(-EINVAL);
    expect(d.map(0n, 0x1_0080_0000n, 32n * M, RW)).toBe(-EINVAL);
    expect(d.map(0n, 0x1_0000_0000n, 32n * M, RW)).toBe(0);
    expect(d.mappedRanges).toBe(2);
    expect(d.translate(16n * M + 0x10n)).toEqual({ pa: 0x1_0100_0010n, prot: RW });
  });

  // A window already enabled: -EBUSY, and the windows enabled by this call are disabled again.
  it('busy window', () => {
    const d = pamu().allocDomain();
    expect(d.map(16n * M, 0x2_0000_0000n, 16n * M, RW)).toBe(0);
    expect(d.map(0n, 0x1_0000_0000n, 32n * M, RW)).toBe(-EBUSY);
    expect(d.mappedRanges).toBe(1);
    expect(d.translate(0n)).toBeUndefined();
  });

  // fsl_pamu_window_disable: unmap disables every window the range touches, bytes = mapped sizes.
  it('unmap', () => {
    const d = pamu().allocDomain();
    d.map(0n, 0x1_0000_0000n, 32n * M, RW);
    d.map(0xff00_0000n, 0xf_fe04_4000n, 4n * K, W);
    expect(d.unmap(0xff00_0000n, 4n * K)).toBe(4n * K);
    expect(d.unmap(0n, 32n * M)).toBe(32n * M);
    expect(d.mappedRanges).toBe(0);
  });

  // One window of the whole aperture (windows=1): a single 4 GiB mapping.
  it('windows=1', () => {
    const d = pamu(1).allocDomain();
    expect(d.map(0n, 0x1_0000_0000n, 4n * G, RW)).toBe(0);
    expect(d.translate(0xffff_fff0n)).toEqual({ pa: 0x1_ffff_fff0n, prot: RW });
  });
});

describe('pamu_av_isr', () => {
  // An access violation prints the registers and disables the LIODN.
  it('record and LIODN disable', () => {
    const p = pamu();
    const d = p.allocDomain();
    d.map(0n, 0x1_0000_0000n, 16n * M, RW);
    const f = p.fault(DEV, 0xf_fe04_4148n, true, 'translation');
    expect(f.type).toBe('access violation (WAV)');
    expect(f.source).toBe('liodn=0x94');
    expect(f.text).toBe(
      'fsl-pamu: pamu_av_isr: access violation interrupt; fsl-pamu: pamu_av_isr: POES1=00000000; ' +
        'fsl-pamu: pamu_av_isr: POES2=00000000; fsl-pamu: pamu_av_isr: AVS1=00940081; fsl-pamu: pamu_av_isr: AVS2=00000000; ' +
        'fsl-pamu: pamu_av_isr: AVA=0000000ffe044148; fsl-pamu: pamu_av_isr: UDAD=00000000; ' +
        'fsl-pamu: pamu_av_isr: POEA=0000000000000000; fsl-pamu: pamu_av_isr: Disabling liodn 94',
    );
    expect(p.liodnEnabled).toBe(false);
    expect(d.translate(0x1000n)).toBeUndefined();
  });

  // A permission violation is reported in the APV field.
  it('permission', () => {
    const f = pamu().fault(DEV, 0x1000n, true, 'permission');
    expect(f.type).toBe('access violation (APV)');
    expect(f.text).toBe(
      'fsl-pamu: pamu_av_isr: access violation interrupt; fsl-pamu: pamu_av_isr: POES1=00000000; ' +
        'fsl-pamu: pamu_av_isr: POES2=00000000; fsl-pamu: pamu_av_isr: AVS1=00940009; fsl-pamu: pamu_av_isr: AVS2=00000000; ' +
        'fsl-pamu: pamu_av_isr: AVA=0000000000001000; fsl-pamu: pamu_av_isr: UDAD=00000000; ' +
        'fsl-pamu: pamu_av_isr: POEA=0000000000000000; fsl-pamu: pamu_av_isr: Disabling liodn 94',
    );
  });

  // A disabled LIODN blocks its transactions; the next window enable re-enables it.
  it('blocked until the next window enable', () => {
    const p = pamu();
    const d = p.allocDomain();
    d.map(0n, 0x1_0000_0000n, 16n * M, RW);
    p.fault(DEV, 0xff00_0148n, true, 'translation');
    const f = p.fault(DEV, 0x1000n, true, 'translation');
    expect(f.type).toBe('blocked (LIODN disabled)');
    expect(f.text).toBe('pamu0: LIODN 0x94 disabled by pamu_av_isr: write at 0x1000 from 0000:01:00.0 blocked (modelled: no new access violation record)');
    expect(p.violations).toBe(1);
    expect(d.map(0xff00_0000n, 0xf_fe04_4000n, 4n * K, W)).toBe(0);
    expect(p.liodnEnabled).toBe(true);
    expect(d.translate(0x1000n)).toEqual({ pa: 0x1_0000_1000n, prot: RW });
  });
});

describe('MPIC MSI bank', () => {
  const bank = () => new FslMsi({ name: 'msi0', base: 0xf_fe04_1600n, msiir: 0xf_fe04_4148n, msiir1: true });

  // fsl_of_msi_probe: MSIIR from the second reg, else bank + mpic_msi_feature.msiir_offset (0x140).
  it('MSIIR address', () => {
    expect(bank().msiir).toBe(0xf_fe04_4148n);
    expect(new FslMsi({ name: 'm', base: 0xf_fe04_1600n }).msiir).toBe(0xf_fe04_1740n);
  });

  // msi_hwirq: MSIIR srs_shift 5 / ibs_shift 0 (256 hwirqs); MSIIR1 srs_shift 0 / ibs_shift 4 (512).
  it('hwirq encoding', () => {
    expect(bank().hwirq(3, 2)).toBe(0x23);
    expect(bank().hwirqCount).toBe(512);
    const old = new FslMsi({ name: 'm', base: 0n });
    expect(old.hwirq(3, 2)).toBe(0x62);
    expect(old.hwirqCount).toBe(256);
  });

  // fsl_setup_msi_irqs: the lowest free hwirq, written to MSIIR as the message data.
  it('compose', () => {
    const b = bank();
    expect(b.compose(DEV, 0)).toEqual({ addr: 0xf_fe04_4148n, data: 0 });
    expect(b.compose(DEV, 1)).toEqual({ addr: 0xf_fe04_4148n, data: 1 });
    expect(b.compose(DEV, 0)).toEqual({ addr: 0xf_fe04_4148n, data: 0 });
  });

  // Any writer raises any allocated interrupt: the bank does not isolate.
  it('receive', () => {
    const b = bank();
    b.compose(DEV, 0);
    expect(b.receive(0xf_fe04_4148n, 0)).toEqual({ bdf: DEV, vector: 0 });
    expect(b.receive(0xf_fe04_4148n, 7)).toEqual({ miss: 'hwirq 0x7 is not allocated' });
    expect(b.receive(0xf_fe04_1740n, 0)).toEqual({ miss: "0xffe041740 is not the MSIIR1 of msi0 (0xffe044148)" });
    expect(b.isolating).toBe(false);
  });

  // The model registers MSIIR with the series' msi-doorbell layer: 4 bytes, global, not isolating.
  it('doorbell', () => {
    expect(bank().registersDoorbells).toBe(true);
    expect(bank().doorbells()).toEqual([{ base: 0xf_fe04_4148n, size: 4n, perCpu: false, isolating: false }]);
  });
});

describe('fsl-pamu preset', () => {
  // windows=256|16|1 picks the window count; one 82599ES in group 0 behind pamu0, MSIs to msi0.
  it('builds', () => {
    const p = buildPlatform(findPreset('fsl-pamu')!, {});
    expect(p.arch).toBe('ppc64le');
    expect(p.iommus.map((i) => [i.name, i.pgsizeBitmap])).toEqual([['pamu0', 0x100_0000n]]);
    expect(p.msiControllers.map((c) => c.name)).toEqual(['msi0']);
    expect(p.devices.map((d) => [d.bdf, d.group, d.iommu.name, d.msi.name])).toEqual([[DEV, 0, 'pamu0', 'msi0']]);
    expect(buildPlatform(findPreset('fsl-pamu')!, { windows: '16' }).iommus[0].pgsizeBitmap).toBe(0x1000_0000n);
  });
});
