// The man page, vfio-emu(1), made from the program's command and option definitions (the ones
// --help prints) by scripts/man.mjs at build time, so the two cannot disagree.

import type { Argument, Command, Option } from 'commander';
import { DOC_TOPICS } from './help.js';

/**
 * Text in roff: backslashes, hyphens as minus signs, no control word at a line start, and
 * anything outside ASCII (…, —) as a Unicode escape, which every troff reads.
 */
function roff(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

const bold = (s: string): string => `\\fB${roff(s)}\\fR`;
const italic = (s: string): string => `\\fI${roff(s)}\\fR`;

function argumentUsage(a: Argument): string {
  const name = italic(a.name() + (a.variadic ? '…' : ''));
  return a.required ? name : `[${name}]`;
}

function optionEntry(o: Option): string[] {
  const names = [o.short, o.long].filter((n): n is string => n !== undefined).map(bold).join(', ');
  const value = o.required || o.optional ? ` ${italic(o.flags.replace(/^.*?[ ,]*[<[]/, '').replace(/[>\]]$/, ''))}` : '';
  const choices = o.argChoices ? ` (one of ${o.argChoices.map(bold).join(', ')})` : '';
  return ['.TP', `${names}${value}`, `${roff(o.description)}${choices}`];
}

function commandSection(c: Command): string[] {
  const args = c.registeredArguments.map(argumentUsage).join(' ');
  const lines = ['.SS', `${bold(`vfio-emu ${c.name()}`)}${c.options.length ? ' [options]' : ''}${args ? ` ${args}` : ''}`, roff(c.description())];
  for (const a of c.registeredArguments) {
    if (a.description) lines.push('.TP', argumentUsage(a), roff(a.description));
  }
  for (const o of c.options) if (!o.hidden) lines.push(...optionEntry(o));
  return lines;
}

export function manPage(program: Command, version: string): string {
  const lines = [
    `.TH VFIO\\-EMU 1 "" "vfio\\-emu ${roff(version)}" "User Commands"`,
    '.SH NAME',
    `vfio\\-emu \\- ${roff(program.description().replace(/^Emulates/, 'emulates'))}`,
    '.SH SYNOPSIS',
    `${bold('vfio-emu')} ${italic('command')} [${italic('options')}] [${italic('arguments')}]`,
    '.br',
    `${bold('vfio-emu help')} [${italic('topic')}]`,
    '.SH DESCRIPTION',
    roff(
      'vfio-emu plays scenarios (.vfio files: a kernel era, a platform, then system calls, hardware actions and expectations) ' +
        'against a model of the kernel and the hardware, and replays vfio-trace/1 recordings of real kernels against it. ' +
        'Every ioctl handler takes the user buffer as bytes and writes back exactly the bytes the kernel writes.',
    ),
    '.PP',
    roff(
      `The scenario language is described by ${'`vfio-emu help scenario`'}, the trace format by ${'`vfio-emu help trace`'}; ` +
        `both are in the package's docs/ folder (${[...DOC_TOPICS.values()].map((d) => d.file).join(', ')}).`,
    ),
    '.SH COMMANDS',
    ...program.commands.flatMap(commandSection),
    '.SH OPTIONS',
    ...program.options.flatMap(optionEntry),
    '.SH EXIT STATUS',
    '.TP',
    bold('0'),
    'all good',
    '.TP',
    bold('1'),
    roff('an expectation failed, or a replay differs'),
    '.TP',
    bold('2'),
    roff('bad usage or a scenario error (file:line:col: message on stderr, never a stack trace)'),
    '.SH ENVIRONMENT',
    '.TP',
    bold('NO_COLOR'),
    roff('set: no colours'),
    '.TP',
    bold('FORCE_COLOR'),
    roff('0 to 3: that colour level even when stdout is not a terminal'),
    '.TP',
    bold('VFIO_EMU_DEBUG'),
    roff('set: an internal error also prints its stack'),
    '.SH EXAMPLES',
    '.nf',
    roff('vfio-emu run scenarios/seeds/000-doorbell-safety-v2m.vfio'),
    roff('vfio-emu check scenarios/ --reporter junit --out report.xml'),
    roff('vfio-emu decode VFIO_IOMMU_GET_INFO 74000000030000000010204000000000 --kernel 6.1'),
    roff('vfio-emu completion bash > ~/.local/share/bash-completion/completions/vfio-emu'),
    '.fi',
    '.SH SEE ALSO',
    roff('vfio-emu help scenario, vfio-emu help trace, vfio-emu platforms, vfio-emu kernels'),
    '',
  ];
  return lines.join('\n');
}
