#!/usr/bin/env node
// The vfio-emu executable: the bundled CLI (built by `npm run build`, which `npm ci` runs).
import { main } from '../dist/bundle/vfio-emu.mjs';
await main(process.argv);
