// Connection tracking: one Flow per (bidirectional) 5-tuple, expired after
// Zeek's inactivity timeouts so memory is bounded by the active flows.

import type { DecodedPacket, Transport } from "./packet-decoder.js";
import { TCP_ACK, TCP_RST, TCP_SYN } from "./packet-decoder.js";
import { carriesNtlm, DNS_PORTS, ftpDataChannels, isDhcp, isLikelyServerPort, tcpServiceFromPayload } from "./services.js";
import { TcpEndpoint } from "./tcp.js";
import { connectionUid } from "./uid.js";

// Zeek's defaults: udp/icmp/unknown_ip_inactivity_timeout, tcp_inactivity_timeout,
// tcp_close_delay/tcp_reset_delay once a TCP connection is finished, and
// dns_session_timeout, after which the DNS analyzer removes its connection.
const IDLE_TIMEOUT = 60;
const TCP_IDLE_TIMEOUT = 300;
const TCP_CLOSED_TIMEOUT = 5;
const DNS_SESSION_TIMEOUT = 10;
/** History letters Zeek repeats on a logarithmic scale: retransmissions and content gaps. */
const SCALED_LETTERS = new Set(["T", "G"]);

export class Flow {
  readonly uid = connectionUid();
  origH: string;
  origP: number;
  respH: string;
  respP: number;
  origLocal: boolean;
  respLocal: boolean;
  readonly transport: Transport;
  readonly ipProto: number;
  readonly start: number;
  last: number;
  origPkts = 0;
  origIpBytes = 0;
  respPkts = 0;
  respIpBytes = 0;
  /** Payload bytes per direction for transports without sequence numbers. */
  private origPayload = 0;
  private respPayload = 0;
  history = "";
  /** How often each scaled history letter occurred (Zeek logs them at the 1st, 10th, 100th, ...). */
  private readonly letterCounts = new Map<string, number>();
  /** Bytes acknowledged but never seen in either direction (content gaps). */
  missedBytes = 0;
  /** Zeek's c$service: the analyzers that confirmed the protocol, logged comma-joined. */
  private readonly services = new Set<string>();
  readonly tcp: { readonly orig: TcpEndpoint; readonly resp: TcpEndpoint } | undefined;
  /** Zeek attaches its DNS analyzer by the responder port when the connection is created. */
  readonly analyzeDns: boolean;
  /** Table bookkeeping: current idle timeout class. */
  timeout: number;

  constructor(
    readonly key: string,
    ts: number,
    p: DecodedPacket,
  ) {
    const flip = Flow.startsFlipped(p);
    this.origH = flip ? p.dst : p.src;
    this.origP = flip ? p.dstPort : p.srcPort;
    this.respH = flip ? p.src : p.dst;
    this.respP = flip ? p.srcPort : p.dstPort;
    this.origLocal = flip ? p.dstLocal : p.srcLocal;
    this.respLocal = flip ? p.srcLocal : p.dstLocal;
    this.transport = p.transport;
    this.ipProto = p.ipProto;
    this.start = ts;
    this.last = ts;
    if (flip) this.history = "^";
    this.tcp = p.transport === "tcp" ? { orig: new TcpEndpoint(), resp: new TcpEndpoint() } : undefined;
    this.analyzeDns = p.transport === "udp" && DNS_PORTS.has(this.respP);
    this.timeout = this.analyzeDns ? DNS_SESSION_TIMEOUT : IDLE_TIMEOUT;
  }

  /**
   * Zeek's WantConnection(): a connection whose first packet looks like it
   * came from the server (by likely server ports) starts with roles flipped.
   */
  private static startsFlipped(p: DecodedPacket): boolean {
    const srcServer = isLikelyServerPort(p.transport, p.srcPort);
    const dstServer = isLikelyServerPort(p.transport, p.dstPort);
    if (p.transport === "udp") return srcServer && !dstServer && !p.dstGroup;
    if (p.transport !== "tcp") return false;
    const syn = (p.tcpFlags & TCP_SYN) !== 0;
    const pureSyn = syn && (p.tcpFlags & TCP_ACK) === 0;
    if (pureSyn || !srcServer) return false;
    return dstServer ? !syn && p.srcPort < p.dstPort : true;
  }

  isFromOrig(p: DecodedPacket): boolean {
    return p.src === this.origH && p.srcPort === this.origP;
  }

  /** Whether this packet starts a new connection on the same tuple (Zeek's IsReuse()). */
  isReusedBy(p: DecodedPacket): boolean {
    if (this.tcp === undefined || (p.tcpFlags & (TCP_SYN | TCP_ACK)) !== TCP_SYN) return false;
    const sender = this.isFromOrig(p) ? this.tcp.orig : this.tcp.resp;
    return sender.state === "closed" || sender.state === "reset";
  }

