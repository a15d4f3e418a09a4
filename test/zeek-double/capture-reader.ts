// Streaming reader for classic pcap and pcapng captures. It reproduces the
// error texts libpcap hands to Zeek, because Zeek prints them verbatim and the
// product matches on them. Bytes are consumed chunk by chunk: at most one
// partial record is held between chunks, so memory stays flat for any size.

/** One packet as libpcap hands it to Zeek (microsecond timestamps). */
export interface CapturedPacket {
  readonly tsSec: number;
  readonly tsUsec: number;
  readonly linkType: number;
  /** Length of the packet on the wire; `data` may be shorter (snaplen). */
  readonly wireLength: number;
  readonly data: Buffer;
}

/**
 * A libpcap failure. `phase` tells whether it happened while opening the
 * file (Zeek: "problem with trace file") or while reading a packet
 * (Zeek: "failed to read a packet from").
 */
export class CaptureError extends Error {
  constructor(
    readonly phase: "open" | "read",
    message: string,
  ) {
    super(message);
  }
}

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_IDB = 1;
const PCAPNG_OBSOLETE_PB = 2;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
const PCAPNG_MAX_BLOCK = 16 * 1024 * 1024;
/** Fixed part of each block body that is parsed. */
const MIN_BODY = new Map([
  [PCAPNG_IDB, 8],
  [PCAPNG_OBSOLETE_PB, 20],
  [PCAPNG_SPB, 4],
  [PCAPNG_EPB, 20],
]);
const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
const PCAP_MAGIC_NANO = 0xa1b23c4d;
// The "Kuznetzov" patched format carries 8 extra bytes per record header.
const PCAP_MAGIC_PATCHED = 0xa1b2cd34;
const PCAP_FILE_HEADER = 24;
// libpcap's MAXIMUM_SNAPLEN, which bounds record sizes for ordinary link types.
const MAX_SNAPLEN = 262144;

type Endian = "le" | "be";

function u16(buf: Buffer, off: number, endian: Endian): number {
  return endian === "le" ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
}

function u32(buf: Buffer, off: number, endian: Endian): number {
  return endian === "le" ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
}

/** What a format parser does with the bytes currently buffered. */
interface FormatParser {
  /** Consumes whole records from `buf` starting at `off`; returns the new offset. */
  parse(buf: Buffer, off: number, emit: (p: CapturedPacket) => void): number;
  /** Called at end of input with the unconsumed remainder. */
  finish(rest: Buffer): void;
}

class PcapParser implements FormatParser {
  private readonly recordHeader: number;
  private readonly nanos: boolean;
  private readonly lengthsSwapped: "no" | "yes" | "maybe";
  private readonly linkType: number;
  private readonly snapshot: number;

  constructor(
    private readonly endian: Endian,
    magic: number,
    header: Buffer,
  ) {
    const major = u16(header, 4, endian);
    const minor = u16(header, 6, endian);
    if (major < 2) throw new CaptureError("open", "archaic pcap savefile format");
    if (!((major === 2 && minor <= 4) || (major === 543 && minor === 0))) {
      throw new CaptureError("open", `unsupported pcap savefile version ${major}.${minor}`);
    }
    this.recordHeader = magic === PCAP_MAGIC_PATCHED ? 24 : 16;
    this.nanos = magic === PCAP_MAGIC_NANO;
    this.lengthsSwapped = major === 543 || minor < 3 ? "yes" : minor === 3 ? "maybe" : "no";
    this.linkType = u32(header, 20, endian) & 0x03ffffff;
    const snaplen = u32(header, 16, endian);
    this.snapshot = snaplen === 0 || snaplen > MAX_SNAPLEN ? MAX_SNAPLEN : snaplen;
  }

  parse(buf: Buffer, start: number, emit: (p: CapturedPacket) => void): number {
    let off = start;
    const e = this.endian;
    while (buf.length - off >= this.recordHeader) {
      let caplen = u32(buf, off + 8, e);
      let wireLength = u32(buf, off + 12, e);
      if (this.lengthsSwapped === "yes" || (this.lengthsSwapped === "maybe" && caplen > wireLength)) {
        [caplen, wireLength] = [wireLength, caplen];
      }
      if (caplen > MAX_SNAPLEN) {
        const limit = caplen > this.snapshot ? `snaplen of ${this.snapshot}` : `maximum of ${MAX_SNAPLEN}`;
        throw new CaptureError("read", `invalid packet capture length ${caplen}, bigger than ${limit}`);
      }
      const end = off + this.recordHeader + caplen;
      if (end > buf.length) break;
      const frac = u32(buf, off + 4, e);
      emit({
        tsSec: u32(buf, off, e),
        tsUsec: this.nanos ? Math.floor(frac / 1000) : frac,
        linkType: this.linkType,
        wireLength,
        // libpcap reads the whole record but hands out at most snaplen bytes.
        data: buf.subarray(off + this.recordHeader, off + this.recordHeader + Math.min(caplen, this.snapshot)),
      });
      off = end;
    }
    return off;
  }

