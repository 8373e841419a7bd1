// The eventfd-read op (vfio-trace/1 extension, README "Trace operations beyond syscalls"): a
// nonblocking read(2) of an eventfd's counter, which replay compares with the model's count.

import { describe, expect, it } from 'vitest';
import { EventFd } from '../../src/kernel/eventfd.js';
import { EAGAIN } from '../../src/uapi/errno.js';
import { readTrace } from '../../src/trace/reader.js';
import { replayTrace } from '../../src/trace/replay.js';

const HEADER = '{"trace":"vfio-trace/1","kernel":"6.1.0-57-amd64","arch":"x86_64","platform":{"preset":"qemu-q35-vtd","options":{"intremap":"on"}},"source":"test"}';

function replay(...events: string[]) {
  const text = [HEADER, ...events].join('\n') + '\n';
  return replayTrace(readTrace(text, 't.jsonl'), 't.jsonl').results.map((r) => ({ line: r.line, status: r.status, diffs: r.diffs }));
}

describe('eventfd-read', () => {
  // Rule: nothing signalled, the nonblocking read is EAGAIN (11).
  it('EAGAIN at 0', () => {
    expect(replay('{"op":"eventfd","ret":3,"errno":0}', '{"op":"eventfd-read","fd":3,"ret":-1,"errno":11}')).toEqual([
      { line: 2, status: 'match', diffs: [] },
      { line: 3, status: 'match', diffs: [] },
    ]);
  });

  // Rule: a recorded delivery the model did not make is a difference in ret, errno and value.
  it('a delivery the model lacks', () => {
    expect(replay('{"op":"eventfd","ret":3,"errno":0}', '{"op":"eventfd-read","fd":3,"value":"0x2","ret":8,"errno":0}')[1]).toEqual({
      line: 3,
      status: 'differs',
      diffs: [
        { field: 'errno', recorded: '0', model: '11' },
        { field: 'ret', recorded: '8', model: '-1' },
      ],
    });
  });

  // Rule: a closed fd is EBADF in the model as in the kernel.
  it('EBADF', () => {
    expect(replay('{"op":"eventfd-read","fd":9,"ret":-1,"errno":9}')).toEqual([{ line: 2, status: 'match', diffs: [] }]);
  });

  // Rule: the read returns the signals since the last read and resets the counter.
  it('counts since the last read', () => {
    const e = new EventFd();
    e.signal();
    e.signal();
    expect(e.read8()).toBe(2n);
    expect(e.read8()).toBe(-EAGAIN);
  });
});
