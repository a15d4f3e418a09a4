import { PCAP_MAGICS, PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_IDB, PCAPNG_PACKET_BLOCKS, PCAPNG_SHB } from "./format-constants.js";

/** The capture formats Zeek reads, told apart by their first four bytes. */
export type CaptureFormat = "pcap" | "pcap-ns" | "pcapng";

const MAGICS: ReadonlyArray<[number, CaptureFormat]> = [
  [0xa1b2c3d4, "pcap"], // microsecond, written big-endian
  [0xd4c3b2a1, "pcap"], // microsecond, little-endian
  [0xa1b23c4d, "pcap-ns"], // nanosecond, big-endian
  [0x4d3cb2a1, "pcap-ns"], // nanosecond, little-endian
  [0x0a0d0d0a, "pcapng"], // section header block type, the same either way round
];

/** Bytes needed before a capture can be recognised. */
export const MAGIC_BYTES = 4;

/** Recognises a capture from its first bytes; null when it is not one Zeek could read. */
export function captureFormatOf(head: Uint8Array): CaptureFormat | null {
  if (head.length < MAGIC_BYTES) return null;
  const magic = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  return MAGICS.find(([m]) => m === magic)?.[1] ?? null;
}

/** How a capture's records are laid out, for the readers that walk them; `other`: not a pcap or pcapng capture. */
export type RecordFormat = { kind: "pcap"; le: boolean; recordHeader: number } | { kind: "pcapng"; le: boolean } | { kind: "other" };

/** Bytes `recordFormatOf` reads: a pcap magic, or a section header's type, length and byte-order magic. */
export const RECORD_FORMAT_BYTES = 12;

/** The record layout its first RECORD_FORMAT_BYTES give a capture (the splitter and the salvage walk by it). */
export function recordFormatOf(head: Buffer): RecordFormat {
  for (const le of [true, false]) {
    const recordHeader = PCAP_MAGICS.get(le ? head.readUInt32LE(0) : head.readUInt32BE(0))?.recordHeader;
    if (recordHeader !== undefined) return { kind: "pcap", le, recordHeader };
  }
  if (head.readUInt32LE(0) === PCAPNG_SHB) return { kind: "pcapng", le: head.readUInt32LE(8) === PCAPNG_BYTE_ORDER_MAGIC };
  return { kind: "other" };
}

/** gzip's magic: named in the error so a user knows to decompress first. */
export function isGzip(head: Uint8Array): boolean {
  return head[0] === 0x1f && head[1] === 0x8b;
}

/** How an upload may be compressed; the server inflates either as it arrives. */
export type Encoding = "gzip" | "zstd";

/** gzip (RFC 1952, 1f 8b) and zstd (RFC 8878, frame magic 0xFD2FB528 little-endian) frames, by their magic. */
export function encodingOf(head: Uint8Array): Encoding | null {
  if (isGzip(head)) return "gzip";
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return null;
}

/** How far into a pcapng file its first interface description is looked for. */
export const LINK_TYPE_SCAN_BYTES = 64 * 1024;

/**
 * The link type of a capture from its first bytes: the pcap file header's, or the first pcapng
 * interface description's. `undefined` while more bytes are needed, null when none is found in
 * the first LINK_TYPE_SCAN_BYTES (or the capture has no interface).
 */
export function linkTypeOf(head: Buffer, complete: boolean): number | null | undefined {
  const more = (): null | undefined => (complete || head.length >= LINK_TYPE_SCAN_BYTES ? null : undefined);
  const format = captureFormatOf(head);
  if (format === null) return null;
  if (format !== "pcapng") {
    if (head.length < 24) return more();
    const le = PCAP_MAGICS.has(head.readUInt32LE(0));
    return (le ? head.readUInt32LE(20) : head.readUInt32BE(20)) & 0xffff;
  }
  if (head.length < 12) return more();
  const le = head.readUInt32LE(8) === PCAPNG_BYTE_ORDER_MAGIC;
  const u32 = (at: number): number => (le ? head.readUInt32LE(at) : head.readUInt32BE(at));
  for (let off = 0; ; ) {
    if (head.length < off + 12) return more();
    const [type, length] = [u32(off), u32(off + 4)];
    if (type === PCAPNG_IDB) return le ? head.readUInt16LE(off + 8) : head.readUInt16BE(off + 8);
    // A packet before any interface, or a broken length: no link type to be had.
    if (PCAPNG_PACKET_BLOCKS.has(type) || length < 12 || length % 4 !== 0) return null;
    off += length;
  }
}
