// How a vector's doorbell is reached, in words, for `show doorbells` and `show domains`: the
// kernel reports the mechanism as a fact (DoorbellMapping, MsiCookie.owner) and this file
// says what that era's code does with it.

import { hex } from '../../lib/hex.js';
import type { MsiCookie } from '../../kernel/iommu/core.js';
import type { DoorbellMapping } from '../../kernel/irq/pci-msi.js';

const PAGE = 0x1000n;

/** One vector's doorbell mapping, after "(doorbell PA; ". */
export function doorbellMappingText(m: DoorbellMapping): string {
  switch (m.how) {
    case 'intx':
      return 'INTx line';
    case 'untranslated':
      return 'not translated (MSI window bypasses the IOMMU)';
    case 'no-domain':
      return 'no IOMMU domain: the doorbell is reached untranslated';
    case 'none':
      return 'nothing maps MSI doorbells in this kernel: the physical address is programmed';
    case 'no-cookie':
      return 'no MSI cookie: the physical doorbell address is programmed';
    case 'sw-msi':
      // dma-iommu's cookie (iommu_dma_prepare_msi) maps the page in this domain only; iommufd's
      // sw_msi (6.15, drivers/iommu/iommufd/device.c iommufd_sw_msi) keeps the page in the
      // context's list at sw_msi_start + pgoff * PAGE_SIZE, and iommufd_sw_msi_install() maps
      // it into every paging HWPT the group attaches.
      return m.owner === 'iommufd'
        ? `iommufd sw_msi: IOVA ${hex(m.iova)} (sw_msi_start + pgoff * PAGE_SIZE), installed in every paging HWPT the group attaches`
        : `software MSI cookie: IOVA ${hex(m.iova)} in the SW_MSI window`;
    case 'map-failed':
      return `mapping the doorbell at IOVA ${hex(m.iova)} failed: the message is all ones (address ~0, data ~0)`;
    case 'user-window':
      if (m.refs > 1) return `user MSI window: IOVA ${hex(m.iova)} (shared, ${m.refs} refs)`;
      return `user MSI window: IOVA ${hex(m.iova)}${m.granule === PAGE ? '' : ` (a whole ${m.granule >> 20n} MiB granule around the doorbell)`}`;
    case 'no-window':
      return 'no MSI window registered: the physical doorbell address is programmed';
  }
}

/** A domain's doorbell map, after its aperture in `show domains`. */
export function msiCookieText(c: MsiCookie): string {
  const what = c.owner === 'iommufd' ? "iommufd's sw_msi map" : 'MSI cookie';
  return `${what} at ${hex(c.base)} (${c.pages.size} doorbell page(s))`;
}
