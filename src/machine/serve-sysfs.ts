// The files a VFIO client looks at besides the ioctls, as the served model shows them: the
// /dev/vfio nodes, the IOMMU group directories, a PCI device's attributes, and module
// parameters. What the kernel model answers itself (Kernel.sysfsRead) is used as it is; the
// PCI attributes (vendor, device, class, config, resource…) are read from the device's own
// configuration space and BARs, as drivers/pci/pci-sysfs.c prints them. Paths outside these
// trees are not emulated: the preload library hands them to libc.

import { ENOENT, EINVAL, ERRNO } from '../uapi/errno.js';
import { NODE } from './serve-protocol.js';
import type { Kernel } from '../kernel/kernel.js';
import type { KDevice } from '../kernel/iommu/core.js';
import type { VfioDevice } from '../kernel/vfio/device.js';
import { cdevDevt } from '../kernel/vfio/device-cdev.js';

export type NodeType = (typeof NODE)[keyof typeof NODE];

/** A looked-up path: not ours, missing (-errno), or a node with what reading it gives. */
export type SysfsNode =
  | { kind: 'not-emulated' }
  | { kind: 'missing'; errno: number }
  | { kind: 'node'; type: NodeType; content?: Uint8Array; link?: string; traced?: string; rdev?: { major: number; minor: number } };

const NOT_EMULATED: SysfsNode = { kind: 'not-emulated' };
const missing = (errno: number = ENOENT): SysfsNode => ({ kind: 'missing', errno });
const dir = (): SysfsNode => ({ kind: 'node', type: NODE.DIR });
const text = (s: string, traced?: string): SysfsNode => ({ kind: 'node', type: NODE.REG, content: new TextEncoder().encode(s), traced });
const link = (target: string, traced?: string): SysfsNode => ({ kind: 'node', type: NODE.LNK, link: target, traced });
/** A store-only attribute (DRIVER_ATTR_WO, BUS_ATTR_WO): a regular file with nothing to read. */
const writeOnly = (): SysfsNode => ({ kind: 'node', type: NODE.REG });

const hex = (v: number | bigint, digits: number): string => `0x${v.toString(16).padStart(digits, '0')}`;

// include/linux/ioport.h resource flags, as /sys/.../resource prints them.
const IORESOURCE_IO = 0x100n;
const IORESOURCE_MEM = 0x200n;
const IORESOURCE_PREFETCH = 0x2000n;
const IORESOURCE_SIZEALIGN = 0x40000n;
const IORESOURCE_MEM_64 = 0x100000n;
const IORESOURCE_READONLY = 0x4000n;
/** resource_show() prints PCI_BRIDGE_RESOURCES lines for an endpoint: 6 BARs, the ROM, 6 IOV BARs. */
const RESOURCE_LINES = 13;

/** The PCI attribute files of a device read from its configuration space (pci-sysfs.c). */
function pciAttribute(d: KDevice, name: string): SysfsNode | undefined {
  const cfg = d.hw.config;
  const rd = (off: number, w: 1 | 2 | 4): number => cfg.read(off, w);
  switch (name) {
    case 'vendor':
      return text(`${hex(rd(0x00, 2), 4)}\n`);
    case 'device':
      return text(`${hex(rd(0x02, 2), 4)}\n`);
    case 'subsystem_vendor':
      return text(`${hex(rd(0x2c, 2), 4)}\n`);
    case 'subsystem_device':
      return text(`${hex(rd(0x2e, 2), 4)}\n`);
    case 'class':
      return text(`${hex(rd(0x08, 4) >>> 8, 6)}\n`);
    case 'revision':
      return text(`${hex(rd(0x08, 1), 2)}\n`);
    case 'irq':
      return text(`${rd(0x3c, 1)}\n`);
    case 'config': {
      const out = new Uint8Array(cfg.size);
      for (let i = 0; i < cfg.size; i++) out[i] = rd(i, 1);
      return { kind: 'node', type: NODE.REG, content: out };
    }
    case 'resource': {
      const lines: string[] = [];
      for (let i = 0; i < RESOURCE_LINES; i++) {
        const bar = d.hw.bars.find((b) => b.index === i);
        let start = 0n;
        let end = 0n;
        let flags = 0n;
        if (bar && bar.base !== undefined) {
          start = bar.base;
          end = bar.base + bar.size - 1n;
          flags = IORESOURCE_SIZEALIGN | (bar.kind === 'io' ? IORESOURCE_IO : IORESOURCE_MEM);
          if (bar.kind === 'mem64') flags |= IORESOURCE_MEM_64;
          if (bar.prefetchable) flags |= IORESOURCE_PREFETCH;
        } else if (i === 6 && d.hw.rom) {
          flags = IORESOURCE_MEM | IORESOURCE_READONLY | IORESOURCE_SIZEALIGN;
        }
        lines.push(`${hex(start, 16)} ${hex(end, 16)} ${hex(flags, 16)}\n`);
      }
      return text(lines.join(''));
    }
  }
  return undefined;
}

