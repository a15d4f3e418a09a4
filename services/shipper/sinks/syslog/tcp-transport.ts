import { connect, type Socket } from "node:net";
import { BrocapiError, ErrorCodes } from "../../../../shared/errors.js";

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * One TCP connection to the syslog receiver, opened on first use and again after any error, so
 * the sink reconnects simply by being retried. `send` resolves when the kernel has the bytes.
 */
export class TcpTransport {
  private socket: Socket | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      socket.setNoDelay(false);
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      socket.once("connect", () => {
        clearTimeout(timer);
        // A receiver that goes away must make the next send reconnect, not write into a dead socket.
        const drop = (): void => {
          if (this.socket === socket) this.socket = null;
          socket.destroy();
        };
        socket.on("error", drop);
        socket.on("end", drop);
        socket.on("close", drop);
        resolve(socket);
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  async send(data: Uint8Array): Promise<void> {
    try {
      this.socket ??= await this.open();
      const socket = this.socket;
      await new Promise<void>((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
    } catch (cause) {
      this.socket?.destroy();
      this.socket = null;
      throw new BrocapiError(ErrorCodes.SINK_UNAVAILABLE, `syslog tcp://${this.host}:${this.port}: ${(cause as Error).message}`, { cause });
    }
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.end(() => resolve()));
  }
}
