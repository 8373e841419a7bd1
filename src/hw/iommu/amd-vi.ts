// AMD-Vi (AMD IOMMU), as drivers/iommu/amd/iommu.c (formerly amd_iommu.c) presents it.
//
// - Page sizes: AMD_IOMMU_PGSIZES = (~0xFFFUL) & ~(2ULL << 38): every power of two from 4 KiB
//   up except 512 GiB ("512GB Pages are not supported due to a hardware bug").
// - Domain geometry: amd_iommu_domain_alloc() sets aperture_start 0, aperture_end ~0ULL for the
//   v1 page table that UNMANAGED (VFIO) domains use. Kernels after 025d1371cc8c ("iommu/amd:
//   Add efr[HATS] max v1 page table level", later than the modelled eras [U: version]) cap it
//   at PM_LEVEL_SIZE(amd_iommu_hpt_level) (2^48 - 1 for a 4-level part): `apertureBits`.
// - Reserved regions (amd_iommu_get_resv_regions): the MSI window MSI_RANGE_START 0xfee00000 –
//   MSI_RANGE_END 0xfeefffff as IOMMU_RESV_MSI (MSIs bypass translation), and the HyperTransport
//   range HT_RANGE_START 0xfd00000000 – HT_RANGE_END 0xffffffffff as IOMMU_RESV_RESERVED (not
//   usable for DMA at all). IVMD unity ranges would add DIRECT regions; none are modelled.
// - Capabilities (amd_iommu_capable): CACHE_COHERENCY always, INTR_REMAP when interrupt
//   remapping is enabled (irq_remapping_enabled == 1), NOEXEC never.
// - Faults: an IO_PAGE_FAULT event, printed by amd_iommu_report_page_fault() with pci_err()
//   and dev_fmt "AMD-Vi: ": "<driver> <bdf>: AMD-Vi: Event logged [IO_PAGE_FAULT
//   domain=0x%04x address=0x%llx flags=0x%04x]", or the era's older form
//   (FaultLogStyle.amdVi, AMD_VI_FAULT_LOG below). The model's record is the text after the
//   device's prefix; the kernel model adds "<driver> <bdf>: " (kernel/iommu/dma-path.ts).
// - Rate limits: from 4.16 a device's lines pass its dev_data->rs (ratelimit_default_init:
//   DEFAULT_RATELIMIT_BURST 10 per DEFAULT_RATELIMIT_INTERVAL 5 s). Until 2021 a fault past
//   it fell through to printk_ratelimit() (also 10 per 5 s) and printed the "device=" form;
//   after, it prints nothing. The emulated clock does not advance, so every fault of a run
//   falls in one interval: a device's 11th fault is rate limited.
//   Event flags (amd_iommu_types.h): EVENT_FLAG_RW 0x020 (write), EVENT_FLAG_PR 0x010 (the page
//   was present), EVENT_FLAG_I 0x008 (interrupt request); PE 0x040 (permission) is bit 6 of the
//   same field in the AMD IOMMU specification [U: not defined by the driver].
//
// Modelled, not measured: the domain ids (domain_id_alloc() hands out the lowest free id;
// the boot's default domains take the first ones, so `firstDomainId` is a preset parameter),
// and which domain a fault names (the newest one allocated, as the model does not see
// attachments).

import { FAULT_LOG_NEWEST, type AmdViFaultLog, type FaultLogStyle, type IommuCap, type IommuDomainHw, type IommuFault, type IommuHw, type ReservedRegion } from './iommu.js';
import { RangePageTable } from './page-table.js';
import { parseBdf } from './pci-rid.js';
import { hex, hexPad } from '../../lib/hex.js';
import { ENOMEM } from '../../uapi/errno.js';


/** AMD_IOMMU_PGSIZES. */
export const AMD_IOMMU_PGSIZES = ((1n << 64n) - 1n) & ~0xfffn & ~(2n << 38n);

export const MSI_RANGE_START = 0xfee0_0000n;
export const MSI_RANGE_END = 0xfeef_ffffn;
export const HT_RANGE_START = 0xfd_0000_0000n;
export const HT_RANGE_END = 0xff_ffff_ffffn;

export const EVENT_FLAG_I = 0x008;
export const EVENT_FLAG_PR = 0x010;
export const EVENT_FLAG_RW = 0x020;
/** The PE (permission) bit of the IO_PAGE_FAULT flags, from the AMD IOMMU specification. */
export const EVENT_FLAG_PE = 0x040;

/** DEFAULT_RATELIMIT_BURST: lines a ratelimit_state passes per interval. */
const RATELIMIT_BURST = 10;

/** One IO_PAGE_FAULT as the driver's format strings print it. */
interface PageFault {
  /** bus:dev.fn of the requester ("%02x:%02x.%x"). */
  device: string;
  domain: number;
  address: bigint;
  flags: number;
}

/**
 * The lines of each era's IO_PAGE_FAULT report (AmdViFaultLog): `own` against the device
 * (dev_err/pci_err, the kernel adds "<driver> <bdf>: "), `global` the pr_err form without a
 * device (whole lines), `quietPastBurst` when nothing follows the device's ratelimit.
 */
