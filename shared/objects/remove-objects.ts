import type { ObjectStore } from "@nats-io/obj";
import { inWindows } from "../concurrency/in-windows.js";

/** Deletes in flight at once: each is a few requests, and thousands at once time out in the client's queue. */
const REMOVE_WINDOW = 64;

/**
 * Deletes captures from the object store, a window at a time. A delete that fails (NATS away, a
 * time-out) is left: what it leaves is an orphan, which the api's sweep removes once it is older
 * than the upload time limit (shared/jobs/orphan-sweep.ts). Returns how many were not deleted.
 */
export async function removeObjects(store: ObjectStore, names: readonly string[]): Promise<number> {
  let failed = 0;
  await inWindows(names, REMOVE_WINDOW, (name) =>
    store.delete(name).then(
      () => undefined,
      () => void failed++,
    ),
  );
  return failed;
}
