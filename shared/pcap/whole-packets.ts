import { RECORD_FORMAT_BYTES, recordFormatOf, type RecordFormat } from "./capture-format.js";
import { MAX_PCAP_RECORD, MAX_PCAPNG_BLOCK, PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_PACKET_BLOCKS, PCAPNG_SHB } from "./format-constants.js";

/** What trimming a capture cut mid-packet kept and dropped. */
export interface Salvage {
  bytesKept: number;
  packetsKept: number;
  bytesDropped: number;
}

/**
 * Passes a pcap or pcapng capture through while holding back the bytes of the one record (pcap)
 * or block (pcapng) that has not yet arrived whole. At the end those bytes are a capture cut
 * mid-packet: `end()` drops them and says what was kept, so Zeek reads every packet before the
 * cut instead of losing them all to a fatal read error (Zeek 8.2.2 writes no conn.log at all
 * for such a file). What is not clearly a cut is passed on untouched for Zeek to judge: an
 * unknown format, a record longer than libpcap allows (damage, not a cut), and a cut capture
 * with no whole packet (it stays a capture Zeek refuses). Holds at most one record: 256 KiB for
 * pcap, 16 MiB for a pcapng block.
 */
export class WholePackets {
  private format: RecordFormat | null = null;
  /** Bytes of the pcap file header not yet passed on. */
  private fileHeader = 0;
  private held: Buffer = Buffer.alloc(0);
  private passed = 0;
  private packets = 0;

  /** The bytes of `chunk` (and of earlier chunks held back) that may go on now. */
  push(chunk: Buffer): Buffer {
    const buf = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    const whole = this.wholeBytes(buf);
    // A copy, so a large chunk is not kept alive by the few bytes held from it.
    this.held = whole === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(whole));
    this.passed += whole;
    return buf.subarray(0, whole);
  }

  /** At the end of the capture: the bytes still to pass on, and what was cut off, if anything. */
  end(): { tail: Buffer; salvage: Salvage | null } {
    const tail = this.held;
    this.held = Buffer.alloc(0);
    if (tail.length === 0 || this.packets === 0 || this.format?.kind === "other") return { tail, salvage: null };
    return { tail: Buffer.alloc(0), salvage: { bytesKept: this.passed, packetsKept: this.packets, bytesDropped: tail.length } };
  }

  /** How many leading bytes of `buf` (which starts where the held bytes start) end on a record boundary. */
  private wholeBytes(buf: Buffer): number {
    if (!this.format) {
      if (buf.length < RECORD_FORMAT_BYTES) return 0;
      this.format = recordFormatOf(buf);
      if (this.format.kind === "pcap") this.fileHeader = 24;
    }
    const f = this.format;
    if (f.kind === "other") return buf.length;
    const u32 = (at: number): number => (f.le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
    let off = this.fileHeader;
    if (buf.length < off) return 0;
    this.fileHeader = 0;
    if (f.kind === "pcap") {
      while (buf.length - off >= f.recordHeader) {
        const caplen = u32(off + 8);
        if (caplen > MAX_PCAP_RECORD) return this.giveUp(buf);
        const end = off + f.recordHeader + caplen;
        if (end > buf.length) break;
        this.packets++;
        off = end;
      }
      return off;
    }
    while (buf.length - off >= 12) {
      // The section header's own byte-order magic says how the section is written; it may change.
      if (buf.readUInt32LE(off) === PCAPNG_SHB) {
        f.le = buf.readUInt32LE(off + 8) === PCAPNG_BYTE_ORDER_MAGIC;
        if (!f.le && buf.readUInt32BE(off + 8) !== PCAPNG_BYTE_ORDER_MAGIC) return this.giveUp(buf);
      }
      const length = u32(off + 4);
      if (length < 12 || length % 4 !== 0 || length > MAX_PCAPNG_BLOCK) return this.giveUp(buf);
      if (off + length > buf.length) break;
      if (PCAPNG_PACKET_BLOCKS.has(u32(off))) this.packets++;
      off += length;
    }
    return off;
  }

  /** Damage rather than a cut: from here on everything passes untouched. */
  private giveUp(buf: Buffer): number {
    this.format = { kind: "other" };
    return buf.length;
  }
}
