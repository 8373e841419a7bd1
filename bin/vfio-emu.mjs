#!/usr/bin/env node
// The vfio-emu executable: the bundled CLI, built by `npm run build` (which `npm ci` runs).
import { fileURLToPath } from 'node:url';
import { loadBundle } from './load-bundle.mjs';

const { main } = loadBundle(fileURLToPath(new URL('../dist/vfio-emu.cjs', import.meta.url)));
await main(process.argv);
