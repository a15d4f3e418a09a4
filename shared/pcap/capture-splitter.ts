import { frameShard } from "./address-pair.js";
import { recordFormatOf } from "./capture-format.js";
import { MAX_PCAP_RECORD, MAX_PCAPNG_BLOCK, PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_EPB, PCAPNG_IDB, PCAPNG_PB, PCAPNG_SHB, PCAPNG_SPB } from "./format-constants.js";

type State =
  | { kind: "start" }
  | { kind: "pcap"; le: boolean; recordHeader: number; linkType: number; header: boolean }
  | { kind: "pcapng"; le: boolean; links: number[] }
  /** Not a capture, or damaged from here on: everything left goes to shard 0, for Zeek to judge. */
  | { kind: "rest" };

/** Pieces of the current buffer bound for one shard, contiguous runs merged. */
class Output {
  pieces: Buffer[] = [];
  private runStart = -1;
  private runEnd = -1;

  add(buf: Buffer, start: number, end: number): void {
    if (this.runEnd === start) {
      this.runEnd = end;
      return;
    }
    this.flushRun(buf);
    this.runStart = start;
    this.runEnd = end;
  }

  private flushRun(buf: Buffer): void {
    if (this.runEnd > this.runStart) this.pieces.push(buf.subarray(this.runStart, this.runEnd));
    this.runStart = -1;
    this.runEnd = -1;
  }

  take(buf: Buffer): Buffer {
    this.flushRun(buf);
    const out = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces);
    this.pieces = [];
    return out;
  }
}

/**
 * Splits one pcap or pcapng byte stream into `count` captures of the same format by the
 * symmetric hash of each packet's outermost IP address pair (`frameShard`): a streaming
 * transform holding at most one incomplete record (pcap) or block (pcapng) between pushes, so its
 * memory does not grow with the capture.
 *
 * - pcap (every magic: micro/nanosecond, either byte order, Kuznetzov's): the file header goes to
 *   every shard, each record to its packet's shard.
 * - pcapng: section header blocks, interface description blocks and every other non-packet block
 *   (name resolution, interface statistics, decryption secrets, custom) go to every shard, so
 *   each shard keeps every interface and interface ids stay valid; enhanced, simple and obsolete
 *   packet blocks go by their interface's link type. A new section resets the interfaces.
 *
 * `keep`: when set, only that shard's bytes are assembled (what one shard's Zeek reads); the
 * others are returned empty. Damage (a record or block length no reader accepts) and bytes left
 * incomplete at the end go to shard 0, whose Zeek then reports them as it would unsharded.
 */
export class CaptureSplitter {
  private state: State = { kind: "start" };
  private held: Buffer = Buffer.alloc(0);
  /** The buffer being routed (held bytes and the new chunk). */
  private buf: Buffer = Buffer.alloc(0);
  private readonly outputs: Output[];
  /** Packets sent to each shard so far. */
  readonly packets: number[];

