import { MAX_PCAP_RECORD, MAX_PCAPNG_BLOCK, PCAP_MAGICS, PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_EPB as EPB, PCAPNG_IDB as IDB, PCAPNG_PB as OBSOLETE_PB, PCAPNG_SHB, PCAPNG_SPB as SPB } from "./format-constants.js";

const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const NS = 1_000_000_000n;

/** One packet, its time in nanoseconds since the epoch; `data` is valid until the next read. */
export interface Packet {
  tsNs: bigint;
  origLen: number;
  data: Buffer;
}

/** A capture Zeek could not read as one recording with the others: damaged, or of mixed link types. */
export class UnreadableCapture extends Error {}

interface Interface {
  linkType: number;
  snapLen: number;
  /** Ticks per second as 10^n (`pow10`) or 2^n. */
  resolution: { pow10: boolean; exp: bigint };
  offsetNs: bigint;
}

function ticksToNs(ticks: bigint, i: Interface): bigint {
  const ns = i.resolution.pow10 ? (ticks * NS) / 10n ** i.resolution.exp : (ticks * NS) >> i.resolution.exp;
  return ns + i.offsetNs;
}

/**
 * Reads the packets of one pcap (micro- or nanosecond, either byte order, Kuznetzov's) or pcapng
 * capture (enhanced, simple and obsolete packet blocks; per-interface `if_tsresol` and
 * `if_tsoffset`; several sections) from a byte stream, holding at most one record or block.
 * Every interface must share the first one's link type, as libpcap (and so Zeek) requires.
 * Bytes of a last record cut short are not a packet: `bytesDropped` counts them.
 */
export class PacketReader {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  private done = false;
  private le = true;
  private format: { pcap: { ns: boolean; recordHeader: number } } | { pcapng: Interface[] } | null = null;
  private lastTsNs = 0n;
  /** From the file header (pcap) or first interface (pcapng); null until read. */
  linkType: number | null = null;
  snapLen = MAX_PCAP_RECORD;
  packets = 0;
  bytesDropped = 0;

  constructor(
    readonly name: string,
    private readonly source: AsyncIterator<Buffer>,
  ) {}

  /** Stops reading the source (its consumer is freed). */
  async close(): Promise<void> {
    this.done = true;
    await this.source.return?.(undefined);
  }

  /** True when `n` bytes are buffered from `off`; false at the end of the stream. */
  private async fill(n: number): Promise<boolean> {
    while (this.buf.length - this.off < n) {
      if (this.done) return false;
      const step = await this.source.next();
      if (step.done) {
        this.done = true;
        return false;
      }
      this.buf = this.off === this.buf.length ? step.value : Buffer.concat([this.buf.subarray(this.off), step.value]);
      this.off = 0;
    }
    return true;
  }

  private u32(at: number): number {
    return this.le ? this.buf.readUInt32LE(this.off + at) : this.buf.readUInt32BE(this.off + at);
  }

  private u16(at: number): number {
    return this.le ? this.buf.readUInt16LE(this.off + at) : this.buf.readUInt16BE(this.off + at);
  }

  private damaged(why: string): never {
    throw new UnreadableCapture(`${this.name} is damaged: ${why} (after ${this.packets} packets)`);
  }

  /** The end of the stream, part-way into a record: those bytes are dropped. */
  private ended(): null {
    this.bytesDropped += this.buf.length - this.off;
    this.off = this.buf.length;
    return null;
  }

  /** Reads up to the capture's first packet header: its link type and snap length are then known. */
  async open(): Promise<void> {
    if (this.format) return;
    if (!(await this.fill(12))) this.damaged("too short for a capture header");
    const magic = this.buf.readUInt32BE(this.off);
    const swapped = this.buf.readUInt32LE(this.off);
    const pcap = PCAP_MAGICS.get(magic) ?? PCAP_MAGICS.get(swapped);
    if (pcap) {
      this.le = !PCAP_MAGICS.has(magic);
      if (!(await this.fill(24))) this.damaged("its pcap file header is cut off");
      this.snapLen = this.u32(16) || MAX_PCAP_RECORD;
      this.linkType = this.u32(20) & 0xffff;
      this.off += 24;
      this.format = { pcap };
      return;
    }
    if (swapped !== PCAPNG_SHB) this.damaged("not a pcap or pcapng capture");
    this.format = { pcapng: [] };
    // The first interface's link type is the capture's: read blocks until it is known.
    while (this.linkType === null && (await this.peekBlock()) !== null) {
      if (this.u32(0) === IDB || this.u32(0) === PCAPNG_SHB) this.takeControlBlock();
      else this.damaged("a packet before any interface description block");
    }
  }

