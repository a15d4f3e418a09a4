import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { ConfigError } from "../../../../shared/errors.js";
import { configSchema } from "../../../../shared/config/schema.js";
import type { z } from "zod";
import { batchLines, type LogBatch } from "../../../../shared/messages/log-batch.js";
import { syslogHeader, syslogHostname, syslogProgram } from "../../../../shared/syslog/message.js";
import type { Sink, SinkFactory } from "../sink.js";
import { TcpTransport, type TlsFiles } from "./tcp-transport.js";
import { UdpTransport } from "./udp-transport.js";

const LF = Buffer.from("\n");
const PROGRAM_MAX = { rfc3164: 32, rfc5424: 48 } as const;

/** Parses `tcp://host:port` / `udp://host:port` / `tls://host:port` (validated by the config schema). */
function parseTarget(target: string): { proto: "tcp" | "udp" | "tls"; host: string; port: number } {
  const m = /^(tcp|udp|tls):\/\/(.+):(\d+)$/.exec(target)!;
  return { proto: m[1] as "tcp" | "udp" | "tls", host: m[2]!, port: Number(m[3]) };
}

/** The CA and client certificate of a `tls://` receiver, read once; a file that cannot be read stops the sink's start naming its setting. */
function tlsFiles(options: SyslogOptions): TlsFiles {
  const read = (setting: string, path: string | undefined): Buffer | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`Invalid configuration:\n  - ${setting}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
    }
  };
  if (Boolean(options.tlsCertFile) !== Boolean(options.tlsKeyFile)) {
    throw new ConfigError("Invalid configuration:\n  - BROCAPI_SYSLOG_TLS_CERT_FILE (syslog.tlsCertFile): a client certificate needs both the certificate and BROCAPI_SYSLOG_TLS_KEY_FILE");
  }
  const [ca, cert, key] = [
    read("BROCAPI_SYSLOG_TLS_CA_FILE (syslog.tlsCaFile)", options.tlsCaFile),
    read("BROCAPI_SYSLOG_TLS_CERT_FILE (syslog.tlsCertFile)", options.tlsCertFile),
    read("BROCAPI_SYSLOG_TLS_KEY_FILE (syslog.tlsKeyFile)", options.tlsKeyFile),
  ];
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/**
 * Sends every line as one syslog message: HOSTNAME = the job's tag, program = prefix with the
 * log type, timestamp = when the batch is sent. Over TCP a batch goes out as one write, framed
 * by LF or octet counting (RFC 6587); over TLS (RFC 5425) always octet-counted, the receiver's
 * certificate verified against `tlsCaFile` (or the system's CAs).
 */
export class SyslogSink implements Sink {
  readonly kind = "syslog";
  private readonly tcp: TcpTransport | null;
  private readonly udp: UdpTransport | null;
  private readonly octets: boolean;

  constructor(
    private readonly config: SyslogOptions,
    private readonly log: Logger,
  ) {
    const { proto, host, port } = parseTarget(config.target);
    if (proto === "tls" && config.framing === "lf") {
      throw new ConfigError("Invalid configuration:\n  - BROCAPI_SYSLOG_FRAMING (syslog.framing): syslog over TLS is octet-counted (RFC 5425); `lf` is for tcp:// only");
    }
    this.octets = proto === "tls" || config.framing === "octet-counting";
    this.tcp = proto === "udp" ? null : new TcpTransport(host, port, proto === "tls" ? tlsFiles(config) : null);
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
    for (const line of batchLines(batch.payload)) {
      if (this.octets) parts.push(Buffer.from(`${header.length + line.length} `), header, line);
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
