// One nats-server beside a three-node JetStream cluster with every stream at R3, in one run on the
// same machine: upload MB/s through the api into the capture store, and publish→delivered
// lines/s (worker publish → syslog sink → discarding TCP receiver, 256-line batches), each with
// the CPU seconds it cost (read from /proc: they depend far less than wall time on what else
// runs). Prints one row per topology and the R3 ÷ R1 ratios.
//   npm run bench -- cluster [MiB] [lines]
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { uploadFile, writeBigPcap } from "../test/helpers/big-capture.js";
import { startTestNats } from "../test/helpers/nats.js";
import { startTestCluster } from "../test/helpers/nats-cluster.js";
import { ServiceProcesses } from "../test/helpers/processes.js";
import { findNatsServer } from "../shared/nats/local-server.js";
import { cpuNow, cpuSince } from "./cpu.js";
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
      return { url: n.url, pids: () => [n.process.pid!], stop: () => n.cleanup() };
    },
  },
  {
    name: "3 nodes, R3",
    replicas: 3,
    async start() {
      const c = await startTestCluster();
      await c.waitHealthy();
      return { url: c.url, pids: () => c.nodes.map((n) => n.pid()!), stop: () => c.cleanup() };
    },
  },
];

interface Row {
  name: string;
  upload: { seconds: number; mbps: number; apiCpu: number; natsCpu: number };
  ship: { published: number; delivered: number; seconds: number; shipCpu: number; natsCpu: number };
  load: string;
}

const load = (): string => loadavg()[0]!.toFixed(1);
const n0 = (n: number): string => Math.round(n).toLocaleString("en-US");

const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-cluster-"));
try {
  const pcap = join(dir, "big.pcap");
  const size = await writeBigPcap(pcap, MIB);
  const logs = await makeLogs(join(dir, "logs"), LINES);
  const rows: Row[] = [];
  for (const t of topologies) {
    const nats = await t.start();
    const procs = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_NATS_REPLICAS: String(t.replicas), BROCAPI_DATA_DIR: dir, BROCAPI_NATS_PREFIX: "benchcl" });
    try {
      const loadBefore = load();
      const api = await procs.start("api");
      const natsPids = nats.pids();
      const cpu0 = cpuNow([...natsPids, api.pid]);
      const api0 = cpuNow([api.pid]).others;
      const t0 = performance.now();
      const res = await uploadFile(api.url, pcap, "bench");
      if (res.status !== 200) throw new Error(`upload answered ${res.status}: ${res.body}`);
      const seconds = (performance.now() - t0) / 1000;
      const apiCpu = cpuNow([api.pid]).others - api0;
      const uploadCpu = cpuSince(cpu0, [...natsPids, api.pid]).others;
      const ship = await measureShipping(nats.url, t.replicas, "discard", 256, logs.lines, logs.logDir, natsPids);
      const row: Row = {
        name: t.name,
        upload: { seconds, mbps: size / 1e6 / seconds, apiCpu, natsCpu: uploadCpu - apiCpu },
        ship: { published: ship.published, delivered: ship.delivered, seconds: ship.seconds, shipCpu: ship.cpu.self, natsCpu: ship.cpu.others },
        load: `${loadBefore} → ${load()}`,
      };
      rows.push(row);
      console.error(`${t.name}: ${JSON.stringify(row)}`);
    } finally {
      await procs.stopAll();
      await nats.stop();
    }
  }
  const version = execFileSync(findNatsServer(), ["--version"]).toString().trim();
  console.log(`\n${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, ${version}`);
  console.log(`${(size / 2 ** 20).toFixed(0)} MiB capture uploaded through the api; ${n0(logs.lines)} conn lines published and shipped (syslog sink → discarding receiver, 256-line batches).`);
  console.log("CPU s: user + system from /proc; upload = api + nats-server(s), shipping = publisher and sink runner (this process) + nats-server(s).\n");
  console.log("| NATS | upload wall | upload MB/s | upload CPU s (api + NATS) | published lines/s | publish→delivered | delivered lines/s | shipping CPU s (Brocapi + NATS) | load avg (1 min) |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.upload.seconds.toFixed(1)} s | ${r.upload.mbps.toFixed(0)} | ${(r.upload.apiCpu + r.upload.natsCpu).toFixed(1)} (${r.upload.apiCpu.toFixed(1)} + ${r.upload.natsCpu.toFixed(1)}) | ${n0(r.ship.published)} | ${r.ship.seconds.toFixed(1)} s | ${n0(r.ship.delivered)} | ${(r.ship.shipCpu + r.ship.natsCpu).toFixed(1)} (${r.ship.shipCpu.toFixed(1)} + ${r.ship.natsCpu.toFixed(1)}) | ${r.load} |`,
    );
  }
  const [r1, r3] = rows;
  if (r1 && r3) {
    const ratio = (a: number, b: number): string => `${(b / a).toFixed(2)}×`;
    console.log(
      `| R3 ÷ R1 | ${ratio(r1.upload.seconds, r3.upload.seconds)} | ${ratio(r1.upload.mbps, r3.upload.mbps)} | ${ratio(r1.upload.apiCpu + r1.upload.natsCpu, r3.upload.apiCpu + r3.upload.natsCpu)} | ${ratio(r1.ship.published, r3.ship.published)} | ${ratio(r1.ship.seconds, r3.ship.seconds)} | ${ratio(r1.ship.delivered, r3.ship.delivered)} | ${ratio(r1.ship.shipCpu + r1.ship.natsCpu, r3.ship.shipCpu + r3.ship.natsCpu)} | |`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
