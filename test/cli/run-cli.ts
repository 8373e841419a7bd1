// Runs the built bundle as a user would (npm ci builds it), with colour off and without the
// sandbox's NODE_EXTRA_CA_CERTS start-up cost; scenario files go to a fresh temporary folder.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.NODE_EXTRA_CA_CERTS;

export function cli(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/vfio-emu.cjs', ...args], { env, input, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const tmp = mkdtempSync(join(tmpdir(), 'vfio-emu-'));

/** Writes a scenario file under `tmp`; returns its path. */
export function scenario(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}
