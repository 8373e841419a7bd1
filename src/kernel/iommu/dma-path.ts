// Inbound transactions from a device: DMA reads and writes, and MSI writes, as they cross the
// device's IOMMU. A write either lands (in memory, or at an MSI doorbell) or raises a fault
// record in the IOMMU's own terms. The x86 interrupt window is decoded before translation.
// Devices reach this path through the bus-master port and interrupt sink the kernel connects
// at bind (busMasterPort here, irq/pci-intr.ts); the scenario's `dma` action uses `translate`.

import type { IommuFault, IommuProt } from '../../hw/iommu/iommu.js';
import type { PciBusMaster } from '../../hw/pci/device.js';
import type { EventFd } from '../eventfd.js';
import type { IommuDomain, KDevice } from './core.js';

export type Translation =
  | { ok: true; pa: bigint; translated: boolean }
  | { ok: false; fault: IommuFault };

/** The domain a device's transactions are translated by: its group's VFIO domain, if attached. */
export function deviceDomain(dev: KDevice): IommuDomain | undefined {
  return dev.group.domain;
}

/**
 * Translates one access of `len` bytes at `iova`. Without a VFIO domain the group sits in its
 * default (kernel DMA API) domain, which maps nothing a user chose, or, while a user owns its
 * DMA, in its blocking domain: every access faults, the blocked one as the driver blocks.
 */
export function translate(dev: KDevice, iova: bigint, len: bigint, write: boolean): Translation {
  const domain = deviceDomain(dev);
  let first: bigint | undefined;
  for (let a = iova; a < iova + len; a = (a | 0xfffn) + 1n) {
    const t = domain?.hw.translate(a);
    if (!t) return { ok: false, fault: reported(dev, unmapped(dev, domain, a, write)) };
    if (!allowed(t.prot, write)) return { ok: false, fault: reported(dev, dev.iommu.fault(dev.bdf, a, write, 'permission', dev.group.faultLog)) };
    // The walk of a write sets the leaf's dirty bit where the domain tracks them.
    if (write) domain!.hw.dirty?.recordWrite(a);
    first ??= t.pa;
  }
  return { ok: true, pa: first ?? 0n, translated: true };
}

/**
 * The record of an access no page table maps. A user-owned group without a domain is in its
 * blocking domain (__iommu_take_dma_ownership); where that is the driver's own
 * (Era.driverBlockingDomain) the IOMMU may stop the request before any page table
 * (IommuHw.blockedFault: VT-d's cleared context entry).
 */
function unmapped(dev: KDevice, domain: IommuDomain | undefined, a: bigint, write: boolean): IommuFault {
  const g = dev.group;
  if (!domain && g.owner && g.driverBlockingDomain && dev.iommu.blockedFault) return dev.iommu.blockedFault(dev.bdf, a, write, g.faultLog);
  return dev.iommu.fault(dev.bdf, a, write, 'translation', g.faultLog);
}

function allowed(p: IommuProt, write: boolean): boolean {
  return write ? p.write : p.read;
}

/**
 * The fault record as the log shows it. A record the IOMMU driver prints against the faulting
 * device (pci_err(), as amd_iommu_report_page_fault() does) gets dev_printk's prefix: the
 * bound driver's name and the device's. The model names vfio-pci, the driver of every device
 * whose DMA a scenario drives.
 */
function reported(dev: KDevice, f: IommuFault): IommuFault {
  if (!f.devicePrefix) return f;
  const { devicePrefix: _printed, ...record } = f;
  return { ...record, text: `vfio-pci ${dev.bdf}: ${f.text}` };
}

/** Where an MSI write ended: an IOMMU fault, an address no doorbell answers, or an interrupt. */
export type MsiWriteResult =
  | { result: 'fault'; fault: IommuFault }
  | { result: 'miss'; pa: bigint; miss: string }
  | { result: 'raised'; pa: bigint; target: { bdf: string; vector: number } };

/**
 * A device's MSI write (4 bytes of `data` at `addr`). Where the IOMMU translates MSIs (ARM
 * SMMU, PAMU, the PHB's TCEs) it is a DMA write like any other and needs a mapping of the
 * doorbell; the x86 interrupt window (0xfee00000) is decoded before translation and reaches
 * the interrupt controller (or the remapping table) untranslated.
 */
