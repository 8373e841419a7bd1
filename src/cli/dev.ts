// Development entry point: `npm run dev -- run file.vfio` runs the TypeScript sources through
// ts-node. The shipped executable (bin/vfio-emu.cjs) runs the bundled build instead.
import { main } from './main.js';

await main(process.argv);
