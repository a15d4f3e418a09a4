import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { UploadBody } from "../services/api/upload/upload-body.js";

// The upload's waits on its client (services/api/upload/upload-body.ts), without a server: the
// constructor only listens for the request's close.
const request = (): IncomingMessage => new EventEmitter() as IncomingMessage;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** True once nothing holds what `ref` points to (a WeakRef is cleared only after the job that read it). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return ref.deref() === undefined;
}

test("a wait on the client holds nothing once it is over: a form part read through body.race is not kept until the upload ends", async () => {
  const body = new UploadBody(request(), 60_000);
  // As readForm does, part after part, each part a sizeable object (a busboy stream and its
  // state); read in a function of its own, so no variable of this test holds the last one.
  const readPart = async (index: number): Promise<WeakRef<object>> => {
    const part = await body.race(Promise.resolve({ buffer: Buffer.alloc(64 * 1024), index }));
    assert.equal(part.index, index);
    return new WeakRef(part);
  };
  const refs: WeakRef<object>[] = [];
  for (let i = 0; i < 3; i++) refs.push(await readPart(i));
  for (const [i, ref] of refs.entries()) assert.ok(await collected(ref), `part ${i} still held while the upload goes on`);
  // The upload is still under way: body is used after the checks, so it was alive throughout.
  assert.equal(body.signal.aborted, false);
});

test("a wait on the client that overruns the upload's time limit rejects with the 408 timeout; one that fails first rejects with its own error", async (t) => {
  const body = new UploadBody(request(), 20);
  // The limit's timer does not keep a process alive (the client's socket does): this one does.
  const alive = setTimeout(() => undefined, 10_000);
  t.after(() => clearTimeout(alive));
  await assert.rejects(body.race(Promise.reject(new Error("parser failed"))), /parser failed/);
  await assert.rejects(body.race(new Promise(() => undefined)), { code: "BROCAPI_UPLOAD_TIMEOUT" });
  await assert.rejects(body.race(Promise.resolve(1)), { code: "BROCAPI_UPLOAD_TIMEOUT" }, "once overrun, every later wait fails at once");
});