const AMD_VI_FAULT_LOG: Record<AmdViFaultLog, { own?: (f: PageFault) => string; global: (f: PageFault) => string[]; quietPastBurst: boolean }> = {
  split: {
    global: (f) => ['AMD-Vi: Event logged [', `IO_PAGE_FAULT device=${f.device} domain=0x${hexPad(f.domain, 4)} address=0x${hexPad(f.address, 16)} flags=0x${hexPad(f.flags, 4)}]`],
    quietPastBurst: false,
  },
  'dev-err': {
    own: (f) => `AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x${hexPad(f.domain, 4)} address=0x${hexPad(f.address, 16)} flags=0x${hexPad(f.flags, 4)}]`,
    global: (f) => [`AMD-Vi: Event logged [IO_PAGE_FAULT device=${f.device} domain=0x${hexPad(f.domain, 4)} address=0x${hexPad(f.address, 16)} flags=0x${hexPad(f.flags, 4)}]`],
    quietPastBurst: false,
  },
  'dev-fmt': {
    own: (f) => `AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x${hexPad(f.domain, 4)} address=${hex(f.address)} flags=0x${hexPad(f.flags, 4)}]`,
    global: (f) => [`AMD-Vi: Event logged [IO_PAGE_FAULT device=${f.device} domain=0x${hexPad(f.domain, 4)} address=${hex(f.address)} flags=0x${hexPad(f.flags, 4)}]`],
    quietPastBurst: false,
  },
  'dev-fmt-quiet': {
    own: (f) => `AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x${hexPad(f.domain, 4)} address=${hex(f.address)} flags=0x${hexPad(f.flags, 4)}]`,
    global: (f) => [`AMD-Vi: Event logged [IO_PAGE_FAULT device=${f.device} domain=0x${hexPad(f.domain, 4)} address=${hex(f.address)} flags=0x${hexPad(f.flags, 4)}]`],
    quietPastBurst: true,
  },
};

export interface AmdViParams {
  name: string;
  intremap: boolean;
  /** Domain aperture in bits: 64 (aperture_end = ~0ULL) unless a HATS-limited kernel is modelled. */
  apertureBits?: number;
  /** The id domain_id_alloc() gives the first UNMANAGED domain (after the boot's default domains). */
  firstDomainId?: number;
}

export class AmdVi implements IommuHw {
  readonly model = 'AMD-Vi';
  readonly name: string;
  readonly pgsizeBitmap = AMD_IOMMU_PGSIZES;
  readonly msiTranslated = false;
  /** x86 defaults to lazy invalidation since 5.14 (iommu.strict=0): DMA-FQ. Modelled. */
  readonly defaultDomainType = 'DMA-FQ';
  private readonly intremap: boolean;
  private readonly apertureBits: number;
  private nextDomainId: number;
  private lastDomainId = 0;
  /** Lines each device's dev_data->rs has passed, and printk_ratelimit()'s (one interval). */
  private readonly devicePrinted = new Map<string, number>();
  private globalPrinted = 0;

  constructor(p: AmdViParams) {
    this.name = p.name;
    this.intremap = p.intremap;
    this.apertureBits = p.apertureBits ?? 64;
    this.nextDomainId = p.firstDomainId ?? 1;
  }

  capable(cap: IommuCap): boolean {
    if (cap === 'intr-remap') return this.intremap;
    return cap === 'cache-coherency';
  }

  reservedRegions(): ReservedRegion[] {
    return [
      { start: MSI_RANGE_START, length: MSI_RANGE_END - MSI_RANGE_START + 1n, type: 'msi', why: 'interrupt window (MSI_RANGE, not translated)' },
      { start: HT_RANGE_START, length: HT_RANGE_END - HT_RANGE_START + 1n, type: 'reserved', why: 'HyperTransport reserved range (HT_RANGE)' },
    ];
  }

  allocDomain(): IommuDomainHw {
    this.lastDomainId = this.nextDomainId++;
    return new RangePageTable({
      pgsizeBitmap: this.pgsizeBitmap,
      aperture: { start: 0n, end: (1n << BigInt(this.apertureBits)) - 1n },
      // Beyond a HATS-limited table alloc_pte() cannot grow the table: -ENOMEM [U]. Type1
      // (5.4+) refuses such IOVAs before mapping; with the default 64-bit aperture nothing is beyond.
      beyondApertureErrno: ENOMEM,
    });
  }

  /** The 16-bit device id (requester id) as the event log reports it: bus:dev.fn. */
  sourceId(bdf: string): string {
    const b = parseBdf(bdf);
    return b ? `device=${hexPad(b.bus, 2)}:${hexPad(b.dev, 2)}.${b.fn.toString(16)}` : bdf;
  }

  fault(bdf: string, iova: bigint, write: boolean, kind: 'translation' | 'permission', style: FaultLogStyle = FAULT_LOG_NEWEST): IommuFault {
    let flags = write ? EVENT_FLAG_RW : 0;
    if (kind === 'permission') flags |= EVENT_FLAG_PR | EVENT_FLAG_PE;
    const b = parseBdf(bdf);
    const f: PageFault = { device: b ? `${hexPad(b.bus, 2)}:${hexPad(b.dev, 2)}.${b.fn.toString(16)}` : bdf, domain: this.lastDomainId, address: iova, flags };
    const record = {
      iommu: this.name,
      type: kind === 'translation' ? 'IO_PAGE_FAULT' : 'IO_PAGE_FAULT (permission)',
      source: this.sourceId(bdf),
      iova,
      write,
    };
    const form = AMD_VI_FAULT_LOG[style.amdVi];
    // amd_iommu_report_page_fault(): the device's own line while its ratelimit passes.
    if (form.own) {
      const n = this.devicePrinted.get(bdf) ?? 0;
      this.devicePrinted.set(bdf, n + 1);
      if (n < RATELIMIT_BURST) return { ...record, text: form.own(f), devicePrefix: true };
      if (form.quietPastBurst) return { ...record, text: form.own(f), devicePrefix: true, log: [] };
    }
    // The global form: iommu_print_event's split printk (no ratelimit), or the fallback
    // through printk_ratelimit().
    const lines = form.global(f);
    if (!form.own) return { ...record, text: lines.join(''), log: lines };
    return { ...record, text: lines.join(''), log: this.globalPrinted++ < RATELIMIT_BURST ? lines : [] };
  }
}
