// The numbers of the pcap and pcapng formats that every reader of captures here goes by.

/** libpcap refuses larger records for ordinary link types: past it the file is damaged, not cut. */
export const MAX_PCAP_RECORD = 262_144;
/** libpcap's largest pcapng block. */
export const MAX_PCAPNG_BLOCK = 16 * 1024 * 1024;
/** The section header block's type: the same either way round. */
export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_IDB = 1;
/** The obsolete packet block, still read by libpcap. */
export const PCAPNG_PB = 2;
export const PCAPNG_SPB = 3;
export const PCAPNG_EPB = 6;
/** The blocks holding a packet: obsolete, simple and enhanced packet blocks. */
export const PCAPNG_PACKET_BLOCKS: ReadonlySet<number> = new Set([PCAPNG_PB, PCAPNG_SPB, PCAPNG_EPB]);

/** A pcap magic, as read in the file's own byte order: its timestamps and record header size. */
export interface PcapMagic {
  /** Nanosecond timestamps (else microseconds). */
  ns: boolean;
  recordHeader: number;
}

export const PCAP_MAGICS: ReadonlyMap<number, PcapMagic> = new Map([
  [0xa1b2c3d4, { ns: false, recordHeader: 16 }],
  [0xa1b23c4d, { ns: true, recordHeader: 16 }],
  // Kuznetzov's patched format: 8 more bytes per record header.
  [0xa1b2cd34, { ns: false, recordHeader: 24 }],
]);
