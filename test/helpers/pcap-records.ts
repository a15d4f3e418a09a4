// A pcap reader of the tests' own, written from the libpcap file format and sharing nothing with
// shared/pcap/: the product's captures (merged, split, salvaged) are checked against it, so a
// mistake in the product's readers cannot hide itself by being made on both sides.

/** One record of a pcap file. */
export interface PcapRecord {
  /** The whole record as it stands in the file: its 16-byte header and data. */
  bytes: Buffer;
  /** Packet time in nanoseconds since the epoch, whatever resolution the file has. */
  tsNs: bigint;
  /** The packet's length on the wire (the data may be cut to the snap length). */
  origLen: number;
  data: Buffer;
}

const MICROSECONDS = 0xa1b2c3d4;
const NANOSECONDS = 0xa1b23c4d;

/**
 * The records of a pcap file: microsecond or nanosecond magic, either byte order. Throws on any
 * other magic and on a record cut short, so a capture that is not whole fails the test using it.
 */
export function pcapRecords(pcap: Buffer): PcapRecord[] {
  const magics = [pcap.readUInt32LE(0), pcap.readUInt32BE(0)];
  const le = magics[0] === MICROSECONDS || magics[0] === NANOSECONDS;
  const magic = le ? magics[0] : magics[1];
  if (magic !== MICROSECONDS && magic !== NANOSECONDS) throw new Error(`not a pcap: magic ${pcap.readUInt32BE(0).toString(16)}`);
  const fraction = magic === NANOSECONDS ? 1n : 1000n;
  const u32 = (at: number): number => (le ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  const out: PcapRecord[] = [];
  for (let at = 24; at < pcap.length; ) {
    if (at + 16 > pcap.length) throw new Error(`record header at byte ${at} cut short`);
    const end = at + 16 + u32(at + 8);
    if (end > pcap.length) throw new Error(`record at byte ${at} cut short: ${end - pcap.length} bytes missing`);
    out.push({ bytes: pcap.subarray(at, end), tsNs: BigInt(u32(at)) * 1_000_000_000n + BigInt(u32(at + 4)) * fraction, origLen: u32(at + 12), data: pcap.subarray(at + 16, end) });
    at = end;
  }
  return out;
}

/** A pcap's records as they stand in the file, to deal out, slice or compare whole. */
export const recordBytes = (pcap: Buffer): Buffer[] => pcapRecords(pcap).map((r) => r.bytes);
