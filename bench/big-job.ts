// One job of many small captures (issue 13): captures finished per second, CPU seconds per
// process, bytes written to the KV buckets per capture, status reads per second with 100
// connections for a 1-capture and the big job (queued, running and final), api and worker peak
// RSS. Api, worker and directory shipper run as processes; the Zeek double answers as a server
// (test/helpers/big-job.ts). The big job's status is read mid-job with worker and shipper paused
// (SIGSTOP), so the CPU measured is the reads' alone; that pause is not counted as the job's.
//   npm run bench -- big-job [captures, default 10000]
//   BROCAPI_STATUS_MAX_AGE_MS=0 npm run bench -- big-job 2000   (status reads sharing nothing)
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { cpuSeconds } from "../shared/process/cpu-time.js";
import { memoryMb } from "../test/helpers/big-capture.js";
import { runBigJob, startScaleStack, statusReads, writeCaptures } from "../test/helpers/big-job.js";
import { writeSyntheticPcap } from "../test/helpers/pcap-writer.js";
import { eventually } from "../test/helpers/stack.js";
import { submit } from "../test/helpers/submit.js";

const CAPTURES = Number(process.argv[2] ?? 10_000);
const READS = 10_000;
const CONNECTIONS = 100;

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(" ");
const loadAtStart = loadavg()[0]!;
const loadText = load();
// A paused worker's tasks must not be given to it again on resume. BROCAPI_STATUS_MAX_AGE_MS=0
// in the bench's environment measures status reads that share nothing (each reads everything).
const maxAge = process.env.BROCAPI_STATUS_MAX_AGE_MS;
const stack = await startScaleStack({ BROCAPI_ACK_WAIT_MS: "3600000", ...(maxAge ? { BROCAPI_STATUS_MAX_AGE_MS: maxAge } : {}) });
const statusUrl = (id: string): string => `${stack.api.url}/jobs/${id}`;
const stateOf = async (id: string): Promise<string> => ((await (await fetch(statusUrl(id))).json()) as { state: string }).state;

// CPU ms per status read of the api, nats-server and this client: what bounds reads/s once the
// machine is shared (load), which the wall-clock rate alone does not say.
interface ReadRow {
  job: string;
  captures: number;
  state: string;
  perSecond: number;
  failed: number;
  ms: string;
}
const rows: ReadRow[] = [];
async function measureReads(job: string, id: string, captures: number): Promise<void> {
  const state = await stateOf(id);
  const pids = { api: stack.api.pid, nats: stack.nats.process.pid!, client: process.pid };
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) ?? 0]));
  const reads = await statusReads(statusUrl(id), READS, CONNECTIONS);
  const ms = Object.entries(pids).map(([k, pid]) => `${((((cpuSeconds(pid) ?? 0) - before[k]!) * 1000) / READS).toFixed(2)}`).join(" / ");
  rows.push({ job, captures, state, perSecond: reads.perSecond, failed: reads.failed, ms });
}

/** A capture unlike the job's (an analysed one would be reused). */
async function freshCapture(name: string, n: number): Promise<string> {
  const path = join(stack.dir, `${name}.pcap`);
  await writeSyntheticPcap(path, { flows: 1, seed: CAPTURES + n });
  return path;
}

const pause = (signal: "SIGSTOP" | "SIGCONT"): void => {
  for (const p of [stack.worker, stack.shipper]) process.kill(p.pid, signal);
};

