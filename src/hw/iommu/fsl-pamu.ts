// Freescale (NXP) PAMU, the "Peripheral Access Management Unit" of QorIQ P- and T-series SoCs,
// as the 2013–2021 driver drove it (drivers/iommu/fsl_pamu_domain.c, fsl_pamu.c), before
// Christoph Hellwig's 2021 clean-up reduced it to a single window (≈5.13 [U: version]).
//
// PAMU has no page tables. A device is known by its LIODN (logical I/O device number; every
// PCI device behind one PCIe controller uses the controller's "fsl,liodn"), whose PAACE
// describes:
// - a domain geometry (DOMAIN_ATTR_GEOMETRY): an aperture whose size is a power of two of at
//   least 4 KiB and whose start is aligned to that size (configure_domain_geometry →
//   check_size);
// - a power-of-two number of equal windows (DOMAIN_ATTR_WINDOWS, fsl_pamu_set_windows: at most
//   pamu_get_max_subwin_cnt(), a power of two);
// - per window, one physically contiguous mapping set by fsl_pamu_window_enable(wnd_nr, paddr,
//   size, prot): -ENODEV before the windows are configured, -EINVAL for a window number past
//   the count or a size larger than the window, -EBUSY for a window already enabled
//   ("Disable the window before updating the mapping"); the size must be a power of two of at
//   least 4 KiB (pamu_config_spaace: "subwindow size out of range, or not a power of 2"), and
//   may be smaller than the window. Freescale's own VFIO backend (vfio_iommu_fsl_pamu.c, Bharat Bhushan, 2013, never
//   merged) documents the remaining rule: "physical address of the mapping must be naturally
//   aligned with the mapping size".
//
// Upstream type1 never drove PAMU: fsl_pamu_ops has no .map/.unmap (iommu_map() answered
// -ENODEV) and no pgsize_bitmap, and the Freescale backend above was a separate VFIO IOMMU
// driver with its own ioctls (VFIO_IOMMU_PAMU_SET_ATTR for geometry and windows,
// VFIO_IOMMU_PAMU_MAP_MSI_BANK for the MSI bank — the "separate ioctl" Alex Williamson objected
// to in 2015). THIS MODEL'S CHOICE, to make the seed's situation scriptable through type1:
// - the domain arrives with its geometry and window count already set (preset parameters,
//   standing in for the DOMAIN_ATTR_GEOMETRY / DOMAIN_ATTR_WINDOWS calls a PAMU-aware backend
//   makes; type1 has no ioctl for them, so a scenario cannot set them);
// - pgsize_bitmap is the window size, so type1 aligns and sizes user mappings to whole windows;
// - map() is iommu_map() split into windows, each chunk one fsl_pamu_window_enable(): an IOVA
//   that is not a window base, an unaligned physical address, a chunk that is not a power of
//   two, or a range leaving the aperture is -EINVAL; a window already enabled is -EBUSY (and
//   the windows enabled so far are disabled again, as iommu_map() unwinds);
// - a mapping smaller than a window (the 4 KiB MSI doorbell page) is accepted at a window base,
//   as fsl_pamu_window_enable() accepts it (and as the Freescale backend mapped the MSI bank);
//   only its first `size` bytes translate, the rest of the window faults (modelled: the
//   subwindow size field limits the window);
// - the LIODN is enabled (DOMAIN_ATTR_FSL_PAMU_ENABLE) after every successful map. The
//   Freescale backend's __vfio_dma_map() did so after each guest-memory map (not after mapping
//   the MSI bank); type1 gives the model no other point, so the doorbell's map enables it too.
//
// Faults: PAMU raises an access-violation interrupt, and pamu_av_isr() prints the error
// registers and then DISABLES THE LIODN ("Disabling liodn %x"): from then on every transaction
// of every device behind that PCIe controller is blocked, until the LIODN is enabled again.
// The model keeps that consequence (it matters for the doorbell gap of seed 004).
//
// Modelled, not measured: the AVS1 violation code within its field (the driver defines only
// the field masks; the model reports the lowest code of WAV for "no window maps the address"
// and of APV for "the window does not allow the access"), AVS2, POES1/2, UDAD and POEA (0), the
// behaviour of a disabled LIODN (blocked, no new record: the model reports a blocked
// transaction without claiming what the hardware logs; see erratum A-003638 in pamu_av_isr).

