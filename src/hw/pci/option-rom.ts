// Option ROM images of QEMU's NIC models, as the installed QEMU has them.
//
// QEMU loads a NIC's ROM BAR from a file of its firmware directory (e1000e: romfile
// "efi-e1000e.rom", Debian's ipxe-qemu package: /usr/lib/ipxe/qemu/). The image is iPXE, not
// ours to ship, so the model reads the installed file when the host has it (the recordings
// in test/fixtures/real-kernel-device read exactly that file's bytes through the ROM BAR,
// Debian 12's ipxe-qemu 1.0.0+git-20190125.36a4c85-5.1). Where it is absent, the caller
// falls back to a synthetic image with a valid expansion-ROM header (55 aa, PCIR with the
// function's IDs, one EFI image marked last), so the kernel's ROM size probing and a ROM read
// still behave as with a real ROM; only the bytes of the image differ.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's ipxe-qemu puts QEMU's NIC ROMs. */
export const QEMU_ROM_DIR = '/usr/lib/ipxe/qemu';

const cache = new Map<string, Uint8Array | null>();

/** The installed ROM file `name`, or null when the host does not have it (read once per process). */
export function installedQemuRom(name: string, dir = QEMU_ROM_DIR): Uint8Array | null {
  const path = join(dir, name);
  const hit = cache.get(path);
  if (hit !== undefined) return hit;
  let image: Uint8Array | null;
  try {
    image = new Uint8Array(readFileSync(path));
  } catch {
    image = null;
  }
  cache.set(path, image);
  return image;
}

/** A synthetic option ROM: one EFI image with a valid header, `size` bytes, marked last. */
export function syntheticRom(vendor: number, device: number, classCode: number, size = 0x10000): Uint8Array {
  const rom = new Uint8Array(size);
  const dv = new DataView(rom.buffer);
  rom[0] = 0x55;
  rom[1] = 0xaa;
  rom[2] = size / 512;
  dv.setUint16(0x18, 0x1c, true); // offset of the PCI data structure
  rom.set([0x50, 0x43, 0x49, 0x52], 0x1c); // "PCIR"
  dv.setUint16(0x1c + 4, vendor, true);
  dv.setUint16(0x1c + 6, device, true);
  dv.setUint16(0x1c + 0x0a, 0x18, true); // structure length
  rom[0x1c + 0x0c] = 3; // revision
  rom[0x1c + 0x0d] = classCode & 0xff;
  rom[0x1c + 0x0e] = (classCode >> 8) & 0xff;
  rom[0x1c + 0x0f] = (classCode >> 16) & 0xff;
  dv.setUint16(0x1c + 0x10, size / 512, true); // image length in 512-byte units
  rom[0x1c + 0x14] = 0x03; // code type: EFI
  rom[0x1c + 0x15] = 0x80; // last image
  return rom;
}
