// The load and store ops (vfio-trace/1 extension, README "Trace operations beyond syscalls"): CPU
// accesses through an mmap of a BAR, replayed at the model's address for the recorded one.

import { describe, expect, it } from 'vitest';
import { readTrace } from '../../src/trace/reader.js';
import { replayTrace } from '../../src/trace/replay.js';

const SETUP = [
  '{"trace":"vfio-trace/1","kernel":"6.1","arch":"x86_64","platform":{"preset":"qemu-q35-vtd","options":{"intremap":"on"}},"source":"test"}',
  '{"op":"bind","device":"0000:00:01.0","driver":"vfio-pci","group":1,"ret":0,"errno":0}',
  '{"op":"open","path":"/dev/vfio/vfio","flags":"O_RDWR","ret":3,"errno":0}',
  '{"op":"open","path":"/dev/vfio/1","flags":"O_RDWR","ret":4,"errno":0}',
  '{"op":"ioctl","fd":4,"request":"VFIO_GROUP_SET_CONTAINER","nr":"0x3b68","in":"03000000","out":"03000000","ret":0,"errno":0}',
  '{"op":"ioctl","fd":3,"request":"VFIO_SET_IOMMU","nr":"0x3b66","arg":3,"ret":0,"errno":0}',
  '{"op":"ioctl","fd":4,"request":"VFIO_GROUP_GET_DEVICE_FD","nr":"0x3b6a","in":"303030303a30303a30312e3000","out":"303030303a30303a30312e3000","ret":5,"errno":0}',
  '{"op":"kmsg","text":"ACPI: \\\\_SB_.GSIF: Enabled at IRQ 21"}',
  // Recorded at an address the model does not choose: replay maps it.
  '{"op":"mmap","addr":null,"len":4096,"prot":"rw","fd":5,"offset":"0x0","ret":"0x7f1234560000","errno":0}',
];

/** The results of the events after SETUP. */
function replay(...events: string[]) {
  const text = [...SETUP, ...events].join('\n') + '\n';
  return replayTrace(readTrace(text, 't.jsonl'), 't.jsonl')
    .results.filter((r) => r.line > SETUP.length)
    .map((r) => ({ line: r.line, status: r.status, diffs: r.diffs }));
}

const MATCH = (line: number) => ({ line, status: 'match', diffs: [] });

describe('load/store through an mmap of edu BAR0', () => {
  // Rule: edu's identification register (0x00) reads 0x010000ed (edu.c: major 1, minor 0).
  it('ident', () => {
    expect(replay('{"op":"load","addr":"0x7f1234560000","len":4,"out":"ed000001","ret":0,"errno":0}')).toEqual([MATCH(10)]);
  });

  // Rule: the liveness register (0x04) answers the bitwise inverse of what was stored.
  it('liveness inversion', () => {
    expect(
      replay(
        '{"op":"store","addr":"0x7f1234560004","len":4,"in":"78563412","ret":0,"errno":0}',
        '{"op":"load","addr":"0x7f1234560004","len":4,"out":"87a9cbed","ret":0,"errno":0}',
      ),
    ).toEqual([MATCH(10), MATCH(11)]);
  });

  // Rule: a recorded value the model does not read is a difference in the bytes.
  it('a value the model differs on', () => {
    expect(replay('{"op":"load","addr":"0x7f1234560000","len":4,"out":"ee000001","ret":0,"errno":0}')).toEqual([
      { line: 10, status: 'differs', diffs: [{ field: 'out[0]', recorded: '…ee000001', model: '…ed000001' }] },
    ]);
  });

  // Rule: memory decode off, vfio_pci_mmap_fault answers VM_FAULT_SIGBUS (errno-like EIO, 5).
  it('SIGBUS with memory decode off', () => {
    expect(
      replay(
        '{"op":"pwrite","fd":5,"offset":"0x70000000004","len":2,"in":"0000","ret":2,"errno":0}',
        '{"op":"load","addr":"0x7f1234560000","len":4,"signal":"SIGBUS","ret":-1,"errno":5}',
      ),
    ).toEqual([MATCH(10), MATCH(11)]);
  });

  // Rule: no VMA at the address is SIGSEGV (errno-like EFAULT, 14); a SIGSEGV the model does not
  // raise is a difference in errno, ret and signal.
  it('SIGSEGV outside any mapping', () => {
    expect(replay('{"op":"load","addr":"0x1000","len":4,"signal":"SIGSEGV","ret":-1,"errno":14}')).toEqual([MATCH(10)]);
    expect(replay('{"op":"store","addr":"0x7f1234560004","len":4,"in":"00000000","signal":"SIGSEGV","ret":-1,"errno":14}')).toEqual([
      {
        line: 10,
        status: 'differs',
        diffs: [
          { field: 'errno', recorded: '14', model: '0' },
          { field: 'ret', recorded: '-1', model: '0' },
          { field: 'signal', recorded: 'SIGSEGV', model: 'none' },
        ],
      },
    ]);
  });
});