  /**
   * Records one packet; returns what it counts for capture_loss (a TCP ACK event, and one with a
   * gap) and whether it raised Zeek's connection_established: the responder's SYN-ACK to the
   * originator's SYN, both endpoints then established.
   */
  account(ts: number, p: DecodedPacket, fromOrig: boolean): { ack: boolean; gap: boolean; established?: boolean } {
    // Zeek does not extend a TCP connection's duration for packets after both sides closed.
    if (!this.tcpClosed()) this.last = ts;
    if (fromOrig) {
      this.origPkts++;
      this.origIpBytes += p.ipLength;
    } else {
      this.respPkts++;
      this.respIpBytes += p.ipLength;
    }
    if (this.tcp !== undefined) {
      const [self, peer] = fromOrig ? [this.tcp.orig, this.tcp.resp] : [this.tcp.resp, this.tcp.orig];
      const ackEvent = self.isAckEvent(p.tcpFlags, p.tcpAck, peer);
      const synAck = (p.tcpFlags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK) && (p.tcpFlags & TCP_RST) === 0;
      const established = !fromOrig && synAck && self.state === "inactive" && peer.state === "syn_sent";
      for (const code of self.send(p.tcpFlags, p.tcpSeq, p.tcpAck, p.payloadLength, peer)) {
        this.addHistory(code, fromOrig);
      }
      // A content gap belongs to the stream that lost the bytes: the peer's.
      const missing = (p.tcpFlags & TCP_ACK) !== 0 ? peer.acked(p.tcpAck) : 0;
      if (missing > 0) {
        this.missedBytes += missing;
        this.addHistory("G", !fromOrig);
      }
      // Protocol detection needs the stream from its beginning, as Zeek's analyzers do.
      if (this.services.size === 0 && p.payloadLength > 0 && self.startSeen) {
        this.addService(tcpServiceFromPayload(p.payload, fromOrig, this.respP));
      }
      if (this.services.has("smb") && carriesNtlm(p.payload)) ["gssapi", "ntlm"].forEach((s) => this.addService(s));
      this.timeout = this.tcpClosed() || this.tcpReset() ? TCP_CLOSED_TIMEOUT : TCP_IDLE_TIMEOUT;
      return { ack: ackEvent, gap: ackEvent && missing > 0, established };
    }
    if (fromOrig) this.origPayload += p.payloadLength;
    else this.respPayload += p.payloadLength;
    if (this.transport === "udp") {
      this.addHistory("D", fromOrig);
      if (this.services.size === 0 && (this.respP === 67 || this.respP === 68) && isDhcp(p.payload)) {
        this.addService("dhcp");
      }
    }
    return { ack: false, gap: false };
  }

  addService(name: string | undefined): void {
    if (name !== undefined) this.services.add(name);
  }

  hasService(name: string): boolean {
    return this.services.has(name);
  }

  /** As logged: Zeek joins the set in sorted order ("gssapi,ntlm,smb"). */
  get service(): string | undefined {
    return this.services.size === 0 ? undefined : [...this.services].sort().join(",");
  }

  /** Both endpoints finished (FIN or RST): later packets no longer extend the connection. */
  private tcpClosed(): boolean {
    return this.tcp !== undefined && this.tcp.orig.finished && this.tcp.resp.finished;
  }

  private tcpReset(): boolean {
    return this.tcp?.orig.state === "reset" || this.tcp?.resp.state === "reset";
  }

  /**
   * Adds a history letter the first time it occurs (lower case for the responder); gaps and
   * retransmissions again at their 10th, 100th, ... occurrence (Zeek's ScaledHistoryEntry).
   */
  private addHistory(code: string, fromOrig: boolean): void {
    const letter = fromOrig ? code : code.toLowerCase();
    if (SCALED_LETTERS.has(code)) {
      const n = (this.letterCounts.get(letter) ?? 0) + 1;
      this.letterCounts.set(letter, n);
      if (Number.isInteger(Math.log10(n))) this.history += letter;
    } else if (!this.history.includes(letter)) this.history += letter;
  }

  /** Zeek's FlipRoles() as done by an analyzer mid-connection: endpoints swap, counters stay. */
  flipRoles(): void {
    [this.origH, this.respH] = [this.respH, this.origH];
    [this.origP, this.respP] = [this.respP, this.origP];
    [this.origLocal, this.respLocal] = [this.respLocal, this.origLocal];
    this.history += "^";
  }

  get origSize(): number {
    return this.tcp?.orig.size ?? this.origPayload;
  }

  get respSize(): number {
    return this.tcp?.resp.size ?? this.respPayload;
  }
}

