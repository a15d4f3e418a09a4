import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { feedObject } from "../../services/worker/capture-feed.js";

// When nats-server restarts in the middle of a capture's download, the object store's reader can
// stop delivering without ever failing. The worker gives up on a read that stalls, so the task is
// retried instead of hanging (its heartbeat would keep it from every other worker). Only the
// wait for the store counts: a Zeek that reads slowly is no stall.

/** An object read that yields `chunks`, then ends, or (with `hang`) never sends anything more. */
function read(chunks: string[], hang: boolean): { data: AsyncGenerator<Buffer> } {
  return {
    data: (async function* () {
      for (const c of chunks) yield Buffer.from(c);
      if (hang) await new Promise(() => undefined);
    })(),
  };
}

const collect = (s: PassThrough): Promise<string> =>
  new Promise((resolve) => {
    let text = "";
    s.on("data", (c: Buffer) => (text += c.toString()));
    s.on("end", () => resolve(text));
  });

test("a capture read that stops delivering fails as a transient broker error once no data came for the stall time", async () => {
  const input = new PassThrough();
  input.resume();
  await assert.rejects(feedObject(read(["first chunk"], true), "job/0", input, new AbortController().signal, { salvage: false, stallMs: 300 }), (err: Error & { code?: string; permanent?: boolean }) => {
    assert.equal(err.code, "BROCAPI_BROKER_UNAVAILABLE");
    assert.equal(err.permanent, false);
    assert.match(err.message, /reading capture job\/0 from the object store stalled for 300 ms/);
    return true;
  });
});

test("a read that keeps delivering is fed whole, however slowly the reader takes it", async () => {
  // A reader that holds back for longer than the stall time is not the store stalling.
  const input = new PassThrough({ highWaterMark: 1 });
  const text = new Promise<string>((resolve) => setTimeout(() => resolve(collect(input)), 600));
  const chunks = Array.from({ length: 40 }, (_, i) => String.fromCharCode(65 + (i % 26)));
  const fed = await feedObject(read(chunks, false), "job/1", input, new AbortController().signal, { salvage: false, stallMs: 300 });
  assert.equal(await text, chunks.join(""));
  assert.deepEqual(fed, { bytes: 40, salvaged: null });
});
