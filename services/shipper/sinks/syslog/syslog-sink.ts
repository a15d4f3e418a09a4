import type { Logger } from "pino";
import { configSchema } from "../../../../shared/config/schema.js";
import type { z } from "zod";
import { batchLines, type LogBatch } from "../../../../shared/messages/log-batch.js";
import { syslogHeader, syslogHostname, syslogProgram } from "../../../../shared/syslog/message.js";
import type { Sink, SinkFactory } from "../sink.js";
import { TcpTransport } from "./tcp-transport.js";
import { UdpTransport } from "./udp-transport.js";

const LF = Buffer.from("\n");
const PROGRAM_MAX = { rfc3164: 32, rfc5424: 48 } as const;

/** Parses `tcp://host:port` / `udp://host:port` (validated by the config schema). */
function parseTarget(target: string): { proto: "tcp" | "udp"; host: string; port: number } {
  const m = /^(tcp|udp):\/\/(.+):(\d+)$/.exec(target)!;
  return { proto: m[1] as "tcp" | "udp", host: m[2]!, port: Number(m[3]) };
}

/**
 * Sends every line as one syslog message: HOSTNAME = the job's tag, program = prefix with the
 * log type, timestamp = when the batch is sent. Over TCP a batch goes out as one write, framed
 * by LF or octet counting (RFC 6587).
 */
export class SyslogSink implements Sink {
  readonly kind = "syslog";
  private readonly tcp: TcpTransport | null;
  private readonly udp: UdpTransport | null;

  constructor(
    private readonly config: SyslogOptions,
    private readonly log: Logger,
  ) {
    const { proto, host, port } = parseTarget(config.target);
    this.tcp = proto === "tcp" ? new TcpTransport(host, port) : null;
    this.udp = proto === "udp" ? new UdpTransport(host, port, config.udpMaxBytes) : null;
  }

  private header(batch: LogBatch): Buffer {
    return Buffer.from(
      syslogHeader({
        format: this.config.format,
        pri: this.config.facility * 8 + this.config.severity,
        date: new Date(),
        hostname: syslogHostname(batch.tag),
        program: syslogProgram(this.config.prefix, batch.logType, PROGRAM_MAX[this.config.format]),
        msgId: batch.logType,
      }),
    );
  }

  async write(batch: LogBatch): Promise<void> {
    const header = this.header(batch);
    if (this.udp) {
      const messages = Array.from(batchLines(batch.payload), (line) => Buffer.concat([header, line]));
      const cut = await this.udp.sendAll(messages);
      if (cut > 0) this.log.warn({ event: "sink.truncated", job: batch.jobId, log: batch.logType, messages: cut }, "UDP syslog messages cut to udpMaxBytes");
      return;
    }
    // One write per batch: the parts are gathered once, never copied per message.
    const parts: Uint8Array[] = [];
    const octets = this.config.framing === "octet-counting";
    for (const line of batchLines(batch.payload)) {
      if (octets) parts.push(Buffer.from(`${header.length + line.length} `), header, line);
      else parts.push(header, line, LF);
    }
    await this.tcp!.send(Buffer.concat(parts));
  }

  async close(): Promise<void> {
    await this.tcp?.close();
    await this.udp?.close();
  }
}

/** The `syslog` section's settings (every named instance starts from them), with a target required. */
const syslogOptions = configSchema.shape.syslog.unwrap().required({ target: true }).strict();
export type SyslogOptions = z.output<typeof syslogOptions>;

export const syslogSinkFactory: SinkFactory<SyslogOptions> = {
  kind: "syslog",
  optionsSchema: syslogOptions,
  formats: ["as-written", "json"],
  create: (options, ctx) => new SyslogSink(options, ctx.log),
};
