// Entry point of the Zeek test double; see README.md in this directory.

import { writeFileSync } from "node:fs";
import { parseArgs } from "./cli.js";
import { HELP_TEXT } from "./help-text.js";
import { run } from "./run.js";

// Real Zeek prints its argv[0] here; the product invokes it as `zeek`.
const VERSION_LINE = "zeek version 8.2.2\n";

// A pending timer keeps the process alive until it is killed.
const hang = (): Promise<void> => new Promise<void>(() => setInterval(() => undefined, 2 ** 30));

/**
 * ZEEK_DOUBLE_HANG / ZEEK_DOUBLE_HANG_SHA256 / ZEEK_DOUBLE_DELAY_MS: let tests interrupt a run
 * that has read its input (all runs, or only the run of one capture, known by the SHA-256 of
 * the bytes read, from a file or stdin alike).
 */
function pauseFromEnv(env: NodeJS.ProcessEnv): (sha256: string) => Promise<void> {
  if (env["ZEEK_DOUBLE_HANG"] === "1") return hang;
  const hangOn = env["ZEEK_DOUBLE_HANG_SHA256"]?.toLowerCase();
  if (hangOn) return (sha256) => (sha256 === hangOn ? hang() : Promise.resolve());
  const ms = Number(env["ZEEK_DOUBLE_DELAY_MS"] ?? 0);
  if (!(ms > 0)) return () => Promise.resolve();
  return () => new Promise<void>((resolve) => setTimeout(resolve, ms));
}

/**
 * ZEEK_DOUBLE_END_COUNTS=<file>: writes there, as JSON, how many records each log held when the
 * capture ended. Connections still open then are logged in an order real Zeek does not fix (hash
 * order, different from run to run), so tests compare the rows before that point in order.
 */
function endCountsFromEnv(env: NodeJS.ProcessEnv): ((records: Record<string, number>) => void) | undefined {
  const file = env["ZEEK_DOUBLE_END_COUNTS"];
  return file ? (records) => writeFileSync(file, JSON.stringify(records)) : undefined;
}

async function main(argv: readonly string[]): Promise<number> {
  const invocation = parseArgs(argv);
  switch (invocation.kind) {
    case "version":
      process.stdout.write(VERSION_LINE);
      return 0;
    case "help":
      process.stdout.write(HELP_TEXT);
      return 0;
    case "usage-error":
      process.stderr.write(`${invocation.message}\n`);
      process.stdout.write(HELP_TEXT);
      return 1;
    case "unsupported":
      process.stderr.write(`zeek-double: option ${invocation.option} is not emulated by the Zeek test double\n`);
      return 1;
    case "run":
      // Without an input the double has nothing to analyze; Zeek would only run its scripts.
      if (invocation.readFile === undefined) return 0;
      return run({
        readFile: invocation.readFile,
        scripts: invocation.scripts,
        redefs: invocation.redefs,
        dir: process.cwd(),
        pauseAfterRead: pauseFromEnv(process.env),
        captureEnded: endCountsFromEnv(process.env),
      });
  }
}

process.exitCode = await main(process.argv.slice(2));
