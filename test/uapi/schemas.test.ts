// The zod schema of ioctl text arguments: it owns the shape (known keys), and asks the value
// checker it is given for each value, so there is one value grammar and its messages.

import { describe, expect, it } from 'vitest';
import { resolveEra } from '../../src/kernel/era.js';
import { resolveRequest } from '../../src/uapi/requests.js';
import { argsSchema, type FieldCheck } from '../../src/uapi/schemas.js';

describe('argsSchema', () => {
  const era = resolveEra('6.12')!;
  const req = resolveRequest('MAP_DMA', 'container', 'type1')!;
  const check: FieldCheck = (_def, f, text) => (text === 'bad' ? `${f.name}: the checker's own message` : undefined);

  it('unknown keys are the schema’s', () => {
    const r = argsSchema(req, era, check).safeParse({ iova: '0', bogus: '1' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['bogus'] });
  });

  it('values are the checker’s, message and all', () => {
    const s = argsSchema(req, era, check);
    expect(s.safeParse({ iova: '0x1_0', size: '4K', flags: 'READ|WRITE' }).success).toBe(true);
    const r = s.safeParse({ iova: 'bad' });
    expect(r.error!.issues[0]).toMatchObject({ code: 'custom', path: ['iova'], message: "iova: the checker's own message" });
  });
});
