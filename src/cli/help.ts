// `vfio-emu help [TOPIC]`: the references in docs/ (the scenario language, the trace format)
// and each command's own help, by name. `help` alone lists the topics; an unknown topic is a
// usage error that lists them.
//
// The documents are read at run time from the installed package (package.json "files" ships
// docs/), so `help scenario` prints the same text the repository shows.

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../lib/user-error.js';
import { writeOut } from './out.js';

/** The topics that are documents, and where each lives in the package. */
export const DOC_TOPICS: ReadonlyMap<string, { file: string; summary: string }> = new Map([
  ['scenario', { file: 'docs/scenario-language.md', summary: 'the scenario language (.vfio files): commands, values, expectations, output' }],
  ['trace', { file: 'docs/trace-format.md', summary: 'vfio-trace/1, the JSON-lines trace format of --trace, replay and conformance' }],
]);

/** The package's name in its package.json: how the root is told from the folders around it. */
const PACKAGE_NAME = 'vfio-emu';

function isPackageRoot(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

function rootAbove(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (isPackageRoot(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The installed package's folder. The bundle (dist/vfio-emu.cjs) runs with __dirname = dist/;
 * the compiled tree and ts-node start from the executable's real path (npx runs it through a
 * symlink in node_modules/.bin).
 */
export function packageRoot(): string | undefined {
  const starts: string[] = [];
  if (typeof __dirname === 'string') starts.push(__dirname);
  if (process.argv[1]) {
    try {
      starts.push(dirname(realpathSync(process.argv[1])));
    } catch {
      // not a file (node -e): no start there
    }
  }
  for (const s of starts) {
    const root = rootAbove(s);
    if (root) return root;
  }
  return undefined;
}

/** A document of the package, by its path in the package. */
export function readDoc(file: string): string {
  const root = packageRoot();
  const path = root ? join(root, file) : undefined;
  if (!path || !existsSync(path)) throw new UserError(`${file} is missing from this installation of vfio-emu`);
  return readFileSync(path, 'utf8');
}

/** Every topic: the documents first, then the commands, in the program's order. */
export function topicNames(program: Command): string[] {
  return [...DOC_TOPICS.keys(), ...program.commands.map((c) => c.name())];
}

/** The text `help TOPIC` prints (`help` alone: the list of topics). */
export function helpText(program: Command, topic?: string): string {
  if (topic === undefined) {
    const rows: [string, string][] = [
      ...[...DOC_TOPICS].map(([name, d]): [string, string] => [name, d.summary]),
      ...program.commands.map((c): [string, string] => [c.name(), c.description()]),
    ];
    const width = Math.max(...rows.map(([n]) => n.length)) + 2;
    return [
      'Usage: vfio-emu help TOPIC',
      '',
      'Topics:',
      ...rows.map(([n, d]) => `  ${n.padEnd(width)}${d}`),
      '',
      'The same references are in docs/ of the package, and the commands in `man vfio-emu`.',
      '',
    ].join('\n');
  }
  const doc = DOC_TOPICS.get(topic);
  if (doc) return readDoc(doc.file);
  const cmd = program.commands.find((c) => c.name() === topic);
  if (cmd) return cmd.helpInformation();
  throw new UserError(`unknown topic "${topic}": expected one of ${topicNames(program).join(', ')}`);
}

/** Replaces commander's `help [command]` with `help [topic]`. */
export function addHelpCommand(program: Command): void {
  program.helpCommand(false);
  program
    .command('help')
    .description('print a reference (scenario, trace) or a command\'s help; alone, list the topics')
    .argument('[topic]', 'scenario, trace, or a command name')
    .action((topic: string | undefined) => {
      writeOut(helpText(program, topic));
    });
  program.addHelpText('after', '\nReferences: `vfio-emu help scenario` (the language), `vfio-emu help trace` (vfio-trace/1), `vfio-emu help` (all topics).\n');
}
