// One job of many small captures (issue 13): captures finished per second, CPU seconds per
// process, bytes written to the KV buckets per capture, status reads per second with 100
// connections for a 1-capture and the big job, api and worker peak RSS. Api, worker and
// directory shipper run as processes; the Zeek double answers as a server (test/helpers/big-job.ts).
//   npm run bench -- big-job [captures, default 10000]
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { cpuSeconds } from "../shared/process/cpu-time.js";
import { memoryMb } from "../test/helpers/big-capture.js";
import { runBigJob, startScaleStack, statusReads, writeCaptures } from "../test/helpers/big-job.js";
import { eventually } from "../test/helpers/stack.js";
import { submit } from "../test/helpers/submit.js";

const CAPTURES = Number(process.argv[2] ?? 10_000);
const READS = 10_000;
const CONNECTIONS = 100;

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(" ");
const loadAtStart = loadavg()[0]!;
const loadText = load();
const stack = await startScaleStack();
try {
  const captures = await writeCaptures(stack.dir, CAPTURES);
  const run = await runBigJob(stack, captures, { countKvWrites: true });
  if (run.job.state !== "done" || run.delivered.length !== CAPTURES) throw new Error(`the job ended ${run.job.state} with ${run.delivered.length} of ${CAPTURES} lines delivered`);
  const one = await submit(stack.api.url, captures.slice(0, 1), "one");
  const state = async (): Promise<string> => ((await (await fetch(`${stack.api.url}/jobs/${one.body.job_id}`)).json()) as { state: string }).state;
  await eventually(async () => (await state()) === "done", 60_000, "the 1-capture job to end", 200);
  const consumers = async (): Promise<number> => (await stack.jsm.getAccountInfo()).consumers;
  const consumersBefore = await consumers();
  // CPU ms per status read of the api, nats-server and this client: what bounds reads/s once the
  // machine is shared (load), which the wall-clock rate alone does not say.
  const perRead = async (url: string) => {
    const pids = { api: stack.api.pid, nats: stack.nats.process.pid, client: process.pid };
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) ?? 0]));
    const reads = await statusReads(url, READS, CONNECTIONS);
    const ms = Object.entries(pids).map(([k, pid]) => `${k} ${((((cpuSeconds(pid) ?? 0) - before[k]!) * 1000) / READS).toFixed(2)}`).join(", ");
    return { ...reads, ms };
  };
  const readsOne = await perRead(`${stack.api.url}/jobs/${one.body.job_id}`);
  const readsBig = await perRead(`${stack.api.url}/jobs/${run.jobId}`);
  const consumersAfter = await consumers();
  const [api, worker] = await Promise.all([memoryMb(stack.api.pid), memoryMb(stack.worker.pid)]);
  const cpuTotal = Object.values(run.cpu).reduce((a, b) => a + b, 0);
  const loaded = loadAtStart > cpus().length / 2 ? ` — **loaded: load average ${loadText} at the start, ${load()} at the end, on ${cpus().length} cores; wall-clock figures are upper bounds, CPU seconds barely depend on load**` : ` (load average ${loadText} at the start, ${load()} at the end)`;
  const version = execFileSync("nats-server", ["--version"]).toString().trim();
  console.log(`\n${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, ${version}${loaded}\n`);
  console.log("| captures | upload | analysed | captures finished/s | CPU s per process (ms per capture) | KV bytes written per capture | status reads/s, 100 connections: 1-capture job / this job | api peak RSS (before / during the upload) / worker peak RSS |");
  console.log("| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
  const perProcess = Object.entries(run.cpu).map(([k, s]) => `${k} ${s.toFixed(1)} (${((s * 1000) / CAPTURES).toFixed(1)})`).join(", ");
  const kv = run.kvWrites!;
  console.log(
    `| ${CAPTURES} | ${run.uploadS.toFixed(1)} s | ${run.analysedS.toFixed(1)} s | ${(CAPTURES / run.analysedS).toFixed(0)} | ${perProcess}; total ${cpuTotal.toFixed(0)} s (${((cpuTotal * 1000) / CAPTURES).toFixed(0)} ms) | ` +
      `${Math.round(kv.bytes / CAPTURES)} (${(kv.writes / CAPTURES).toFixed(1)} writes) | ${readsOne.perSecond.toFixed(0)} / ${readsBig.perSecond.toFixed(0)} | ${api.peak.toFixed(0)} MB (${run.apiRssBeforeMb.toFixed(0)} / ${run.apiRssUploadMb.toFixed(0)}) / ${worker.peak.toFixed(0)} MB |`,
  );
  console.log(
    `\n(zeek = the worker's Zeek runs: the double's bash client and its cat; test = this process: the double's analysis, the upload's client and the status polls. ` +
      `Status reads: ${READS} each, ${readsOne.failed + readsBig.failed} not 200; CPU ms per read: 1-capture job ${readsOne.ms}; this job ${readsBig.ms}; consumers on the server ${consumersBefore} before, ${consumersAfter} after. ` +
      `Delivered to the directory sink +${run.deliveredS.toFixed(1)} s after the job ended.)`,
  );
} finally {
  await stack.stop();
}
