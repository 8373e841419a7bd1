// `ioctl FD REQUEST [ARG] [field=value …] [raw=HEX]`: the request by name (the fd's kind and
// the container's backend decide which table) or by number, its argument built by
// ioctl-args.ts.

import { didYouMean } from '../../lib/did-you-mean.js';
import type { FileKind } from '../../kernel/file.js';
import { VfioContainer } from '../../kernel/vfio/container.js';
import { requestByNr, requestNames, resolveRequest, type RequestDef } from '../../uapi/requests.js';
import type { Word } from '../ast.js';
import { buildIoctlArg } from '../ioctl-args.js';
import { parseU32 } from '../values.js';
import { failAt, quote } from '../where.js';
import type { VerbHandler } from './verb.js';

export const ioctl: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc, era } = ctx.machine(cmd);
    const [fdW, reqW, ...args] = cmd.positional;
    if (!fdW || !reqW) return failAt(cmd.verbPos, 'ioctl takes an fd and a request, e.g. ioctl container GET_INFO');
    const fd = ctx.names.fd(fdW);
    const file = proc.file(fd);
    const kind = (file?.ops.kind ?? ctx.names.fdKindOf(fdW)) as FileKind | undefined;
    const backend = file?.ops instanceof VfioContainer ? file.ops.driver?.backend : undefined;
    const req = requestOf(reqW, kind, backend);
    const built = buildIoctlArg(req, cmd, args, era, ctx.names);
    const result = kernel.ioctl(proc, fd, req.nr, built.arg);
    return {
      call: { op: 'ioctl', fd, req, arg: built.arg.value, before: built.before, after: built.arg.buf?.slice() },
      result,
      binds: req.returnsFd ? (v) => ({ kind: 'fd', fd: Number(v), file: 'device' }) : (v) => ({ kind: 'value', value: v }),
    };
  },
};

function requestOf(w: Word, kind: FileKind | undefined, backend?: string): RequestDef {
  const fdKind = kind === 'container' || kind === 'group' || kind === 'device' || kind === 'iommufd' ? kind : undefined;
  const req = resolveRequest(w.text, fdKind, backend);
  if (req) return req;
  // A bare request number: the kind of fd decides what it means, as in the kernel; one the
  // table does not know is passed by value (how a probe tests an unknown ioctl).
  if (!w.quoted && /^[-0-9]/.test(w.text)) {
    const nr = parseU32(w, 'the request');
    const known = fdKind ? requestByNr(nr, fdKind, backend) : undefined;
    return known ?? { name: `0x${nr.toString(16)}`, short: `0x${nr.toString(16)}`, nr, fd: fdKind ?? 'container', arg: 'unknown' };
  }
  const known = requestNames(fdKind, backend).map((n) => n.replace(/^VFIO_/, ''));
  return failAt(w.pos, `unknown request ${quote(w.text)}${fdKind ? ` for ${fdKind === 'iommufd' ? 'an' : 'a'} ${fdKind} fd` : ''}: expected one of ${known.join(', ')}${didYouMean(w.text.replace(/^VFIO_/i, ''), [...known, ...known.map((n) => n.replace(/^(IOMMU|GROUP|DEVICE)_/, ''))])}`);
}