function flowKey(p: DecodedPacket): string {
  const a = `${p.src}/${p.srcPort}`;
  const b = `${p.dst}/${p.dstPort}`;
  return a < b ? `${p.ipProto}|${a}|${b}` : `${p.ipProto}|${b}|${a}`;
}

export class FlowTable {
  private readonly flows = new Map<string, Flow>();
  /** Flows by idle timeout, each map in order of last activity (oldest first). */
  private readonly idle = new Map<number, Map<string, Flow>>();
  private readonly activeCounts = new Map<Transport, number>();
  private readonly createdCounts = new Map<Transport, number>();
  /** Data connections FTP control connections announced, as "opener|host|port". */
  private readonly ftpExpected = new Set<string>();
  private ackEventCount = 0;
  private gapEventCount = 0;
  /** No flow can expire before this network time, so expire() can skip its scan. */
  private nextDeadline = Infinity;

  constructor(private readonly removed: (flow: Flow) => void) {}

  /** Accounts one packet to its flow, creating the flow if needed. */
  add(ts: number, p: DecodedPacket): { flow: Flow; fromOrig: boolean; established: boolean } {
    const key = flowKey(p);
    let flow = this.flows.get(key);
    if (flow?.isReusedBy(p)) {
      this.remove(flow);
      flow = undefined;
    }
    if (flow === undefined) {
      flow = new Flow(key, ts, p);
      if (flow.transport === "tcp" && this.ftpExpected.has(`${flow.origH}|${flow.respH}|${flow.respP}`)) {
        flow.addService("ftp-data");
      }
      this.flows.set(key, flow);
      this.activeCounts.set(p.transport, this.active(p.transport) + 1);
      this.createdCounts.set(p.transport, this.created(p.transport) + 1);
    } else {
      this.idle.get(flow.timeout)?.delete(key);
    }
    const fromOrig = flow.isFromOrig(p);
    const counted = flow.account(ts, p, fromOrig);
    if (counted.ack) this.ackEventCount++;
    if (counted.gap) this.gapEventCount++;
    if (flow.hasService("ftp") && p.payloadLength > 0) {
      for (const c of ftpDataChannels(p.payload, fromOrig)) {
        const [opener, other] = c.opener === "orig" ? [flow.origH, flow.respH] : [flow.respH, flow.origH];
        this.ftpExpected.add(`${opener}|${c.host ?? other}|${c.port}`);
      }
    }
    this.idleClass(flow.timeout).set(key, flow);
    this.nextDeadline = Math.min(this.nextDeadline, flow.last + flow.timeout);
    return { flow, fromOrig, established: counted.established === true };
  }

  private idleClass(timeout: number): Map<string, Flow> {
    let lru = this.idle.get(timeout);
    if (lru === undefined) {
      lru = new Map();
      this.idle.set(timeout, lru);
    }
    return lru;
  }

  /** Removes every flow idle for at least its timeout at network time `now`. */
  expire(now: number): void {
    if (now < this.nextDeadline) return;
    this.nextDeadline = Infinity;
    const due: Flow[] = [];
    for (const [timeout, lru] of this.idle) {
      for (const flow of lru.values()) {
        if (flow.last + timeout > now) {
          this.nextDeadline = Math.min(this.nextDeadline, flow.last + timeout);
          break;
        }
        due.push(flow);
      }
    }
    // Zeek's timer queue fires in deadline order, whatever the timeout that set them.
    due.sort((a, b) => a.last + a.timeout - (b.last + b.timeout));
    for (const flow of due) this.remove(flow);
  }

  /** Removes the remaining flows (those matching `which`), oldest first, as at the end of the capture. */
  drain(which: (flow: Flow) => boolean = () => true): void {
    const rest = [...this.flows.values()].filter(which).sort((a, b) => a.start - b.start);
    for (const flow of rest) this.remove(flow);
  }

  private remove(flow: Flow): void {
    this.flows.delete(flow.key);
    this.idle.get(flow.timeout)?.delete(flow.key);
    this.activeCounts.set(flow.transport, this.active(flow.transport) - 1);
    this.removed(flow);
  }

  active(transport: Transport): number {
    return this.activeCounts.get(transport) ?? 0;
  }

  /** Flows created so far with this transport. */
  created(transport: Transport): number {
    return this.createdCounts.get(transport) ?? 0;
  }

  /** TCP ACK events so far (Zeek's get_gap_stats()$ack_events). */
  get ackEvents(): number {
    return this.ackEventCount;
  }

  /** ACK events that acknowledged bytes never seen (get_gap_stats()$gap_events). */
  get gapEvents(): number {
    return this.gapEventCount;
  }
}
