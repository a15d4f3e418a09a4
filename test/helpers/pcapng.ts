// Turns a classic pcap (as the synthetic writer makes) into pcapng: a section header, one
// interface, an enhanced packet block per packet, in either byte order. Small captures only.

import { pcapRecords } from "./pcap-records.js";

const SHB = 0x0a0d0d0a;
const IDB = 1;
const EPB = 6;

/** One pcapng block of `type` around `body` (padded to 4 bytes), in the byte order `le` says. */
export function block(type: number, body: Buffer, le: boolean): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const out = Buffer.alloc(12 + padded.length);
  const u32 = (v: number, at: number): number => (le ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at));
  u32(type, 0);
  u32(out.length, 4);
  padded.copy(out, 8);
  u32(out.length, out.length - 4);
  return out;
}

/** The pcapng form of `pcap` (a little-endian microsecond pcap), with `blocks` the end offset of each block. */
export function pcapToPcapng(pcap: Buffer, le = true): { bytes: Buffer; blockEnds: number[] } {
  const w = (size: number, fill: (b: Buffer) => void): Buffer => {
    const b = Buffer.alloc(size);
    fill(b);
    return b;
  };
  const u32 = (b: Buffer, v: number, at: number): number => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const u16 = (b: Buffer, v: number, at: number): number => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  const blocks = [
    block(SHB, w(16, (b) => {
      u32(b, 0x1a2b3c4d, 0);
      u16(b, 1, 4);
      b.writeBigInt64LE(-1n, 8);
    }), le),
    block(IDB, w(8, (b) => {
      u16(b, pcap.readUInt32LE(20), 0);
      u32(b, pcap.readUInt32LE(16), 4);
    }), le),
  ];
  for (const r of pcapRecords(pcap)) {
    // The interface's default resolution: microseconds.
    const ticks = r.tsNs / 1000n;
    blocks.push(block(EPB, Buffer.concat([w(20, (b) => {
      u32(b, 0, 0);
      u32(b, Number(ticks >> 32n), 4);
      u32(b, Number(ticks & 0xffffffffn), 8);
      u32(b, r.data.length, 12);
      u32(b, r.origLen, 16);
    }), r.data]), le));
  }
  const blockEnds: number[] = [];
  let end = 0;
  for (const b of blocks) blockEnds.push((end += b.length));
  return { bytes: Buffer.concat(blocks), blockEnds };
}
