// The extended interrupt cause registers of the 82599/X540 functions (82599 datasheet §7.3,
// §8.2.3.5; the VF's VTEICR block, §8.3.5.1): a cause register, a set register that raises
// causes by software (EICS), an enable mask set and cleared through two registers (EIMS,
// EIMC), and auto-clear (EIAC).
//
// A cause that is set and enabled raises an interrupt. With MSI-X each cause bit below
// `queueBits` is its own vector (the driver maps queues to those vectors through IVAR; the
// cause bit is the vector); the PF's other causes (bits 16..30) go to the vector IVAR_MISC
// names. An MSI-X cause listed in EIAC clears itself when its message is sent. Without
// MSI-X the function raises MSI vector 0 or asserts INTA# while any enabled cause is set.
// EICS and EIMC read back what was last written (the model stores every register).
// Not modelled: clear-on-read of EICR (GPIE.OCD), EIAM auto-mask, interrupt throttling.

import type { InterruptPaths, RegisterFile } from './device.js';

export interface CauseRegs {
  eicr: number;
  eics: number;
  eimsSet: number;
  eimsClear: number;
  eiac: number;
  /** IVAR_MISC (PF only): bits 14:8 the "other causes" vector, bit 15 valid. */
  ivarMisc?: number;
}

export class InterruptCauses {
  constructor(
    private readonly regs: CauseRegs,
    /** Cause bits that are MSI-X vectors of their own (16 on the PF, 3 on a VF). */
    private readonly queueBits: number,
    private readonly host: InterruptPaths,
    /** The function's register file, where the block's registers are stored and read back. */
    private readonly file: RegisterFile,
  ) {}

  /** A register write; false when the offset is not one of the block's. */
  write(off: number, value: number): boolean {
    const r = this.regs;
    const eicr = this.file.get(r.eicr);
    const eims = this.file.get(r.eimsSet);
    // The causes this write makes fire: those EICS sets, those EIMS enables while set.
    let fire = 0;
    switch (off) {
      case r.eicr:
        this.file.set(r.eicr, eicr & ~value); // write 1 to clear
        break;
      case r.eics:
        this.file.set(r.eicr, eicr | value);
        fire = value;
        break;
      case r.eimsSet:
        fire = value & ~eims;
        this.file.set(r.eimsSet, eims | value);
        break;
      case r.eimsClear:
        this.file.set(r.eimsSet, eims & ~value);
        break;
      case r.eiac:
      case r.ivarMisc:
        this.file.set(off, value);
        return true;
      default:
        return false;
    }
    this.update(fire);
    return true;
  }

  /**
   * Without MSI-X the line (or MSI) follows the enabled causes; with MSI-X each cause in
   * `fire` that is set and enabled sends its vector's message.
   */
  private update(fire: number): void {
    const r = this.regs;
    const active = (this.file.get(r.eicr) & this.file.get(r.eimsSet)) >>> 0;
    if (!this.host.msixEnabled()) {
      this.host.legacy(active !== 0, (active & fire) !== 0);
      return;
    }
    const misc = r.ivarMisc === undefined ? 0 : this.file.get(r.ivarMisc);
    for (let bit = 0; bit < 31; bit++) {
      const m = 1 << bit;
      if (!(active & fire & m)) continue;
      let v: number | undefined = bit < this.queueBits ? bit : undefined;
      if (v === undefined && r.ivarMisc !== undefined && bit >= 16 && misc & 0x8000) v = (misc >> 8) & 0x7f;
      if (v === undefined) continue;
      this.host.msixVector(v);
      if (this.file.get(r.eiac) & m) this.file.set(r.eicr, this.file.get(r.eicr) & ~m);
    }
  }
}