import type { IommuCap, IommuDomainHw, IommuFault, IommuHw, IommuProt, ReservedRegion } from './iommu.js';
import { hex, hexPad } from '../../lib/hex.js';
import { isPow2 } from '../../lib/bits.js';
import { EBUSY, EINVAL } from '../../uapi/errno.js';
import { ModelConfigError } from '../model-error.js';


/** PAMU_PAGE_SIZE: the smallest window or subwindow. */
export const PAMU_PAGE_SIZE = 0x1000n;

/** fsl_pamu_domain_alloc(): "default geometry 64 GB i.e. maximum system address". */
export const PAMU_DEFAULT_APERTURE_SIZE = 1n << 36n;

/**
 * The most windows per LIODN. The driver reads it from PAMU_PC3.MWCE; the Freescale backend
 * documents "number of windows must be power of 2, max is 256". Modelled at 256.
 */
export const PAMU_MAX_WINDOWS = 256;

// fsl_pamu.h: access violation status register 1.
const PAMU_AVS1_AV = 0x1;
/** APV field (0x78): the lowest code, for an access the window's permissions refuse. Modelled. */
const PAMU_AVS1_APV_MODEL = 0x08;
/** WAV field (0x380): the lowest code, for an address no enabled window maps. Modelled. */
const PAMU_AVS1_WAV_MODEL = 0x80;
const PAMU_AVS1_LIODN_SHIFT = 16;

export interface FslPamuParams {
  name: string;
  /** The "fsl,liodn" of the PCIe controller the devices are behind (u-boot t4240_ids.c: PCIe1 = 148). */
  liodn: number;
  /** Domain geometry start (DOMAIN_ATTR_GEOMETRY); default 0. */
  apertureStart?: bigint;
  /** Domain geometry size; default 64 GiB, fsl_pamu_domain_alloc()'s default aperture. */
  apertureSize?: bigint;
  /** DOMAIN_ATTR_WINDOWS; default 256. */
  windows?: number;
}

interface Window {
  pa: bigint;
  size: bigint;
  prot: IommuProt;
}

/**
 * The PAMU and the one LIODN the model's devices share. Several domains can exist (type1
 * allocates one per attach); the LIODN's enable bit is state of the PAMU, not of a domain.
 */
export class FslPamu implements IommuHw {
  readonly model = 'Freescale PAMU';
  readonly name: string;
  readonly liodn: number;
  /** The window size, so type1 maps whole windows. */
  readonly pgsizeBitmap: bigint;
  /** MSI writes are checked by the PAMU like any inbound write: the bank must be in a window. */
  readonly msiTranslated = true;
  /** fsl_pamu_domain_alloc() only allocates UNMANAGED domains: groups have no default domain. */
  readonly defaultDomainType = 'unknown';
  readonly apertureStart: bigint;
  readonly apertureSize: bigint;
  readonly windowCount: number;
  readonly windowSize: bigint;
  /** The PAACE's valid bit: cleared by pamu_av_isr(), set again by the next window enable. */
  liodnEnabled = true;
  /** Access violations reported so far (for tests). */
  violations = 0;

