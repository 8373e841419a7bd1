// The kernel's own VFIO selftests (tools/testing/selftests/vfio of Debian's linux-source-7.2),
// unmodified, under `vfio-emu exec` on QEMU's q35 + VT-d at 7.2 built with iommufd and the device
// cdev (`config=iommufd`: /dev/vfio/vfio is VFIO's container, /dev/iommu serves both the
// iommufd modes and the iommufd_compat_type1* ones, as on the harness's 7.2 kernel). The
// binaries come from scripts/vfio-selftests.sh (.ci/run runs it; the first run here does too).
// Each run's kselftest output is compared whole: the TAP lines per test and IOMMU mode, what
// each test prints, and its SKIP reasons on stderr; each trace replays with no difference.
// Where the output is not what a real kernel gives, the stanza says so (docs/exec.md,
// "The kernel's VFIO selftests").

import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, env, tmp } from '../cli/run-cli.js';
import { EINVAL, ENOENT } from '../../src/uapi/errno.js';

const EDU = '0000:00:01.0';
const E1000E = '0000:00:02.0';
/** FIXTURE_VARIANT_ADD_ALL_IOMMU_MODES() (lib/include/libvfio/iommu.h), in its order. */
const MODES = ['vfio_type1_iommu', 'vfio_type1v2_iommu', 'iommufd_compat_type1', 'iommufd_compat_type1v2', 'iommufd'] as const;

let bin = '';
beforeAll(() => {
  const r = spawnSync('bash', ['scripts/vfio-selftests.sh'], { encoding: 'utf8', timeout: 900_000 });
  expect(r.status, `scripts/vfio-selftests.sh: ${r.stderr}`).toBe(0);
  bin = r.stdout.trim();
}, 900_000);

// ---- what kselftest_harness.h prints ---------------------------------------------------------

/** One TEST_F run: what it prints on stdout, and its outcome. */
interface Case {
  name: string;
  lines?: string[];
  /** SKIP(…)'s message, as the test formats it (with its own newline, if it has one). */
  skip?: string;
}