/** Looks `path` up in the served trees. `path` must be absolute and normalised by the caller. */
export function sysfsLookup(k: Kernel, path: string): SysfsNode {
  if (path.includes('\0') || path.split('/').some((c) => c === '..' || c === '.')) return NOT_EMULATED;
  // /dev/iommu where the build has iommufd (iommu_misc_dev).
  if (path === '/dev/iommu') return k.config.iommufd ? { kind: 'node', type: NODE.CHR } : NOT_EMULATED;
  // /dev/vfio: the container node and one node per VFIO group (vfio_group_fops); where the
  // kernel has the device cdev, /dev/vfio/devices/vfioN per registered device.
  if (path === '/dev/vfio') return dir();
  if (path.startsWith('/dev/vfio/')) {
    const name = path.slice('/dev/vfio/'.length);
    if (name === 'vfio') return { kind: 'node', type: NODE.CHR };
    if (k.vfioCore.cdev && name === 'devices') return dir();
    const cdev = /^devices\/(vfio(?:0|[1-9]\d{0,9}))$/.exec(name);
    // The cdev's number is the model's (cdevDevt, as vfio-dev/vfioN/dev prints it): stat()
    // answers it, so a client comparing the two (QEMU's open_cdev) sees them agree.
    const device = cdev && k.vfioCore.cdev ? vfioDeviceNamed(k, cdev[1]!) : undefined;
    if (device) return { kind: 'node', type: NODE.CHR, rdev: cdevDevt(k.vfioCore, device) };
    if (/^(0|[1-9]\d{0,9})$/.test(name) && k.vfioGroups.has(Number(name))) return { kind: 'node', type: NODE.CHR };
    return missing();
  }
  // The IOMMU's debugfs (/sys/kernel/debug/iommu, drivers/iommu/iommu-debugfs.c, and VT-d's
  // intel/<bdf>/domain_translation_struct, drivers/iommu/intel/debugfs.c) describes the model's
  // IOMMU, not the host's, and no modelled kernel has it: Debian builds without
  // CONFIG_IOMMU_DEBUGFS (and so without CONFIG_INTEL_IOMMU_DEBUGFS), as does the harness's 7.2
  // kernel. Missing, whatever the host has mounted (tools/testing/selftests/vfio's
  // vfio_dma_mapping_test then checks no page-table entries, as on such a kernel).
  if (path === '/sys/kernel/debug/iommu' || path.startsWith('/sys/kernel/debug/iommu/')) return missing();
  let m = /^\/sys\/kernel\/iommu_groups(?:\/(\d+)(?:\/(.+))?)?$/.exec(path);
  if (m) {
    if (m[1] === undefined) return dir();
    const g = k.iommu.groups.get(Number(m[1]));
    if (!g || String(g.id) !== m[1]) return missing();
    if (m[2] === undefined || m[2] === 'devices') return dir();
    const dev = /^devices\/([0-9a-f:.]+)$/.exec(m[2]);
    if (dev) return g.devices.some((d) => d.bdf === dev[1]) ? link(`../../../../devices/${k.pciSysfsPath(dev[1]!)}`) : missing();
    if (m[2] === 'type' || m[2] === 'reserved_regions') {
      const c = k.sysfsRead(path);
      return typeof c === 'number' ? missing(-c) : text(c, path);
    }
    return missing();
  }
  m = /^\/sys\/bus\/pci\/devices\/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])(?:\/(.+))?$/.exec(path);
  if (m) {
    const d = k.devices.get(m[1]!);
    if (!d) return NOT_EMULATED;
    const attr = m[2];
    // The bus's entry is a link to the device's directory (bus_add_device).
    if (attr === undefined) return link(`../../../devices/${k.pciSysfsPath(d.bdf)}`);
    if (attr === 'iommu_group' || attr === 'driver') {
      const c = k.sysfsRead(path);
      return typeof c === 'number' ? missing(-c) : link(c.replace(/\n$/, ''), path);
    }
    // The vfio-dev class device (vfio_main.c): vfio-dev/, vfio-dev/vfioN/ and its attributes.
    const vfioDev = /^vfio-dev(?:\/(vfio\d+)(?:\/([a-z]+))?)?$/.exec(attr);
    if (vfioDev) {
      const v = k.era.vfioDeviceSysfs ? k.vfioDeviceOf(d.bdf) : undefined;
      if (!v || (vfioDev[1] !== undefined && vfioDev[1] !== v.name)) return missing();
      if (vfioDev[2] === undefined) return dir();
      const c = k.sysfsRead(path);
      return typeof c === 'number' ? missing(-c) : text(c, path);
    }
    // The driver's directory through the device's `driver` link (driver/unbind, driver/bind).
    const viaDriver = /^driver\/(.+)$/.exec(attr);
    if (viaDriver) return d.driver ? sysfsLookup(k, `/sys/bus/pci/drivers/${d.driver}/${viaDriver[1]}`) : missing();
    // pci_iov_sysfs_link() (drivers/pci/iov.c): the PF's virtfnN and the VF's physfn, links
    // between sibling directories ("../BDF": a VF sits beside its PF, sysfs-path.ts).
    const virtfn = /^virtfn(0|[1-9]\d{0,4})$/.exec(attr);
    if (virtfn) {
      const vf = k.sriov.virtfns(d.bdf)[Number(virtfn[1])];
      return vf === undefined ? missing() : link(`../${vf}`);
    }
    if (attr === 'physfn') {
      const pf = k.sriov.physfn(d.bdf);
      return pf === undefined ? missing() : link(`../${pf}`);
    }
    if (attr === 'sriov_numvfs' || attr === 'sriov_totalvfs' || attr === 'driver_override') {
      const c = k.sysfsRead(path);
      return typeof c === 'number' ? missing(-c) : text(c, path);
    }
    return pciAttribute(d, attr) ?? missing();
  }
  // The PCI bus's driver files (drivers/base/bus.c): drivers_probe, and per registered driver its
  // bind and unbind and a link to each device bound to it. The other attributes (new_id,
  // remove_id, uevent, module) have no model and are missing.
  if (path === '/sys/bus/pci/drivers_probe') return writeOnly();
  if (path === '/sys/bus/pci/drivers') return dir();
  m = /^\/sys\/bus\/pci\/drivers\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (m) {
    const driver = m[1]!;
    if (!k.pciDriverNames().includes(driver)) return missing();
    if (m[2] === undefined) return dir();
    if (m[2] === 'bind' || m[2] === 'unbind') return writeOnly();
    return k.devices.get(m[2])?.driver === driver ? link(`../../../../devices/${k.pciSysfsPath(m[2])}`) : missing();
  }
  m = /^\/sys\/module\/([a-z0-9_]+)(?:\/parameters(?:\/([a-z0-9_]+))?)?$/.exec(path);
  if (m) {
    const mod = m[1]!;
    if (!k.params.keys().some((key) => key.startsWith(`${mod}.`))) return NOT_EMULATED;
    if (m[2] === undefined) return dir();
    const c = k.sysfsRead(path);
    return typeof c === 'number' ? missing(-c) : text(c, path);
  }
  return NOT_EMULATED;
}

