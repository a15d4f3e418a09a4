import assert from "node:assert/strict";
import { test } from "node:test";
import { jobSinks } from "../shared/jobs/job-sinks.js";
import { LIVE_FOR_MS } from "../shared/jobs/sink-presence.js";
import { routeCheck } from "../shared/jobs/sink-routing.js";

// Which sink instances `GET /jobs/:id` lists for a job, from the registry's routing and presence
// (the api end to end: sink-instances.test.ts). Times in ms from a fixed `now`.
const now = Date.parse("2026-12-02T12:00:00.000Z");
const iso = (msAgo: number): string => new Date(now - msAgo).toISOString();
const HOUR = 3_600_000;
const WEEK = 168 * HOUR;
const connOnly = routeCheck({ logs: { include: ["conn"], exclude: [] }, tags: { exclude: [] } });

/** A registry with one instance, `fresh`, running and delivering every job the stream holds (start: all), and no record. */
const read = { records: {}, routing: { fresh: connOnly }, seen: { fresh: { at: iso(10_000), since: null } } };
const listed = (submittedMsAgo: number, logsKeptForMs = WEEK) => jobSinks({ tag: null, submittedAt: iso(submittedMsAgo) }, { conn: 30 }, read, now, logsKeptForMs).fresh;

test("a running instance that has not reported a job is listed while the stream may hold the job's lines, not after", () => {
  assert.deepEqual(listed(HOUR), { lines: 0, expected: 30, seenAt: iso(10_000), running: true }, "a job of an hour ago: its lines are on the stream, the instance owes them");
  assert.equal(listed(WEEK + HOUR), undefined, "a job older than the stream keeps lines: some are gone, the instance never gets them whole");
  assert.deepEqual(listed(WEEK + HOUR, 0), { lines: 0, expected: 30, seenAt: iso(10_000), running: true }, "a stream that keeps lines for ever");
});

test("an instance with a record is listed whatever the job's age, running or not", () => {
  const record = { lines: 30, updatedAt: iso(WEEK + HOUR) };
  const stopped = { records: { fresh: record }, routing: { fresh: connOnly }, seen: { fresh: { at: iso(LIVE_FOR_MS + 1_000), since: null } } };
  assert.deepEqual(jobSinks({ tag: null, submittedAt: iso(WEEK + 2 * HOUR) }, { conn: 30 }, stopped, now, WEEK).fresh, { ...record, expected: 30, seenAt: iso(LIVE_FOR_MS + 1_000), running: false });
});
