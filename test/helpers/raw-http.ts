// Hand-made HTTP/1.1 over a plain socket, for the requests fetch cannot make: bodies that stop
// mid-file, uploads that stall, bytes fetch would escape, and a second request on a connection
// whose first body was refused part-way.

import { once } from "node:events";
import { connect, type Socket } from "node:net";

export interface RawPart {
  /** The field name: `file[]`, `tag`, … */
  name: string;
  /** Raw bytes (a Buffer) reach the server exactly as given; absent for a plain field. */
  filename?: string | Buffer;
  data?: Uint8Array | string;
}

/** A part's delimiter line and headers, up to the blank line before its bytes. */
export function partHead(boundary: string, part: RawPart): Buffer {
  const disposition = [Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`)];
  if (part.filename !== undefined) disposition.push(Buffer.from('; filename="'), Buffer.from(part.filename), Buffer.from('"\r\nContent-Type: application/octet-stream'));
  return Buffer.concat([...disposition, Buffer.from("\r\n\r\n")]);
}

/** The close delimiter that ends a form. */
export function formEnd(boundary: string): Buffer {
  return Buffer.from(`--${boundary}--\r\n`);
}

/** A whole multipart/form-data body; `closed: false` leaves off the close delimiter. */
export function multipartBody(boundary: string, parts: RawPart[], closed = true): Buffer {
  const chunks = parts.flatMap((p) => [partHead(boundary, p), Buffer.from(p.data ?? ""), Buffer.from("\r\n")]);
  return Buffer.concat(closed ? [...chunks, formEnd(boundary)] : chunks);
}

/** The request line and headers of a `POST /submit/pcap` with a body of `length` bytes. */
export function submitHead(url: string, contentType: string, length: number): string {
  const { host } = new URL(url);
  return `POST /submit/pcap HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One client connection; responses are read in order, each with a Content-Length body. */
export class RawConnection {
  private received = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  /** Set once the server closed the connection (or it failed). */
  ended = false;

  private constructor(readonly socket: Socket) {
    const notify = (): void => {
      this.wake?.();
      this.wake = null;
    };
    socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      notify();
    });
    // A server that drops the connection while the client still writes causes EPIPE/ECONNRESET here.
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.ended = true;
      notify();
    });
  }

  static async open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await once(socket, "connect");
    return new RawConnection(socket);
  }

  /** Writes and waits until the socket took the bytes; false once the server closed the connection. */
  async write(data: string | Uint8Array): Promise<boolean> {
    if (this.socket.destroyed) return false;
    if (!this.socket.write(data)) await Promise.race([once(this.socket, "drain"), once(this.socket, "close")]);
    return !this.socket.destroyed;
  }

  /** The next response, or null when the connection closed before a whole one arrived. */
  async response(): Promise<RawResponse | null> {
    for (;;) {
      const parsed = this.parse();
      if (parsed) return parsed;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private parse(): RawResponse | null {
    const end = this.received.indexOf("\r\n\r\n");
    if (end < 0) return null;
    const [statusLine, ...lines] = this.received.subarray(0, end).toString("latin1").split("\r\n");
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
    const length = Number(headers["content-length"] ?? 0);
    if (this.received.length < end + 4 + length) return null;
    const body = this.received.subarray(end + 4, end + 4 + length).toString("utf8");
    this.received = this.received.subarray(end + 4 + length);
    return { status: Number(statusLine!.split(" ")[1]), headers, body };
  }

  /** Resolves once the connection is closed, by either side. */
  async closed(): Promise<void> {
    if (!this.ended) await once(this.socket, "close");
  }

  /** Drops the connection at once, as a client that crashed mid-upload. */
  destroy(): void {
    this.socket.destroy();
  }
}
