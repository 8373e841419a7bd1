// `vfio-emu completion bash|zsh|fish`: shell completion scripts made from the program's own
// command and option definitions (the ones --help prints), so they cannot drift from it.
//
// What each shell completes: the commands; each command's options; the values of options with
// choices (--fd, --backend, --reporter); --kernel from `vfio-emu kernels` and --platform
// (PRESET or PRESET,option=value) from `vfio-emu platforms`, asked at completion time of the
// vfio-emu being completed; request names for `decode`; help topics; and files by kind
// (*.vfio for run and check, *.jsonl for replay, folders for conformance).

import type { Command, Option } from 'commander';
import { UserError } from '../lib/user-error.js';
import { REQUESTS } from '../uapi/requests.js';
import { topicNames } from './help.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** Where an option's value comes from. */
type ValueSource = { kind: 'choices'; values: string[] } | { kind: 'kernels' } | { kind: 'platforms' } | { kind: 'file' };

/** What a command's positional words are. */
type Positional = 'scenarios' | 'traces' | 'dirs' | 'request' | 'topic' | 'shell' | 'none' | 'files';

interface OptionSpec {
  long: string;
  short?: string;
  description: string;
  value?: ValueSource;
}

interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  positional: Positional;
}

/** What each command's arguments are, by command name (commander knows only their names). */
const POSITIONAL: ReadonlyMap<string, Positional> = new Map<string, Positional>([
  ['run', 'scenarios'],
  ['check', 'scenarios'],
  ['replay', 'traces'],
  ['conformance', 'dirs'],
  ['decode', 'request'],
  ['help', 'topic'],
  ['completion', 'shell'],
  ['platforms', 'none'],
  ['kernels', 'none'],
]);

function valueSource(o: Option): ValueSource | undefined {
  if (!o.required && !o.optional) return undefined;
  if (o.argChoices) return { kind: 'choices', values: [...o.argChoices] };
  if (o.long === '--kernel') return { kind: 'kernels' };
  if (o.long === '--platform') return { kind: 'platforms' };
  return { kind: 'file' };
}

function optionSpecs(c: Command): OptionSpec[] {
  const specs: OptionSpec[] = c.options
    .filter((o) => o.long !== undefined && !o.hidden)
    .map((o) => {
      const s: OptionSpec = { long: o.long!, description: o.description };
      if (o.short) s.short = o.short;
      const v = valueSource(o);
      if (v) s.value = v;
      return s;
    });
  return [...specs, { long: '--help', short: '-h', description: 'display help for command' }];
}

/** The program's commands and options as the scripts need them. */
export function commandSpecs(program: Command): CommandSpec[] {
  return program.commands.map((c) => ({
    name: c.name(),
    description: c.description(),
    options: optionSpecs(c),
    positional: POSITIONAL.get(c.name()) ?? 'files',
  }));
}

/** Every request name `decode` takes: VFIO_…, without VFIO_, and the short forms (with --fd). */
function requestWords(): string[] {
  return [...new Set(REQUESTS.flatMap((r) => [r.name, r.name.replace(/^VFIO_/, ''), r.short, ...(r.aliases ?? [])]))].sort();
}

/** Every value-taking option, once (the same long name means the same values in every command). */
function valueOptions(specs: CommandSpec[]): OptionSpec[] {
  const seen = new Map<string, OptionSpec>();
  for (const c of specs) for (const o of c.options) if (o.value && !seen.has(o.long)) seen.set(o.long, o);
  return [...seen.values()];
}

export function completionScript(program: Command, shell: string): string {
  const specs = commandSpecs(program);
  const topics = topicNames(program);
  switch (shell as Shell) {
    case 'bash':
      return bashScript(specs, topics);
    case 'zsh':
      return zshScript(specs, topics);
    case 'fish':
      return fishScript(specs, topics);
    default:
      throw new UserError(`unknown shell "${shell}": expected one of ${SHELLS.join(', ')}`);
  }
}

/**
 * An awk program over `vfio-emu platforms`: each preset (a line that starts it) and each
 * `PRESET,option=value` its `  option NAME=V1|V2 …` lines allow, as --platform takes them.
 * Written with double quotes only inside, so each shell can single-quote it.
 */
const PLATFORM_WORDS_AWK =
  '/^[^ ]/ { p = $1; print p } /^  option / { split($2, kv, "="); n = split(kv[2], v, "|"); for (i = 1; i <= n; i++) print p "," kv[1] "=" v[i] }';

// ---- bash ---------------------------------------------------------------------------------------

/** A word list for compgen -W: the names are plain (letters, digits, _ . - |), so no quoting inside. */
const words = (list: readonly string[]): string => list.join(' ');

function bashValues(v: ValueSource): string {
  switch (v.kind) {
    case 'choices':
      return `COMPREPLY=($(compgen -W "${words(v.values)}" -- "$cur"))`;
    case 'kernels':
      return 'COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" kernels 2>/dev/null | cut -d" " -f1)" -- "$cur"))';
    case 'platforms':
      // Handled before this case: see bashScript (the value holds `=`, where bash splits words).
      return ':';
    case 'file':
      return 'COMPREPLY=($(compgen -f -- "$cur"))';
  }
}

