// A large synthetic capture analysed whole and in N shards, side by side in one run, with the Zeek
// double: api, directory sink and N worker slots in this process (BROCAPI_WORKER_CONCURRENCY=N),
// Zeek double runs as processes. Prints wall time from submission to the job's end, the CPU time
// of this process and of its Zeek runs, and checks that both jobs have the same per-connection
// line counts.   npm run bench -- shards [packets, default 400000] [shards, default 2]
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { loadavg } from "node:os";
import { cpuTime } from "../shared/process/cpu-time.js";
import { startTestNats } from "../test/helpers/nats.js";
import { writeSyntheticPcap } from "../test/helpers/pcap-writer.js";
import { startStack } from "../test/helpers/stack.js";

const PACKETS = Number(process.argv[2] ?? 400_000);
const SHARDS = Number(process.argv[3] ?? 2);

const nats = await startTestNats();
const stack = await startStack({ natsUrl: nats.url, env: { BROCAPI_WORKER_CONCURRENCY: String(SHARDS), BROCAPI_ZEEK_SCRIPTS: "local protocols/conn/known-hosts" } });
try {
  const path = join(stack.dataDir, "big.pcap");
  const info = await writeSyntheticPcap(path, { flows: PACKETS / 8, packetsPerFlow: 8, dnsEvery: 10 });
  const bytes = await readFile(path);
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}; ${info.packets} packets, ${(info.bytes / 1e6).toFixed(1)} MB, ${info.flows} flows; ${SHARDS} worker slots`);
  console.log("| run | wall s (submit → done) | CPU s: Brocapi (api, worker, sink) | CPU s: Zeek double runs | conn lines | dns lines | known_hosts lines |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const results: Record<string, number>[] = [];
  for (const shards of [1, SHARDS]) {
    const form = new FormData();
    form.append("file[]", new Blob([bytes]), basename(path));
    if (shards > 1) form.append("shards", String(shards));
    // This process runs api, worker and sink; its children are the Zeek runs.
    const cpu0 = cpuTime("self");
    const t0 = performance.now();
    const res = await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form });
    const { job_id } = (await res.json()) as { job_id: string };
    const job = await stack.waitForJob(job_id, 3_600_000);
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuTime("self");
    results.push(job.lines);
    console.log(`| ${shards === 1 ? "whole" : `${shards} shards`} | ${wall.toFixed(1)} | ${(cpu.self - cpu0.self).toFixed(1)} | ${(cpu.children - cpu0.children).toFixed(1)} | ${job.lines.conn ?? 0} | ${job.lines.dns ?? 0} | ${job.lines.known_hosts ?? 0} |`);
  }
  const same = ["conn", "dns", "known_hosts"].every((t) => results[0]![t] === results[1]![t]);
  console.log(`per-connection and per-host line counts ${same ? "identical" : "DIFFER"}`);
} finally {
  await stack.stop();
  await nats.cleanup();
}
