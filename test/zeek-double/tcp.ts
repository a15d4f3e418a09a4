// Per-endpoint TCP bookkeeping in the manner of Zeek's TCP analyzer: endpoint
// states (for conn_state), sequence-space sizes (for orig_bytes/resp_bytes)
// and the history letters each packet contributes.

import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "./packet-decoder.js";

export type TcpState = "inactive" | "syn_sent" | "syn_ack_sent" | "partial" | "established" | "closed" | "reset";

const HALF_SEQ_SPACE = 2 ** 31;

export class TcpEndpoint {
  state: TcpState = "inactive";
  /** Sequence number of the first data byte, once known. */
  private base: number | undefined;
  /** Whether `base` came from a SYN, i.e. the stream was seen from its start. */
  private sawSyn = false;
  /** Highest data byte seen, relative to `base` (Zeek's endpoint size). */
  private highest = 0;
  private lastAck: number | undefined;
  /**
   * A FIN came after a hole in the sequence space (bytes never seen): Zeek defers the close
   * while data is pending, so the connection neither ends its duration nor times out as closed.
   */
  private closeDeferred = false;
  /** Data seen without holes from the start, relative to `base` (Zeek's last_reassem_seq). */
  private contiguous = 0;
  /** Data seen beyond a hole, [start, end) relative to `base`, waiting for the hole to fill. */
  private pending: [number, number][] = [];
  /** Relative sequence number of the FIN, once sent. */
  private finAt: number | undefined;

  get size(): number {
    return this.highest;
  }

  get startSeen(): boolean {
    return this.sawSyn;
  }

  /** Closed by a FIN Zeek accepted, or reset. */
  get finished(): boolean {
    return this.state === "reset" || (this.state === "closed" && !this.closeDeferred);
  }

  /**
   * Applies one packet sent by this endpoint and returns the history letter
   * codes it adds (upper case; the flow lower-cases them for the responder).
   */
  send(flags: number, seq: number, ack: number, payloadLength: number, peer: TcpEndpoint): string {
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const codes = historyCodes(flags, payloadLength) + (this.trackSequence(syn, fin, seq, payloadLength) ? "T" : "");
    if (rst) this.state = "reset";
    else if (this.state === "reset") return codes;
    else if (fin) this.state = "closed";
    else if (syn) {
      if (this.state === "inactive") this.state = (flags & TCP_ACK) !== 0 ? "syn_ack_sent" : "syn_sent";
    } else if ((flags & TCP_ACK) !== 0 || payloadLength > 0) this.advance(peer);
    this.lastAck = (flags & TCP_ACK) !== 0 ? ack : this.lastAck;
    return codes;
  }

  private received(start: number, end: number): void {
    if (start > this.contiguous) {
      this.pending.push([start, end]);
      return;
    }
    this.contiguous = Math.max(this.contiguous, end);
    this.fillFromPending();
  }

  private fillFromPending(): void {
    this.pending.sort((a, b) => a[0] - b[0]);
    while (this.pending.length > 0 && this.pending[0]![0] <= this.contiguous) {
      this.contiguous = Math.max(this.contiguous, this.pending.shift()![1]);
    }
  }

  /**
   * The peer acknowledged this endpoint's stream up to `ack` (Zeek's TCP_Reassembler::AckReceived):
   * returns the bytes acknowledged that were never seen (a content gap), skipping them.
   */
  acked(ack: number): number {
    if (this.base === undefined) return 0;
    let upTo = (ack - this.base) >>> 0;
    if (upTo >= HALF_SEQ_SPACE) return 0;
    // The FIN takes one sequence number but carries no byte.
    if (this.finAt !== undefined) upTo = Math.min(upTo, this.finAt);
    if (upTo <= this.contiguous) return 0;
    // Zeek fakes a partial connection's initial sequence number, so the first ack may seem to
    // miss a byte or the FIN; it reports no gap for that (TCP_Reassembler::Undelivered).
    if (!this.sawSyn && upTo <= 1) return 0;
    let missing = upTo - this.contiguous;
    for (const [start, end] of this.pending) missing -= Math.max(0, Math.min(end, upTo) - Math.max(start, this.contiguous));
    this.contiguous = upTo;
    this.fillFromPending();
    return missing;
  }

