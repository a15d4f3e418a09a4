import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "../shared/nats/names.js";
import { publishLogs } from "../services/worker/publish-logs.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";

// publishLogs against a real JetStream: a shard's per-host logs are held back in memory, the rest
// published. A held log read as one batch of more lines than a call may take arguments must
// still be held whole (spreading the batch into push() threw RangeError past some 100,000 lines).

let nats: TestNats;
let nc: NatsConnection;
let logDir: string;

before(async () => {
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
  await (await jetstreamManager(nc)).streams.add({ name: "LOGS", subjects: ["t.logs.>"] });
  logDir = await mkdtemp(join(tmpdir(), "brocapi-publish-logs-"));
});

after(async () => {
  await nc?.close();
  await nats?.cleanup();
  if (logDir) await rm(logDir, { recursive: true, force: true });
});

test("a held-back log of 200,000 lines in one batch is held whole and in order; the others are published", async () => {
  const held = 200_000;
  const hostLines = Array.from({ length: held }, (_, i) => JSON.stringify({ ts: i, host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }));
  await writeFile(join(logDir, "known_hosts.log"), hostLines.join("\n") + "\n");
  await writeFile(join(logDir, "conn.log"), ['{"uid":"a"}', '{"uid":"b"}', '{"uid":"c"}'].join("\n") + "\n");

  const out = await publishLogs({
    js: jetstream(nc),
    names: natsNames("t"),
    logDir,
    origin: { jobId: "job1", tag: null, pcap: "a.pcap", pcapIndex: 0, format: "json" },
    skipped: new Set(),
    batchLines: 250_000,
    window: 4,
    holdBack: new Set(["known_hosts"]),
  });

  assert.deepEqual(out.lines, { conn: 3 }, "only the logs not held back are published");
  const log = out.held["known_hosts"]!;
  assert.equal(log.header, null, "JSON logs have no header block");
  assert.equal(log.lines.length, held);
  assert.deepEqual(log.lines, hostLines);
  const stream = await (await jetstreamManager(nc)).streams.info("LOGS");
  assert.equal(stream.state.messages, 1, "conn.log's 3 lines went out as one batch; known_hosts was not published");
});
