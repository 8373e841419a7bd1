// Inbound DMA as the kernel model reports it (src/kernel/iommu/dma-path.ts): the IOMMU gives
// the fault record, the kernel prints it as dmesg shows it.

import { describe, expect, it } from 'vitest';
import { translate } from '../../src/kernel/iommu/dma-path.js';
import { Machine } from './fixture.js';

const DEV = '0000:00:02.0';

describe('IOMMU fault lines', () => {
  // amd_iommu_report_page_fault() prints with pci_err(): dev_printk's "<driver> <bdf>: " first.
  it('AMD-Vi IO_PAGE_FAULT gets the device prefix', () => {
    const m = new Machine('6.1', 'x86-amd-vi');
    const t = translate(m.kernel.devices.get(DEV)!, 0x1234n, 4n, true);
    expect(t).toEqual({
      ok: false,
      fault: {
        iommu: 'ivhd0',
        type: 'IO_PAGE_FAULT',
        source: 'device=00:02.0',
        iova: 0x1234n,
        write: true,
        text: 'vfio-pci 0000:00:02.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0000 address=0x1234 flags=0x0020]',
      },
    });
  });

  // DMAR prints its own prefix (pr_err in dmar_fault_do_one()): the record is the whole line.
  it('VT-d fault line is the record', () => {
    const m = new Machine('6.1', 'qemu-q35-vtd');
    const t = translate(m.kernel.devices.get(DEV)!, 0x1234n, 4n, false);
    expect(t.ok ? 'no fault' : t.fault.text).toBe('DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x1000 [fault reason 0x06] PTE Read access is not set');
  });
});
