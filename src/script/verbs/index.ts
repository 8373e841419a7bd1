// The verbs of the scenario language (SCENARIO-LANGUAGE.md), one handler each, in the order
// an "unknown command" message lists them.

import { expect } from './expect.js';
import { dma, msi } from './hardware.js';
import { ioctl } from './ioctl.js';
import { load, store } from './load-store.js';
import { mmap, mprotect, munmap } from './mmap.js';
import { close, eventfd, memfd, open } from './open-close.js';
import { pread, pwrite } from './pread-pwrite.js';
import { bind, kernel, param, platform } from './setup.js';
import { show } from './show.js';
import { driverOverride, read, readlink, unbind, write } from './sysfs.js';
import type { VerbHandler } from './verb.js';

export const VERBS: ReadonlyMap<string, VerbHandler> = new Map([
  ['kernel', kernel],
  ['platform', platform],
  ['param', param],
  ['bind', bind],
  ['unbind', unbind],
  ['driver_override', driverOverride],
  ['open', open],
  ['close', close],
  ['mmap', mmap],
  ['munmap', munmap],
  ['mprotect', mprotect],
  ['eventfd', eventfd],
  ['memfd', memfd],
  ['ioctl', ioctl],
  ['pread', pread],
  ['pwrite', pwrite],
  ['load', load],
  ['store', store],
  ['read', read],
  ['write', write],
  ['readlink', readlink],
  ['expect', expect],
  ['show', show],
  ['dma', dma],
  ['msi', msi],
]);
