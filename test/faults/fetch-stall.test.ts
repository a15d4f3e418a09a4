import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReadableStream } from "node:stream/web";
import { after, before, test } from "node:test";
import type { ObjectResult } from "@nats-io/obj";
import { fetchCapture } from "../../services/worker/fetch-capture.js";

// When nats-server restarts in the middle of a capture's download, the object store's reader can
// stop delivering without ever failing. The worker gives up on a read that stalls, so the task is
// retried instead of hanging (its heartbeat would keep it from every other worker).

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-fetch-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An object store whose one object sends `chunks`, then ends, or (with `hang`) sends nothing more. */
function store(chunks: string[], hang: boolean): { get(): Promise<ObjectResult> } {
  const data = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(Buffer.from(c));
      if (!hang) controller.close();
    },
  });
  const error = hang ? new Promise<Error | null>(() => undefined) : Promise.resolve(null);
  return { get: async () => ({ data, error }) as unknown as ObjectResult };
}

test("a capture read that stops delivering fails as a transient broker error once no data came for the stall time", async () => {
  await assert.rejects(fetchCapture(store(["first chunk"], true), "job/0", join(dir, "stalled.pcap"), 300), (err: Error & { code?: string; permanent?: boolean }) => {
    assert.equal(err.code, "BROCAPI_BROKER_UNAVAILABLE");
    assert.equal(err.permanent, false);
    assert.match(err.message, /reading capture job\/0 from the object store stalled for 300 ms/);
    return true;
  });
});

test("a read that keeps delivering is written whole", async () => {
  const path = join(dir, "whole.pcap");
  await fetchCapture(store(["a", "b", "c"], false), "job/1", path, 300);
  assert.equal(await readFile(path, "utf8"), "abc");
});
