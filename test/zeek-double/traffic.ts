// What the periodic stats reporter reads about the run so far.

import type { FlowTable } from "./flow-table.js";
import type { LogSink } from "./log-sink.js";

export interface Traffic {
  readonly sink: LogSink;
  readonly flows: FlowTable;
  /** Packets read so far. */
  readonly packets: number;
  /** Wire bytes of the packets read so far. */
  readonly bytes: number;
}
