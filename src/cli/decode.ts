// `vfio-emu decode REQUEST HEX`: a buffer read through the same field tables the kernel model
// uses. Malformed buffers (short, cyclic or out-of-range capability chains) are described,
// never trusted.

import { LIMITS, sizeText } from '../lib/limits.js';
import { UserError } from '../lib/user-error.js';
import { DEFAULT_ERA, resolveEra } from '../kernel/era.js';
import { decodeFields, formatCap, structCaps } from '../uapi/display.js';
import { requestByNr, requestNames, resolveRequest } from '../uapi/requests.js';

export function decodeCommand(
  request: string,
  hex: string,
  o: { fd?: 'container' | 'group' | 'device'; kernel?: string; json?: boolean; backend?: string },
): string[] {
  const era = resolveEra(o.kernel ?? DEFAULT_ERA);
  if (!era) throw new UserError(`unknown kernel "${o.kernel}" (see vfio-emu kernels)`);
  const byNr = /^0x[0-9a-f]+$/i.test(request) && o.fd ? requestByNr(parseInt(request, 16), o.fd, o.backend) : undefined;
  const req = byNr ?? resolveRequest(request, o.fd, o.backend);
  if (!req) {
    throw new UserError(
      `unknown request "${request}"${o.fd ? ` for a ${o.fd} fd` : ' (a short name needs --fd container|group|device)'}: expected one of ${requestNames(o.fd, o.backend).join(', ')}`,
    );
  }
  const clean = hex.replace(/^0x/i, '').replace(/[\s_:]/g, '');
  if (clean.length > LIMITS.decodeHexDigits) {
    throw new UserError(`${clean.length} hex digits: expected a buffer of at most ${sizeText(LIMITS.decodeHexDigits / 2)}`);
  }
  // One character class, no repeated group: a backtracking group over megabytes of input
  // overflows the regex engine's stack.
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new UserError(`"${hex.length > 40 ? hex.slice(0, 40) + '…' : hex}" is not hex bytes (two hex digits per byte)`);
  }
  const buf = Uint8Array.from(Buffer.from(clean, 'hex'));
  if (!req.struct) {
    if (req.arg === 'string') return [`${req.name}: "${new TextDecoder().decode(buf.subarray(0, buf.indexOf(0) < 0 ? buf.length : buf.indexOf(0)))}"`];
    return [`${req.name} takes its argument by value; there is no buffer to decode`];
  }
  const fields = decodeFields(req.struct, era, buf);
  const chain = structCaps(req.struct, era, buf);
  if (o.json) {
    const caps = chain.caps.map((c) => ({
      offset: c.off,
      id: c.id,
      name: c.def?.name ?? null,
      version: c.version,
      next: c.next,
      fields: Object.fromEntries([...c.fields].map(([k, v]) => [k, `0x${v.toString(16)}`])),
      entries: c.entries.map((e) => Object.fromEntries([...e].map(([k, v]) => [k, `0x${v.toString(16)}`]))),
    }));
    return [JSON.stringify({ request: req.name, kernel: era.name, length: buf.length, fields, caps, problem: chain.problem ?? null })];
  }
  const lines = [`${req.name} (${req.struct.name}, ${buf.length} bytes, kernel ${era.name})`];
  for (const [k, v] of Object.entries(fields)) lines.push(`  ${k} = ${v}`);
  if (buf.length < req.struct.size) lines.push(`  (buffer shorter than the struct's ${req.struct.size} bytes: later fields absent)`);
  for (const c of chain.caps) lines.push(`  cap ${formatCap(c)} v${c.version} next=${c.next}`);
  if (chain.problem) lines.push(`  capability chain: ${chain.problem}`);
  return lines;
}
