// QEMU 7.2's e1000e MAC register file, as hw/net/e1000e_core.c declares it (the Debian
// bookworm package the real-kernel recordings ran, 1:7.2+dfsg-7+deb12u18 = v7.2.22 + Debian):
//
//   e1000e_macreg_readops[]  what a read of the register does (none: the read answers 0),
//   e1000e_macreg_writeops[] what a write does (none: the write is dropped; QEMU traces it
//                            as "write to read-only" or "unknown" register),
//   e1000e_mac_reg_init[]    the reset value (e1000e_core_reset(); every other register 0,
//                            RA/RA+1 then loaded from the MAC by e1000x_reset_mac_addr(),
//                            and VET = 0x8100 by e1000e_qdev_reset()),
//   mac_reg_access[]         the 82542-era alias offsets (E1000E_ALIASES below).
//
// Printed from that source by tools/realkernel/gen-e1000e-macreg.py, which evaluates the
// designated initializers as C does. Offsets are hw/net/e1000_regs.h's. Held against the
// recordings test/fixtures/real-kernel-device/x86-6.1{,2}-intremap-on/e1000e-regs.jsonl.
//
// Read ops (e1000e_mac_*read* / e1000e_get_*):
//   readreg      the stored word
//   lowN         the stored word's low N bits (E1000E_LOW_BITS_READ(N))
//   read_clr4    the word, then 0 (statistics counters)
//   read_clr8    the high word of a 64-bit counter, then both halves 0
//   icr_read     ICR, cleared unless MSI-X is on with causes enabled (e1000e_mac_icr_read)
//   ics_read     ICS: a copy of ICR without the clear (e1000e_update_interrupt_state)
//   ims_read     IMS
//   get_ctrl     CTRL
//   get_status   STATUS with GIO master, duplex and speed computed from CTRL/CTRL_EXT
//   get_tarc     the stored word & (bits 0-10, 27-30)
//   swsm_read    SWSM, then bit 0 (SMBI) set
//   itr_read     the last value written to ITR (itr_guest_value; 0 until written, kept by reset)
//   eitr_read    the same for EITR[n]
// Write ops (e1000e_set_* / e1000e_mac_*):
//   writereg     store the word            setmacaddr  store (RA+1; QEMU renames the NIC)
//   set_16bit    store the low 16 bits     set_12bit   store the low 12 bits
//   set_vet      low 16 bits               set_rdt/set_tdt low 16 bits, then receive/transmit
//   set_tctl     store, then transmit on the queues TARC enables (an empty ring raises TXQE)
//   set_rdtr/set_tidv low 16 bits (FPD fires a running delay timer: none runs here)
//   set_dbal     & E1000_XDBAL_MASK        set_dlen    & E1000_XDLEN_MASK
//   set_fcrth    & 0xfff8                  set_fcrtl   & 0x8000fff8
//   set_ctrl     CTRL and CTRL_DUP = value without RST; RST reloads RA; PHY_RST sets STATUS.PHYRA
//   set_status   a 0 in PHYRA clears PHYRA; nothing else is writable
//   set_eecd     keeps PRES, AUTO_RD, SIZE_EX       set_gcr   keeps bits 23, 25, 26
//   set_eerd     a read of NVM word addr: EERD = DONE | addr | data (START and addr < 64)
//   set_eewr     a write of NVM word addr (START and addr < 64); the result goes to EERD
//   set_ctrlext  store without ASDCHK and EE_RST    set_pbaclr & 0x1f, clears MSI-X pending bits
//   set_mdic     a PHY access; PHY address other than 1: MDIC | ERROR; READY always set
//   set_icr      write 1 to clear (and OTHER clears the other causes)
//   set_ics      raise causes              set_ims  IMS |= value & the valid causes
//   set_imc      IMS &= ~value             set_itr/set_eitr  max(value & 0xffff, 500)
//   set_rxdctl   RXDCTL and RXDCTL1        set_psrctl  store (BSIZE0/1 0 refused if RCTL.DTYP)
//   set_rx_control / set_rxcsum / set_rfctl  store (and start receiving)

import { lazy } from '../../lib/lazy.js';

