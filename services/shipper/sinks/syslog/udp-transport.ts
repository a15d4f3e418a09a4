import { createSocket, type Socket } from "node:dgram";
import { BrocapiError, ErrorCodes } from "../../../../shared/errors.js";

/**
 * UDP syslog: one datagram per message, no delivery guarantee (RFC 5426). Messages longer than
 * `maxBytes` are cut there; the count of cut messages is returned so it can be logged.
 */
export class UdpTransport {
  private readonly socket: Socket;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly maxBytes: number,
  ) {
    this.socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  }

  async sendAll(messages: readonly Uint8Array[]): Promise<number> {
    let truncated = 0;
    for (const msg of messages) {
      const data = msg.length > this.maxBytes ? (truncated++, msg.subarray(0, this.maxBytes)) : msg;
      await new Promise<void>((resolve, reject) =>
        this.socket.send(data, this.port, this.host, (err) =>
          err ? reject(new BrocapiError(ErrorCodes.SINK_UNAVAILABLE, `syslog udp://${this.host}:${this.port}: ${err.message}`, { cause: err })) : resolve(),
        ),
      );
    }
    return truncated;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
