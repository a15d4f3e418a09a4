// A small Ethernet pcap with 802.1Q and QinQ tags and fragmented UDP datagrams, between many
// host pairs: what a sharded analysis must keep together (tags are walked to the IP header;
// fragments go with their datagram's address pair). Deterministic.

import { pcapHeader } from "./pcap-writer.js";

const TS0 = 1_700_000_000;

function ipv4Header(src: number, dst: number, proto: number, payload: number, id: number, fragment: { offset: number; more: boolean }): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload, 2);
  h.writeUInt16BE(id, 4);
  h.writeUInt16BE((fragment.more ? 0x2000 : 0) | (fragment.offset / 8), 6);
  h[8] = 64;
  h[9] = proto;
  h.writeUInt32BE(src >>> 0, 12);
  h.writeUInt32BE(dst >>> 0, 16);
  let sum = 0;
  for (let k = 0; k < 20; k += 2) sum += h.readUInt16BE(k);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  h.writeUInt16BE(~sum & 0xffff, 10);
  return h;
}

function ethernet(tags: number[], ip: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from("020000000001020000000002", "hex")];
  for (const [i, tpid] of tags.entries()) parts.push(Buffer.from([tpid >> 8, tpid & 0xff, 0, 10 + i]));
  parts.push(Buffer.from([0x08, 0x00]), ip);
  return Buffer.concat(parts);
}

function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, data: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = 0x50;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, data]);
}

/** The capture's bytes: 16 TCP connections under one or two VLAN tags, 8 UDP datagrams in two fragments each, answered. */
export function vlanFragmentsPcap(): Buffer {
  const frames: Buffer[] = [];
  let t = 0;
  const record = (frame: Buffer): void => {
    const r = Buffer.alloc(16);
    t += 1_000;
    r.writeUInt32LE(TS0 + Math.floor(t / 1e6), 0);
    r.writeUInt32LE(t % 1e6, 4);
    r.writeUInt32LE(frame.length, 8);
    r.writeUInt32LE(frame.length, 12);
    frames.push(r, frame);
  };
  const SYN = 0x02, ACK = 0x10, PSH = 0x08, FIN = 0x01;
  for (let i = 0; i < 16; i++) {
    const a = (10 << 24) | (20 << 16) | (i + 1);
    const b = (172 << 24) | (16 << 16) | (i % 5) * 7 + 3;
    const tags = i % 3 === 0 ? [0x88a8, 0x8100] : [0x8100];
    const data = Buffer.from(`GET /${i} HTTP/1.0\r\n\r\n`);
    const seg = (fromA: boolean, seq: number, ack: number, flags: number, payload = Buffer.alloc(0)): void =>
      record(ethernet(tags, Buffer.concat([ipv4Header(fromA ? a : b, fromA ? b : a, 6, 20 + payload.length, i, { offset: 0, more: false }), tcp(fromA ? 40000 + i : 8080, fromA ? 8080 : 40000 + i, seq, ack, flags, payload)])));
    seg(true, 100, 0, SYN);
    seg(false, 500, 101, SYN | ACK);
    seg(true, 101, 501, ACK);
    seg(true, 101, 501, PSH | ACK, data);
    seg(false, 501, 101 + data.length, ACK);
    seg(true, 101 + data.length, 501, FIN | ACK);
    seg(false, 501, 102 + data.length, FIN | ACK);
    seg(true, 102 + data.length, 502, ACK);
  }
  for (let i = 0; i < 8; i++) {
    const a = (10 << 24) | (30 << 16) | (i + 1);
    const b = (192 << 24) | (168 << 16) | (9 << 8) | (i * 11 + 1);
    const body = Buffer.alloc(1600, i);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(50000 + i, 0);
    udp.writeUInt16BE(7000, 2);
    udp.writeUInt16BE(8 + body.length, 4);
    const datagram = Buffer.concat([udp, body]);
    const cut = 1480;
    const tags = i % 2 === 0 ? [0x8100] : [];
    // Both fragments of the datagram, then a one-packet answer.
    record(ethernet(tags, Buffer.concat([ipv4Header(a, b, 17, cut, 900 + i, { offset: 0, more: true }), datagram.subarray(0, cut)])));
    record(ethernet(tags, Buffer.concat([ipv4Header(a, b, 17, datagram.length - cut, 900 + i, { offset: cut, more: false }), datagram.subarray(cut)])));
    const answer = Buffer.alloc(12);
    answer.writeUInt16BE(7000, 0);
    answer.writeUInt16BE(50000 + i, 2);
    answer.writeUInt16BE(12, 4);
    record(ethernet(tags, Buffer.concat([ipv4Header(b, a, 17, answer.length, 1900 + i, { offset: 0, more: false }), answer])));
  }
  return Buffer.concat([pcapHeader(), ...frames]);
}