/** What a read of a register does (e1000e_macreg_readops[]); '' answers 0. */
export type MacReadOp =
  | ''
  | 'readreg'
  | 'low4'
  | 'low6'
  | 'low11'
  | 'low13'
  | 'low16'
  | 'read_clr4'
  | 'read_clr8'
  | 'icr_read'
  | 'ics_read'
  | 'ims_read'
  | 'get_ctrl'
  | 'get_status'
  | 'get_tarc'
  | 'swsm_read'
  | 'itr_read'
  | 'eitr_read';

/** What a write of a register does (e1000e_macreg_writeops[]); '' drops it. */
export type MacWriteOp =
  | ''
  | 'writereg'
  | 'setmacaddr'
  | 'set_16bit'
  | 'set_12bit'
  | 'set_vet'
  | 'set_rdt'
  | 'set_tdt'
  | 'set_rdtr'
  | 'set_tidv'
  | 'set_dbal'
  | 'set_dlen'
  | 'set_fcrth'
  | 'set_fcrtl'
  | 'set_ctrl'
  | 'set_status'
  | 'set_eecd'
  | 'set_gcr'
  | 'set_eerd'
  | 'set_eewr'
  | 'set_ctrlext'
  | 'set_pbaclr'
  | 'set_mdic'
  | 'set_icr'
  | 'set_ics'
  | 'set_ims'
  | 'set_imc'
  | 'set_itr'
  | 'set_eitr'
  | 'set_rxdctl'
  | 'set_psrctl'
  | 'set_rx_control'
  | 'set_tctl'
  | 'set_rxcsum'
  | 'set_rfctl';

type Row = readonly [name: string, offset: number, count: number, read: MacReadOp, write: MacWriteOp, reset: number];

