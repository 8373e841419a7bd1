// Writes man/vfio-emu.1 from the compiled program's command and option definitions (the
// source of --help), so the man page and --help cannot disagree. Run by `npm run build`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildProgram, VERSION } from '../dist/cli/main.js';
import { manPage } from '../dist/cli/help-man.js';

mkdirSync('man', { recursive: true });
writeFileSync('man/vfio-emu.1', manPage(buildProgram(), VERSION));
