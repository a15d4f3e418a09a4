import { test } from "node:test";
import { useClusterEnv } from "./cluster-env.js";
import { allFaults } from "./faults.js";
import { assertNothingStored, runScenario } from "./scenario.js";

// Broker faults on a 3-node JetStream cluster (R3) under the api, two workers and both shippers
// as separate processes with all three node URLs. Each fault lands on three jobs at once: one
// half uploaded, one in Zeek, one shipping. What is asserted: test/cluster/scenario.ts.

const env = useClusterEnv();

for (const fault of allFaults()) {
  test(`cluster: ${fault.name} during an upload, during Zeek and during shipping`, async (t) => {
    const result = await runScenario(t, env(), fault);
    t.diagnostic(`result ${JSON.stringify(result)}`);
  });
}

test("cluster: the uploads refused during the faults left nothing stored", async (t) => {
  t.diagnostic(`refused: ${JSON.stringify(env().refused)}`);
  await assertNothingStored(env());
});
