// What one run may take from its inputs. A scenario or a trace is untrusted: each limit ends
// the run with a clear error that names the input (and the line), instead of letting a hostile
// file exhaust time or memory. The README lists them.

const MiB = 1024 * 1024;

export const LIMITS = {
  /** Bytes of one scenario or trace file (also stdin, or a device node named as a file). */
  inputBytes: 256 * MiB,
  /** Characters of one line of a scenario or a trace (room for a 1 MiB buffer in hex, in and out). */
  lineChars: 5 * MiB,
  /** Bytes of one buffer a trace event or a scenario line carries (pread len, ioctl buffers). */
  bufferBytes: 1 * MiB,
  /**
   * Resident memory one run may use (VFIO_EMU_MAX_MEMORY_MIB overrides it): checked every
   * few thousand commands, so a scenario that grows the model without end stops at a line.
   */
  runMemoryBytes: (Number(process.env.VFIO_EMU_MAX_MEMORY_MIB) > 0 ? Number(process.env.VFIO_EMU_MAX_MEMORY_MIB) : 1024) * MiB,
  /** Hex digits `vfio-emu decode` takes (a 1 MiB buffer). */
  decodeHexDigits: 2 * MiB,
} as const;

/** `256 MiB`, `1 MiB`: how a limit is written in messages. */
export function sizeText(n: number): string {
  return n % MiB === 0 ? `${n / MiB} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}
