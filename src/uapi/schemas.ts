// zod schemas for the text arguments of each ioctl, derived from the field tables: which
// `field=value` keys a request takes (no unknown key, each a text). What a value must look
// like is not re-stated here: the schema asks the caller's value checker, which runs the one
// number / flag / name grammar (script/values.ts, through script/ioctl-args.ts), so a bad
// value gets that parser's message ("unknown … flag "FOO" …: expected READ, WRITE…").

import * as z from 'zod/mini';
import type { UapiLayout } from './layout.js';
import type { RequestDef } from './requests.js';
import { allFields, type FieldDef, type StructDef } from './struct.js';

/** Checks one field's text: undefined when it is good, else what is wrong with it. */
export type FieldCheck = (def: StructDef, f: FieldDef, text: string, era: UapiLayout) => string | undefined;

function valueSchema(def: StructDef, f: FieldDef, era: UapiLayout, check: FieldCheck): z.ZodMiniType<string> {
  return z.string().check(
    z.superRefine((s: string, ctx) => {
      const problem = check(def, f, s, era);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: s });
    }),
  );
}

/** SET_IRQS's data list: entries separated by single commas. */
export const IRQ_DATA_RE = /^[^,]+(,[^,]+)*$/;

type ArgsSchema = z.ZodMiniType<Record<string, string>>;
const cache = new WeakMap<FieldCheck, WeakMap<UapiLayout, Map<RequestDef, ArgsSchema>>>();

/**
 * The schema of a struct request's `field=value` arguments (`raw=HEX` is handled before);
 * `check` judges each value.
 */
export function argsSchema(req: RequestDef, era: UapiLayout, check: FieldCheck): ArgsSchema {
  let byEra = cache.get(check);
  if (!byEra) cache.set(check, (byEra = new WeakMap()));
  let byReq = byEra.get(era);
  if (!byReq) byEra.set(era, (byReq = new Map()));
  const hit = byReq.get(req);
  if (hit) return hit;
  const def = req.struct!;
  const shape: Record<string, z.ZodMiniOptional<z.ZodMiniType<string>>> = {};
  for (const f of allFields(def)) if (f.role !== 'pad') shape[f.name] = z.optional(valueSchema(def, f, era, check));
  if (def.tail === 'irq-data') {
    shape.data = z.optional(
      z.string().check(z.regex(IRQ_DATA_RE, { message: 'expected a list: eventfds (efd0,efd1, -1 for none) or bools (1,0)' })),
    );
  }
  const s = z.strictObject(shape) as unknown as ArgsSchema;
  byReq.set(req, s);
  return s;
}
