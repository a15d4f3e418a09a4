import { inWindows } from "../concurrency/in-windows.js";
import { PacketReader, UnreadableCapture, type Packet } from "./packet-reader.js";

/** One capture of a recording: how to read its bytes (again: it is opened twice). */
export interface MergeSource {
  name: string;
  open(): Promise<AsyncIterator<Buffer>>;
}

/** What merging read from each capture, by its position in `sources`. */
export interface MergeStats {
  packets: number[];
  /** Bytes of a last record cut short, per capture: not packets, left out. */
  bytesDropped: number[];
}

/** Output is handed on in pieces of about this size: few writes, little held. */
const OUT_BYTES = 256 * 1024;
/** Captures whose first packet is looked up at once. */
const PEEK_WINDOW = 8;

interface Open {
  index: number;
  reader: PacketReader;
  packet: Packet;
}

/** Earlier packet first; at the same time, the capture given first (rotated files are in order). */
const before = (a: Open, b: Open): boolean => a.packet.tsNs < b.packet.tsNs || (a.packet.tsNs === b.packet.tsNs && a.index < b.index);

/** A binary min-heap of the open captures by their next packet. */
class Heap {
  private items: Open[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Open | undefined {
    return this.items[0];
  }
  push(item: Open): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Open | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** pcap global header, little-endian, nanosecond magic: every input's time resolution fits. */
function pcapNsHeader(linkType: number, snapLen: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b23c4d, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snapLen, 16);
  h.writeUInt32LE(linkType, 20);
  return h;
}

function record(p: Packet): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(Number(p.tsNs / 1_000_000_000n), 0);
  h.writeUInt32LE(Number(p.tsNs % 1_000_000_000n), 4);
  h.writeUInt32LE(p.data.length, 8);
  h.writeUInt32LE(p.origLen, 12);
  return h;
}

/**
 * The captures of one recording cut into files (tcpdump -C/-G, rotated sensor files) as ONE
 * classic pcap stream (nanosecond timestamps, little-endian) in packet-time order: a k-way merge
 * by timestamp, so a connection spanning two files reaches Zeek as one. pcap and pcapng inputs
 * alike (pcapng interfaces become the one link type they share); different link types throw
 * UnreadableCapture. First each capture's first packet time is read (then it is closed again);
 * a capture is opened for the merge only once the merge reaches that time, so rotated files,
 * which follow each other, are read one or two at a time and memory stays flat however many
 * there are; captures overlapping in time are all open while they overlap.
 */
export async function* mergeCaptures(sources: readonly MergeSource[], stats: MergeStats = { packets: [], bytesDropped: [] }): AsyncGenerator<Buffer> {
  stats.packets = sources.map(() => 0);
  stats.bytesDropped = sources.map(() => 0);
  const heads = await inWindows([...sources.entries()], PEEK_WINDOW, async ([index, s]) => {
    const reader = new PacketReader(s.name, await s.open());
    try {
      const first = await reader.next();
      if (!first) stats.bytesDropped[index] = reader.bytesDropped;
      return { linkType: reader.linkType, snapLen: reader.snapLen, firstNs: first?.tsNs ?? null };
    } finally {
      await reader.close();
    }
  });
  const typed = heads.map((h, i) => ({ ...h, name: sources[i]!.name })).filter((h) => h.linkType !== null);
  const mixed = typed.find((h) => h.linkType !== typed[0]?.linkType);
  if (mixed) throw new UnreadableCapture(`${mixed.name} has link type ${mixed.linkType}, ${typed[0]!.name} ${typed[0]!.linkType}: captures of one recording share one link type`);
  yield pcapNsHeader(typed[0]?.linkType ?? 1, Math.max(...heads.map((h) => h.snapLen)));

  // Captures not yet opened, by their first packet's time (captures without packets are skipped).
  const waiting = heads.map((h, index) => ({ index, firstNs: h.firstNs })).filter((w): w is { index: number; firstNs: bigint } => w.firstNs !== null);
  waiting.sort((a, b) => (a.firstNs < b.firstNs ? -1 : a.firstNs > b.firstNs ? 1 : a.index - b.index));
  const heap = new Heap();
  let out: Buffer[] = [];
  let outBytes = 0;
  const advance = async (o: Omit<Open, "packet">): Promise<void> => {
    const packet = await o.reader.next();
    if (packet) return heap.push({ ...o, packet });
    stats.packets[o.index] = o.reader.packets;
    stats.bytesDropped[o.index] = o.reader.bytesDropped;
    await o.reader.close();
  };
  try {
    for (let w = 0; w < waiting.length || heap.size > 0; ) {
      const top = heap.peek();
      const due = waiting[w];
      if (due && (!top || due.firstNs <= top.packet.tsNs)) {
        w++;
        const source = sources[due.index]!;
        await advance({ index: due.index, reader: new PacketReader(source.name, await source.open()) });
        continue;
      }
      const o = heap.pop()!;
      out.push(record(o.packet), o.packet.data);
      outBytes += 16 + o.packet.data.length;
      if (outBytes >= OUT_BYTES) {
        yield Buffer.concat(out);
        [out, outBytes] = [[], 0];
      }
      await advance(o);
    }
    if (out.length > 0) yield Buffer.concat(out);
  } finally {
    // Stopped early (Zeek exited, a read failed): free every capture still open.
    let o: Open | undefined;
    while ((o = heap.pop())) await o.reader.close().catch(() => undefined);
  }
}
