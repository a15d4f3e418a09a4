import { connect, isIP, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { BrocapiError, ErrorCodes } from "../../../../shared/errors.js";
import { backoffMs } from "../../../../shared/service/backoff.js";

const CONNECT_TIMEOUT_MS = 5_000;
/**
 * How much of what was last written on a connection is sent again after it breaks: what the
 * kernels may still have held unread when the receiver went away. 4 MiB is Linux's default
 * largest send buffer (tcp_wmem); a receiver that keeps up leaves far less unread.
 */
export const REPLAY_BYTES = 4 * 1024 * 1024;
/** Writes older than this are taken as read: a receiver does not sit on unread lines for a minute and then lose them. */
export const REPLAY_MAX_AGE_MS = 60_000;

/** What a `tls://` connection verifies the receiver with, and shows it for a client certificate. */
export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const write = (socket: Socket, data: Uint8Array): Promise<void> => new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));

/**
 * One TCP connection to the syslog receiver, opened on first use and again after any error, so
 * the sink reconnects simply by being retried. `send` resolves when the kernel has the bytes,
 * which is not receipt: a receiver that goes away loses what it had not read yet. So the last
 * writes of a connection that breaks are sent again, first, on the next one (in the background
 * too, should no other batch come): at-least-once, where a reconnect may repeat lines the
 * receiver had read.
 */
export class TcpTransport {
  private socket: Socket | null = null;
  /** Writes on the current connection, oldest first, within REPLAY_BYTES. */
  private recent: { data: Uint8Array; at: number }[] = [];
  private recentBytes = 0;
  /** The recent writes of a connection that broke, waiting for the next one. */
  private replay: Uint8Array[] = [];
  /** One send at a time, so a background replay never interleaves with the sink's writes. */
  private queue: Promise<void> = Promise.resolve();
  private replayTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    /** Null: plain TCP. Otherwise TLS, the receiver's certificate checked against `ca` (or the system's CAs) and its name. */
    private readonly tls: TlsFiles | null = null,
  ) {}

  private get url(): string {
    return `${this.tls ? "tls" : "tcp"}://${this.host}:${this.port}`;
  }

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = this.tls
        ? connectTls({ host: this.host, port: this.port, ...this.tls, ...(isIP(this.host) ? {} : { servername: this.host }) })
        : connect({ host: this.host, port: this.port });
      socket.setNoDelay(false);
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      // Over TLS the connection is usable, and the certificate checked, once the handshake is done.
      socket.once(this.tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        // A receiver that goes away must make the next send reconnect, not write into a dead socket.
        const lost = (): void => this.lost(socket);
        socket.on("error", lost);
        socket.on("end", lost);
        socket.on("close", lost);
        resolve(socket);
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** The connection broke: its recent writes may be unread, so they go out again on the next one. */
  private lost(socket: Socket): void {
    socket.destroy();
    if (this.socket !== socket) return;
    this.socket = null;
    const since = Date.now() - REPLAY_MAX_AGE_MS;
    this.replay.push(...this.recent.filter((r) => r.at >= since).map((r) => r.data));
    this.recent = [];
    this.recentBytes = 0;
    this.replaySoon(0);
  }

  /**
   * A write that completed on `socket`: kept for a replay should that connection break. When it
   * broke while the write was under way (a TLS write completes after encryption, later than the
   * socket's end is seen), the data joins the replay at once: counted with the next connection's
   * writes instead, it would never be sent again.
   */
  private remember(socket: Socket, data: Uint8Array): void {
    if (this.socket !== socket) {
      this.replay.push(data);
      this.replaySoon(0);
      return;
    }
    this.recent.push({ data, at: Date.now() });
    this.recentBytes += data.length;
    while (this.recent.length > 1 && this.recentBytes - this.recent[0]!.data.length >= REPLAY_BYTES) this.recentBytes -= this.recent.shift()!.data.length;
  }

  /** Sends the replay even if the sink has nothing more to write, once the receiver is back. */
  private replaySoon(attempt: number): void {
    if (this.closed || this.replayTimer || this.replay.length === 0) return;
    this.replayTimer = setTimeout(() => {
      this.replayTimer = null;
      this.send(null).catch(() => this.replaySoon(attempt + 1));
    }, backoffMs(attempt));
  }

  /** Sends `data` (null: only what a broken connection left to replay). */
  send(data: Uint8Array | null): Promise<void> {
    const sent = this.queue.then(() => this.sendNow(data));
    this.queue = sent.catch(() => undefined);
    return sent;
  }

  private async sendNow(data: Uint8Array | null): Promise<void> {
    if (!data && this.replay.length === 0) return;
    let socket: Socket | null = null;
    try {
      socket = this.socket ??= await this.open();
      if (this.replay.length > 0) {
        const again = this.replay;
        await write(socket, Buffer.concat(again));
        this.replay = [];
        for (const d of again) this.remember(socket, d);
      }
      if (data) {
        await write(socket, data);
        this.remember(socket, data);
      }
    } catch (cause) {
      if (socket) this.lost(socket);
      throw new BrocapiError(ErrorCodes.SINK_UNAVAILABLE, `syslog ${this.url}: ${(cause as Error).message}`, { cause });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.replayTimer) clearTimeout(this.replayTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.end(() => resolve()));
  }
}
