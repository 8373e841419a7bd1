// What the verbs of a scenario see of the run: the machine (booted on first use), the names
// bound so far, the last action and the IOMMU faults. The runner is one such context; the
// verbs (verbs/*.ts) know only this interface.

import type { LogLine } from '../kernel/log.js';
import type { IommuFault } from '../hw/iommu/iommu.js';
import type { RequestDef } from '../uapi/requests.js';
import type { Machine } from '../machine/boot.js';
import type { Command } from './ast.js';
import type { Where } from './events.js';
import type { Names } from './names.js';
import type { ScenarioSetup } from './setup.js';

/** What a hardware action (dma, msi) did. */
export interface HwOutcome {
  text: string;
  fault?: IommuFault;
  /** For msi: the eventfd that was signalled, if any. */
  delivered?: { fd?: number; name?: string };
  data?: Uint8Array;
}

/** What the most recent action left for `expect` to look at. */
export interface LastAction {
  at: Where;
  verb: string;
  ret: bigint;
  errno: number;
  /** The call returns an fd (open, eventfd, GET_DEVICE_FD): `expect ok` means a valid fd. */
  returnsFd: boolean;
  logs: LogLine[];
  ioctl?: { req: RequestDef; before?: Uint8Array; after?: Uint8Array; arg?: bigint };
  /** What the last hardware action did. */
  hw?: HwOutcome;
  /** The output buffer of the last ioctl or pread, for `expect bytes`. */
  out?: Uint8Array;
  content?: string;
}

export interface ScenarioContext {
  /** Which machine to boot (the command line's and the file's say), and whether it has. */
  readonly setup: ScenarioSetup;
  /** The machine, booted by the first command that needs it. */
  machine(cmd: Command): Machine;
  readonly names: Names;
  /**
   * Something shows the calls as they are made (run's output, --json, --trace, a caller that
   * keeps the events): only then is what a call passed kept beside what it returned.
   */
  readonly watched: boolean;
  readonly last?: LastAction;
  /** IOMMU fault records raised by hardware actions, oldest first. */
  readonly faults: readonly IommuFault[];
}
