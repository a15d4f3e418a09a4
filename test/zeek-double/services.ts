// Which side of a new connection Zeek considers the server, and which
// application protocol it would confirm for the connection's `service`.

import type { Transport } from "./packet-decoder.js";

// Zeek's likely_server_ports as extended by its base protocol scripts.
const LIKELY_SERVER_TCP = new Set([
  21, 22, 23, 25, 53, 80, 81, 88, 110, 135, 139, 143, 179, 389, 443, 445, 502, 563, 585, 587, 614, 631, 636, 989,
  990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 6379, 6666, 6667, 6668,
  6669, 8000, 8080, 8888, 20000,
]);
const LIKELY_SERVER_UDP = new Set([53, 67, 69, 88, 123, 137, 161, 162, 443, 500, 514, 1812, 4500, 5060, 5353, 5355]);

export function isLikelyServerPort(transport: Transport, port: number): boolean {
  if (transport === "tcp") return LIKELY_SERVER_TCP.has(port);
  if (transport === "udp") return LIKELY_SERVER_UDP.has(port);
  return false;
}

/** UDP ports on which Zeek attaches its DNS analyzer (by responder port). */
export const DNS_PORTS = new Set([53, 137, 5353, 5355]);

const HTTP_METHODS = /^(GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT|TRACE|PATCH|PROPFIND) /;

/**
 * Guesses the service from the first payload bytes of a TCP direction, the
 * way Zeek's dynamic protocol detection would confirm it. Payload signatures
 * rather than ports, because Zeek also reports e.g. SSH on port 2200 and no
 * service for mid-stream TLS on 443.
 */
export function tcpServiceFromPayload(payload: Buffer, fromOrig: boolean, respPort: number): string | undefined {
  if (payload.length < 4) return undefined;
  const head = payload.subarray(0, 16).toString("latin1");
  if (head.startsWith("SSH-")) return "ssh";
  if (fromOrig ? HTTP_METHODS.test(head) : head.startsWith("HTTP/1.")) return "http";
  // TLS handshake record (ClientHello/ServerHello), any 3.x version.
  if (payload[0] === 0x16 && payload[1] === 0x03 && (payload[5] === 1 || payload[5] === 2)) return "ssl";
  // SMB1/SMB2 after the 4-byte NetBIOS session header.
  if ((payload[4] === 0xff || payload[4] === 0xfe) && head.slice(5, 8) === "SMB") return "smb";
  if (!fromOrig && head.startsWith("220")) {
    if (respPort === 21) return "ftp";
    if (respPort === 25 || respPort === 587) return "smtp";
  }
  return undefined;
}

/** DHCP/BOOTP messages carry the magic cookie 99.130.83.99 at offset 236. */
export function isDhcp(payload: Buffer): boolean {
  return payload.length >= 240 && payload.readUInt32BE(236) === 0x63825363;
}

/** A data channel an FTP control connection announces: who will connect to which address and port. */
export interface FtpDataChannel {
  /** The side of the control connection that opens the data connection. */
  readonly opener: "orig" | "resp";
  /** Address to connect to; undefined means the other side of the control connection. */
  readonly host: string | undefined;
  readonly port: number;
}

/**
 * The data channels Zeek's FTP analyzer expects (base/protocols/ftp): a server's `227` reply
 * (PASV) or `229` reply (EPSV) has the client connect to the server; a client's `PORT` or
 * `EPRT` command has the server connect to the client.
 */
export function ftpDataChannels(payload: Buffer, fromOrig: boolean): FtpDataChannel[] {
  const channels: FtpDataChannel[] = [];
  for (const line of payload.toString("latin1").split("\r\n")) {
    const octets = /^(?:227 .*?|PORT )\(?(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/i.exec(line);
    if (octets !== null && line.startsWith(fromOrig ? "P" : "227")) {
      const [a, b, c, d, hi, lo] = octets.slice(1).map(Number) as [number, number, number, number, number, number];
      channels.push({ opener: fromOrig ? "resp" : "orig", host: `${a}.${b}.${c}.${d}`, port: hi * 256 + lo });
      continue;
    }
    const epsv = /^229 .*\(\|\|\|(\d+)\|\)/.exec(line);
    if (epsv !== null && !fromOrig) channels.push({ opener: "orig", host: undefined, port: Number(epsv[1]) });
    const eprt = /^EPRT \|[12]\|([^|]+)\|(\d+)\|/i.exec(line);
    if (eprt !== null && fromOrig) channels.push({ opener: "resp", host: eprt[1], port: Number(eprt[2]) });
  }
  return channels;
}

/** NTLM authentication inside SMB (in a GSS-API/SPNEGO token): Zeek confirms both analyzers. */
export function carriesNtlm(payload: Buffer): boolean {
  return payload.includes("NTLMSSP\0", 0, "latin1");
}
