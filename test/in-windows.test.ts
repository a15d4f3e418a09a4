import assert from "node:assert/strict";
import { test } from "node:test";
import { inWindows } from "../shared/concurrency/in-windows.js";

/** A call that ends when the test says so. */
function gate<T>(): { promise: Promise<T>; open: (v: T) => void; shut: (err: Error) => void } {
  let open!: (v: T) => void;
  let shut!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => [open, shut] = [res, rej]);
  return { promise, open, shut };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test("inWindows: results in the items' order, never more than `window` calls at once, and a slow item holds back no others", async () => {
  const gates = Array.from({ length: 6 }, () => gate<string>());
  let inFlight = 0;
  let most = 0;
  const started: number[] = [];
  const all = inWindows([0, 1, 2, 3, 4, 5], 2, async (i) => {
    started.push(i);
    most = Math.max(most, ++inFlight);
    try {
      return await gates[i]!.promise;
    } finally {
      inFlight--;
    }
  });
  await settle();
  assert.deepEqual(started, [0, 1]);
  // Item 0 stays slow while 1 … 5 end one after another beside it.
  for (const i of [1, 2, 3, 4]) {
    gates[i]!.open(`r${i}`);
    await settle();
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5].slice(0, Math.min(6, i + 2)), `item ${i} ended: the next one started`);
  }
  gates[5]!.open("r5");
  gates[0]!.open("r0");
  assert.deepEqual(await all, ["r0", "r1", "r2", "r3", "r4", "r5"]);
  assert.equal(most, 2);
});

test("inWindows: after a failure no new call starts; the failure is thrown once the calls in flight have ended", async () => {
  const gates = Array.from({ length: 5 }, () => gate<number>());
  const started: number[] = [];
  let ended = 0;
  const all = inWindows([0, 1, 2, 3, 4], 2, async (i) => {
    started.push(i);
    try {
      return await gates[i]!.promise;
    } finally {
      ended++;
    }
  });
  let thrown: unknown = null;
  void all.catch((err: unknown) => (thrown = err));
  await settle();
  gates[1]!.shut(new Error("item 1 failed"));
  await settle();
  assert.deepEqual(started, [0, 1], "nothing started after the failure");
  assert.equal(thrown, null, "item 0 is still running");
  gates[0]!.open(0);
  await assert.rejects(all, /item 1 failed/);
  assert.equal(ended, 2);
  assert.deepEqual(await inWindows([], 4, async () => 1), []);
});
