import { captureFormatOf, isGzip, MAGIC_BYTES, type CaptureFormat } from "../../../shared/pcap/capture-format.js";

/** Bytes that tell a capture apart: the magic, then pcapng's block length and byte-order magic. */
export const HEAD_BYTES = 12;

/** libpcap's global header: magic, version, zone, sigfigs, snaplen, link type. */
const PCAP_HEADER_BYTES = 24;
/** The smallest pcapng section header block: type, length, byte-order magic, version, section length, length again. */
const PCAPNG_SHB_MIN_BYTES = 28;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export type CaptureHead = { format: CaptureFormat; headerBytes: number } | { refused: string };

/**
 * What the first bytes of an upload (up to HEAD_BYTES, fewer only when the file is that short)
 * say: its format and how long its file header is, or why it is no capture. Zeek reads a file
 * whose header is cut off as no capture at all, so the caller also checks the file is at least
 * `headerBytes` long; packets cut off later are for Zeek to judge.
 */
export function readCaptureHead(head: Buffer): CaptureHead {
  if (head.length === 0) return { refused: "is empty" };
  if (isGzip(head)) return { refused: "is gzip-compressed; decompress it first (Zeek reads only pcap and pcapng)" };
  if (head.length < MAGIC_BYTES) return { refused: `is too short to be a capture (${head.length} bytes)` };
  const format = captureFormatOf(head);
  if (!format) return { refused: "is not a pcap or pcapng capture (unknown file format)" };
  if (format !== "pcapng") return { format, headerBytes: PCAP_HEADER_BYTES };
  if (head.length < HEAD_BYTES) return { format, headerBytes: PCAPNG_SHB_MIN_BYTES };
  // The byte-order magic says how the section is written, the block length included.
  const bigEndian = head.readUInt32BE(8) === PCAPNG_BYTE_ORDER_MAGIC;
  if (!bigEndian && head.readUInt32LE(8) !== PCAPNG_BYTE_ORDER_MAGIC) {
    return { refused: "is not a pcapng capture (its section header has no byte-order magic)" };
  }
  const length = bigEndian ? head.readUInt32BE(4) : head.readUInt32LE(4);
  if (length < PCAPNG_SHB_MIN_BYTES || length % 4 !== 0) {
    return { refused: `has a damaged pcapng section header (block length ${length})` };
  }
  return { format, headerBytes: length };
}
