import { createServer, type Server } from "node:net";
import { open } from "node:fs/promises";

export interface LineCounter {
  port: number;
  /** Lines received so far. */
  count(): Promise<number>;
  close(): Promise<void>;
}

/** A TCP receiver that discards everything and counts LF-terminated messages: the sink's own ceiling. */
export async function startDiscardReceiver(): Promise<LineCounter> {
  let lines = 0;
  const server: Server = createServer((socket) => {
    socket.on("data", (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    count: async () => lines,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Counts lines rsyslog has written to its output file so far, reading only what is new. */
export function fileLineCounter(path: string): () => Promise<number> {
  let offset = 0;
  let lines = 0;
  const buf = Buffer.alloc(1 << 20);
  return async () => {
    const fh = await open(path, "r").catch(() => null);
    if (!fh) return lines;
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const chunk = buf.subarray(0, bytesRead);
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      }
    } finally {
      await fh.close();
    }
    return lines;
  };
}