try {
  const captures = await writeCaptures(stack.dir, CAPTURES);
  const consumers = async (): Promise<number> => (await stack.jsm.getAccountInfo()).consumers;
  const consumersBefore = await consumers();
  const run = await runBigJob(stack, captures, {
    countKvWrites: true,
    whileRunning: async (id) => {
      pause("SIGSTOP");
      try {
        // Submitted while the worker is paused: a job nobody has started.
        const queued = await submit(stack.api.url, [await freshCapture("queued", 2)], "queued");
        await measureReads("1-capture, worker paused", queued.body.job_id, 1);
        await measureReads("the big job, mid-job, worker paused", id, CAPTURES);
      } finally {
        pause("SIGCONT");
      }
    },
  });
  if (run.job.state !== "done" || run.delivered.length !== CAPTURES) throw new Error(`the job ended ${run.job.state} with ${run.delivered.length} of ${CAPTURES} lines delivered`);
  const one = await submit(stack.api.url, captures.slice(0, 1), "one");
  await eventually(async () => (await stateOf(one.body.job_id)) === "done", 60_000, "the 1-capture job to end", 200);
  await measureReads("1-capture", one.body.job_id, 1);
  await measureReads("the big job", run.jobId, CAPTURES);
  // Held by the double until the stack stops.
  const held = await freshCapture("held", 1);
  process.env.ZEEK_DOUBLE_HANG_SHA256 = createHash("sha256").update(await readFile(held)).digest("hex");
  const running = await submit(stack.api.url, [held], "held");
  await eventually(async () => (await stateOf(running.body.job_id)) === "running", 60_000, "the held job to run", 100);
  await measureReads("1-capture, Zeek running", running.body.job_id, 1);
  const consumersAfter = await consumers();
  const [api, worker] = await Promise.all([memoryMb(stack.api.pid), memoryMb(stack.worker.pid)]);
  const cpuTotal = Object.values(run.cpu).reduce((a, b) => a + b, 0);
  const loaded = loadAtStart > cpus().length / 2 ? ` — **loaded: load average ${loadText} at the start, ${load()} at the end, on ${cpus().length} cores; wall-clock figures are upper bounds, CPU seconds barely depend on load**` : ` (load average ${loadText} at the start, ${load()} at the end)`;
  const version = execFileSync("nats-server", ["--version"]).toString().trim();
  console.log(`\n${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, ${version}${loaded}\n`);
  console.log("| captures | upload | analysed | captures finished/s | CPU s per process (ms per capture) | KV bytes written per capture | api peak RSS (before / during the upload) / worker peak RSS |");
  console.log("| ---: | ---: | ---: | ---: | --- | ---: | ---: |");
  const perProcess = Object.entries(run.cpu).map(([k, s]) => `${k} ${s.toFixed(1)} (${((s * 1000) / CAPTURES).toFixed(1)})`).join(", ");
  const kv = run.kvWrites!;
  console.log(
    `| ${CAPTURES} | ${run.uploadS.toFixed(1)} s | ${run.analysedS.toFixed(1)} s | ${(CAPTURES / run.analysedS).toFixed(0)} | ${perProcess}; total ${cpuTotal.toFixed(0)} s (${((cpuTotal * 1000) / CAPTURES).toFixed(0)} ms) | ` +
      `${Math.round(kv.bytes / CAPTURES)} (${(kv.writes / CAPTURES).toFixed(1)} writes) | ${api.peak.toFixed(0)} MB (${run.apiRssBeforeMb.toFixed(0)} / ${run.apiRssUploadMb.toFixed(0)}) / ${worker.peak.toFixed(0)} MB |`,
  );
  console.log(`\nStatus reads, ${READS} each with ${CONNECTIONS} connections, http.statusMaxAgeMs ${maxAge ?? "default"}:\n`);
  console.log("| job | captures | state read | reads/s | CPU ms per read: api / nats / client | not 200 |");
  console.log("| --- | ---: | --- | ---: | --- | ---: |");
  for (const r of rows) console.log(`| ${r.job} | ${r.captures} | ${r.state} | ${r.perSecond.toFixed(0)} | ${r.ms} | ${r.failed} |`);
  console.log(
    `\n(zeek = the worker's Zeek runs: the double's bash client and its cat; test = this process: the double's analysis, the upload's client and the status polls; ` +
      `the paused reads are not counted in the job's time and CPU. Consumers on the server ${consumersBefore} before the job, ${consumersAfter} after every read. ` +
      `Delivered to the directory sink +${run.deliveredS.toFixed(1)} s after the job ended.)`,
  );
} finally {
  await stack.stop();
}
// The held Zeek run's timer (test/zeek-double/invoke.ts) would keep this process alive.
process.exit(0);
