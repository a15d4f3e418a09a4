// Speed and memory of the capture splitter (shared/pcap/capture-splitter.ts) on a synthetic
// capture read from disk in 1 MiB chunks, each run in its own process so its peak RSS is its own:
// all N shards assembled (one pass producing every shard), and one shard selected (what each shard
// task of a sharded job does on its way into Zeek). Two capture sizes show whether memory grows
// with the capture.   npm run bench -- split [MB of the larger capture, default 400]
import { spawnSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CaptureSplitter } from "../shared/pcap/capture-splitter.js";
import { writeSyntheticPcap } from "../test/helpers/pcap-writer.js";

interface Run {
  mb: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  packets: number[];
}

/** One measured run (in this process): split `file` into `count` shards, keeping all or one. */
async function measure(file: string, count: number, keep: number | undefined): Promise<Run> {
  const splitter = new CaptureSplitter(count, keep);
  const bytes = (await stat(file)).size;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let out = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    for (const b of splitter.push(chunk as Buffer)) out += b.length;
  }
  for (const b of splitter.end()) out += b.length;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (out < (keep === undefined ? bytes : 0)) throw new Error("bytes lost");
  return { mb: bytes / 1e6, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: process.resourceUsage().maxRSS / 1024, packets: splitter.packets };
}

if (process.argv[2] === "--one") {
  const [file, count, keep] = process.argv.slice(3);
  console.log(JSON.stringify(await measure(file!, Number(count), keep === "all" ? undefined : Number(keep))));
} else {
  const largeMb = Number(process.argv[2] ?? 400);
  const self = fileURLToPath(import.meta.url);
  const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-split-"));
  try {
    // 8 packets of ~150 B per flow: ~1,250 B per flow.
    const sizes = [largeMb / 4, largeMb];
    const files: string[] = [];
    for (const mb of sizes) {
      const file = join(dir, `${mb}.pcap`);
      await writeSyntheticPcap(file, { flows: Math.round((mb * 1e6) / 1_250), packetsPerFlow: 8, dnsEvery: 10 });
      files.push(file);
    }
    console.log(`load average ${(await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    console.log("| capture | shards | output | wall MB/s | CPU s | CPU MB/s | peak RSS | packets per shard (min–max) |");
    console.log("| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |");
    for (const [count, keep] of [[1, "all"], [4, "all"], [16, "all"], [4, "0"]] as const) {
      for (const file of files) {
        const r = spawnSync(process.execPath, [self, "--one", file, String(count), keep], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(r.stderr);
        const run = JSON.parse(r.stdout) as Run;
        const spread = `${Math.min(...run.packets.filter((_, k) => keep === "all" || k === Number(keep)))}–${Math.max(...run.packets)}`;
        console.log(
          `| ${run.mb.toFixed(0)} MB | ${count} | ${keep === "all" ? "all shards" : `shard ${keep} only`} | ${(run.mb / run.seconds).toFixed(0)} | ${run.cpuSeconds.toFixed(2)} | ${(run.mb / run.cpuSeconds).toFixed(0)} | ${run.peakRssMb.toFixed(0)} MB | ${spread} |`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