function bashPositional(p: Positional, topics: string[]): string {
  switch (p) {
    case 'scenarios':
      return `COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.vfio' -- "$cur"))`;
    case 'traces':
      return `COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.jsonl' -- "$cur"))`;
    case 'dirs':
      return 'COMPREPLY=($(compgen -d -- "$cur"))';
    case 'request':
      return `(( npos == 0 )) && COMPREPLY=($(compgen -W "${words(requestWords())}" -- "$cur"))`;
    case 'topic':
      return `(( npos == 0 )) && COMPREPLY=($(compgen -W "${words(topics)}" -- "$cur"))`;
    case 'shell':
      return `(( npos == 0 )) && COMPREPLY=($(compgen -W "${words(SHELLS)}" -- "$cur"))`;
    case 'none':
      return 'COMPREPLY=()';
    case 'files':
      return 'COMPREPLY=($(compgen -f -- "$cur"))';
  }
}

function bashScript(specs: CommandSpec[], topics: string[]): string {
  const valued = valueOptions(specs);
  const flagsOf = (c: CommandSpec) => c.options.flatMap((o) => (o.short ? [o.short, o.long] : [o.long]));
  return `# bash completion for vfio-emu. Load it with
#   source <(vfio-emu completion bash)
# or save it as ~/.local/share/bash-completion/completions/vfio-emu
_vfio_emu() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local cmd= i=1 npos=0
  # The command is the first word that is not an option.
  while (( i < COMP_CWORD )); do
    case \${COMP_WORDS[i]} in
      -*) ;;
      *) cmd=\${COMP_WORDS[i]}; break ;;
    esac
    (( i++ ))
  done
  # Positional words given after the command (option values are not).
  for (( i++; i < COMP_CWORD; i++ )); do
    case \${COMP_WORDS[i]} in
      ${valued.map((o) => o.long).join('|')}) (( i++ )) ;;
      -*) ;;
      *) (( npos++ )) ;;
    esac
  done
  # --platform PRESET,opt=value: bash splits that word at "=", so the whole word and the
  # option before it come from the line itself; what is offered is the part after the split.
  local line=\${COMP_LINE:0:COMP_POINT} word before
  word=\${line##*[[:space:]]}
  before=\${line%"$word"}
  before=\${before%"\${before##*[![:space:]]}"}
  if [[ \${before##*[[:space:]]} == --platform ]]; then
    COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" platforms 2>/dev/null | awk '${PLATFORM_WORDS_AWK}')" -- "$word"))
    local split=\${word%"$cur"}
    COMPREPLY=("\${COMPREPLY[@]#"$split"}")
    return
  fi
  case $prev in
${valued.filter((o) => o.value!.kind !== 'platforms').map((o) => `    ${o.long}) ${bashValues(o.value!)}; return ;;`).join('\n')}
  esac
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "${words(specs.map((c) => c.name))} -h --help -V --version" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    case $cmd in
${specs.map((c) => `      ${c.name}) COMPREPLY=($(compgen -W "${words(flagsOf(c))}" -- "$cur")) ;;`).join('\n')}
    esac
    return
  fi
  case $cmd in
${specs.map((c) => `    ${c.name}) ${bashPositional(c.positional, topics)} ;;`).join('\n')}
  esac
}
complete -o filenames -F _vfio_emu vfio-emu
`;
}

// ---- zsh ----------------------------------------------------------------------------------------

/** Text inside a zsh _arguments spec's [description] (and in single quotes). */
const zshDesc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/'/g, `'\\''`).replace(/([[\]:])/g, '\\$1');

function zshAction(v: ValueSource): string {
  switch (v.kind) {
    case 'choices':
      return `(${v.values.join(' ')})`;
    case 'kernels':
      return '_vfio_emu_kernels';
    case 'platforms':
      return '_vfio_emu_platforms';
    case 'file':
      return '_files';
  }
}

function zshPositional(p: Positional, topics: string[]): string | undefined {
  switch (p) {
    case 'scenarios':
      return `'*:scenario file or folder:_files -g "*.vfio(-.)"'`;
    case 'traces':
      return `'*:trace:_files -g "*.jsonl(-.)"'`;
    case 'dirs':
      return `'*:folder:_files -/'`;
    case 'request':
      return `'1:request:(${requestWords().join(' ')})' '2:hex bytes: '`;
    case 'topic':
      return `'1:topic:(${topics.join(' ')})'`;
    case 'shell':
      return `'1:shell:(${SHELLS.join(' ')})'`;
    case 'none':
      return undefined;
    case 'files':
      return `'*:file:_files'`;
  }
}

function zshScript(specs: CommandSpec[], topics: string[]): string {
  const optSpec = (o: OptionSpec): string => {
    const desc = `[${zshDesc(o.description)}]`;
    const value = o.value ? `:${zshDesc(o.long.slice(2))}:${zshAction(o.value)}` : '';
    return o.short ? `'(${o.short} ${o.long})'{${o.short},${o.long}}'${desc}${value}'` : `'${o.long}${desc}${value}'`;
  };
  const commandCase = (c: CommandSpec): string => {
    const parts = [...c.options.map(optSpec), zshPositional(c.positional, topics)].filter((x) => x !== undefined);
    return `        ${c.name})\n          _arguments -s \\\n            ${parts.join(' \\\n            ')}\n          ;;`;
  };
  return `#compdef vfio-emu
