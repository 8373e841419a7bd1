// Setting up the machine: `kernel ERA` and `platform PRESET opt=value…` choose it before it
// boots; `param MODULE.NAME=VALUE` and `bind BDF vfio-pci` are the administrator's writes
// once it has (sysfs module parameters, driver_override + drivers_probe).

import { DEFAULT_ERA } from '../../kernel/era.js';
import { ModuleParams } from '../../kernel/params.js';
import { eraProblem, kernelConfigProblem, platformProblem } from '../../machine/boot.js';
import { KERNEL_CONFIGS } from '../../kernel/config.js';
import { bootProblemText, optionProblemText } from '../../machine/boot-problem.js';
import { failAt } from '../where.js';
import { checkKeys, namedValue, onePositional } from './args.js';
import { sysfsWriteResult } from './sysfs.js';
import type { VerbHandler } from './verb.js';

export const kernel: VerbHandler = {
  kind: 'setup',
  run(cmd, { setup }) {
    if (setup.kernelAt) failAt(cmd.verbPos, `kernel given twice (first at line ${setup.kernelAt.line})`);
    if (setup.platformAt) failAt(cmd.verbPos, '"kernel" must come before "platform"');
    if (setup.booted) failAt(cmd.verbPos, '"kernel" must come before the first action (the machine has booted)');
    const w = onePositional(cmd, `a kernel era such as ${DEFAULT_ERA} or rfc-v10`);
    checkKeys(cmd, ['config']);
    const wrong = setup.opts.kernel === undefined ? eraProblem(w.text) : undefined;
    if (wrong) failAt(w.pos, bootProblemText(wrong));
    // config=NAME: the build's Kconfig choices (kernel/config.ts); checked against this era
    // unless --kernel names another.
    const c = namedValue(cmd, 'config');
    if (c && !KERNEL_CONFIGS.has(c.text)) failAt(c.pos, `unknown kernel configuration "${c.text}": expected one of ${[...KERNEL_CONFIGS.keys()].join(', ')}`);
    const cwrong = c && setup.opts.kernel === undefined ? kernelConfigProblem(w.text, c.text) : undefined;
    if (c && cwrong) failAt(c.pos, bootProblemText(cwrong));
    setup.fileKernel(w.text, cmd.verbPos, c && { name: c.text, at: c.pos });
  },
};

export const platform: VerbHandler = {
  kind: 'setup',
  run(cmd, { setup }) {
    if (setup.platformAt) failAt(cmd.verbPos, `platform given twice (first at line ${setup.platformAt.line})`);
    if (setup.booted) failAt(cmd.verbPos, '"platform" must come before the first action (the machine has booted)');
    const w = onePositional(cmd, 'a platform preset');
    // The file's options are checked unless --platform replaces the preset (and so them).
    if (!setup.replacedByOption(w.text)) {
      const unknown = platformProblem(w.text, {});
      if (unknown) failAt(w.pos, bootProblemText(unknown));
      for (const kv of cmd.named) {
        const wrong = platformProblem(w.text, { [kv.key]: kv.value.text });
        if (wrong?.kind === 'option') {
          failAt(wrong.problem.kind === 'no-such-option' ? kv.keyPos : kv.value.pos, optionProblemText(wrong.problem, false));
        }
      }
    }
    setup.filePlatform(w.text, Object.fromEntries(cmd.named.map((kv) => [kv.key, kv.value.text])), cmd.verbPos);
  },
};

export const param: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel: k } = ctx.machine(cmd);
    for (const kv of cmd.named) {
      if (!k.params.has(kv.key)) {
        failAt(
          kv.keyPos,
          `no parameter "${kv.key}" in this kernel` +
            (ModuleParams.known().includes(kv.key) ? ` (kernel ${k.era.name} on ${k.platform.preset} does not have it)` : '') +
            `: expected one of ${k.params.keys().join(', ')}`,
        );
      }
    }
    if (cmd.positional.length || cmd.named.length !== 1) failAt(cmd.verbPos, 'param takes one MODULE.NAME=VALUE, e.g. param vfio_iommu_type1.allow_unsafe_interrupts=Y');
    const kv = cmd.named[0];
    const [mod, name] = kv.key.split('.');
    const result = sysfsWriteResult(k.sysfsWrite(`/sys/module/${mod}/parameters/${name}`, kv.value.text));
    // A value the parameter refuses is the write's errno (param_set_bool and friends: -EINVAL),
    // for `expect` to check, as a shell script would see it.
    return { call: { op: 'param', name: kv.key, value: kv.value.text }, result };
  },
};

export const bind: VerbHandler = {
  kind: 'syscall',
  run(cmd, ctx) {
    const { kernel: k } = ctx.machine(cmd);
    checkKeys(cmd, []);
    if (cmd.positional.length !== 2) failAt(cmd.verbPos, 'bind takes a device and a driver, e.g. bind 0000:01:00.0 vfio-pci');
    const [dev, drv] = cmd.positional;
    if (!k.devices.has(dev.text)) failAt(dev.pos, `no device ${dev.text} on this platform (devices: ${[...k.devices.keys()].join(', ')})`);
    // The drivers that register their devices with VFIO: the result is the VFIO group.
    const vfio = k.vfioBusDriverNames();
    if (!vfio.includes(drv.text)) failAt(drv.pos, `driver "${drv.text}": only ${vfio.join(', ')} can be bound here`);
    return {
      call: { op: 'bind', device: dev.text, driver: drv.text },
      result: k.bind(dev.text, drv.text),
      binds: (group) => ({ kind: 'value', value: group }),
    };
  },
};