/** The register file: name, offset, dwords, read op, write op, reset value. */
export const E1000E_MACREGS: readonly Row[] = [
  ['CTRL',        0x00000, 1,     'get_ctrl',   'set_ctrl',       0x00140241],
  ['CTRL_DUP',    0x00004, 1,     '',           'set_ctrl',       0x00000000],
  ['STATUS',      0x00008, 1,     'get_status', 'set_status',     0x00000202],
  ['EECD',        0x00010, 1,     'readreg',    'set_eecd',       0x00000300],
  ['EERD',        0x00014, 1,     'readreg',    'set_eerd',       0x00000002],
  ['CTRL_EXT',    0x00018, 1,     'readreg',    'set_ctrlext',    0x00000000],
  ['FLA',         0x0001c, 1,     'readreg',    'writereg',       0x00000000],
  ['MDIC',        0x00020, 1,     'readreg',    'set_mdic',       0x00000000],
  ['FCAL',        0x00028, 1,     'readreg',    'writereg',       0x00000000],
  ['FCAH',        0x0002c, 1,     'readreg',    'set_16bit',      0x00000000],
  ['FCT',         0x00030, 1,     'readreg',    'set_16bit',      0x00000000],
  ['VET',         0x00038, 1,     'readreg',    'set_vet',        0x00000000],
  ['ICR',         0x000c0, 1,     'icr_read',   'set_icr',        0x00000000],
  ['ITR',         0x000c4, 1,     'itr_read',   'set_itr',        0x000001f4],
  ['ICS',         0x000c8, 1,     'ics_read',   'set_ics',        0x00000000],
  ['IMS',         0x000d0, 1,     'ims_read',   'set_ims',        0x00000000],
  ['IMC',         0x000d8, 1,     '',           'set_imc',        0x00000000],
  ['EIAC',        0x000dc, 1,     'readreg',    'writereg',       0x00000000],
  ['IAM',         0x000e0, 1,     'readreg',    'writereg',       0x00000000],
  ['IVAR',        0x000e4, 1,     'readreg',    'writereg',       0x00000000],
  ['EITR',        0x000e8, 5,     'eitr_read',  'set_eitr',       0x000001f4],
  ['RCTL',        0x00100, 1,     'readreg',    'set_rx_control', 0x00000000],
  ['FCTTV',       0x00170, 1,     'readreg',    'set_16bit',      0x00000000],
  ['TCTL',        0x00400, 1,     'readreg',    'set_tctl',       0x00000000],
  ['TIPG',        0x00410, 1,     'readreg',    'writereg',       0x00602008],
  ['AIT',         0x00458, 1,     'low16',      'writereg',       0x00000000],
  ['LEDCTL',      0x00e00, 1,     'readreg',    'writereg',       0x00068302],
  ['EXTCNF_CTRL', 0x00f00, 1,     'readreg',    'writereg',       0x00000008],
  ['EXTCNF_SIZE', 0x00f08, 1,     'readreg',    'writereg',       0x00000000],
  ['POEMB',       0x00f10, 1,     'readreg',    'writereg',       0x0000030d],
  ['PBA',         0x01000, 1,     'readreg',    'writereg',       0x00140014],
  ['PBS',         0x01008, 1,     'low6',       'writereg',       0x00000028],
  ['EEMNGCTL',    0x01010, 1,     'readreg',    'writereg',       0x80000000],
  ['EEMNGDATA',   0x01014, 1,     'readreg',    '',               0x00000000],
  ['FLMNGCTL',    0x01018, 1,     'readreg',    '',               0x00000000],
  ['FLMNGDATA',   0x0101c, 1,     'readreg',    '',               0x00000000],
  ['FLMNGCNT',    0x01020, 1,     'readreg',    '',               0x00000000],
  ['FLASHT',      0x01028, 1,     'readreg',    'set_16bit',      0x00000002],
  ['EEWR',        0x0102c, 1,     'readreg',    'set_eewr',       0x00000002],
  ['FLSWCTL',     0x01030, 1,     'readreg',    'writereg',       0xc0000000],
  ['FLSWDATA',    0x01034, 1,     'readreg',    'writereg',       0x00000000],
  ['FLSWCNT',     0x01038, 1,     'readreg',    'writereg',       0x00000000],
  ['FLOP',        0x0103c, 1,     'readreg',    'writereg',       0x00000000],
  ['FLOL',        0x01050, 1,     'readreg',    'writereg',       0x00000001],
  ['FCRTL',       0x02160, 1,     'readreg',    'set_fcrtl',      0x00000000],
  ['FCRTH',       0x02168, 1,     'readreg',    'set_fcrth',      0x00000000],
  ['PSRCTL',      0x02170, 1,     'readreg',    'set_psrctl',     0x00040402],
  ['RDFH',        0x02410, 1,     'low13',      'writereg',       0x00000000],
  ['RDFT',        0x02418, 1,     'low13',      'writereg',       0x00000000],
  ['RDFHS',       0x02420, 1,     'low13',      'writereg',       0x00000000],
  ['RDFTS',       0x02428, 1,     'low13',      'writereg',       0x00000000],
  ['RDFPC',       0x02430, 1,     'low13',      'writereg',       0x00000000],
  ['RDBAL0',      0x02800, 1,     'readreg',    'set_dbal',       0x00000000],
  ['RDBAH0',      0x02804, 1,     'readreg',    'writereg',       0x00000000],
  ['RDLEN0',      0x02808, 1,     'readreg',    'set_dlen',       0x00000000],
  ['RDH0',        0x02810, 1,     'readreg',    'set_16bit',      0x00000000],
  ['RDT0',        0x02818, 1,     'readreg',    'set_rdt',        0x00000000],
  ['RDTR',        0x02820, 1,     'readreg',    'set_rdtr',       0x00000000],
  ['RXDCTL',      0x02828, 1,     'readreg',    'set_rxdctl',     0x00010000],
  ['RADV',        0x0282c, 1,     'readreg',    'set_16bit',      0x00000000],
  ['RDBAL1',      0x02900, 1,     'readreg',    'set_dbal',       0x00000000],
  ['RDBAH1',      0x02904, 1,     'readreg',    'writereg',       0x00000000],
  ['RDLEN1',      0x02908, 1,     'readreg',    'set_dlen',       0x00000000],
  ['RDH1',        0x02910, 1,     'readreg',    'set_16bit',      0x00000000],
  ['RDT1',        0x02918, 1,     'readreg',    'set_rdt',        0x00000000],
  ['RXDCTL1',     0x02928, 1,     'readreg',    'writereg',       0x00010000],
  ['RSRPD',       0x02c00, 1,     'readreg',    'set_12bit',      0x00000000],
  ['RAID',        0x02c08, 1,     'readreg',    'set_16bit',      0x00000000],
  ['TDFH',        0x03410, 1,     'low13',      'writereg',       0x00000600],
  ['TDFT',        0x03418, 1,     'low13',      'writereg',       0x00000600],
  ['TDFHS',       0x03420, 1,     'low13',      'writereg',       0x00000600],
  ['TDFTS',       0x03428, 1,     'low13',      'writereg',       0x00000600],
  ['TDFPC',       0x03430, 1,     'low13',      'writereg',       0x00000000],
  ['TDBAL',       0x03800, 1,     'readreg',    'set_dbal',       0x00000000],
  ['TDBAH',       0x03804, 1,     'readreg',    'writereg',       0x00000000],
  ['TDLEN',       0x03808, 1,     'readreg',    'set_dlen',       0x00000000],
  ['TDH',         0x03810, 1,     'readreg',    'set_16bit',      0x00000000],
  ['TDT',         0x03818, 1,     'readreg',    'set_tdt',        0x00000000],
  ['TIDV',        0x03820, 1,     '',           'set_tidv',       0x00000000],
  ['TXDCTL',      0x03828, 1,     'readreg',    'writereg',       0x00000000],
  ['TADV',        0x0382c, 1,     'readreg',    'set_16bit',      0x00000000],
  ['TARC0',       0x03840, 1,     'get_tarc',   'writereg',       0x00000403],
  ['TDBAL1',      0x03900, 1,     'readreg',    'set_dbal',       0x00000000],
  ['TDBAH1',      0x03904, 1,     'readreg',    'writereg',       0x00000000],
  ['TDLEN1',      0x03908, 1,     'readreg',    'set_dlen',       0x00000000],
  ['TDH1',        0x03910, 1,     'readreg',    'set_16bit',      0x00000000],
  ['TDT1',        0x03918, 1,     'readreg',    'set_tdt',        0x00000000],
  ['TXDCTL1',     0x03928, 1,     'readreg',    'writereg',       0x00000000],
  ['TARC1',       0x03940, 1,     'get_tarc',   'writereg',       0x00000403],
  ['CRCERRS',     0x04000, 4,     'readreg',    '',               0x00000000],
  ['MPC',         0x04010, 1,     'readreg',    '',               0x00000000],
  ['SCC',         0x04014, 1,     'readreg',    '',               0x00000000],
  ['ECOL',        0x04018, 1,     'readreg',    '',               0x00000000],
  ['MCC',         0x0401c, 1,     'readreg',    '',               0x00000000],
  ['LATECOL',     0x04020, 1,     'readreg',    '',               0x00000000],
  ['COLC',        0x04028, 1,     'readreg',    '',               0x00000000],
  ['DC',          0x04030, 1,     'readreg',    '',               0x00000000],
  ['TNCRS',       0x04034, 1,     'readreg',    '',               0x00000000],
  ['SEQEC',       0x04038, 1,     'readreg',    '',               0x00000000],
  ['CEXTERR',     0x0403c, 1,     'readreg',    '',               0x00000000],
  ['RLEC',        0x04040, 1,     'readreg',    '',               0x00000000],
  ['XONRXC',      0x04048, 1,     'readreg',    '',               0x00000000],
  ['XONTXC',      0x0404c, 1,     'readreg',    '',               0x00000000],
  ['XOFFRXC',     0x04050, 1,     'readreg',    '',               0x00000000],
  ['XOFFTXC',     0x04054, 1,     'readreg',    '',               0x00000000],
  ['FCRUC',       0x04058, 1,     'readreg',    'writereg',       0x00000000],
  ['PRC64',       0x0405c, 1,     'read_clr4',  '',               0x00000000],
  ['PRC127',      0x04060, 1,     'read_clr4',  '',               0x00000000],
  ['PRC255',      0x04064, 1,     'read_clr4',  '',               0x00000000],
  ['PRC511',      0x04068, 1,     'read_clr4',  '',               0x00000000],
  ['PRC1023',     0x0406c, 1,     'read_clr4',  '',               0x00000000],
  ['PRC1522',     0x04070, 1,     'read_clr4',  '',               0x00000000],
  ['GPRC',        0x04074, 1,     'read_clr4',  '',               0x00000000],
  ['BPRC',        0x04078, 1,     'read_clr4',  '',               0x00000000],
  ['MPRC',        0x0407c, 1,     'read_clr4',  '',               0x00000000],
  ['GPTC',        0x04080, 1,     'read_clr4',  '',               0x00000000],
  ['GORCL',       0x04088, 1,     'readreg',    '',               0x00000000],
  ['GORCH',       0x0408c, 1,     'read_clr8',  '',               0x00000000],
  ['GOTCL',       0x04090, 1,     'readreg',    '',               0x00000000],
  ['GOTCH',       0x04094, 1,     'read_clr8',  '',               0x00000000],
  ['RNBC',        0x040a0, 1,     'readreg',    '',               0x00000000],
  ['RUC',         0x040a4, 1,     'read_clr4',  '',               0x00000000],
  ['RFC',         0x040a8, 1,     'readreg',    '',               0x00000000],
  ['ROC',         0x040ac, 1,     'read_clr4',  '',               0x00000000],
  ['RJC',         0x040b0, 1,     'readreg',    '',               0x00000000],
  ['MGTPRC',      0x040b4, 1,     'readreg',    '',               0x00000000],
  ['MGTPDC',      0x040b8, 1,     'readreg',    '',               0x00000000],
  ['MGTPTC',      0x040bc, 1,     'readreg',    '',               0x00000000],
  ['TORL',        0x040c0, 1,     'readreg',    '',               0x00000000],
  ['TORH',        0x040c4, 1,     'read_clr8',  '',               0x00000000],
  ['TOTL',        0x040c8, 1,     'readreg',    '',               0x00000000],
  ['TOTH',        0x040cc, 1,     'read_clr8',  '',               0x00000000],
  ['TPR',         0x040d0, 1,     'read_clr4',  '',               0x00000000],
  ['TPT',         0x040d4, 1,     'read_clr4',  '',               0x00000000],
  ['PTC64',       0x040d8, 1,     'read_clr4',  '',               0x00000000],
  ['PTC127',      0x040dc, 1,     'read_clr4',  '',               0x00000000],
  ['PTC255',      0x040e0, 1,     'read_clr4',  '',               0x00000000],
  ['PTC511',      0x040e4, 1,     'read_clr4',  '',               0x00000000],
  ['PTC1023',     0x040e8, 1,     'read_clr4',  '',               0x00000000],
  ['PTC1522',     0x040ec, 1,     'read_clr4',  '',               0x00000000],
  ['MPTC',        0x040f0, 1,     'read_clr4',  '',               0x00000000],
  ['BPTC',        0x040f4, 1,     'read_clr4',  '',               0x00000000],
  ['TSCTC',       0x040f8, 1,     'read_clr4',  '',               0x00000000],
  ['TSCTFC',      0x040fc, 1,     'readreg',    '',               0x00000000],
  ['IAC',         0x04100, 1,     'read_clr4',  '',               0x00000000],
  ['RXCSUM',      0x05000, 1,     'readreg',    'set_rxcsum',     0x00000300],
  ['RFCTL',       0x05008, 1,     'readreg',    'set_rfctl',      0x00000000],
  ['MAVTV0',      0x05010, 1,     'readreg',    'writereg',       0x00000000],
  ['MAVTV1',      0x05014, 1,     'readreg',    'writereg',       0x00000000],
  ['MAVTV2',      0x05018, 1,     'readreg',    'writereg',       0x00000000],
  ['MAVTV3',      0x0501c, 1,     'readreg',    'writereg',       0x00000000],
  ['MTA',         0x05200, 128,   'readreg',    'writereg',       0x00000000],
  ['RA',          0x05400, 1,     'readreg',    'writereg',       0x00000000],
  ['RA+1',        0x05404, 1,     'readreg',    'setmacaddr',     0x00000000],
  ['RA+2',        0x05408, 30,    'readreg',    'writereg',       0x00000000],
  ['VFTA',        0x05600, 128,   'readreg',    'writereg',       0x00000000],
  ['WUC',         0x05800, 1,     'readreg',    'writereg',       0x00000000],
  ['WUFC',        0x05808, 1,     'readreg',    'writereg',       0x00000000],
  ['WUS',         0x05810, 1,     'readreg',    'writereg',       0x00000000],
  ['MRQC',        0x05818, 1,     'readreg',    'writereg',       0x00000000],
  ['MANC',        0x05820, 1,     'readreg',    'writereg',       0x10000000],
  ['MFVAL',       0x05824, 1,     'readreg',    'writereg',       0x00000000],
  ['MFUTP01',     0x05828, 1,     'readreg',    'writereg',       0x00000000],
  ['MFUTP23',     0x05830, 1,     'readreg',    'writereg',       0x00000000],
  ['IPAV',        0x05838, 1,     'readreg',    'writereg',       0x00000000],
  ['IP4AT',       0x05840, 7,     'readreg',    'writereg',       0x00000000],
  ['MANC2H',      0x05860, 1,     'readreg',    'writereg',       0x00000000],
  ['IP6AT',       0x05880, 4,     'readreg',    'writereg',       0x00000000],
  ['MDEF',        0x05890, 8,     'readreg',    'writereg',       0x00000000],
  ['WUPM',        0x05a00, 32,    'readreg',    'writereg',       0x00000000],
  ['GCR',         0x05b00, 1,     'readreg',    'set_gcr',        0x06800200],
  ['FUNCTAG',     0x05b08, 1,     'readreg',    'writereg',       0x00000000],
  ['GSCL_1',      0x05b10, 1,     'readreg',    'writereg',       0x00000000],
  ['GSCL_2',      0x05b14, 1,     'readreg',    'writereg',       0x00000000],
  ['GSCL_3',      0x05b18, 1,     'readreg',    'writereg',       0x00000000],
  ['GSCL_4',      0x05b1c, 1,     'readreg',    'writereg',       0x00000000],
  ['GSCN_0',      0x05b20, 1,     'readreg',    'writereg',       0x00000000],
  ['GSCN_1',      0x05b24, 1,     'readreg',    'writereg',       0x00000000],
  ['GSCN_2',      0x05b28, 1,     'readreg',    'writereg',       0x00000000],
  ['GSCN_3',      0x05b2c, 1,     'readreg',    'writereg',       0x00000000],
  ['FACTPS',      0x05b30, 1,     'readreg',    'writereg',       0x20000004],
  ['SWSM',        0x05b50, 1,     'swsm_read',  'writereg',       0x00000001],
  ['GCR2',        0x05b64, 1,     'readreg',    'writereg',       0x00000000],
  ['PBACLR',      0x05b68, 1,     'readreg',    'set_pbaclr',     0x00000000],
  ['RETA',        0x05c00, 32,    'readreg',    'writereg',       0x00000000],
  ['RSSRK',       0x05c80, 32,    'readreg',    'writereg',       0x00000000],
  ['FFLT',        0x05f00, 11,    'low11',      'writereg',       0x00000000],
  ['FCRTV',       0x05f40, 1,     'readreg',    'set_16bit',      0x00000000],
  ['FFMT',        0x09000, 255,   'low4',       'writereg',       0x00000000],
  ['FTFT',        0x09400, 255,   'readreg',    'writereg',       0x00000000],
  ['FFVT',        0x09800, 255,   'readreg',    'writereg',       0x00000000],
  ['SYSTIML',     0x0b600, 1,     'readreg',    'writereg',       0x00000000],
  ['SYSTIMH',     0x0b604, 1,     'readreg',    'writereg',       0x00000000],
  ['TIMINCA',     0x0b608, 1,     'readreg',    'writereg',       0x00000000],
  ['TIMADJL',     0x0b60c, 1,     'readreg',    'writereg',       0x00000000],
  ['TIMADJH',     0x0b610, 1,     'readreg',    'writereg',       0x00000000],
  ['TSYNCTXCTL',  0x0b614, 1,     'readreg',    'writereg',       0x00000000],
  ['TXSTMPL',     0x0b618, 1,     'readreg',    'writereg',       0x00000000],
  ['TXSTMPH',     0x0b61c, 1,     'readreg',    'writereg',       0x00000000],
  ['TSYNCRXCTL',  0x0b620, 1,     'readreg',    'writereg',       0x00000000],
  ['RXSTMPL',     0x0b624, 1,     'readreg',    'writereg',       0x00000000],
  ['RXSTMPH',     0x0b628, 1,     'readreg',    'writereg',       0x00000000],
  ['RXSATRL',     0x0b62c, 1,     'readreg',    'writereg',       0x00000000],
  ['RXSATRH',     0x0b630, 1,     'readreg',    'writereg',       0x00000000],
  ['RXCFGL',      0x0b634, 1,     'readreg',    'writereg',       0x000088f7],
  ['RXUDP',       0x0b638, 1,     'readreg',    'writereg',       0x00000319],
  ['PBM',         0x10000, 10240, 'readreg',    'writereg',       0x00000000],
];

