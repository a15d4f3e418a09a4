// A complete Brocapi sink plugin: Zeek lines as JSON lines over TCP, as a Logstash `tcp` input
// with the `json_lines` codec (or Vector's `socket` source) takes them. No dependencies: the
// default export is a function Brocapi calls with its plugin API ({ z, batchLines }) and that
// returns the sink factory. Configure it with
//
//   sinks:
//     logstash:
//       plugin: /etc/brocapi/plugins/tcp-json-lines/index.mjs
//       options: { host: logstash.example, port: 5044 }
//
// See docs/SINKS.md ("Writing a sink plugin") for the contract.
import { connect } from "node:net";

export default function tcpJsonLines({ z, batchLines }) {
  const optionsSchema = z
    .object({
      host: z.string().min(1).describe("Receiver host."),
      port: z.number().int().min(1).max(65535).describe("Receiver port."),
      connectTimeoutMs: z.number().int().min(100).default(5000).describe("Connect time limit, ms."),
    })
    .strict();

  class TcpJsonLinesSink {
    kind = "tcp-json-lines";
    socket = null;

    constructor(options) {
      this.options = options;
    }

    /** One connection, opened on first use and again after any error: being retried reconnects. */
    open() {
      return new Promise((resolve, reject) => {
        const socket = connect({ host: this.options.host, port: this.options.port });
        const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
        socket.once("connect", () => {
          clearTimeout(timer);
          socket.on("error", () => socket.destroy());
          socket.on("close", () => {
            if (this.socket === socket) this.socket = null;
          });
          resolve(socket);
        });
        socket.once("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
    }

    /** Resolves when the kernel took the batch; rejects (and Brocapi retries the batch) on any error. */
    async write(batch) {
      const meta = JSON.stringify({ job: batch.jobId, tag: batch.tag, capture: batch.pcap, log: batch.logType });
      let text = "";
      for (const line of batchLines(batch.payload)) {
        const zeek = Buffer.from(line).toString("utf8");
        text += batch.format === "json" ? `{"brocapi":${meta}${zeek.length > 2 ? `,${zeek.slice(1)}` : "}"}\n` : `{"brocapi":${meta},"line":${JSON.stringify(zeek)}}\n`;
      }
      try {
        this.socket ??= await this.open();
        const socket = this.socket;
        await new Promise((resolve, reject) => socket.write(text, (err) => (err ? reject(err) : resolve())));
      } catch (err) {
        this.socket?.destroy();
        this.socket = null;
        throw new Error(`tcp-json-lines ${this.options.host}:${this.options.port}: ${err.message}`);
      }
    }

    /** Ends the connection after what was written has been sent. */
    async close() {
      const socket = this.socket;
      this.socket = null;
      if (socket) await new Promise((resolve) => socket.end(resolve));
    }
  }

  return {
    kind: "tcp-json-lines",
    optionsSchema,
    formats: ["json", "as-written"],
    create: (options) => new TcpJsonLinesSink(options),
  };
}
