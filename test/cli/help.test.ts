// `vfio-emu help [TOPIC]` and the man page: the references in docs/ and each command's help,
// made from the same definitions as --help.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { buildProgram, VERSION } from '../../src/cli/main.js';
import { manPage } from '../../src/cli/help-man.js';
import { cli } from './run-cli.js';

/** The documents, then the commands in the program's order. */
const TOPICS = ['scenario', 'trace', ...buildProgram().commands.map((c) => c.name())].join(', ');

describe('help', () => {
  // The documents, as the package holds them.
  test('help scenario, help trace', () => {
    const s = cli(['help', 'scenario']);
    expect(s.status).toBe(0);
    expect(s.stdout).toBe(readFileSync('docs/scenario-language.md', 'utf8'));
    const t = cli(['help', 'trace']);
    expect(t.status).toBe(0);
    expect(t.stdout).toBe(readFileSync('docs/trace-format.md', 'utf8'));
  });

  // A command's name is a topic: its --help.
  test('help COMMAND', () => {
    const h = cli(['help', 'decode']);
    expect(h.status).toBe(0);
    expect(h.stdout).toBe(cli(['decode', '--help']).stdout);
    expect(h.stdout.split('\n')[0]).toBe('Usage: vfio-emu decode [options] <request> <hex>');
  });

  // Alone: every topic, documents first.
  test('help lists the topics', () => {
    const h = cli(['help']);
    expect(h.status).toBe(0);
    const names = h.stdout.split('\n').filter((l) => /^  \S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(names.join(', ')).toBe(TOPICS);
  });

  // An unknown topic is bad usage, and says which topics there are.
  test('unknown topic', () => {
    const h = cli(['help', 'scenarios']);
    expect(h.status).toBe(2);
    expect(h.stdout).toBe('');
    expect(h.stderr).toBe(`unknown topic "scenarios": expected one of ${TOPICS}\n`);
  });

  // --help points at the references.
  test('--help names the topics', () => {
    expect(cli(['--help']).stdout).toContain('`vfio-emu help scenario` (the language), `vfio-emu help trace` (vfio-trace/1)');
  });
});

describe('man page', () => {
  const page = readFileSync('man/vfio-emu.1', 'utf8');

  // The built page is the one the program's definitions make.
  test('generated from the command definitions', () => {
    expect(page).toBe(manPage(buildProgram(), VERSION));
  });

  // Every command and every long option is in it.
  test('every command and option', () => {
    const p = buildProgram();
    for (const c of p.commands) {
      expect(page).toContain(`.SS\n\\fBvfio\\-emu ${c.name()}\\fR`);
      for (const o of c.options) expect(page).toContain(`\\fB${o.long!.replace(/-/g, '\\-')}\\fR`);
    }
  });

  // groff reads it without a warning.
  test.skipIf(spawnSync('sh', ['-c', 'command -v groff']).status !== 0)('valid roff', () => {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', 'man/vfio-emu.1'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