/**
 * mac_reg_access[]'s aliases: [alias offset, dwords, register offset]. QEMU adds the entry to
 * the dword index in 16 bits (e1000e_get_reg_index_with_offset()), so the 0x8000 aliases reach
 * the FIFO registers below them.
 */
export const E1000E_ALIASES: ReadonlyArray<readonly [number, number, number]> = [
  [0x00168, 1, 0x02160], // FCRTL_A
  [0x00160, 1, 0x02168], // FCRTH_A
  [0x00120, 1, 0x02810], // RDH0_A
  [0x00128, 1, 0x02818], // RDT0_A
  [0x00108, 1, 0x02820], // RDTR_A
  [0x08000, 1, 0x02410], // RDFH_A
  [0x08008, 1, 0x02418], // RDFT_A
  [0x00430, 1, 0x03810], // TDH_A
  [0x00438, 1, 0x03818], // TDT_A
  [0x00440, 1, 0x03820], // TIDV_A
  [0x08010, 1, 0x03410], // TDFH_A
  [0x08018, 1, 0x03418], // TDFT_A
  [0x00040, 32, 0x05400], // RA_A ... RA_A + 31
  [0x00600, 128, 0x05600], // VFTA_A ... VFTA_A + 127
  [0x00110, 3, 0x02800], // RDBAL0_A ... RDLEN0_A
  [0x00420, 3, 0x03800], // TDBAL_A ... TDLEN_A
];