  constructor(p: FslPamuParams) {
    this.name = p.name;
    this.liodn = p.liodn;
    this.apertureStart = p.apertureStart ?? 0n;
    this.apertureSize = p.apertureSize ?? PAMU_DEFAULT_APERTURE_SIZE;
    this.windowCount = p.windows ?? PAMU_MAX_WINDOWS;
    // configure_domain_geometry() → check_size(): a power of two of at least PAMU_PAGE_SIZE,
    // and the start aligned to it.
    if (!isPow2(this.apertureSize) || this.apertureSize < PAMU_PAGE_SIZE) {
      throw new ModelConfigError(`${p.name}: PAMU aperture size ${hex(this.apertureSize)} is not a power of two of at least 4 KiB (check_size)`);
    }
    if (this.apertureStart & (this.apertureSize - 1n)) {
      throw new ModelConfigError(`${p.name}: PAMU aperture start ${hex(this.apertureStart)} is not aligned to its size (check_size)`);
    }
    // fsl_pamu_set_windows(): a power of two, at most the PAMU's subwindow count.
    const w = BigInt(this.windowCount);
    if (!isPow2(w) || this.windowCount > PAMU_MAX_WINDOWS) {
      throw new ModelConfigError(`${p.name}: PAMU window count ${this.windowCount} is not a power of two of at most ${PAMU_MAX_WINDOWS} (fsl_pamu_set_windows)`);
    }
    this.windowSize = this.apertureSize / w;
    if (this.windowSize < PAMU_PAGE_SIZE) {
      throw new ModelConfigError(`${p.name}: PAMU windows of ${hex(this.windowSize)} bytes are smaller than 4 KiB (pamu_config_spaace)`);
    }
    this.pgsizeBitmap = this.windowSize;
  }

  capable(cap: IommuCap): boolean {
    // fsl_pamu_capable(): cap == IOMMU_CAP_CACHE_COHERENCY, nothing else.
    return cap === 'cache-coherency';
  }

  /** fsl_pamu_ops has no get_resv_regions. */
  reservedRegions(): ReservedRegion[] {
    return [];
  }

  allocDomain(): IommuDomainHw {
    return new PamuDomain(this);
  }

  /** PAMU knows a transaction by its LIODN, not by the PCI requester id. */
  sourceId(_bdf: string): string {
    return `liodn=${hex(this.liodn)}`;
  }

  /**
   * The access-violation interrupt and pamu_av_isr(): one pr_emerg line per register, in the
   * driver's order and formats, joined here with "; ", then the LIODN is disabled. A
   * transaction of an already disabled LIODN is blocked without a new violation record.
   */
  fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission'): IommuFault {
    const source = this.sourceId(bdf);
    const dir = write ? 'write' : 'read';
    if (!this.liodnEnabled) {
      return {
        iommu: this.name,
        type: 'blocked (LIODN disabled)',
        source,
        iova,
        write,
        text: `${this.name}: LIODN ${hex(this.liodn)} disabled by pamu_av_isr: ${dir} at ${hex(iova)} from ${bdf} blocked (modelled: no new access violation record)`,
        log: [],
      };
    }
    const code = kind === 'translation' ? PAMU_AVS1_WAV_MODEL : PAMU_AVS1_APV_MODEL;
    const avs1 = ((this.liodn << PAMU_AVS1_LIODN_SHIFT) | code | PAMU_AVS1_AV) >>> 0;
    const p = 'fsl-pamu: pamu_av_isr: ';
    const lines = [
      'access violation interrupt',
      `POES1=${hexPad(0, 8)}`,
      `POES2=${hexPad(0, 8)}`,
      `AVS1=${hexPad(avs1, 8)}`,
      `AVS2=${hexPad(0, 8)}`,
      `AVA=${hexPad(iova, 16)}`,
      `UDAD=${hexPad(0, 8)}`,
      `POEA=${hexPad(0, 16)}`,
      `Disabling liodn ${this.liodn.toString(16)}`,
    ];
    this.liodnEnabled = false;
    this.violations++;
    return {
      iommu: this.name,
      type: kind === 'translation' ? 'access violation (WAV)' : 'access violation (APV)',
      source,
      iova,
      write,
      text: lines.map((l) => p + l).join('; '),
      log: lines.map((l) => p + l),
    };
  }

}

