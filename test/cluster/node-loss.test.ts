import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { findNatsServer } from "../../shared/nats/local-server.js";
import { useClusterEnv } from "./cluster-env.js";
import { allFaults } from "./faults.js";
import { runScenario } from "./scenario.js";

// Broker faults on a 3-node JetStream cluster (R3) under the api, two workers and both shippers
// as separate processes with all three node URLs. Each fault lands on three jobs at once: one
// half uploaded, one in Zeek, one shipping. What is asserted: test/cluster/scenario.ts.

// nats-server before 2.9.21 accepts two concurrent compare-and-set updates of one key on a
// clustered (R3) stream (nats-server issue #4320): two workers finishing captures of one job at
// once can lose one capture's update, and the job then never ends. Debian bookworm ships 2.9.10.
// Until the job record stops depending on a shared key's CAS (issue #13), these runs fail on
// that server bug rather than on Brocapi's handling of node loss; BROCAPI_CLUSTER_TESTS=1 runs
// them anyway (that is how the results in docs/RELIABILITY.md were taken).
const version = /v(\d+)\.(\d+)\.(\d+)/.exec(execFileSync(findNatsServer(), ["--version"], { encoding: "utf8" }));
const casSafe = version !== null && Number(version[1]) * 1e6 + Number(version[2]) * 1e3 + Number(version[3]) >= 2_009_021;
const skip = casSafe || process.env.BROCAPI_CLUSTER_TESTS === "1" ? false : `nats-server ${version?.[0]} loses concurrent KV compare-and-set updates on R3 (nats-server#4320): jobs can stay running; set BROCAPI_CLUSTER_TESTS=1 to run`;

const env = useClusterEnv(skip !== false);

for (const fault of allFaults()) {
  test(`cluster: ${fault.name} during an upload, during Zeek and during shipping`, { skip }, async (t) => {
    const result = await runScenario(t, env(), fault);
    t.diagnostic(`result ${JSON.stringify(result)}`);
  });
}
