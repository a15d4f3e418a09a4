// Lines/s from worker publish to delivery, for the syslog sink into (a) a real rsyslog over TCP and
// (b) a discarding TCP receiver, at batch size 1 and the default. Prints one row per run.
//   npm run bench -- ship [lines]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestNats } from "../test/helpers/nats.js";
import { measureShipping } from "./ship-run.js";
import { makeLogs } from "./zeek-logs.js";

const LINES = Number(process.argv[2] ?? 500_000);

async function run(receiver: "rsyslog" | "discard", batchLines: number, lines: number, logDir: string): Promise<void> {
  const nats = await startTestNats();
  try {
    const rates = await measureShipping(nats.url, 1, receiver, batchLines, lines, logDir);
    console.log(
      `| syslog tcp → ${receiver.padEnd(7)} | ${String(batchLines).padStart(5)} | ${String(lines).padStart(8)} | ${rates.published.toLocaleString("en-US").padStart(9)} | ${rates.delivered.toLocaleString("en-US").padStart(9)} |`,
    );
  } finally {
    await nats.cleanup();
  }
}

const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-"));
try {
  const big = await makeLogs(join(dir, "big"), LINES);
  const small = await makeLogs(join(dir, "small"), Math.min(LINES, 60_000));
  console.log("| path | batch lines | lines | published lines/s | publish→delivered lines/s |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const receiver of ["discard", "rsyslog"] as const) {
    await run(receiver, 1, small.lines, small.logDir);
    await run(receiver, 256, big.lines, big.logDir);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
