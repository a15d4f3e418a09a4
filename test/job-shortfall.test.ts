import assert from "node:assert/strict";
import { test } from "node:test";
import { DeliverPolicy } from "@nats-io/jetstream";
import { consumerStartedAfter, countedLines } from "../services/shipper/job-shortfall.js";
import { acceptedLines } from "../shared/jobs/sink-routing.js";
import { planRouting } from "../services/shipper/routing.js";
import { natsNames } from "../shared/nats/names.js";
import { deliversSince } from "../shared/nats/topology.js";

// What the sink audit compares (services/shipper/sink-audit.ts; the audit end to end:
// sink-audit.test.ts). Each case is one the audit must not take for a skip.

const route = (logs: { include?: string[]; exclude?: string[] }, tags: { include?: string[] } = {}) =>
  planRouting({ logs: { exclude: [], ...logs }, tags: { exclude: [], ...tags } }, natsNames("brocapi"), "2.9.10");
const lines = { conn: 3000, dns: 600, weird: 0 };

test("expected lines: only the log types and tags the instance's routing accepts, types without lines left out", () => {
  assert.deepEqual(acceptedLines(lines, "case-1", route({})), { conn: 3000, dns: 600 });
  assert.deepEqual(acceptedLines(lines, "case-1", route({ include: ["conn"] })), { conn: 3000 });
  assert.deepEqual(acceptedLines(lines, "case-1", route({ exclude: ["conn"] })), { dns: 600 });
  assert.deepEqual(acceptedLines(lines, "case-1", route({}, { include: ["site-*"] })), {}, "a job whose tag is routed away: nothing expected");
  assert.deepEqual(acceptedLines(lines, null, route({}, { include: ["*"] })), { conn: 3000, dns: 600 }, "a job without a tag matches only *");
});

test("counted lines: delivered, refused for good by the destination and replayed all count", () => {
  assert.equal(countedLines(null), 0);
  assert.equal(countedLines({ lines: 3000, updatedAt: "" }), 3000);
  assert.equal(countedLines({ lines: 2990, rejected: 10, updatedAt: "" }), 3000, "rejected lines are not missing");
  assert.equal(countedLines({ lines: 2970, replayed: 30, updatedAt: "" }), 3000, "a repaired job is whole");
});

test("a consumer that began after the job's submission cannot judge it: start new, a later start time, a policy Brocapi does not make created after it", () => {
  const submittedAt = "2026-12-02T01:00:00.000Z";
  const info = (deliver_policy: DeliverPolicy, created: string, opt_start_time?: string) => ({ config: { deliver_policy, ...(opt_start_time ? { opt_start_time } : {}) }, created }) as Parameters<typeof consumerStartedAfter>[0];
  assert.equal(consumerStartedAfter(info(DeliverPolicy.All, "2026-12-02T02:00:00Z"), submittedAt), false, "all: every retained line, whenever created");
  assert.equal(consumerStartedAfter(info(DeliverPolicy.New, "2026-12-02T00:59:00Z"), submittedAt), false);
  assert.equal(consumerStartedAfter(info(DeliverPolicy.New, "2026-12-02T01:00:01Z"), submittedAt), true);
  assert.equal(consumerStartedAfter(info(DeliverPolicy.StartTime, "2026-12-02T02:00:00Z", "2026-12-02T00:00:00Z"), submittedAt), false);
  assert.equal(consumerStartedAfter(info(DeliverPolicy.StartTime, "2026-12-01T00:00:00Z", "2026-12-02T01:30:00Z"), submittedAt), true);
  // `last` (or a start sequence) delivers at least every line published after its creation.
  assert.equal(consumerStartedAfter(info(DeliverPolicy.Last, "2026-12-01T00:00:00Z"), submittedAt), false);
  assert.equal(consumerStartedAfter(info(DeliverPolicy.Last, "2026-12-02T01:00:01Z"), submittedAt), true);
  // What the registry records for the api (the same rule): null for all, a time with milliseconds otherwise.
  assert.equal(deliversSince(info(DeliverPolicy.All, "2026-12-02T02:00:00Z")), null);
  assert.equal(deliversSince(info(DeliverPolicy.New, "2026-12-02T00:59:00.123456789Z")), "2026-12-02T00:59:00.123Z");
  assert.equal(deliversSince(info(DeliverPolicy.StartTime, "2026-12-02T02:00:00Z", "2026-12-02T00:00:00Z")), "2026-12-02T00:00:00.000Z");
});
