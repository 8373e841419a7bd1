// Hex numbers as the kernel's log lines and the model's reports print them: lowercase digits,
// either minimal after "0x" (printk's 0x%llx) or zero-padded to a width (%0Nx, as dev_name()
// pads a PCI address).

/** "0x" and the minimal lowercase digits: 0x0, 0xfee00000. */
export const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** The lowercase digits zero-padded to `width`, no prefix: hexPad(1, 2) is "01". */
export const hexPad = (v: bigint | number, width: number): string => v.toString(16).padStart(width, '0');
