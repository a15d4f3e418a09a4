// One open log file. Records are buffered and written synchronously in
// batches, so memory stays bounded however many records a capture yields.

import fs from "node:fs";
import path from "node:path";
import type { CrashResidue, LogRecord, LogSchema } from "./log-schema.js";

/** Renders a log in one of Zeek's output formats. */
export interface LogFormat {
  header(schema: LogSchema, opened: Date): string;
  record(schema: LogSchema, record: LogRecord): string;
  footer(closed: Date): string;
}

/** What survives of a file when the run is abandoned by a fatal error. */
export type Remains = "records" | CrashResidue;

const FLUSH_THRESHOLD = 64 * 1024;

export class LogFile {
  private readonly file: string;
  private readonly fd: number;
  private readonly headerBytes: number;
  private pending: string[] = [];
  private pendingChars = 0;
  private count = 0;

  constructor(
    dir: string,
    readonly schema: LogSchema,
    private readonly format: LogFormat,
    /** Whether the first record arrived while packets were being processed. */
    readonly openedDuringPackets: boolean,
  ) {
    this.file = path.join(dir, `${schema.path}.log`);
    this.fd = fs.openSync(this.file, "w");
    const header = format.header(schema, new Date());
    fs.writeSync(this.fd, header);
    this.headerBytes = Buffer.byteLength(header);
  }

  get records(): number {
    return this.count;
  }

  write(record: LogRecord): void {
    const line = this.format.record(this.schema, record);
    this.pending.push(line);
    this.pendingChars += line.length;
    this.count++;
    if (this.pendingChars >= FLUSH_THRESHOLD) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    fs.writeSync(this.fd, this.pending.join(""));
    this.pending = [];
    this.pendingChars = 0;
  }

  close(): void {
    this.flush();
    fs.writeSync(this.fd, this.format.footer(new Date()));
    fs.closeSync(this.fd);
  }

  /** Leaves the file as a crashed Zeek would: no trailer, possibly less. */
  abandon(remains: Remains): void {
    if (remains === "records") this.flush();
    else if (remains === "header") fs.ftruncateSync(this.fd, this.headerBytes);
    else fs.ftruncateSync(this.fd, 0);
    fs.closeSync(this.fd);
    if (remains === "absent") fs.unlinkSync(this.file);
  }
}
