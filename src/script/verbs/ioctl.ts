// `ioctl FD REQUEST [ARG] [field=value …] [raw=HEX]`: the request by name (the fd's kind and
// the container's backend decide which table) or by number, its argument built by
// ioctl-args.ts.

import { didYouMean } from '../../lib/did-you-mean.js';
import type { FileKind } from '../../kernel/file.js';
import { VfioContainer } from '../../kernel/vfio/container.js';
import { KStruct } from '../../uapi/struct.js';
import { requestByNr, requestNames, resolveRequest, type RequestDef } from '../../uapi/requests.js';
import type { Word } from '../ast.js';
import type { Binding } from '../names.js';
import { buildIoctlArg } from '../ioctl-args.js';
import { parseU32 } from '../values.js';
import { failAt, quote } from '../where.js';
import type { VerbHandler } from './verb.js';

const NO_WORDS: readonly Word[] = [];
const bindFd = (v: bigint): Binding => ({ kind: 'fd', fd: Number(v), file: 'device' });
const bindValue = (v: bigint): Binding => ({ kind: 'value', value: v });

export const ioctl: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel, proc, era } = ctx.machine(cmd);
    const pos = cmd.positional;
    const fdW = pos[0];
    const reqW = pos[1];
    if (!fdW || !reqW) return failAt(cmd.verbPos, 'ioctl takes an fd and a request, e.g. ioctl container GET_INFO');
    const args = pos.length > 2 ? pos.slice(2) : (NO_WORDS as Word[]);
    const fd = ctx.names.fd(fdW);
    const file = proc.file(fd);
    const kind = (file?.ops.kind ?? ctx.names.fdKindOf(fdW)) as FileKind | undefined;
    const backend = file?.ops instanceof VfioContainer ? file.ops.driver?.backend : undefined;
    const req = requestOf(reqW, kind, backend);
    const built = buildIoctlArg(req, cmd, args, era, ctx.names);
    const buf = built.arg.buf;
    // The buffer as passed is shown (strace, --trace, why); nothing else reads it. The buffer
    // is the call's own, so what the kernel left in it needs no copy.
    const before = buf && ctx.watched ? buf.slice() : undefined;
    const result = kernel.ioctl(proc, fd, req.nr, built.arg);
    // `as NAME` names the new fd: the return value, or the struct field the kernel wrote it to.
    const outFd = req.outFd && req.struct && buf ? req.outFd : undefined;
    const bindOut = outFd && buf ? (): Binding => ({ kind: 'fd', fd: Number(KStruct.fromUser(req.struct!, buf, buf.length)?.get(outFd.field) ?? -1n), file: outFd.kind }) : undefined;
    return {
      call: { op: 'ioctl', fd, req, arg: built.arg.value, before, after: buf },
      result,
      binds: req.returnsFd ? bindFd : (bindOut ?? bindValue),
    };
  },
};

/** The request word resolved last, and for what: a run of MAP_DMAs names one request. */
let lastReq: { text: string; kind: FileKind | undefined; backend: string | undefined; req: RequestDef } | undefined;

function requestOf(w: Word, kind: FileKind | undefined, backend?: string): RequestDef {
  const fdKind = kind === 'container' || kind === 'group' || kind === 'device' || kind === 'iommufd' ? kind : undefined;
  const l = lastReq;
  if (l && l.text === w.text && l.kind === fdKind && l.backend === backend) return l.req;
  const req = resolveRequest(w.text, fdKind, backend);
  if (req) {
    lastReq = { text: w.text, kind: fdKind, backend, req };
    return req;
  }
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