  constructor(
    readonly count: number,
    private readonly keep?: number,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer, not ${count}`);
    this.outputs = Array.from({ length: count }, () => new Output());
    this.packets = new Array<number>(count).fill(0);
  }

  /** The bytes of `chunk` (and earlier held ones) each shard may be given now. */
  push(chunk: Buffer): Buffer[] {
    const buf = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    this.buf = buf;
    const used = this.consume(buf);
    // A copy, so a large chunk is not kept alive by the few bytes held from it.
    this.held = used === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(used));
    return this.outputs.map((o) => o.take(buf));
  }

  /** At the end: what is still held (an incomplete record) goes to shard 0. */
  end(): Buffer[] {
    const tail = this.held;
    this.held = Buffer.alloc(0);
    return this.outputs.map((_, k) => (k === 0 ? tail : Buffer.alloc(0)));
  }

  private to(shard: number, start: number, end: number): void {
    if (this.keep === undefined || this.keep === shard) this.outputs[shard]!.add(this.buf, start, end);
  }

  private toAll(start: number, end: number): void {
    for (let k = 0; k < this.count; k++) this.to(k, start, end);
  }

  /** Routes the whole records at the start of `buf`; returns how many bytes they take. */
  private consume(buf: Buffer): number {
    if (this.state.kind === "start") {
      if (buf.length < 24) return 0;
      const head = recordFormatOf(buf);
      // Link type in the low 16 bits of the file header's last word; the high bits may carry FCS information.
      if (head.kind === "pcap") this.state = { ...head, linkType: (head.le ? buf.readUInt32LE(20) : buf.readUInt32BE(20)) & 0xffff, header: true };
      else this.state = head.kind === "pcapng" ? { ...head, links: [] } : { kind: "rest" };
    }
    const s = this.state as Exclude<State, { kind: "start" }>;
    if (s.kind === "rest") {
      this.to(0, 0, buf.length);
      return buf.length;
    }
    if (s.kind === "pcap") return this.consumePcap(buf, s);
    return this.consumePcapng(buf, s);
  }

  private giveUp(buf: Buffer, from: number): number {
    this.state = { kind: "rest" };
    this.to(0, from, buf.length);
    return buf.length;
  }

  private consumePcap(buf: Buffer, s: Extract<State, { kind: "pcap" }>): number {
    let off = 0;
    if (s.header) {
      this.toAll(0, 24);
      s.header = false;
      off = 24;
    }
    while (buf.length - off >= s.recordHeader) {
      const caplen = s.le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
      if (caplen > MAX_PCAP_RECORD) return this.giveUp(buf, off);
      const data = off + s.recordHeader;
      const end = data + caplen;
      if (end > buf.length) break;
      const shard = frameShard(s.linkType, buf, data, end, this.count);
      this.packets[shard]!++;
      this.to(shard, off, end);
      off = end;
    }
    return off;
  }

  private consumePcapng(buf: Buffer, s: Extract<State, { kind: "pcapng" }>): number {
    let off = 0;
    while (buf.length - off >= 12) {
      const type = buf.readUInt32LE(off);
      if (type === PCAPNG_SHB) {
        // The section's own byte-order magic says how it is written; a new section has new interfaces.
        const magic = buf.readUInt32LE(off + 8);
        if (magic !== PCAPNG_BYTE_ORDER_MAGIC && buf.readUInt32BE(off + 8) !== PCAPNG_BYTE_ORDER_MAGIC) return this.giveUp(buf, off);
        s.le = magic === PCAPNG_BYTE_ORDER_MAGIC;
        s.links = [];
      }
      const u32 = (at: number): number => (s.le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
      const u16 = (at: number): number => (s.le ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
      const length = u32(off + 4);
      if (length < 12 || length % 4 !== 0 || length > MAX_PCAPNG_BLOCK) return this.giveUp(buf, off);
      const end = off + length;
      if (end > buf.length) break;
      const blockType = type === PCAPNG_SHB ? type : u32(off);
      const body = end - 4;
      let packet: { iface: number; data: number; caplen: number } | null = null;
      if (blockType === PCAPNG_IDB && length >= 20) s.links.push(u16(off + 8));
      else if ((blockType === PCAPNG_EPB || blockType === PCAPNG_PB) && length >= 32) {
        packet = { iface: blockType === PCAPNG_EPB ? u32(off + 8) : u16(off + 8), data: off + 28, caplen: u32(off + 20) };
      } else if (blockType === PCAPNG_SPB && length >= 16) {
        packet = { iface: 0, data: off + 12, caplen: body - (off + 12) };
      }
      if (packet) {
        const link = s.links[packet.iface] ?? -1;
        const dataEnd = Math.min(body, packet.data + packet.caplen);
        const shard = frameShard(link, buf, packet.data, dataEnd, this.count);
        this.packets[shard]!++;
        this.to(shard, off, end);
      } else {
        this.toAll(off, end);
      }
      off = end;
    }
    return off;
  }
}