# zsh completion for vfio-emu. Load it with
#   source <(vfio-emu completion zsh)        (after compinit)
# or save it as _vfio-emu in a folder of $fpath.

_vfio_emu_kernels() {
  local -a eras
  eras=(\${(f)"$(_call_program kernels \${_vfio_emu_cmd:-vfio-emu} kernels 2>/dev/null)"})
  eras=(\${eras%% *})
  _describe -t kernels 'kernel era' eras
}

_vfio_emu_platforms() {
  local -a presets
  presets=(\${(f)"$(_call_program platforms \${_vfio_emu_cmd:-vfio-emu} platforms 2>/dev/null | awk '${PLATFORM_WORDS_AWK}')"})
  _describe -t platforms 'platform preset' presets
}

_vfio_emu() {
  local curcontext=$curcontext state line
  typeset -A opt_args
  # The command as typed, for the value helpers: _arguments shifts $words to the subcommand.
  local _vfio_emu_cmd=$words[1]
  _arguments -C \\
    '(- *)'{-h,--help}'[display help for command]' \\
    '(- *)'{-V,--version}'[output the version number]' \\
    '1:command:->command' \\
    '*::argument:->argument'
  case $state in
    command)
      local -a commands
      commands=(
${specs.map((c) => `        '${c.name}:${zshDesc(c.description)}'`).join('\n')}
      )
      _describe -t commands 'vfio-emu command' commands
      ;;
    argument)
      curcontext=\${curcontext%:*:*}:vfio-emu-$words[1]:
      case $words[1] in
${specs.map(commandCase).join('\n')}
      esac
      ;;
  esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _vfio_emu "$@"
else
  compdef _vfio_emu vfio-emu
fi
`;
}

// ---- fish ---------------------------------------------------------------------------------------

/** A fish single-quoted word. */
const fishQuote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fishValues(v: ValueSource): string {
  switch (v.kind) {
    case 'choices':
      return `-x -a ${fishQuote(v.values.join(' '))}`;
    case 'kernels':
      return `-x -a '(vfio-emu kernels 2>/dev/null | string replace -r " .*" "")'`;
    case 'platforms':
      return `-x -a ${fishQuote(`(vfio-emu platforms 2>/dev/null | awk '${PLATFORM_WORDS_AWK}')`)}`;
    case 'file':
      return '-r -F';
  }
}

function fishPositional(p: Positional, topics: string[]): string | undefined {
  switch (p) {
    case 'scenarios':
      return `-a '(__fish_complete_suffix .vfio)'`;
    case 'traces':
      return `-a '(__fish_complete_suffix .jsonl)'`;
    case 'dirs':
      return `-a '(__fish_complete_directories)'`;
    case 'request':
      return `-a ${fishQuote(requestWords().join(' '))}`;
    case 'topic':
      return `-a ${fishQuote(topics.join(' '))}`;
    case 'shell':
      return `-a ${fishQuote(SHELLS.join(' '))}`;
    case 'none':
      return undefined;
    case 'files':
      return '-F';
  }
}

function fishScript(specs: CommandSpec[], topics: string[]): string {
  const lines = [
    '# fish completion for vfio-emu. Load it with',
    '#   vfio-emu completion fish | source',
    '# or save it as ~/.config/fish/completions/vfio-emu.fish',
    'complete -c vfio-emu -f',
    "complete -c vfio-emu -n __fish_use_subcommand -s h -l help -d 'display help for command'",
    "complete -c vfio-emu -n __fish_use_subcommand -s V -l version -d 'output the version number'",
  ];
  for (const c of specs) {
    lines.push(`complete -c vfio-emu -n __fish_use_subcommand -a ${c.name} -d ${fishQuote(c.description)}`);
  }
  for (const c of specs) {
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    for (const o of c.options) {
      const short = o.short ? ` -s ${o.short.slice(1)}` : '';
      const value = o.value ? ` ${fishValues(o.value)}` : '';
      lines.push(`complete -c vfio-emu ${when}${short} -l ${o.long.slice(2)}${value} -d ${fishQuote(o.description)}`);
    }
    const pos = fishPositional(c.positional, topics);
    if (pos) lines.push(`complete -c vfio-emu ${when} ${pos}`);
  }
  return lines.join('\n') + '\n';
}

/** Registers `completion SHELL`. */
export function addCompletionCommand(program: Command, write: (s: string) => void): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', SHELLS.join(', '))
    .action((shell: string) => {
      write(completionScript(program, shell));
    });
}
