// All log files of one run. Like Zeek, a file is created when its stream
// receives its first record, in the current working directory.

import { LogFile, type LogFormat, type Remains } from "./log-file.js";
import type { LogRecord, LogSchema } from "./log-schema.js";

export class LogSink {
  private readonly files = new Map<string, LogFile>();
  private packetsStarted = false;

  constructor(
    private readonly dir: string,
    private readonly format: LogFormat,
  ) {}

  write(schema: LogSchema, record: LogRecord): void {
    let file = this.files.get(schema.path);
    if (file === undefined) {
      file = new LogFile(this.dir, schema, this.format, this.packetsStarted);
      this.files.set(schema.path, file);
    }
    file.write(record);
  }

  /** From now on, newly opened files count as opened during packet processing. */
  markPacketsStarted(): void {
    this.packetsStarted = true;
  }

  /** Open streams with their record counts so far, in order of first write. */
  streams(): { schema: LogSchema; records: number }[] {
    return [...this.files.values()].map((f) => ({ schema: f.schema, records: f.records }));
  }

  close(): void {
    for (const file of this.files.values()) file.close();
    this.files.clear();
  }

  /**
   * Leaves the files as Zeek 8.2.2 did after a fatal read error: files from
   * start-up keep their records only if some packets had been processed
   * (otherwise just the TSV header); files opened later follow their schema.
   */
  abandon(packetsProcessed: number): void {
    for (const file of this.files.values()) {
      let remains: Remains = file.schema.crashResidue;
      if (!file.openedDuringPackets) remains = packetsProcessed > 0 ? "records" : "header";
      file.abandon(remains);
    }
    this.files.clear();
  }
}