export function msiWrite(dev: KDevice, addr: bigint, data: number): MsiWriteResult {
  let pa = addr;
  if (dev.iommu.msiTranslated) {
    const t = translate(dev, addr, 4n, true);
    if (!t.ok) return { result: 'fault', fault: t.fault };
    pa = t.pa;
  }
  const hit = dev.msi.receive(pa, data, dev.bdf);
  if ('miss' in hit) return { result: 'miss', pa, miss: hit.miss };
  return { result: 'raised', pa, target: hit };
}

/** Physical memory as DMA reaches it (the pinned pages of a process's address space). */
export interface DmaMemory {
  readPhys(pa: bigint, len: number): Uint8Array;
  writePhys(pa: bigint, data: Uint8Array): void;
}

/** One DMA transaction a device issued as bus master, and where it went. */
export interface DmaRecord {
  bdf: string;
  write: boolean;
  addr: bigint;
  len: number;
  /** The physical address of the first byte, or the fault that stopped it. */
  result: { ok: true; pa: bigint } | { ok: false; fault: IommuFault };
}

/**
 * The bus-master port the kernel hands a device at bind: each transaction is translated page
 * by page through the device's domain, and lands in (or is read from) `memory()`, the memory
 * whose pages the domain maps. A fault stops the transaction where it happened (the bytes
 * before it have moved), as an IOMMU aborts the faulting request.
 */
export function busMasterPort(dev: KDevice, memory: () => DmaMemory | undefined, record: (r: DmaRecord) => void): PciBusMaster {
  const walk = (addr: bigint, len: number, write: boolean, move: (pa: bigint, at: number, n: number) => void): boolean => {
    let first: bigint | undefined;
    for (let at = 0; at < len; ) {
      const a = addr + BigInt(at);
      const n = Math.min(len - at, Number(((a | 0xfffn) + 1n) - a));
      const t = translate(dev, a, BigInt(n), write);
      if (!t.ok) {
        record({ bdf: dev.bdf, write, addr, len, result: { ok: false, fault: t.fault } });
        return false;
      }
      first ??= t.pa;
      move(t.pa, at, n);
      at += n;
    }
    record({ bdf: dev.bdf, write, addr, len, result: { ok: true, pa: first ?? 0n } });
    return true;
  };
  return {
    dmaRead(addr, len) {
      const mem = memory();
      const out = new Uint8Array(len);
      const ok = walk(addr, len, false, (pa, at, n) => out.set(mem ? mem.readPhys(pa, n) : new Uint8Array(n), at));
      return ok && mem ? out : undefined;
    },
    dmaWrite(addr, data) {
      const mem = memory();
      return walk(addr, data.length, true, (pa, at, n) => mem?.writePhys(pa, data.subarray(at, at + n))) && mem !== undefined;
    },
  };
}

/** An MSI write a device issued, and where it ended; `trigger` is the eventfd it signalled. */
export type MsiWriteRecord = { bdf: string; kind: 'msi' | 'msix'; vector: number; addr: bigint; data: number } & (
  | Exclude<MsiWriteResult, { result: 'raised' }>
  | { result: 'raised'; pa: bigint; target: { bdf: string; vector: number }; trigger: EventFd | null }
);

export type InboundRecord = ({ what: 'dma' } & DmaRecord) | ({ what: 'msi' } & MsiWriteRecord);

/** How many inbound records the kernel keeps (the oldest go first). */
const INBOUND_KEEP = 4096;

/**
 * The transactions devices issued, newest last, numbered so that a caller can take those that
 * happened during one action (`since`). A bounded window: a long run keeps the latest.
 */
export class InboundLog {
  private readonly records: InboundRecord[] = [];
  private dropped = 0;

  /** @param onFault the IOMMU driver's fault handler (it prints the record to the kernel log); `bdf` issued it. */
  constructor(private readonly onFault: (f: IommuFault, bdf: string) => void = () => {}) {}

  add(r: InboundRecord): void {
    if (r.what === 'dma' && !r.result.ok) this.onFault(r.result.fault, r.bdf);
    else if (r.what === 'msi' && r.result === 'fault') this.onFault(r.fault, r.bdf);
    this.records.push(r);
    if (this.records.length > INBOUND_KEEP) {
      this.records.shift();
      this.dropped++;
    }
  }

  /** The sequence number the next record gets. */
  get seq(): number {
    return this.dropped + this.records.length;
  }

  /** The records numbered `seq` and later that are still kept. */
  since(seq: number): InboundRecord[] {
    return this.records.slice(Math.max(0, seq - this.dropped));
  }
}
