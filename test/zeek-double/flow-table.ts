// Connection tracking: one Flow per (bidirectional) 5-tuple, expired after
// Zeek's inactivity timeouts so memory is bounded by the active flows.

import type { DecodedPacket, Transport } from "./packet-decoder.js";
import { TCP_ACK, TCP_SYN } from "./packet-decoder.js";
import { DNS_PORTS, isDhcp, isLikelyServerPort, tcpServiceFromPayload } from "./services.js";
import { TcpEndpoint } from "./tcp.js";
import { connectionUid } from "./uid.js";

// Zeek's defaults: udp/icmp/unknown_ip_inactivity_timeout, tcp_inactivity_timeout,
// tcp_close_delay/tcp_reset_delay once a TCP connection is finished, and
// dns_session_timeout, after which the DNS analyzer removes its connection.
const IDLE_TIMEOUT = 60;
const TCP_IDLE_TIMEOUT = 300;
const TCP_CLOSED_TIMEOUT = 5;
const DNS_SESSION_TIMEOUT = 10;

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
  service: string | undefined;
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

  /** Records one packet; returns true if it is a TCP "ACK event" for capture_loss. */
  account(ts: number, p: DecodedPacket, fromOrig: boolean): boolean {
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
      for (const code of self.send(p.tcpFlags, p.tcpSeq, p.tcpAck, p.payloadLength, peer)) {
        this.addHistory(code, fromOrig);
      }
      // Protocol detection needs the stream from its beginning, as Zeek's analyzers do.
      if (this.service === undefined && p.payloadLength > 0 && self.startSeen) {
        this.service = tcpServiceFromPayload(p.payload, fromOrig, this.respP);
      }
      this.timeout = this.tcpClosed() || this.tcpReset() ? TCP_CLOSED_TIMEOUT : TCP_IDLE_TIMEOUT;
      return ackEvent;
    }
    if (fromOrig) this.origPayload += p.payloadLength;
    else this.respPayload += p.payloadLength;
    if (this.transport === "udp") {
      this.addHistory("D", fromOrig);
      if (this.service === undefined && (this.respP === 67 || this.respP === 68) && isDhcp(p.payload)) {
        this.service = "dhcp";
      }
    }
    return false;
  }

  private tcpClosed(): boolean {
    return this.tcp?.orig.state === "closed" && this.tcp.resp.state === "closed";
  }

  private tcpReset(): boolean {
    return this.tcp?.orig.state === "reset" || this.tcp?.resp.state === "reset";
  }

  /** Adds a history letter the first time it occurs (lower case for the responder). */
  private addHistory(code: string, fromOrig: boolean): void {
    const letter = fromOrig ? code : code.toLowerCase();
    if (!this.history.includes(letter)) this.history += letter;
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
  private ackEventCount = 0;
  /** No flow can expire before this network time, so expire() can skip its scan. */
  private nextDeadline = Infinity;

  constructor(private readonly removed: (flow: Flow) => void) {}

  /** Accounts one packet to its flow, creating the flow if needed. */
  add(ts: number, p: DecodedPacket): { flow: Flow; fromOrig: boolean } {
    const key = flowKey(p);
    let flow = this.flows.get(key);
    if (flow?.isReusedBy(p)) {
      this.remove(flow);
      flow = undefined;
    }
    if (flow === undefined) {
      flow = new Flow(key, ts, p);
      this.flows.set(key, flow);
      this.activeCounts.set(p.transport, this.active(p.transport) + 1);
      this.createdCounts.set(p.transport, this.created(p.transport) + 1);
    } else {
      this.idle.get(flow.timeout)?.delete(key);
    }
    const fromOrig = flow.isFromOrig(p);
    if (flow.account(ts, p, fromOrig)) this.ackEventCount++;
    this.idleClass(flow.timeout).set(key, flow);
    this.nextDeadline = Math.min(this.nextDeadline, flow.last + flow.timeout);
    return { flow, fromOrig };
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
    for (const [timeout, lru] of this.idle) {
      for (const flow of lru.values()) {
        if (flow.last + timeout > now) {
          this.nextDeadline = Math.min(this.nextDeadline, flow.last + timeout);
          break;
        }
        this.remove(flow);
      }
    }
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
}
