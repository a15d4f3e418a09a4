import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { JetStreamError } from "@nats-io/jetstream";
import type { ByteBudget } from "./byte-budget.js";

/**
 * The server's words for a message a stream refuses for one of its limits (max_bytes, max_msgs,
 * max_msgs_per_subject: "maximum bytes exceeded", …; max_msg_size: "message size exceeds maximum
 * allowed"). The first come with the server's 503 code (a failed store), yet waiting does not
 * help: nothing is taken until something is removed or the limit raised.
 */
const LIMIT_REFUSAL = /maximum .*exceeded|exceeds maximum/i;

/**
 * Thrown when the stream refuses a message, or its acknowledgement does not come in time: a
 * JetStream error, as `js.publish` throws. Whether the broker was away is `unavailable`, read
 * before anything else counts a JetStream error as the broker's (shared/nats/broker-errors.ts).
 */
export class PublishError extends JetStreamError {
  override readonly name = "PublishError";
  /**
   * @param unavailable the broker was away rather than the message wrong: no answer in time, the
   *   connection gone, or a 503 (no stream responder, or JetStream without quorum). The api answers
   *   those with its 503 (try again); anything else is not the broker being away.
   * @param limit the stream refused the message for one of its limits (LIMIT_REFUSAL).
   */
  constructor(
    message: string,
    readonly unavailable = false,
    readonly limit = false,
  ) {
    super(message);
  }
}

export interface AckWindowOptions {
  /** The stream that must acknowledge every message. */
  stream: string;
  /** Bytes published but not yet acknowledged, at most. */
  windowBytes: number;
  /** How long messages may wait unacknowledged with no ack coming at all. */
  timeoutMs: number;
  /** Shared with other windows of the process: bounds what all of them hold together. */
  budget: ByteBudget;
}

/** The connection's own inbox prefix: NATS permissions may allow a service replies on no other. */
export function inboxOf(nc: NatsConnection): string {
  // nats.js keeps the option on the connection; its own JetStream consumers read it there too.
  return createInbox((nc as NatsConnection & { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
}

/**
 * JetStream publishes whose PubAcks are counted, not awaited one at a time: each message is a
 * plain publish with a reply subject under one inbox of this window, which is all `js.publish`
 * sends too, minus what it spends per message on a request of its own (a mux entry, a timer, a
 * promise, and unless the connection has `noAsyncTraces` an Error captured for its stack; with
 * the copy saved in put-object.ts, a third of the put's client CPU). Publishes happen in order
 * on one connection, so the stream stores them in order; `send` waits while `windowBytes` are
 * unacknowledged, `settled` until all are. The first refusal, or `timeoutMs` with messages
 * waiting and no ack coming, fails every later call.
 */
export class AckWindow {
  private readonly inbox: string;
  private readonly sub: Subscription;
  /** Bytes of each message not yet acknowledged, by its number. */
  private readonly unacked = new Map<number, number>();
  private unackedBytes = 0;
  private sent = 0;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private lastAck = 0;
  /** The inbox's subscription ended: no ack comes any more. */
  private deaf = false;
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: AckWindowOptions,
  ) {
    this.inbox = inboxOf(nc);
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, m) => this.onAck(err, m) });
    // The connection closed (or the subscription was refused): waiting for acks would only time out.
    void this.sub.closed.then((err) => {
      this.deaf = true;
      this.fail(new PublishError(`stream ${opts.stream}: no acknowledgements can come any more (${err instanceof Error ? err.message : "the connection closed"})`, true));
    });
    const every = Math.max(10, Math.min(1_000, opts.timeoutMs / 4));
    this.watchdog = setInterval(() => {
      if (this.unacked.size > 0 && Date.now() - this.lastAck > opts.timeoutMs) {
        this.fail(new PublishError(`no acknowledgement from stream ${opts.stream} for ${opts.timeoutMs} ms (${this.unacked.size} messages waiting)`, true));
      }
    }, every).unref();
  }

  /** Publishes `payload` to `subject`, once the window and the budget have room for it. */
  async send(subject: string, payload: Uint8Array): Promise<void> {
    const bytes = payload.length;
    while (!this.failure && this.unackedBytes > 0 && this.unackedBytes + bytes > this.opts.windowBytes) await this.progress();
    this.check();
    await this.opts.budget.take(bytes);
    if (this.failure) {
      this.opts.budget.give(bytes);
      this.check();
    }
    const n = this.sent++;
    if (this.unacked.size === 0) this.lastAck = Date.now();
    this.unacked.set(n, bytes);
    this.unackedBytes += bytes;
    this.nc.publish(subject, payload, { reply: `${this.inbox}.${n}` });
  }

  /** Waits until every message sent is acknowledged; throws the window's failure. */
  async settled(): Promise<void> {
    while (!this.failure && this.unacked.size > 0) await this.progress();
    this.check();
  }

  /**
   * After a failure: waits until every message sent is answered or overdue, so that none lands
   * after the caller purges what was stored.
   */
  async quiet(): Promise<void> {
    while (!this.deaf && this.unacked.size > 0 && Date.now() - this.lastAck <= this.opts.timeoutMs) await this.progress();
  }

  /** Stops listening for acks; the budget of every message still unacknowledged is given back. */
  close(): void {
    clearInterval(this.watchdog);
    this.sub.unsubscribe();
    for (const bytes of this.unacked.values()) this.opts.budget.give(bytes);
    this.unacked.clear();
    this.unackedBytes = 0;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private progress(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private onAck(err: Error | null, m: Msg): void {
    if (err) return this.fail(err);
    const n = Number(m.subject.slice(this.inbox.length + 1));
    const bytes = this.unacked.get(n);
    // Not one of ours, or answered twice.
    if (bytes === undefined) return;
    this.unacked.delete(n);
    this.unackedBytes -= bytes;
    this.lastAck = Date.now();
    this.opts.budget.give(bytes);
    const refused = this.refusal(n, m);
    if (refused) return this.fail(refused);
    this.wakeUp();
  }

  /** Why the answer to message `n` is no PubAck of this window's stream; null when it is one. */
  private refusal(n: number, m: Msg): PublishError | null {
    const { stream } = this.opts;
    // No stream listens on the subject: the server's own 503, or any other status.
    if (m.headers?.hasError) return new PublishError(`stream ${stream} did not take message ${n}: ${m.headers.code} ${m.headers.description}`, m.headers.code === 503);
    let ack: { stream?: string; error?: { code?: number; description?: string } };
    try {
      ack = m.json();
    } catch {
      return new PublishError(`stream ${stream}: an acknowledgement that is no JSON: ${m.string().slice(0, 200)}`);
    }
    if (ack.error) {
      const limit = LIMIT_REFUSAL.test(ack.error.description ?? "");
      return new PublishError(`stream ${stream} refused message ${n}: ${ack.error.description ?? "no reason given"} (${ack.error.code ?? "no code"})`, ack.error.code === 503 && !limit, limit);
    }
    if (ack.stream !== stream) return new PublishError(`message ${n} was stored by stream ${ack.stream ?? "(none)"}, not ${stream}`);
    return null;
  }
}
