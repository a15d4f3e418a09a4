// DNS wire-format parsing with the quirks of Zeek's DNS analyzer that show
// up in dns.log: lower-cased names, no trailing dot, backward-only
// compression pointers, and how each answer type is summarised.

import { formatIPv4, formatIPv6 } from "./addresses.js";

export interface DnsQuestion {
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
}

export interface DnsAnswer {
  /** Owner name of the record. */
  readonly name: string;
  readonly ttl: number;
  /**
   * Zeek's summary of the record for the `answers` column; '' when Zeek
   * handles the type without adding an answer, undefined when it has no
   * handler at all (the record then does not touch dns.log).
   */
  readonly reply: string | undefined;
}

export interface DnsMessage {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly z: number;
  readonly rcode: number;
  readonly qdcount: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
  /** Questions parsed before any error. */
  readonly questions: readonly DnsQuestion[];
  /** Answer-section records parsed before any error. */
  readonly answers: readonly DnsAnswer[];
  /** Questions and answers parsed completely: Zeek confirms the protocol. */
  readonly confirmed: boolean;
}

const HEADER_LENGTH = 12;
// Zeek's dns_max_queries: more questions than this is not treated as DNS.
const MAX_QUERIES = 25;
const MAX_NAME = 512;

class Reader {
  constructor(
    readonly msg: Buffer,
    public pos: number,
    /** NetBIOS name service (port 137) allows labels longer than 63 bytes. */
    private readonly netbios: boolean,
  ) {}

  remaining(): number {
    return this.msg.length - this.pos;
  }

  u8(): number {
    return this.msg[this.pos++] ?? 0;
  }

  /** Like Zeek's ExtractShort/ExtractLong, reading past the end yields 0. */
  u16(): number {
    const v = this.remaining() >= 2 ? this.msg.readUInt16BE(this.pos) : 0;
    this.pos += 2;
    return v;
  }

  u32(): number {
    const v = this.remaining() >= 4 ? this.msg.readUInt32BE(this.pos) : 0;
    this.pos += 4;
    return v;
  }

  /** Reads a domain name; undefined if it is malformed. */
  name(): string | undefined {
    const bytes: number[] = [];
    if (!this.labels(this.pos, bytes, (end) => (this.pos = end))) return undefined;
    if (bytes.length >= 2 && bytes[bytes.length - 1] === 0x2e) bytes.pop();
    return renderName(bytes);
  }

  private labels(start: number, out: number[], done: (end: number) => void): boolean {
    let pos = start;
    for (;;) {
      if (pos >= this.msg.length) return false;
      const len = this.msg[pos] ?? 0;
      if (len === 0) {
        done(pos + 1);
        return true;
      }
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.msg.length) return false;
        const target = ((len & 0x3f) << 8) | (this.msg[pos + 1] ?? 0);
        done(pos + 2);
        // Only pointers to earlier data are followed, which also rules out loops.
        return target < pos && this.labels(target, out, () => undefined);
      }
      const tooLong = (len > 63 && !this.netbios) || out.length + len + 1 > MAX_NAME;
      if (tooLong || pos + 1 + len > this.msg.length) return false;
      for (let i = 1; i <= len; i++) out.push(this.msg[pos + i] ?? 0);
      out.push(0x2e);
      pos += len + 1;
    }
  }
}