  finish(rest: Buffer): void {
    if (rest.length === 0) return;
    if (rest.length < this.recordHeader) {
      throw new CaptureError(
        "read",
        `truncated dump file; tried to read ${this.recordHeader} header bytes, only got ${rest.length}`,
      );
    }
    let caplen = u32(rest, 8, this.endian);
    const wireLength = u32(rest, 12, this.endian);
    if (this.lengthsSwapped === "yes" || (this.lengthsSwapped === "maybe" && caplen > wireLength)) {
      caplen = wireLength;
    }
    const got = rest.length - this.recordHeader;
    // Oversized records are read up to the snapshot length first (see libpcap's pcap_next_packet).
    const wanted = caplen > this.snapshot && got < this.snapshot ? this.snapshot : caplen;
    throw new CaptureError("read", `truncated dump file; tried to read ${wanted} captured bytes, only got ${got}`);
  }
}

interface PcapngInterface {
  readonly linkType: number;
  readonly snaplen: number;
  /** Ticks per second. */
  readonly resolution: bigint;
  readonly offsetSec: bigint;
}

class PcapngParser implements FormatParser {
  private interfaces: PcapngInterface[] = [];
  private sawInterface = false;

  constructor(private endian: Endian) {}

  parse(buf: Buffer, start: number, emit: (p: CapturedPacket) => void): number {
    let off = start;
    while (buf.length - off >= 8) {
      const type = u32(buf, off, this.endian);
      if (type === PCAPNG_SHB) {
        // A new section may switch byte order, so its own magic decides.
        if (buf.length - off < 12) break;
        this.endian = buf.readUInt32LE(off + 8) === PCAPNG_BYTE_ORDER_MAGIC ? "le" : "be";
      }
      const total = u32(buf, off + 4, this.endian);
      this.checkBlockLength(total);
      if (buf.length - off < total) break;
      if (u32(buf, off + total - 4, this.endian) !== total) {
        throw new CaptureError(
          "read",
          `block total length in header ${total} and trailer ${u32(buf, off + total - 4, this.endian)} don't match`,
        );
      }
      this.block(type, buf.subarray(off + 8, off + total - 4), emit);
      off += total;
    }
    return off;
  }

  private checkBlockLength(total: number): void {
    if (total < 12) throw new CaptureError("read", `block in pcapng dump file has a length of ${total} < 12`);
    if (total % 4 !== 0) {
      throw new CaptureError("read", `block in pcapng dump file has a length of ${total} that is not a multiple of 4`);
    }
    if (total > PCAPNG_MAX_BLOCK) {
      throw new CaptureError("read", `pcapng block size ${total} > maximum ${PCAPNG_MAX_BLOCK}`);
    }
  }

  private block(type: number, body: Buffer, emit: (p: CapturedPacket) => void): void {
    const e = this.endian;
    const minimum = MIN_BODY.get(type) ?? 0;
    if (body.length < minimum) {
      throw new CaptureError("read", `block of type ${type} in pcapng dump file is too short`);
    }
    switch (type) {
      case PCAPNG_SHB:
        this.interfaces = [];
        return;
      case PCAPNG_IDB:
        this.sawInterface = true;
        this.interfaces.push(this.parseInterface(body));
        return;
      case PCAPNG_EPB:
      case PCAPNG_OBSOLETE_PB: {
        const obsolete = type === PCAPNG_OBSOLETE_PB;
        const ifId = obsolete ? u16(body, 0, e) : u32(body, 0, e);
        const iface = this.interfaceFor(ifId);
        const caplen = u32(body, 12, e);
        const data = body.subarray(20, 20 + Math.min(caplen, body.length - 20));
        const ticks = (BigInt(u32(body, 4, e)) << 32n) | BigInt(u32(body, 8, e));
        emit({ ...this.timestamp(iface, ticks), linkType: iface.linkType, wireLength: u32(body, 16, e), data });
        return;
      }
      case PCAPNG_SPB: {
        // Simple packet blocks carry no timestamp; libpcap reports zero.
        const iface = this.interfaceFor(0);
        const wireLength = u32(body, 0, e);
        const caplen = Math.min(wireLength, body.length - 4, iface.snaplen || Infinity);
        emit({ tsSec: 0, tsUsec: 0, linkType: iface.linkType, wireLength, data: body.subarray(4, 4 + caplen) });
        return;
      }
      default:
        return;
    }
  }

