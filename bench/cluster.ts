// One nats-server beside a three-node JetStream cluster with every stream at R3, run one after
// the other on the same machine: upload MB/s through the api into the capture store, and
// publish→delivered lines/s (worker publish → syslog sink → discarding TCP receiver, 256-line
// batches). Prints one row per topology.
//   npm run bench -- cluster [MiB] [lines]
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { uploadFile, writeBigPcap } from "../test/helpers/big-capture.js";
import { startTestNats } from "../test/helpers/nats.js";
import { startTestCluster } from "../test/helpers/nats-cluster.js";
import { ServiceProcesses } from "../test/helpers/processes.js";
import { measureShipping } from "./ship-run.js";
import { makeLogs } from "./zeek-logs.js";

const MIB = Number(process.argv[2] ?? 512);
const LINES = Number(process.argv[3] ?? 300_000);

/** Where NATS runs: started fresh for each row, stopped after it. */
const topologies = [
  {
    name: "1 node, R1",
    replicas: 1,
    async start() {
      const n = await startTestNats();
      return { url: n.url, stop: () => n.cleanup() };
    },
  },
  {
    name: "3 nodes, R3",
    replicas: 3,
    async start() {
      const c = await startTestCluster();
      return { url: c.url, stop: () => c.cleanup() };
    },
  },
];

const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-cluster-"));
try {
  const pcap = join(dir, "big.pcap");
  const size = await writeBigPcap(pcap, MIB);
  const logs = await makeLogs(join(dir, "logs"), LINES);
  const rows: string[] = [];
  for (const t of topologies) {
    const nats = await t.start();
    const procs = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_NATS_REPLICAS: String(t.replicas), BROCAPI_DATA_DIR: dir, BROCAPI_NATS_PREFIX: "benchcl" });
    try {
      const api = await procs.start("api");
      const t0 = performance.now();
      const res = await uploadFile(api.url, pcap, "bench");
      if (res.status !== 200) throw new Error(`upload answered ${res.status}: ${res.body}`);
      const seconds = (performance.now() - t0) / 1000;
      const ship = await measureShipping(nats.url, t.replicas, "discard", 256, logs.lines, logs.logDir);
      rows.push(`| ${t.name} | ${(size / 2 ** 20).toFixed(0)} MiB in ${seconds.toFixed(1)} s: ${(size / 1e6 / seconds).toFixed(0)} MB/s | ${logs.lines} lines: ${ship.published.toLocaleString("en-US")} | ${ship.delivered.toLocaleString("en-US")} |`);
      console.error(rows.at(-1));
    } finally {
      await procs.stopAll();
      await nats.stop();
    }
  }
  const version = execFileSync("nats-server", ["--version"]).toString().trim();
  console.log(`\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, ${version}\n`);
  console.log("| NATS | upload through the api | published lines/s | publish→delivered lines/s |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const r of rows) console.log(r);
} finally {
  await rm(dir, { recursive: true, force: true });
}
