// The NVM behind e1000e's EERD/EEWR, as QEMU 7.2 builds it: hw/net/e1000e.c's
// e1000e_eeprom_template[] (the 82574L datasheet's Table 36 words), with
// e1000x_core_prepare_eeprom() (hw/net/e1000x_common.c) writing the MAC address into words
// 0-2, the device ID into words 11 and 13, and the checksum into word 0x3f so that the 64
// words sum to EEPROM_SUM (0xBABA). Built once at realize: a device reset keeps it, and EEWR
// writes into it (e1000e_set_eewr).

/** E1000E_EEPROM_SIZE. */
export const E1000E_EEPROM_WORDS = 64;
/** EEPROM_CHECKSUM_REG, EEPROM_SUM (hw/net/e1000_regs.h). */
const CHECKSUM_WORD = 0x3f;
const EEPROM_SUM = 0xbaba;

const TEMPLATE: readonly number[] = [
  /*        Address        |    Compat.    | ImVer |   Compat.     */
  0x0000, 0x0000, 0x0000, 0x0420, 0xf746, 0x2010, 0xffff, 0xffff,
  /*      PBA      |ICtrl1 | SSID  | SVID  | DevID |-------|ICtrl2 */
  0x0000, 0x0000, 0x026b, 0x0000, 0x8086, 0x0000, 0x0000, 0x8058,
  /*    NVM words 1,2,3    |-------------------------------|PCI-EID*/
  0x0000, 0x2001, 0x7e7c, 0xffff, 0x1000, 0x00c8, 0x0000, 0x2704,
  /* PCIe Init. Conf 1,2,3 |PCICtrl|PHY|LD1|-------| RevID | LD0,2 */
  0x6cc9, 0x3150, 0x070e, 0x460b, 0x2d84, 0x0100, 0xf000, 0x0706,
  /* FLPAR |FLANADD|LAN-PWR|FlVndr |ICtrl3 |APTSMBA|APTRxEP|APTSMBC*/
  0x6000, 0x0080, 0x0f04, 0x7fff, 0x4f01, 0xc600, 0x0000, 0x20ff,
  /* APTIF | APTMC |APTuCP |LSWFWID|MSWFWID|NC-SIMC|NC-SIC | VPDP  */
  0x0028, 0x0003, 0x0000, 0x0000, 0x0000, 0x0003, 0x0000, 0xffff,
  /*                            SW Section                         */
  0x0100, 0xc000, 0x121c, 0xc007, 0xffff, 0xffff, 0xffff, 0xffff,
  /*                      SW Section                       |CHKSUM */
  0xffff, 0xffff, 0xffff, 0xffff, 0x0000, 0x0120, 0xffff, 0x0000,
];

/** e1000x_core_prepare_eeprom(): the template with the MAC, the device ID and the checksum. */
export function e1000eEeprom(mac: Uint8Array, deviceId: number): Uint16Array {
  const w = Uint16Array.from(TEMPLATE);
  for (let i = 0; i < 3; i++) w[i] = (mac[2 * i + 1]! << 8) | mac[2 * i]!;
  w[11] = w[13] = deviceId;
  let sum = 0;
  for (let i = 0; i < CHECKSUM_WORD; i++) sum += w[i]!;
  w[CHECKSUM_WORD] = (EEPROM_SUM - sum) & 0xffff;
  return w;
}
