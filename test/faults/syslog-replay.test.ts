import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, mock, test } from "node:test";
import { REPLAY_BYTES, REPLAY_MAX_AGE_MS, TcpTransport } from "../../services/shipper/sinks/syslog/tcp-transport.js";
import { eventually } from "../helpers/stack.js";

// TCP syslog has no receipts: bytes the kernel took may never be read if the receiver goes away.
// The transport therefore sends its recent writes again, first, on the next connection. Here the
// receiver is a plain TCP server that can stop reading and drop its connections at will.

interface Receiver {
  port: number;
  /** Everything read, per connection. */
  connections: string[];
  /** Drops every connection, unread bytes and all, and stops listening. */
  crash(): Promise<void>;
}

async function receiver(opts: { port?: number; read: boolean }): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const connections: string[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const i = connections.push("") - 1;
    // A receiver that stopped reading (shutting down): what reaches it stays in the kernel.
    if (!opts.read) socket.pause();
    socket.on("data", (d) => (connections[i] += d.toString("latin1")));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections,
    async crash() {
      for (const s of sockets) s.resetAndDestroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const open: Receiver[] = [];
const transports: TcpTransport[] = [];
const start = async (opts: { port?: number; read: boolean }): Promise<Receiver> => {
  const r = await receiver(opts);
  open.push(r);
  return r;
};
const transport = (port: number): TcpTransport => {
  const t = new TcpTransport("127.0.0.1", port);
  transports.push(t);
  return t;
};
const text = (s: string): Buffer => Buffer.from(s);

describe("syslog over TCP: the last writes of a broken connection are sent again", () => {
  afterEach(async () => {
    mock.timers.reset();
    await Promise.all(transports.splice(0).map((t) => t.close()));
    await Promise.all(open.splice(0).map((r) => r.crash().catch(() => undefined)));
  });

  test("lines the receiver took but never read are sent again, before the next batch, once it is back", async () => {
    const first = await start({ read: false });
    const tcp = transport(first.port);
    await tcp.send(text("a\n"));
    await tcp.send(text("b\n"));
    await first.crash();
    const second = await start({ port: first.port, read: true });
    // The first send after the break may still find the dead socket: the sink retries it.
    await eventually(async () => tcp.send(text("c\n")).then(() => true, () => false), 10_000, "a send on a new connection");
    await eventually(async () => second.connections.join("").includes("c\n"), 10_000, "c at the receiver");
    assert.equal(second.connections.join(""), "a\nb\nc\n");
  });

  test("with nothing more to send, the replay goes out by itself once the receiver is back", async () => {
    const first = await start({ read: false });
    const tcp = transport(first.port);
    await tcp.send(text("a\n"));
    await first.crash();
    const second = await start({ port: first.port, read: true });
    await eventually(async () => second.connections.join("") === "a\n", 15_000, "the replay at the receiver");
  });

  test("the replay is the last REPLAY_BYTES written: older writes are taken as read", async () => {
    const first = await start({ read: true });
    const tcp = transport(first.port);
    const chunks = ["1", "2", "3", "4"].map((c) => Buffer.alloc(REPLAY_BYTES / 2, c));
    for (const c of chunks) await tcp.send(c);
    await eventually(async () => first.connections.join("").length === 2 * REPLAY_BYTES, 10_000, "everything read");
    await first.crash();
    const second = await start({ port: first.port, read: true });
    await eventually(async () => second.connections.join("").length >= REPLAY_BYTES, 15_000, "the replay");
    assert.equal(second.connections.join(""), Buffer.concat(chunks.slice(2)).toString("latin1"));
  });

  test("writes older than REPLAY_MAX_AGE_MS are not sent again", async () => {
    mock.timers.enable({ apis: ["Date"], now: Date.now() });
    const first = await start({ read: false });
    const tcp = transport(first.port);
    await tcp.send(text("old\n"));
    mock.timers.tick(REPLAY_MAX_AGE_MS + 1);
    await tcp.send(text("new\n"));
    await first.crash();
    const second = await start({ port: first.port, read: true });
    await eventually(async () => second.connections.join("") === "new\n", 15_000, "only the recent write replayed");
  });
});
