import { directorySinkFactory } from "./directory/directory-sink.js";
import { elasticsearchSinkFactory } from "./elasticsearch/elasticsearch-sink.js";
import { httpSinkFactory } from "./http/http-sink.js";
import { splunkHecSinkFactory } from "./splunk-hec/splunk-hec-sink.js";
import { stdoutSinkFactory } from "./stdout/stdout-sink.js";
import type { SinkFactory } from "./sink.js";
import { syslogSinkFactory } from "./syslog/syslog-sink.js";

/** Every built-in sink kind, registered in this one place; a new sink is a folder plus one line here. */
export const SINKS: ReadonlyMap<string, SinkFactory> = new Map(
  ([directorySinkFactory, syslogSinkFactory, httpSinkFactory, elasticsearchSinkFactory, { ...elasticsearchSinkFactory, kind: "opensearch" }, splunkHecSinkFactory, stdoutSinkFactory] as SinkFactory<never>[]).map((f) => [f.kind, f as SinkFactory]),
);