/** E1000E_MAC_SIZE: the register file's dwords (BAR0 is 128 KiB: addr & 0x1ffff). */
const MAC_DWORDS = 0x8000;

export interface MacReg {
  /** Byte offset of the register the access reaches (its alias resolved). */
  readonly off: number;
  readonly read: MacReadOp;
  readonly write: MacWriteOp;
}

const NONE: MacReg = { off: 0, read: '', write: '' };

/**
 * Every dword of BAR0, resolved once, on the first access: what e1000e_core_read/write would
 * do there. Built lazily because 32k rows cost a run that has no e1000e its start time.
 */
const byDword = lazy((): readonly MacReg[] => {
  const byIndex = new Map<number, MacReg>();
  for (const [, off, count, read, write] of E1000E_MACREGS)
    for (let i = 0; i < count; i++) byIndex.set((off >>> 2) + i, { off: off + 4 * i, read, write });
  const redirect = new Map<number, number>();
  for (const [from, count, to] of E1000E_ALIASES) for (let i = 0; i < count; i++) redirect.set((from >>> 2) + i, (to >>> 2) + i);
  const out: MacReg[] = [];
  for (let d = 0; d < MAC_DWORDS; d++) {
    const index = redirect.get(d) ?? d;
    // NONE's fields after `off`: not `{ ...NONE, off }` (see device.ts PciFunction.setup).
    out.push(byIndex.get(index) ?? { off: index << 2, read: NONE.read, write: NONE.write });
  }
  return out;
});

