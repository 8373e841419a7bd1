// `vfio-emu completion bash|zsh|fish`: each script is valid in its shell and offers what the
// program has: commands, options, eras from `vfio-emu kernels`, presets and their options
// from `vfio-emu platforms`, request names for decode, help topics, scenario files.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ERAS } from '../../src/kernel/era.js';
import { presets } from '../../src/hw/presets.js';
import { buildProgram } from '../../src/cli/main.js';
import { cli, env, tmp } from './run-cli.js';

const has = (shell: string): boolean => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

// `vfio-emu` on PATH, as the scripts call it, running this tree's build.
const binDir = join(tmp, 'bin');
mkdirSync(binDir, { recursive: true });
writeFileSync(join(binDir, 'vfio-emu'), `#!/bin/sh\nexec "${process.execPath}" "${resolve('bin/vfio-emu.cjs')}" "$@"\n`);
chmodSync(join(binDir, 'vfio-emu'), 0o755);
const shellEnv = { ...env, PATH: `${binDir}:${env.PATH ?? ''}` };

function script(shell: string): string {
  const r = cli(['completion', shell]);
  expect(r.status).toBe(0);
  const f = join(tmp, `completion.${shell}`);
  writeFileSync(f, r.stdout);
  return f;
}

function sh(shell: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(shell, args, { env: shellEnv, encoding: 'utf8', cwd: 'scenarios' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const ERA_NAMES = [...ERAS.keys()].sort();
/** What --platform takes: each preset, and each PRESET,option=value. */
const PLATFORM_WORDS = presets()
  .flatMap((p) => [p.name, ...Object.entries(p.options).flatMap(([k, o]) => o.values.map((v) => `${p.name},${k}=${v}`))])
  .sort();
const COMMANDS = buildProgram().commands.map((c) => c.name()).sort();

/** What every shell offers at the end of each line (words as the shell lists them, sorted). */
const OFFERS: [line: string, offered: string[]][] = [
  ['vfio-emu run --', ['--help', '--json', '--kernel', '--platform', '--trace']],
  ['vfio-emu run --kernel ', ERA_NAMES],
  ['vfio-emu check --platform ', PLATFORM_WORDS],
  ['vfio-emu run --platform qemu-virt-smmuv3,', ['qemu-virt-smmuv3,gic=v2', 'qemu-virt-smmuv3,gic=v3']],
  ['vfio-emu decode --fd ', ['container', 'device', 'group']],
  ['vfio-emu decode GET_IRQ', ['GET_IRQ_INFO']],
  ['vfio-emu help t', ['trace']],
];

/**
 * What every shell's script must do: parse (`SHELL -n`), and offer OFFERS, then `commands`
 * after `vfio-emu ` and `files` for `run seeds/000-allow` (as the shell lists them), then
 * whatever `more` checks.
 */
function shellTests(shell: string, f: string, offers: (line: string) => string[], commands: string[], files: string[], more = (): void => {}): void {
  test('syntax', () => {
    expect(sh(shell, ['-n', f]).status).toBe(0);
  });

  test('offers', () => {
    for (const [line, offered] of OFFERS) expect(offers(line), line).toEqual(offered);
    expect(offers('vfio-emu ')).toEqual(commands);
    expect(offers('vfio-emu run seeds/000-allow')).toEqual(files);
    more();
  });
}

const SEED_FILES = ['seeds/000-allow-unsafe-delivered.vfio', 'seeds/000-allow-unsafe.vfio'];

// An unknown shell is a usage error that names the shells.
test('unknown shell', () => {
  const r = cli(['completion', 'tcsh']);
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('unknown shell "tcsh": expected one of bash, zsh, fish\n');
});

/** The words bash hands a completion function for `line`: split at blanks, and around `=`. */
function bashWords(line: string): string[] {
  return line.split(' ').flatMap((w) => w.split(/(=)/));
}

describe('bash', () => {
  const f = script('bash');
  /** What the completion function offers at the end of `line`. */
  const offers = (line: string): string[] => {
    const q = bashWords(line).map((w) => `'${w}'`).join(' ');
    const words = bashWords(line);
    const r = sh('bash', ['-c', `source '${f}'; COMP_LINE='${line}'; COMP_POINT=${line.length}; COMP_WORDS=(${q}); COMP_CWORD=${words.length - 1}; _vfio_emu; printf '%s\\n' "\${COMPREPLY[@]}"`]);
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter((l) => l !== '').sort();
  };

  shellTests('bash', f, offers, [...COMMANDS, '--help', '--version', '-V', '-h'].sort(), SEED_FILES, () => {
    // After the "=" bash splits at, only what follows it.
    expect(offers('vfio-emu run --platform qemu-virt-smmuv3,gic=')).toEqual(['v2', 'v3']);
    expect(offers('vfio-emu decode GET_INFO ')).toEqual([]);
    expect(offers('vfio-emu completion ')).toEqual(['bash', 'fish', 'zsh']);
  });
});

describe.skipIf(!has('fish'))('fish', () => {
  const f = script('fish');
  const offers = (line: string): string[] => {
    const r = sh('fish', ['-c', `source '${f}'; complete -C '${line}'`]);
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]!).sort();
  };

  shellTests('fish', f, offers, COMMANDS, SEED_FILES);
});

// zsh's completion system, driven in a pseudo-terminal: a TAB after the line, with compadd
// replaced by one that prints the words it would offer, and the shell leaving once the
// completion is done (comppostfuncs), so the output is read to its end, without sleeps.
const ZSH_DRIVER = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PROMPT=; RPROMPT=; autoload -Uz compinit; compinit -u -d "$ZCOMPDUMP"; source "$COMPLETION_SCRIPT"'
zpty -w z 'compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "$@"; return; fi; local -a hits; builtin compadd -A hits "$@"; print -rl -- \${hits/#/HI""T:}; }'
zpty -w z 'finish() { exit; }; comppostfuncs=(finish)'
zpty -w -n z "$1"$'\\t'
out=
while zpty -r z chunk; do out+=$chunk; done
print -r -- "$out" | tr -d '\\r' | grep -ao 'HIT:.*' | sed 's/^HIT://' | sort -u
`;

describe.skipIf(!has('zsh'))('zsh', () => {
  const f = script('zsh');
  const driver = join(tmp, 'zsh-driver.zsh');
  writeFileSync(driver, ZSH_DRIVER);
  const offers = (line: string): string[] => {
    const r = spawnSync('zsh', ['-f', driver, line], { env: { ...shellEnv, COMPLETION_SCRIPT: resolve(f), ZCOMPDUMP: join(tmp, 'zcompdump') }, encoding: 'utf8', cwd: 'scenarios', timeout: 60_000 });
    return r.stdout.split('\n').filter((l) => l !== '').sort();
  };

  // zsh lists a file by its name in the folder being completed.
  shellTests('zsh', f, offers, COMMANDS, SEED_FILES.map((p) => p.replace('seeds/', '')));
});