/** The registered VFIO device called `name` (vfioN), if any. */
function vfioDeviceNamed(k: Kernel, name: string): VfioDevice | undefined {
  for (const g of k.vfioGroups.values()) for (const d of g.devices) if (d.name === name) return d;
  return undefined;
}

/** One directory entry as getdents shows it: a name and the node's type. */
export interface DirEntry {
  name: string;
  type: NodeType;
}

/** The attribute files pci-sysfs.c gives every device that this model serves (pciAttribute). */
const PCI_ATTRIBUTES = ['class', 'config', 'device', 'irq', 'resource', 'revision', 'subsystem_device', 'subsystem_vendor', 'vendor'];

/**
 * The entries of an emulated directory (opendir/readdir under exec), or -errno: ENOTDIR for a
 * node that is no directory, ENOENT for one that does not exist. Only what sysfsLookup serves
 * is listed, each name looked up again so a listing never shows a node that cannot be opened.
 * kernfs returns entries in name-hash order (kernfs_name_hash); the model gives names sorted
 * (groups numerically) instead, so a client must not depend on the order, as on Linux.
 * "." and ".." are the reader's to add.
 */
export function sysfsList(k: Kernel, path: string): DirEntry[] | number | undefined {
  const node = sysfsLookup(k, path);
  if (node.kind === 'not-emulated') return undefined;
  if (node.kind === 'missing') return -node.errno;
  // A device's bus link is followed, as opendir follows it.
  const followed = node.type === NODE.LNK && /^\/sys\/bus\/pci\/devices\/[^/]+$/.test(path);
  if (node.type !== NODE.DIR && !followed) return -ERRNO.ENOTDIR;
  const candidates = (): string[] => {
    if (path === '/dev/vfio') {
      const names = ['vfio', ...[...k.vfioGroups.keys()].sort((a, b) => a - b).map(String)];
      return k.vfioCore.cdev ? [...names, 'devices'] : names;
    }
    // devtmpfs's /dev/vfio/devices: one node per registered VFIO device (vfioN).
    if (path === '/dev/vfio/devices') return [...k.vfioGroups.values()].flatMap((g) => g.devices.map((d) => d.name)).sort();
    // The vfio-dev class device (vfio_main.c): vfio-dev/vfioN, with `dev` only when the cdev is built.
    const vd = /^\/sys\/bus\/pci\/devices\/([0-9a-f:.]+)\/vfio-dev(?:\/(vfio\d+))?$/.exec(path);
    if (vd) {
      const v = k.vfioDeviceOf(vd[1]!);
      if (!v) return [];
      return vd[2] === undefined ? [v.name] : k.vfioCore.cdev ? ['dev', 'uevent'] : ['uevent'];
    }
    if (path === '/sys/kernel/iommu_groups') return k.groupList().map((g) => String(g.id));
    let m = /^\/sys\/kernel\/iommu_groups\/(\d+)(\/devices)?$/.exec(path);
    if (m) return m[2] ? (k.iommu.groups.get(Number(m[1]))?.devices.map((d) => d.bdf).sort() ?? []) : ['devices', 'reserved_regions', 'type'];
    m = /^\/sys\/bus\/pci\/devices\/([^/]+)$/.exec(path);
    if (m) {
      const virtfns = k.sriov.virtfns(m[1]!).map((_, i) => `virtfn${i}`);
      return [...PCI_ATTRIBUTES, 'driver', 'driver_override', 'iommu_group', 'physfn', 'sriov_numvfs', 'sriov_totalvfs', 'vfio-dev', ...virtfns].sort();
    }
    if (path === '/sys/bus/pci/drivers') return k.pciDriverNames();
    m = /^\/sys\/bus\/pci\/drivers\/([^/]+)$/.exec(path);
    if (m) return ['bind', 'unbind', ...[...k.devices.values()].filter((d) => d.driver === m![1]).map((d) => d.bdf)].sort();
    m = /^\/sys\/module\/([a-z0-9_]+)(\/parameters)?$/.exec(path);
    if (m) return m[2] ? [...k.params.keys()].filter((key) => key.startsWith(`${m![1]}.`)).map((key) => key.slice(m![1]!.length + 1)).sort() : ['parameters'];
    return [];
  };
  const out: DirEntry[] = [];
  for (const name of candidates()) {
    const n = sysfsLookup(k, `${path}/${name}`);
    if (n.kind === 'node') out.push({ name, type: n.type });
  }
  return out;
}

/** readlink(2) of a node: the target, or -errno (EINVAL for a file that is no link). */
export function readlinkOf(n: SysfsNode): string | number {
  if (n.kind === 'not-emulated') return -ENOENT;
  if (n.kind === 'missing') return -n.errno;
  return n.type === NODE.LNK ? n.link! : -EINVAL;
}
