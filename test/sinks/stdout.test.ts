import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { SinkFactory } from "../../services/shipper/sinks/sink.js";
import { StdoutSink, stdoutSinkFactory } from "../../services/shipper/sinks/stdout/stdout-sink.js";
import { batchHeaders, batchMsgId } from "../../shared/messages/log-batch.js";
import { natsNames } from "../../shared/nats/names.js";
import { startTestNats } from "../helpers/nats.js";
import { sinkConformance, type ReceivedLine } from "./conformance.js";
import { fromEnvelope } from "./envelope-lines.js";

/** The sink writing into a pipe the test reads; a pipe cannot refuse or fail, so no outages. */
const pipes: PassThrough[] = [];
sinkConformance({
  name: "stdout",
  factory: { ...stdoutSinkFactory, create: () => new StdoutSink(pipes.at(-1)!) } as SinkFactory,
  async start() {
    const pipe = new PassThrough();
    pipes.push(pipe);
    let text = "";
    pipe.on("data", (c: Buffer) => (text += c.toString("utf8")));
    return {
      options: {},
      exactlyOnce: true,
      received: async (): Promise<ReceivedLine[]> => text.split("\n").filter(Boolean).map((l) => fromEnvelope(JSON.parse(l) as Record<string, unknown>)),
      stop: async () => void pipe.end(),
    };
  },
});

test("a shipper with the stdout sink: JSON lines with job, tag, capture and log type on stdout; its own logs on stderr", async () => {
  const nats = await startTestNats();
  const prefix = `s${Math.random().toString(36).slice(2, 9)}`;
  const child = spawn(process.execPath, [fileURLToPath(new URL("../../services/shipper/main.js", import.meta.url))], {
    env: { PATH: process.env.PATH, NATS_URL: nats.url, BROCAPI_NATS_PREFIX: prefix, BROCAPI_SINKS: "stdout", BROCAPI_METRICS_PORT: "0", BROCAPI_HTTP_HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const until = async (check: () => boolean, what: string): Promise<void> => {
    for (const deadline = Date.now() + 20_000; !check(); await new Promise((r) => setTimeout(r, 50))) if (Date.now() > deadline) throw new Error(`${what}\nstdout: ${out}\nstderr: ${err}`);
  };
  try {
    await until(() => err.includes('"event":"sink.started"'), "the shipper did not start");
    const nc = await connect({ servers: nats.url });
    const meta = { jobId: "0193f1e0-0000-7000-8000-00000000057d", tag: "case 5", pcap: "a.pcap", pcapIndex: 0, logType: "conn", format: "json" as const, zeekHeader: null, firstLine: 1, lineCount: 2 };
    await jetstream(nc).publish(natsNames(prefix).logSubject("conn", meta.jobId), '{"ts":1.0,"uid":"C1"}\n{"ts":2.0,"uid":"C2"}', { headers: batchHeaders(meta), msgID: batchMsgId(meta) });
    await nc.close();
    await until(() => out.split("\n").filter(Boolean).length >= 2, "no lines on stdout");
    const lines = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines, [
      { brocapi: { job: meta.jobId, tag: "case 5", capture: "a.pcap", captureIndex: 0, log: "conn" }, ts: 1.0, uid: "C1" },
      { brocapi: { job: meta.jobId, tag: "case 5", capture: "a.pcap", captureIndex: 0, log: "conn" }, ts: 2.0, uid: "C2" },
    ]);
    assert.ok(!out.includes('"event"'), "no service log on stdout");
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    await nats.cleanup();
  }
});
