import type { JetStreamClient, JetStreamPublishOptions, PubAck } from "@nats-io/jetstream";

/**
 * Pipelined JetStream publishing: up to `size` publishes await their PubAck at once, which is
 * what makes batch publishing fast (one ack round trip per message would cap it far lower).
 * A failed publish rejects `publish` or `drain`; order on the subject is the call order.
 */
export class PublishWindow {
  private readonly inflight: Promise<PubAck>[] = [];

  constructor(
    private readonly js: JetStreamClient,
    private readonly size: number,
  ) {}

  async publish(subject: string, payload: Uint8Array, opts: Partial<JetStreamPublishOptions>): Promise<void> {
    const ack = this.js.publish(subject, payload, opts);
    // Observed now, awaited in order: a later publish failing first must not crash the process.
    ack.catch(() => undefined);
    this.inflight.push(ack);
    if (this.inflight.length >= this.size) await this.inflight.shift();
  }

  async drain(): Promise<void> {
    await Promise.all(this.inflight.splice(0));
  }
}