/** The register an access at BAR0 offset `addr` reaches (e1000e_get_reg_index_with_offset). */
export function e1000eMacReg(addr: number): MacReg {
  return byDword()[(addr & 0x1ffff) >>> 2]!;
}

/**
 * e1000e_mac_reg_init[]: the non-zero reset values by offset. Built on the first reset, as
 * byDword is: a run without an e1000e does not pay for it.
 */
export const e1000eMacReset = lazy(
  (): ReadonlyMap<number, number> =>
    new Map(
      E1000E_MACREGS.flatMap(([, off, count, , , reset]) => (reset ? Array.from({ length: count }, (_, i) => [off + 4 * i, reset] as const) : [])),
    ),
);

/** Offsets the model's code names (hw/net/e1000_regs.h). */
export const MAC = {
  CTRL: 0x00000,
  CTRL_DUP: 0x00004,
  STATUS: 0x00008,
  EECD: 0x00010,
  EERD: 0x00014,
  CTRL_EXT: 0x00018,
  VET: 0x00038,
  MDIC: 0x00020,
  ICR: 0x000c0,
  ITR: 0x000c4,
  ICS: 0x000c8,
  IMS: 0x000d0,
  EIAC: 0x000dc,
  IAM: 0x000e0,
  IVAR: 0x000e4,
  EITR: 0x000e8,
  GCR: 0x05b00,
  SWSM: 0x05b50,
  PBACLR: 0x05b68,
  RCTL: 0x00100,
  TCTL: 0x00400,
  PSRCTL: 0x02170,
  RXDCTL: 0x02828,
  RXDCTL1: 0x02928,
  IAC: 0x04100,
  RA: 0x05400,
} as const;
