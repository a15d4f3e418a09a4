import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { processesWith } from "../helpers/process-table.js";
import { ServiceProcesses } from "../helpers/processes.js";
import { eventually } from "../helpers/stack.js";

// The all-in-one's embedded nats-server runs in a process group of its own (so Ctrl-C reaches
// Brocapi first and Brocapi stops it last). Nothing a dying Node process could run would stop it
// after SIGKILL: the kernel does, because it is started under `setpriv --pdeathsig KILL`.

test("the all-in-one SIGKILLed: its embedded nats-server dies with it, nothing is left running", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "brocapi-embedded-"));
  const procs = new ServiceProcesses({ BROCAPI_DATA_DIR: dataDir });
  try {
    const all = await procs.start("all");
    const nats = (await processesWith(dataDir)).filter((p) => p.command.includes("nats-server"));
    assert.equal(nats.length, 1, "one embedded nats-server");
    assert.equal(nats[0]!.ppid, all.pid, "started by the service itself");
    process.kill(all.pid, "SIGKILL"); // the service alone, not its group: as the OOM killer would
    await all.exited;
    await eventually(async () => (await processesWith(dataDir)).length === 0, 5_000, "nats-server gone after its parent was SIGKILLed");
  } finally {
    await procs.stopAll();
    await rm(dataDir, { recursive: true, force: true });
  }
});