/** The harness's stdout and stderr for `cases` (all passing or skipped) from `fixtures` test cases. */
function harness(cases: Case[], fixtures: number, preamble: string[] = []): { stdout: string; stderr: string } {
  const out = [...preamble, 'TAP version 13', `1..${cases.length}`, `# Starting ${cases.length} tests from ${fixtures} test cases.`];
  let err = '';
  cases.forEach((c, i) => {
    out.push(`#  RUN           ${c.name} ...`, ...(c.lines ?? []), `#            OK  ${c.name}`);
    out.push(`ok ${i + 1} ${c.name}${c.skip === undefined ? '' : ` # SKIP ${c.skip}`}`);
    if (c.skip !== undefined) err += `#      SKIP      ${c.skip}\n`;
  });
  const skipped = cases.filter((c) => c.skip !== undefined).length;
  out.push(`# PASSED: ${cases.length} / ${cases.length} tests passed.`);
  if (skipped) out.push(`# ${skipped} skipped test(s) detected. Consider enabling relevant config options to improve coverage.`);
  out.push(`# Totals: pass:${cases.length - skipped} fail:0 xfail:0 xpass:0 skip:${skipped} error:0`);
  return { stdout: `${out.join('\n')}\n`, stderr: err };
}

interface Run {
  status: number;
  stdout: string;
  stderr: string;
  replay: string;
  events: { op: string; request?: string; errno?: number }[];
}

/** The machine: q35 + VT-d at 7.2 built with iommufd and the device cdev. */
const Q35 = ['--platform', 'qemu-q35-vtd', '--kernel', '7.2 config=iommufd'];

/**
 * A selftest under exec on `machine` with `bound` on vfio-pci. Addresses and timings, which
 * change from run to run, are masked.
 */
function selftest_(name: string, args: string[], bound: string[] = args, machine: string[] = Q35): Run {
  const trace = join(tmp, `${name}-${args.join('-')}.jsonl`);
  const binds = bound.flatMap((b) => ['--bind', b]);
  const r = spawnSync(
    process.execPath,
    ['bin/vfio-emu.cjs', 'exec', ...machine, ...binds, '--trace', trace, '--', join(bin, name), ...args],
    { env, encoding: 'utf8', timeout: 120_000 },
  );
  const mask = (s: string): string =>
    s.replace(/HVA 0x[0-9a-f]+/g, 'HVA <addr>').replace(/(time[^:]*): \d+\.\d{9}s/g, '$1: <s>');
  return {
    status: r.status ?? -1,
    stdout: mask(r.stdout),
    stderr: mask(r.stderr),
    replay: existsSync(trace) ? cli(['replay', trace]).stdout.trim().split('\n').at(-1)! : 'no trace',
    events: existsSync(trace) ? readFileSync(trace, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as Run['events'][number]) : [],
  };
}

/** The selftest passed (or skipped) every case with exactly this output, and its trace replays. */
function selftest(name: string, args: string[], want: { stdout: string; stderr: string }, bound?: string[], machine?: string[]): Run {
  const r = selftest_(name, args, bound, machine);
  expect(r.stdout).toBe(want.stdout);
  expect(r.stderr).toBe(want.stderr);
  expect(r.status).toBe(0);
  expect(r.replay).toMatch(/^(\d+) events, \1 match, 0 differ, 0 skipped$/);
  return r;
}

/** A selftest that exits KSFT_SKIP (4) before its harness runs, with exactly this output. */
function selftest_skip(name: string, args: string[], want: { stdout: string; stderr: string }): void {
  const r = selftest_(name, args);
  expect([r.status, r.stdout, r.stderr]).toEqual([4, want.stdout, want.stderr]);
}

// ---- vfio_pci_device_test ----------------------------------------------------------------------

/**
 * BARs: exec refuses BAR mmap (REGION_INFO without VFIO_REGION_INFO_FLAG_MMAP, docs/exec.md), so
 * vfio_pci_device_init() maps none and validate_bars says so for each; on a real kernel the
 * memory BARs have the flag and print "BAR n mapped at … (size …)". The test passes either way.
 */
const NO_BAR_MMAP = [0, 1, 2, 3, 4, 5].map((i) => `BAR ${i} does not support mmap()`);

describe('vfio_pci_device_test', () => {
  // edu: config space through the region, bus mastering toggled (vfio-pci passes PCI_COMMAND's
  // MASTER bit through); one MSI vector, no MSI-X capability (GET_IRQ_INFO count 0: SKIP), and
  // no reset method (no FLR, no PM capability, and on the root bus, so no bus reset:
  // pci_init_reset_methods() finds none and GET_INFO has no VFIO_DEVICE_FLAGS_RESET: SKIP).
  test('edu: config space, BARs, MSI; no MSI-X, no reset: SKIP', () => {
    selftest('vfio_pci_device_test', [EDU], harness([
      { name: 'vfio_pci_device_test.config_space_read_write', lines: ['Vendor: 1234, Device: 11e8', 'Enabled Bus Mastering (command: 0107)', 'Disabled Bus Mastering (command: 0103)'] },
      { name: 'vfio_pci_device_test.validate_bars', lines: NO_BAR_MMAP },
      { name: 'vfio_pci_device_test.reset', skip: 'Device does not support reset\n' },
      { name: 'vfio_pci_irq_test.msi.enable_trigger_disable', lines: ['MSI: enabled 1 interrupts'] },
      { name: 'vfio_pci_irq_test.msix.enable_trigger_disable', skip: 'MSI-x: not supported\n' },
    ], 3));
  });

  // e1000e: MSI and its 5 MSI-X vectors each signalled through SET_IRQS DATA_NONE|TRIGGER
  // (vfio_pci_set_msi_trigger → eventfd_signal), and VFIO_DEVICE_RESET (its PM capability
  // gives pci_pm_reset()).
  test('e1000e: MSI, 5 MSI-X vectors and reset pass', () => {
    selftest('vfio_pci_device_test', [E1000E], harness([
      { name: 'vfio_pci_device_test.config_space_read_write', lines: ['Vendor: 8086, Device: 10d3', 'Enabled Bus Mastering (command: 0107)', 'Disabled Bus Mastering (command: 0103)'] },
      { name: 'vfio_pci_device_test.validate_bars', lines: NO_BAR_MMAP },
      { name: 'vfio_pci_device_test.reset' },
      { name: 'vfio_pci_irq_test.msi.enable_trigger_disable', lines: ['MSI: enabled 1 interrupts'] },
      { name: 'vfio_pci_irq_test.msix.enable_trigger_disable', lines: ['MSI-x: enabled 5 interrupts'] },
    ], 3));
  });
});

// ---- vfio_iommufd_setup_test -------------------------------------------------------------------

// The cdev found through vfio-dev/. The tests only ask for failure; the trace has the errnos:
// GET_INFO before BIND_IOMMUFD -EINVAL (vfio_device_fops_unl_ioctl: no access_granted), an
// iommufd of -2 -EINVAL and a second bind -EINVAL (vfio_df_ioctl_bind_iommufd: bind.iommufd < 0;
// "one device cannot be bound twice"), an unknown pt_id -ENOENT (iommufd_get_object).
test('vfio_iommufd_setup_test: bind, attach and detach through the cdev', () => {
  const names = ['bind', 'get_info_without_bind_fails', 'bind_bad_iommufd_fails', 'repeated_bind_fails', 'attach_detatch_pt', 'attach_invalid_pt_fails'];
  const r = selftest('vfio_iommufd_setup_test', [E1000E], harness(names.map((n) => ({ name: `vfio_cdev.${n}` })), 1, ['Using cdev device /dev/vfio/devices/vfio0']));
  expect(r.events.filter((e) => e.errno).map((e) => [e.request, e.errno])).toEqual([
    ['VFIO_DEVICE_GET_INFO', EINVAL],
    ['VFIO_DEVICE_BIND_IOMMUFD', EINVAL],
    ['VFIO_DEVICE_BIND_IOMMUFD', EINVAL],
    ['VFIO_DEVICE_ATTACH_IOMMUFD_PT', ENOENT],
  ]);
});

// ---- vfio_dma_mapping_test ---------------------------------------------------------------------

/**
 * hugetlb: the test's own mmap(MAP_HUGETLB) is the host's (exec serves no memory). With no huge
 * pages reserved (nr_hugepages 0) a 2 MiB one is ENOMEM; without a 1 GiB hstate (no
 * hugepagesz=1G) MAP_HUGE_1GB is EINVAL. Both SKIP, as on a real machine set up the same way.
 */
function hugetlbSkip(size: '2048kB' | '1048576kB'): string {
  const dir = `/sys/kernel/mm/hugepages/hugepages-${size}`;
  if (!existsSync(dir)) return 'mmap() failed: Invalid argument (22)\n';
  const free = spawnSync('cat', [`${dir}/free_hugepages`], { encoding: 'utf8' }).stdout.trim();
  expect(free, `${dir}: this host has free huge pages; the expectations assume none`).toBe('0');
  return 'mmap() failed: Cannot allocate memory (12)\n';
}

describe('vfio_dma_mapping_test', () => {
  // Every mode maps a page at the first free IOVA (0: VT-d's ranges start there), finds it with
  // to_iova(), and unmaps exactly its size. The page-table check reads VT-d's debugfs
  // (/sys/kernel/debug/iommu/intel/<bdf>/domain_translation_struct): the model's kernel has
  // none (Debian builds without CONFIG_INTEL_IOMMU_DEBUGFS), so access() is ENOENT whatever the
  // host mounts and the test checks no entries. vfio_dma_map_limit_test maps the last page of
  // the last range and unmaps it by range and by UNMAP_ALL/[0, UINT64_MAX]; MAP and UNMAP at
  // ~0 & PAGE_MASK with two pages overflow: -EOVERFLOW from type1 (6.18+, vfio_dma_do_map's
  // check_add_overflow) and from iommufd (iopt_map_pages/iopt_unmap_iova's overflow checks).
  test('anonymous memory in every mode; hugetlb SKIPs; the IOVA limit and overflow', () => {
    const mapped = { lines: ['Mapped HVA <addr> (size 0x1000) at IOVA 0x0', 'Unmapped IOVA 0x0'] };
    const cases: Case[] = [
      ...MODES.map((m) => ({ name: `vfio_dma_mapping_test.${m}_anonymous.dma_map_unmap`, ...mapped })),
      ...MODES.map((m) => ({ name: `vfio_dma_mapping_test.${m}_anonymous_hugetlb_2mb.dma_map_unmap`, skip: hugetlbSkip('2048kB') })),
      ...MODES.map((m) => ({ name: `vfio_dma_mapping_test.${m}_anonymous_hugetlb_1gb.dma_map_unmap`, skip: hugetlbSkip('1048576kB') })),
      ...MODES.flatMap((m) => ['unmap_range', 'unmap_all', 'overflow'].map((t) => ({ name: `vfio_dma_map_limit_test.${m}.${t}` }))),
    ];
    selftest('vfio_dma_mapping_test', [EDU], harness(cases, 20));
  });
});

// ---- vfio_dma_mapping_mmio_test ------------------------------------------------------------------

// Every variant looks for a BAR that vfio_pci_device_init() mapped; under exec there is none
// (BAR mmap refused), so all 15 SKIP in FIXTURE_SETUP. On a real kernel edu's BAR0 is mapped:
// type1 maps it through follow_fault_pfn() (VM_PFNMAP) and passes, and iommufd, whose pinning
// cannot take a VM_PFNMAP range, fails the map as the test expects; all 15 pass.
test('vfio_dma_mapping_mmio_test: no mapped BAR under exec, every variant SKIPs', () => {
  const cases = MODES.flatMap((m) =>
    ['map_full_bar', 'map_partial_bar', 'map_bar_misaligned'].map((t) => ({ name: `vfio_dma_mapping_mmio_test.${m}.${t}`, skip: `No mappable BAR found on device ${EDU}` })),
  );
  selftest('vfio_dma_mapping_mmio_test', [EDU], harness(cases, 5));
});

// ---- vfio_pci_device_init_perf_test ------------------------------------------------------------

// Both devices set up by parallel threads in each mode (one connection each to the model).
test('vfio_pci_device_init_perf_test: edu and e1000e initialised in parallel, every mode', () => {
  const times = ['Wall time: <s>', 'Min init time (per device): <s>', 'Max init time (per device): <s>', 'Avg init time (per device): <s>'];
  const cases = MODES.map((m) => ({ name: `vfio_pci_device_init_perf_test.${m}.init`, lines: times }));
  selftest('vfio_pci_device_init_perf_test', [EDU, E1000E], harness(cases, 5, ['Testing parallel initialization of 2 devices:', `    ${EDU}`, `    ${E1000E}`]));
});

// ---- the tests that need hardware q35 does not have ------------------------------------------------

// vfio_pci_driver_test needs a device its library drives (Intel IOAT or DSA): the edu's IDs
// match neither probe, so it exits KSFT_SKIP before the harness, as on a machine without one.
test('vfio_pci_driver_test: no IOAT/DSA device, KSFT_SKIP', () => {
  selftest_skip('vfio_pci_driver_test', [EDU], { stdout: '', stderr: `No driver found for device ${EDU}\n` });
});

describe('vfio_pci_sriov_uapi_test', () => {
  // It needs an SR-IOV PF: QEMU's e1000e has no SR-IOV capability, so sriov_totalvfs does not
  // exist (pci-sysfs's sriov attributes are only for PFs), its open fails and the test exits
  // KSFT_SKIP with the kselftest plan line.
  test('e1000e on q35: no SR-IOV PF, KSFT_SKIP', () => {
    selftest_skip('vfio_pci_sriov_uapi_test', [E1000E], { stdout: `1..0 # SKIP SR-IOV may not be supported by the PF: ${E1000E}\n`, stderr: '' });
  });

  // The modelled machine with an SR-IOV PF: the AMD Overdrive's X540 (arm64; the x86-64 build
  // sees the same uapi, LP64 little-endian). vfio-pci creates VFs only with enable_sriov
  // (vfio_pci_sriov_configure), and its GICv2m does not isolate MSIs, so type1 and iommufd
  // need allow_unsafe_interrupts. The VF (01:10.0, found through virtfn0) is captured by
  // vfio-pci; in every mode it opens with the PF's token and is refused without it or with
  // another (-EACCES, vfio_pci_core_match_token_uuid), after the PF closes too, and after the
  // PF's user replaces the token with VFIO_DEVICE_FEATURE_PCI_VF_TOKEN.
  test('the X540 PF on amd-overdrive: the VF token in all five modes', () => {
    const machine = [
      '--platform', 'amd-overdrive', '--kernel', '7.2 config=iommufd', '--param', 'vfio_pci.enable_sriov=Y',
      '--param', 'vfio_iommu_type1.allow_unsafe_interrupts=Y', '--param', 'iommufd.allow_unsafe_interrupts=Y',
    ];
    const PF = '0000:01:00.0';
    const cases = ['same_uuid', 'diff_uuid', 'null_uuid'].flatMap((u) =>
      MODES.flatMap((m) => ['init_token_match', 'pf_early_close', 'override_token'].map((t) => ({ name: `vfio_pci_sriov_uapi_test.${m}_${u}.${t}` }))),
    );
    selftest('vfio_pci_sriov_uapi_test', [PF], harness(cases, 15, [`Created 1 VF (0000:01:10.0) under the PF: ${PF}`]), [PF], machine);
  });
});
