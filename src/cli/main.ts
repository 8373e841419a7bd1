// The vfio-emu command line (SCENARIO-LANGUAGE.md, "The command line").
// Exit status: 0 all good; 1 an expectation failed or a replay differs; 2 bad usage or a
// scenario error. A user's mistake is one line on stderr, never a stack trace.

import { Command, CommanderError, Option } from 'commander';
import { ERAS } from '../kernel/era.js';
import { presets } from '../hw/presets.js';
import type { CheckOptions } from './check.js';
import { writeOut } from './out.js';
import { endWith, runCommand, runScenario } from './run.js';
import { VERSION } from './version.js';
import { BACKENDS } from '../uapi/requests.js';
import { addHelpCommand } from './help.js';
import { addCompletionCommand } from './completion.js';

export { VERSION } from './version.js';
export { runScenario, type ScenarioResult } from './run.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vfio-emu')
    .description('Emulates the Linux VFIO ioctl interface on a model of the kernel and the hardware')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => writeOut(s),
      writeErr: (s) => writeOut(s, 2),
      outputError: (s, write) => write(s),
    });

  const kernelOpt = () => new Option('--kernel <era>', "kernel era, overriding the scenario's (see `vfio-emu kernels`)");
  const platformOpt = () => new Option('--platform <preset[,opt=value…]>', "platform preset, overriding the scenario's");

  program
    .command('run')
    .description('run scenarios and print the trace, kernel log lines and expectation results')
    .argument('<files...>', 'scenario files (- for stdin)')
    .addOption(kernelOpt())
    .addOption(platformOpt())
    .option('--json', 'one JSON object per event')
    .option('--trace <file>', 'write a vfio-trace/1 recording of the run')
    .action(runCommand);

  program
    .command('check')
    .description(
      'run scenarios as tests: one line per failed expectation and a closing "N passed, M failed" that counts scenario files (file × kernel with a --kernel list), not expectations',
    )
    .argument('<paths...>', 'scenario files or directories (searched for *.vfio); a file named twice runs once')
    .addOption(new Option('--kernel <era[,era…]>', "kernel era, overriding the scenario's; a list runs every file once per era (see `vfio-emu kernels`)"))
    .addOption(platformOpt())
    .option('--json', 'JSON lines: an event per failed expectation and scenario error, one per file (and kernel), a closing summary')
    .addOption(new Option('--reporter <kind>', 'also write a report').choices(['junit']))
    .option('--out <file>', 'where the report goes (alone, implies --reporter junit)')
    .option('-k, --grep <regex>', 'only the files whose path matches')
    .option('--bail', 'stop at the first file that fails')
    .option('-v, --verbose', 'list the passing files too')
    .option('--shard <i/n>', 'run the i-th of n equal parts of the files (for parallel CI jobs)')
    .action(async (paths: string[], o: CheckOptions) => {
      const { checkCommand } = await import('./check.js');
      process.exitCode = await checkCommand(paths, o, runScenario);
    });

  program
    .command('decode')
    .description('decode an ioctl buffer, capability chain included')
    .argument('<request>', 'request name (full, or short with --fd)')
    .argument('<hex>', 'the buffer, as hex bytes')
    .addOption(new Option('--fd <kind>', 'the kind of fd the request goes to').choices(['container', 'group', 'device']))
    .addOption(new Option('--backend <name>', "the container's IOMMU backend (container numbers mean different requests)").choices([...BACKENDS]))
    .addOption(kernelOpt())
    .option('--json', 'print the fields as JSON')
    .action(async (request: string, hex: string, o: { fd?: 'container' | 'group' | 'device'; kernel?: string; json?: boolean; backend?: string }) => {
      const { decodeCommand } = await import('./decode.js');
      writeOut(decodeCommand(request, hex, o).join('\n') + '\n');
    });

  program
    .command('replay')
    .description('replay vfio-trace/1 traces against the model and report each difference')
    .argument('<traces...>', 'trace files (JSON lines; - for stdin)')
    .option('--json', 'one JSON object per differing event and per summary')
    .option('--verbose', 'print every event, not only the differing ones')
    .action(async (traces: string[], o: { json?: boolean; verbose?: boolean }) => {
      const { replayCommand } = await import('./replay-cmd.js');
      process.exitCode = replayCommand(traces, o);
    });

  program
    .command('conformance')
    .description('replay the real-kernel traces of a directory and print a table per configuration')
    .argument('[dirs...]', 'directories of <config>/<trace>.jsonl (default: test/fixtures/real-kernel)')
    .action(async (dirs: string[]) => {
      const { conformanceCommand } = await import('./conformance.js');
      const list = dirs.length ? dirs : ['test/fixtures/real-kernel'];
      let status = 0;
      for (const d of list) {
        if (list.length > 1) writeOut(`${d}\n`);
        status = Math.max(status, conformanceCommand(d));
      }
      process.exitCode = status;
    });

  const machineOpts = (c: Command): Command =>
    c
      .addOption(kernelOpt())
      .addOption(platformOpt())
      .option('--bind <bdf>', 'bind a device to vfio-pci (repeatable)', (v: string, a: string[]) => [...a, v], [] as string[])
      .option('--param <mod.name=value>', 'set a module parameter (repeatable)', (v: string, a: string[]) => [...a, v], [] as string[])
      .option('--setup <file>', 'a scenario prefix that sets the machine up')
      .option('--trace <file>', 'write a vfio-trace/1 recording of the run')
      .option('--log <file>', "the model's diagnostics (never the program's output)");

  machineOpts(program.command('exec'))
    .description('run a program against the emulated machine, through the preload library (docs/exec.md)')
    .argument('<program...>', 'the program and its arguments, after --')
    .action(async (argv: string[], o: import('./exec.js').MachineOptions) => {
      const { execCommand } = await import('./exec.js');
      process.exitCode = await execCommand(argv, o);
    });

  program
    .command('record')
    .description("run a program on this machine's real /dev/vfio and record its VFIO calls as vfio-trace/1 (docs/exec.md)")
    .argument('<program...>', 'the program and its arguments, after --')
    .requiredOption('--trace <file>', 'where the trace goes')
    .addOption(new Option('--platform <preset[,opt=value…]>', "the preset that models this machine, for the trace's header"))
    .action(async (argv: string[], o: { trace: string; platform?: string }) => {
      const { recordCommand } = await import('./exec.js');
      process.exitCode = await recordCommand(argv, o);
    });

  machineOpts(program.command('serve'))
    .description('serve the emulated machine on a private Unix socket; prints its path (docs/exec.md)')
    .action(async (o: import('./exec.js').MachineOptions) => {
      const { serveCommand } = await import('./exec.js');
      await serveCommand(o);
    });

  program
    .command('platforms')
    .description('list the platform presets and what each models')
    .option('--json', 'as JSON')
    .action((o: { json?: boolean }) => {
      const list = presets();
      if (o.json) {
        writeOut(JSON.stringify(list, null, 2) + '\n');
        return;
      }
      const lines: string[] = [];
      for (const p of list) {
        lines.push(`${p.name} (${p.arch}, ${p.pageSize / 1024} KiB pages)`, `  ${p.description}`);
        for (const [k, v] of Object.entries(p.options)) lines.push(`  option ${k}=${v.values.join('|')} (default ${v.default}): ${v.doc}`);
      }
      writeOut(lines.join('\n') + '\n');
    });

  program
    .command('kernels')
    .description('list the kernel eras and what each models')
    .action(() => {
      const lines = [...ERAS.values()].map((e) => `${e.name.padEnd(8)} ${e.summary}`);
      writeOut(lines.join('\n') + '\n');
    });

  addCompletionCommand(program, (s) => writeOut(s));
  addHelpCommand(program);
  return program;
}

/**
 * Runs a scenario in-process without printing: the build uses it to warm the code cache
 * with the functions a run needs.
 */
export async function warm(text: string): Promise<void> {
  runScenario('warm.vfio', text, {});
  buildProgram();
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is bad usage.
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    endWith(e);
  }
}

