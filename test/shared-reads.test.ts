import assert from "node:assert/strict";
import { test } from "node:test";
import { SharedReads } from "../shared/concurrency/shared-reads.js";

/** A read that answers `n`, the number of reads made so far. */
const counter = (): { reads: number; read: () => Promise<number> } => {
  const c = { reads: 0, read: async () => ++c.reads };
  return c;
};

test("callers of one key within the period share one read, in flight or done; other keys read their own", async () => {
  const shared = new SharedReads<number>(600_000, 10);
  const a = counter();
  const b = counter();
  assert.deepEqual(await Promise.all([shared.get("a", a.read), shared.get("a", a.read), shared.get("b", b.read)]), [1, 1, 1]);
  assert.equal(await shared.get("a", a.read), 1, "a later caller gets the same answer");
  assert.deepEqual([a.reads, b.reads], [1, 1]);
});

test("a failed read is not shared with later callers", async () => {
  const shared = new SharedReads<number>(600_000, 10);
  await assert.rejects(shared.get("a", () => Promise.reject(new Error("NATS away"))), /NATS away/);
  const a = counter();
  assert.equal(await shared.get("a", a.read), 1);
});

test("at most `max` keys are kept, the latest read; 0 ms shares nothing", async () => {
  const shared = new SharedReads<number>(600_000, 2);
  const a = counter();
  await shared.get("a", a.read);
  await shared.get("b", async () => 0);
  await shared.get("c", async () => 0);
  assert.equal(await shared.get("a", a.read), 2, "a, read longest ago, was let go");
  const none = new SharedReads<number>(0, 10);
  const n = counter();
  assert.deepEqual(await Promise.all([none.get("a", n.read), none.get("a", n.read)]), [1, 2]);
});