  /** The next packet in file order, or null at the end. */
  async next(): Promise<Packet | null> {
    await this.open();
    const f = this.format!;
    if ("pcap" in f) {
      const h = f.pcap.recordHeader;
      if (!(await this.fill(h))) return this.ended();
      const capLen = this.u32(8);
      if (capLen > MAX_PCAP_RECORD) this.damaged(`a record of ${capLen} bytes`);
      if (!(await this.fill(h + capLen))) return this.ended();
      const tsNs = BigInt(this.u32(0)) * NS + BigInt(this.u32(4)) * (f.pcap.ns ? 1n : 1000n);
      const packet = { tsNs, origLen: this.u32(12), data: this.buf.subarray(this.off + h, this.off + h + capLen) };
      this.off += h + capLen;
      this.packets++;
      return packet;
    }
    for (;;) {
      const length = await this.peekBlock();
      if (length === null) return null;
      const type = this.u32(0);
      if (type === EPB || type === OBSOLETE_PB || type === SPB) {
        const packet = this.packetBlock(type, length, f.pcapng);
        this.off += length;
        this.packets++;
        return packet;
      }
      if (type === IDB || type === PCAPNG_SHB) this.takeControlBlock();
      else this.off += length;
    }
  }

  /** The length of the whole block at `off`, buffered; null at the end. */
  private async peekBlock(): Promise<number | null> {
    if (!(await this.fill(12))) return this.ended();
    if (this.buf.readUInt32LE(this.off) === PCAPNG_SHB) {
      const order = this.buf.readUInt32LE(this.off + 8);
      if (order !== PCAPNG_BYTE_ORDER_MAGIC && this.buf.readUInt32BE(this.off + 8) !== PCAPNG_BYTE_ORDER_MAGIC) this.damaged("a section header without byte-order magic");
      this.le = order === PCAPNG_BYTE_ORDER_MAGIC;
    }
    const length = this.u32(4);
    if (length < 12 || length % 4 !== 0 || length > MAX_PCAPNG_BLOCK) this.damaged(`a block of length ${length}`);
    if (!(await this.fill(length))) return this.ended();
    return length;
  }

  /** A section header (a new section forgets its interfaces) or an interface description. */
  private takeControlBlock(): void {
    const interfaces = (this.format as { pcapng: Interface[] }).pcapng;
    const length = this.u32(4);
    if (this.u32(0) === PCAPNG_SHB) {
      interfaces.length = 0;
      this.off += length;
      return;
    }
    const iface: Interface = { linkType: this.u16(8), snapLen: this.u32(12) || MAX_PCAP_RECORD, resolution: { pow10: true, exp: 6n }, offsetNs: 0n };
    for (let at = 16; at + 4 <= length - 4; ) {
      const code = this.u16(at);
      const len = this.u16(at + 2);
      if (code === 0) break;
      if (code === IF_TSRESOL && len >= 1) {
        const v = this.buf[this.off + at + 4]!;
        iface.resolution = { pow10: (v & 0x80) === 0, exp: BigInt(v & 0x7f) };
      } else if (code === IF_TSOFFSET && len >= 8) {
        const s = this.le ? this.buf.readBigInt64LE(this.off + at + 4) : this.buf.readBigInt64BE(this.off + at + 4);
        iface.offsetNs = s * NS;
      }
      at += 4 + Math.ceil(len / 4) * 4;
    }
    if (this.linkType === null) {
      this.linkType = iface.linkType;
      this.snapLen = iface.snapLen;
    } else if (iface.linkType !== this.linkType) {
      throw new UnreadableCapture(`${this.name} has interfaces of different link types (${this.linkType} and ${iface.linkType}); libpcap, and so Zeek, reads only one`);
    }
    this.snapLen = Math.max(this.snapLen, iface.snapLen);
    interfaces.push(iface);
    this.off += length;
  }

  private packetBlock(type: number, length: number, interfaces: Interface[]): Packet {
    if (type === SPB) {
      // No interface id and no time: interface 0, and the time of the packet before.
      const iface = interfaces[0] ?? this.damaged("a simple packet block before any interface");
      const origLen = this.u32(8);
      const capLen = Math.min(origLen, iface.snapLen, length - 16);
      return { tsNs: this.lastTsNs, origLen, data: this.buf.subarray(this.off + 12, this.off + 12 + capLen) };
    }
    const ifIndex = type === EPB ? this.u32(8) : this.u16(8);
    const iface = interfaces[ifIndex] ?? this.damaged(`a packet of interface ${ifIndex}, which was never described`);
    const capLen = this.u32(20);
    if (28 + capLen > length - 4) this.damaged(`a packet block of ${length} bytes holding ${capLen}`);
    const ticks = (BigInt(this.u32(12)) << 32n) | BigInt(this.u32(16));
    this.lastTsNs = ticksToNs(ticks, iface);
    return { tsNs: this.lastTsNs, origLen: this.u32(24), data: this.buf.subarray(this.off + 28, this.off + 28 + capLen) };
  }
}