/** An UNMANAGED PAMU domain: its window array (dma_domain->win_arr). */
class PamuDomain implements IommuDomainHw {
  private readonly windows = new Map<number, Window>();

  constructor(private readonly pamu: FslPamu) {}

  get aperture(): { start: bigint; end: bigint } {
    return { start: this.pamu.apertureStart, end: this.pamu.apertureStart + this.pamu.apertureSize - 1n };
  }

  get mappedRanges(): number {
    return this.windows.size;
  }

  /** The window holding `iova`, or undefined outside the aperture. */
  private windowOf(iova: bigint): number | undefined {
    const { start, end } = this.aperture;
    if (iova < start || iova > end) return undefined;
    return Number((iova - start) / this.pamu.windowSize);
  }

  map(iova: bigint, pa: bigint, size: bigint, prot: IommuProt): number {
    const W = this.pamu.windowSize;
    const { start, end } = this.aperture;
    if (size === 0n) return -EINVAL;
    // fsl_pamu_window_enable(): "Invalid window index" for anything outside the windows.
    if (iova < start || iova + size - 1n > end) return -EINVAL;
    // A window maps from its base; the window API has no offset inside a window.
    if ((iova - start) % W !== 0n) return -EINVAL;
    const chunks: { wnd: number; pa: bigint; size: bigint }[] = [];
    if (size <= W) {
      // pamu_config_spaace(): a power of two of at least PAMU_PAGE_SIZE; the physical address
      // naturally aligned to it (vfio_iommu_fsl_pamu.c's rule).
      if (!isPow2(size) || size < PAMU_PAGE_SIZE || pa & (size - 1n)) return -EINVAL;
      chunks.push({ wnd: this.windowOf(iova)!, pa, size });
    } else {
      // iommu_map() splits by pgsize_bitmap (the window size): whole windows only.
      if (size % W !== 0n || pa & (W - 1n)) return -EINVAL;
      for (let off = 0n; off < size; off += W) chunks.push({ wnd: this.windowOf(iova + off)!, pa: pa + off, size: W });
    }
    const done: number[] = [];
    for (const c of chunks) {
      if (this.windows.has(c.wnd)) {
        // "Disable the window before updating the mapping"; iommu_map() unwinds what it mapped.
        for (const w of done) this.windows.delete(w);
        return -EBUSY;
      }
      this.windows.set(c.wnd, { pa: c.pa, size: c.size, prot: { ...prot } });
      done.push(c.wnd);
    }
    // DOMAIN_ATTR_FSL_PAMU_ENABLE after mapping (the Freescale backend's vfio_enable_iommu_domain).
    this.pamu.liodnEnabled = true;
    return 0;
  }

  /** fsl_pamu_window_disable() for every enabled window overlapping the range. */
  unmap(iova: bigint, size: bigint): bigint {
    const W = this.pamu.windowSize;
    const { start } = this.aperture;
    let freed = 0n;
    for (const [wnd, w] of [...this.windows]) {
      const base = start + BigInt(wnd) * W;
      if (base + W <= iova || base >= iova + size) continue;
      this.windows.delete(wnd);
      freed += w.size;
    }
    return freed;
  }

  /**
   * get_phys_addr() as the hardware applies it: the window holding the address, enabled, and
   * the address within the mapped part of it (a smaller mapping covers only its first `size`
   * bytes). Nothing translates while the LIODN is disabled.
   */
  translate(iova: bigint): { pa: bigint; prot: IommuProt } | undefined {
    if (!this.pamu.liodnEnabled) return undefined;
    const wnd = this.windowOf(iova);
    if (wnd === undefined) return undefined;
    const w = this.windows.get(wnd);
    if (!w) return undefined;
    const off = (iova - this.aperture.start) % this.pamu.windowSize;
    if (off >= w.size) return undefined;
    return { pa: w.pa + off, prot: w.prot };
  }
}