  /** Whether this packet acknowledges new data on an established connection (Zeek's "ACK events"). */
  isAckEvent(flags: number, ack: number, peer: TcpEndpoint): boolean {
    return (
      (flags & (TCP_ACK | TCP_SYN | TCP_FIN | TCP_RST)) === TCP_ACK &&
      this.state === "established" &&
      peer.state === "established" &&
      this.lastAck !== undefined &&
      ack !== this.lastAck
    );
  }

  private advance(peer: TcpEndpoint): void {
    const handshaking = (s: TcpState): boolean => s === "syn_sent" || s === "syn_ack_sent";
    if (this.state === "inactive") this.state = "partial";
    else if (handshaking(this.state) && (handshaking(peer.state) || peer.state === "established")) {
      this.state = "established";
      if (handshaking(peer.state)) peer.state = "established";
    }
  }

  /** Records the sequence range; returns true for a retransmission of data already seen. */
  private trackSequence(syn: boolean, fin: boolean, seq: number, payloadLength: number): boolean {
    if (syn) {
      if (this.base === undefined) {
        this.base = (seq + 1) >>> 0;
        this.sawSyn = true;
      }
      return false;
    }
    this.base ??= seq;
    const rel = (seq - this.base) >>> 0;
    if (rel >= HALF_SEQ_SPACE) return false;
    if (payloadLength > 0) this.received(rel, rel + payloadLength);
    if (fin) this.finAt ??= rel + payloadLength;
    // A FIN past the data seen leaves a hole, which Zeek counts in the endpoint's size.
    if (fin && rel > this.highest) {
      this.closeDeferred = true;
      this.highest = rel + payloadLength;
      return false;
    }
    // Otherwise only data extends the size; a bare ACK after a FIN sits one past the data.
    if (payloadLength === 0) return false;
    const end = rel + payloadLength;
    if (end <= this.highest) return true;
    this.highest = end;
    return false;
  }
}

/** The history letters of Zeek's update_history() for one packet. */
function historyCodes(flags: number, payloadLength: number): string {
  const syn = (flags & TCP_SYN) !== 0;
  const fin = (flags & TCP_FIN) !== 0;
  const rst = (flags & TCP_RST) !== 0;
  const bits = Number(syn) + Number(fin) + Number(rst);
  if (bits > 1) return fin && rst ? "I" : "Q";
  if (syn) return (flags & TCP_ACK) !== 0 ? "H" : "S";
  if (fin) return "F";
  if (rst) return "R";
  if (payloadLength > 0) return "D";
  return (flags & TCP_ACK) !== 0 ? "A" : "";
}

/** Zeek's conn_state for TCP (base/protocols/conn/main.zeek). */
export function tcpConnState(
  orig: TcpState,
  resp: TcpState,
  origSize: number,
  respSize: number,
  history: string,
): string {
  const inactive = (s: TcpState): boolean => s === "inactive" || s === "partial";
  if (resp === "reset") {
    if (orig === "syn_sent" || orig === "syn_ack_sent" || (orig === "reset" && origSize === 0 && respSize === 0)) {
      return "REJ";
    }
    return inactive(orig) ? "RSTRH" : "RSTR";
  }
  if (orig === "reset") {
    if (inactive(resp)) return /^\^?S[^HAFGIQ]*R.*/.test(history) ? "RSTOS0" : "OTH";
    return "RSTO";
  }
  if (resp === "closed" && orig === "closed") return "SF";
  if (orig === "closed") return inactive(resp) ? "SH" : "S2";
  if (resp === "closed") return inactive(orig) ? "SHR" : "S3";
  if (orig === "syn_sent" && resp === "inactive") return "S0";
  if (orig === "established" && resp === "established") return "S1";
  return "OTH";
}
