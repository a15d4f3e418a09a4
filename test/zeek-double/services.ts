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