/** Lower-cases ASCII letters and writes non-printable bytes as \xNN, as Zeek's logs show them. */
function renderName(bytes: readonly number[]): string {
  let s = "";
  for (const b of bytes) {
    if (b >= 0x41 && b <= 0x5a) s += String.fromCharCode(b + 0x20);
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return s;
}

function characterStrings(r: Reader, end: number): string[] {
  const out: string[] = [];
  while (r.pos < end) {
    const len = r.u8();
    out.push(r.msg.subarray(r.pos, Math.min(r.pos + len, end)).toString("latin1"));
    r.pos += len;
  }
  return out;
}

/** The string Zeek's dns_*_reply handlers pass to DNS::do_reply for one record. */
function summarize(r: Reader, type: number, owner: string, end: number, netbios: boolean): string | undefined {
  const rdlength = end - r.pos;
  switch (type) {
    case 1:
      return rdlength >= 4 ? formatIPv4(r.msg, r.pos) : undefined;
    case 28:
    case 38:
      return rdlength >= 16 ? formatIPv6(r.msg, r.pos) : undefined;
    case 2:
    case 5:
    case 12:
      return r.name();
    case 15:
      r.u16();
      return r.name();
    case 6:
      return r.name();
    case 33:
      if (netbios) return undefined;
      r.pos += 6;
      return r.name();
    case 16:
    case 99: {
      const label = type === 16 ? "TXT" : "SPF";
      return characterStrings(r, end)
        .map((s) => `${label} ${s.length} ${s}`)
        .join(" ");
    }
    case 11:
      return "";
    case 43:
      r.u16();
      return `DS ${r.u8()} ${r.u8()}`;
    case 44: {
      r.pos += 2;
      return `SSHFP: ${r.msg.subarray(r.pos, end).toString("hex")}`;
    }
    case 29:
      r.u8();
      return `LOC:  ${r.u8()} ${r.u8()} ${r.u8()}`;
    case 46: {
      const covered = r.u16();
      r.pos += 16;
      const signer = r.name();
      return `RRSIG ${covered} ${signer === "" ? "<Root>" : signer}`;
    }
    case 47:
      return `NSEC ${owner} ${r.name() ?? ""}`;
    case 48:
      r.pos += 3;
      return `DNSKEY ${r.u8()}`;
    case 50:
      return "NSEC3";
    case 51:
      return "NSEC3PARAM";
    case 65534:
      return "BIND9 signing signal";
    // Types Zeek parses but base/protocols/dns does not log.
    case 13:
    case 32:
    case 41:
    case 250:
    case 257:
      return undefined;
    default:
      return `<unknown type=${type}>`;
  }
}

function parseAnswer(r: Reader, netbios: boolean): DnsAnswer | undefined {
  const name = r.name();
  if (name === undefined || r.remaining() < 10) return undefined;
  const type = r.u16();
  r.u16();
  const ttl = r.u32();
  const rdlength = r.u16();
  if (rdlength > r.remaining()) return undefined;
  const end = r.pos + rdlength;
  const reply = summarize(r, type, name, end, netbios);
  r.pos = end;
  return { name, ttl, reply };
}

/** Parses one DNS message; undefined when it is shorter than a DNS header. */
export function parseDnsMessage(payload: Buffer, netbios: boolean): DnsMessage | undefined {
  if (payload.length < HEADER_LENGTH) return undefined;
  const flags = payload.readUInt16BE(2);
  const header = {
    id: payload.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0x0f,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags >> 4) & 0x07,
    rcode: flags & 0x0f,
    qdcount: payload.readUInt16BE(4),
    ancount: payload.readUInt16BE(6),
    nscount: payload.readUInt16BE(8),
    arcount: payload.readUInt16BE(10),
  };
  const questions: DnsQuestion[] = [];
  const answers: DnsAnswer[] = [];
  if (header.qdcount > MAX_QUERIES) return { ...header, questions, answers, confirmed: false };
  const r = new Reader(payload, HEADER_LENGTH, netbios);
  for (let i = 0; i < header.qdcount; i++) {
    const name = r.name();
    if (name === undefined || r.remaining() < 4) return { ...header, questions, answers, confirmed: false };
    questions.push({ name, qtype: r.u16(), qclass: r.u16() });
  }
  for (let i = 0; i < header.ancount; i++) {
    const answer = parseAnswer(r, netbios);
    if (answer === undefined) return { ...header, questions, answers, confirmed: false };
    answers.push(answer);
  }
  return { ...header, questions, answers, confirmed: true };
}
