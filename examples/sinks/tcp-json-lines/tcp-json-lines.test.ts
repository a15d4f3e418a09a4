// The example plugin's own test: loaded the way the shipper loads it, from a copy outside the
// repository (it needs nothing installed), then run through the conformance suite against a TCP
// receiver that can refuse connections.
import assert from "node:assert/strict";
import { copyFile, mkdtemp } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPlugin } from "../../../services/shipper/resolve-sinks.js";
import { sinkConformance, type ReceivedLine } from "../../../test/sinks/conformance.js";
import { fromEnvelope } from "../../../test/sinks/envelope-lines.js";

const source = fileURLToPath(new URL("../../../../examples/sinks/tcp-json-lines/index.mjs", import.meta.url));
const outside = await mkdtemp(join(tmpdir(), "brocapi-plugin-"));
await copyFile(source, join(outside, "index.mjs"));
const factory = await loadPlugin("./index.mjs", outside, "sinks.example.plugin");
assert.equal(factory.kind, "tcp-json-lines");

/** A line-oriented TCP receiver (what a Logstash json_lines input does), able to go away and come back on its port. */
async function receiver(): Promise<{ port: number; lines: string[]; refuse(): Promise<void>; restore(): Promise<void>; stop(): Promise<void> }> {
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = async (): Promise<void> => {
    server = createServer((socket) => {
      sockets.add(socket);
      let rest = "";
      socket.on("data", (chunk: Buffer) => {
        const parts = (rest + chunk.toString("utf8")).split("\n");
        rest = parts.pop()!;
        lines.push(...parts);
      });
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  };
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  await listen();
  return { port, lines, refuse: close, restore: listen, stop: close };
}

sinkConformance({
  name: "tcp-json-lines (example plugin)",
  factory,
  async start() {
    const r = await receiver();
    let down = false;
    return {
      options: { host: "127.0.0.1", port: r.port },
      // Plain TCP cannot confirm receipt: lines may repeat after an outage.
      exactlyOnce: false,
      received: async (): Promise<ReceivedLine[]> => r.lines.filter(Boolean).map((l) => fromEnvelope(JSON.parse(l) as Record<string, unknown>)),
      outages: {
        refuse: async () => {
          down = true;
          await r.refuse();
        },
        restore: async () => {
          if (down) await r.restore();
          down = false;
        },
      },
      stop: () => (down ? Promise.resolve() : r.stop()),
    };
  },
});
