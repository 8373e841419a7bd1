// zod schemas for the text arguments of each ioctl, derived from the field tables: which
// `field=value` keys a request takes, and what each value must look like (a number, a name
// from the field's flag or value table, or a NAME bound earlier). Exact values (bigint, with
// positions for messages) are parsed afterwards by script/values.ts; the schema's job is to
// say in the user's terms what a request accepts.

import * as z from 'zod/mini';
import type { Era } from '../kernel/era.js';
import { fieldFlags } from './display.js';
import type { RequestDef } from './requests.js';
import { VFIO_IRQ_SET } from './structs.js';
import { allFields, type FieldDef, type StructDef } from './struct.js';

/** A number (decimal, 0x hex, _ separators, K/M/G/T suffix) or NAME / NAME+OFFSET. */
const NUMBER_OR_NAME = /^(?:-1|(?:(?:0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)[KMGTkmgt]?|[A-Za-z_][A-Za-z0-9_]*(?:\+(?:0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)[KMGTkmgt]?)?))$/;

function valueSchema(def: StructDef, f: FieldDef, era: Era): z.ZodMiniType<string> {
  const flags = fieldFlags(def, f, era);
  if (flags) {
    const names = flags.bits.map(([n]) => n);
    const part = new RegExp(
      `^(?:(?:${flags.prefix})?(?:${names.join('|')})|0[xX][0-9a-fA-F]+|[0-9]+)$`,
      'i',
    );
    return z.string().check(
      z.refine((s) => s.replace(/\\\|/g, '|').split('|').every((p) => part.test(p)), {
        message: `expected flags from ${names.join('|')} (with or without ${flags.prefix}), or a number`,
      }),
    );
  }
  if (f.values) {
    const names = f.values.bits.map(([n]) => n);
    return z.string().check(
      z.refine((s) => names.includes(s.toUpperCase().replace(new RegExp(`^${f.values!.prefix}`, 'i'), '')) || NUMBER_OR_NAME.test(s), {
        message: `expected one of ${names.join(', ')}, or a number`,
      }),
    );
  }
  return z.string().check(
    z.regex(NUMBER_OR_NAME, { message: 'expected a number (64K, 0x1000, 4096) or a NAME bound with "as"' }),
  );
}

const cache = new WeakMap<Era, Map<RequestDef, z.ZodMiniType<Record<string, string>>>>();

/** The schema of a struct request's `field=value` arguments (`raw=HEX` is handled before). */
export function argsSchema(req: RequestDef, era: Era): z.ZodMiniType<Record<string, string>> {
  let byReq = cache.get(era);
  if (!byReq) cache.set(era, (byReq = new Map()));
  const hit = byReq.get(req);
  if (hit) return hit;
  const def = req.struct!;
  const shape: Record<string, z.ZodMiniOptional<z.ZodMiniType<string>>> = {};
  for (const f of allFields(def)) if (f.role !== 'pad') shape[f.name] = z.optional(valueSchema(def, f, era));
  if (def === VFIO_IRQ_SET) {
    shape.data = z.optional(
      z.string().check(z.regex(/^[^,]+(,[^,]+)*$/, { message: 'expected a list: eventfds (efd0,efd1, -1 for none) or bools (1,0)' })),
    );
  }
  const s = z.strictObject(shape) as unknown as z.ZodMiniType<Record<string, string>>;
  byReq.set(req, s);
  return s;
}
