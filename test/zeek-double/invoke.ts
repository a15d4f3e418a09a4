// One invocation of the Zeek test double: Zeek's command line in, exit code out, output written
// where the caller says (the process's own streams, or a double server's client).

import { writeFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { parseArgs } from "./cli.js";
import { HELP_TEXT } from "./help-text.js";
import { run } from "./run.js";

// Real Zeek prints its argv[0] here; the product invokes it as `zeek`.
const VERSION_LINE = "zeek version 8.2.2\n";

// A pending timer keeps the process alive until it is killed.
const hang = (): Promise<void> => new Promise<void>(() => setInterval(() => undefined, 2 ** 30));

/**
 * ZEEK_DOUBLE_HANG / ZEEK_DOUBLE_HANG_SHA256 / ZEEK_DOUBLE_DELAY_MS (+ ZEEK_DOUBLE_DELAY_SHA256):
 * let tests interrupt a run that has read its input (all runs, or only the runs of given
 * captures, known by the SHA-256 of the bytes read, from a file or stdin alike).
 */
function pauseFromEnv(env: NodeJS.ProcessEnv): (sha256: string) => Promise<void> {
  if (env["ZEEK_DOUBLE_HANG"] === "1") return hang;
  const hangOn = env["ZEEK_DOUBLE_HANG_SHA256"]?.toLowerCase();
  if (hangOn) return (sha256) => (sha256 === hangOn ? hang() : Promise.resolve());
  const ms = Number(env["ZEEK_DOUBLE_DELAY_MS"] ?? 0);
  if (!(ms > 0)) return () => Promise.resolve();
  const only = env["ZEEK_DOUBLE_DELAY_SHA256"]?.toLowerCase().split(",");
  return (sha256) => (only && !only.includes(sha256) ? Promise.resolve() : new Promise<void>((resolve) => setTimeout(resolve, ms)));
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

export interface Io {
  /** Zeek's working directory: where its logs go. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
  /** What `-r -` reads. */
  stdin(): Readable;
}

/** Runs `zeek <argv>` as the double; resolves to the exit code. */
export async function invokeZeek(argv: readonly string[], io: Io): Promise<number> {
  const invocation = parseArgs(argv);
  switch (invocation.kind) {
    case "version":
      io.stdout(VERSION_LINE);
      return 0;
    case "help":
      io.stdout(HELP_TEXT);
      return 0;
    case "usage-error":
      io.stderr(`${invocation.message}\n`);
      io.stdout(HELP_TEXT);
      return 1;
    case "unsupported":
      io.stderr(`zeek-double: option ${invocation.option} is not emulated by the Zeek test double\n`);
      return 1;
    case "run":
      // Without an input the double has nothing to analyze; Zeek would only run its scripts.
      if (invocation.readFile === undefined) return 0;
      return run({
        readFile: invocation.readFile,
        scripts: invocation.scripts,
        redefs: invocation.redefs,
        dir: io.cwd,
        pauseAfterRead: pauseFromEnv(io.env),
        captureEnded: endCountsFromEnv(io.env),
        stderr: io.stderr,
        stdin: io.stdin,
      });
  }
}