  private interfaceFor(id: number): PcapngInterface {
    const iface = this.interfaces[id];
    if (iface === undefined) {
      const what = this.sawInterface
        ? `on interface ${id}, but there's no Interface Description Block for that interface`
        : "before any Interface Description Blocks";
      throw new CaptureError(this.sawInterface ? "read" : "open", `a packet arrived ${what}`);
    }
    return iface;
  }

  private parseInterface(body: Buffer): PcapngInterface {
    const e = this.endian;
    let resolution = 1_000_000n;
    let offsetSec = 0n;
    let off = 8;
    while (off + 4 <= body.length) {
      const code = u16(body, off, e);
      const len = u16(body, off + 2, e);
      if (code === 0) break;
      const value = off + 4;
      if (code === 9 && len === 1) {
        const raw = body[value] ?? 6;
        resolution = raw & 0x80 ? 1n << BigInt(raw & 0x7f) : 10n ** BigInt(raw);
      } else if (code === 14 && len === 8) {
        offsetSec = e === "le" ? body.readBigInt64LE(value) : body.readBigInt64BE(value);
      }
      off = value + Math.ceil(len / 4) * 4;
    }
    return { linkType: u16(body, 0, e), snaplen: u32(body, 4, e), resolution, offsetSec };
  }

  private timestamp(iface: PcapngInterface, ticks: bigint): { tsSec: number; tsUsec: number } {
    const sec = ticks / iface.resolution + iface.offsetSec;
    const usec = ((ticks % iface.resolution) * 1_000_000n) / iface.resolution;
    return { tsSec: Number(sec), tsUsec: Number(usec) };
  }

  finish(rest: Buffer): void {
    if (!this.sawInterface) {
      throw new CaptureError("open", "the capture file has no Interface Description Blocks");
    }
    if (rest.length === 0) return;
    if (rest.length < 8) {
      throw new CaptureError("read", `truncated pcapng dump file; tried to read 8 bytes, only got ${rest.length}`);
    }
    const total = u32(rest, 4, this.endian);
    throw new CaptureError(
      "read",
      `truncated pcapng dump file; tried to read ${total - 8} bytes, only got ${rest.length - 8}`,
    );
  }
}

/** Picks the format from the first bytes, as libpcap's pcap_open_offline does. */
function openFormat(head: Buffer): { parser: FormatParser; consumed: number } | "need-more" {
  if (head.length < 4) return "need-more";
  const le = head.readUInt32LE(0);
  const be = head.readUInt32BE(0);
  for (const [magic, endian] of [
    [le, "le"],
    [be, "be"],
  ] as const) {
    if (magic === PCAP_MAGIC_MICRO || magic === PCAP_MAGIC_NANO || magic === PCAP_MAGIC_PATCHED) {
      if (head.length < PCAP_FILE_HEADER) return "need-more";
      return { parser: new PcapParser(endian, magic, head), consumed: PCAP_FILE_HEADER };
    }
  }
  if (le === PCAPNG_SHB) {
    if (head.length < 12) return "need-more";
    const order = head.readUInt32LE(8);
    if (order === PCAPNG_BYTE_ORDER_MAGIC) return { parser: new PcapngParser("le"), consumed: 0 };
    if (head.readUInt32BE(8) === PCAPNG_BYTE_ORDER_MAGIC) return { parser: new PcapngParser("be"), consumed: 0 };
  }
  throw new CaptureError("open", "unknown file format");
}

/** Explains why the header could not be completed once input has ended. */
function headerFailure(head: Buffer): CaptureError {
  if (head.length < 4) {
    return new CaptureError("open", `truncated dump file; tried to read 4 file header bytes, only got ${head.length}`);
  }
  const le = head.readUInt32LE(0);
  if (le === PCAPNG_SHB) return new CaptureError("open", "unknown file format");
  return new CaptureError(
    "open",
    `truncated dump file; tried to read ${PCAP_FILE_HEADER} file header bytes, only got ${head.length - 4}`,
  );
}

/**
 * Push parser: feed it chunks in order, then call `end()`. Packets are
 * delivered synchronously through `emit`; their `data` is a view into the
 * chunk, so keeping it would keep the whole chunk alive.
 */
export class CaptureParser {
  private format: FormatParser | undefined;
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly emit: (p: CapturedPacket) => void) {}

  /** Whether the file header has been accepted. */
  get opened(): boolean {
    return this.format !== undefined;
  }

  push(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let off = 0;
    if (this.format === undefined) {
      const opened = openFormat(buf);
      if (opened === "need-more") {
        this.pending = Buffer.from(buf);
        return;
      }
      this.format = opened.parser;
      off = opened.consumed;
    }
    off = this.format.parse(buf, off, this.emit);
    // Copy the remainder so the (possibly large) chunk is not kept alive.
    buf = buf.subarray(off);
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }

  end(): void {
    if (this.format === undefined) throw headerFailure(this.pending);
    this.format.finish(this.pending);
  }
}
