import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { startStack } from "./helpers/stack.js";

let nats: TestNats;

before(async () => {
  nats = await startTestNats();
});

after(async () => {
  await nats?.cleanup();
});

const HOUR_NS = 3_600_000 * 1_000_000;

test("retention settings reach the streams and buckets, and a changed setting updates them on the next start", async () => {
  const env = { BROCAPI_NATS_PREFIX: "retention", BROCAPI_LOG_RETENTION_HOURS: "2", BROCAPI_PCAP_RETENTION_HOURS: "3", BROCAPI_PCAP_RETENTION_BYTES: "1000000000", BROCAPI_JOB_RETENTION_HOURS: "4" };
  const maxAges = async (stack: Awaited<ReturnType<typeof startStack>>): Promise<Record<string, [number, number]>> => {
    const { jsm, names } = stack.ctx.topology;
    const out: Record<string, [number, number]> = {};
    for (const stream of [names.logsStream, names.eventsStream, `KV_${names.jobsBucket}`, `KV_${names.sinksBucket}`, `KV_${names.analysesBucket}`, `OBJ_${names.pcapsBucket}`]) {
      const { config } = await jsm.streams.info(stream);
      out[stream] = [config.max_age / HOUR_NS, config.max_bytes];
    }
    return out;
  };
  // Stopped whatever an assertion says: an open stack would keep the test file from ending.
  const first = await startStack({ natsUrl: nats.url, services: [], env });
  try {
    assert.deepEqual(await maxAges(first), {
      RETENTION_LOGS: [2, -1],
      RETENTION_EVENTS: [4, -1],
      "KV_retention-jobs": [4, -1],
      "KV_retention-sinks": [4, -1],
      "KV_retention-analyses": [3, -1],
      "OBJ_retention-pcaps": [3, 1_000_000_000],
    });
  } finally {
    await first.stop();
  }
  const second = await startStack({ natsUrl: nats.url, services: [], env: { ...env, BROCAPI_LOG_RETENTION_HOURS: "0", BROCAPI_JOB_RETENTION_HOURS: "48" } });
  try {
    const after = await maxAges(second);
    assert.deepEqual(after.RETENTION_LOGS, [0, -1], "0 hours: kept forever");
    assert.deepEqual(after["KV_retention-jobs"], [48, -1]);
  } finally {
    await second.stop();
  }
});
