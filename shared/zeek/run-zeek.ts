import { execa } from "execa";
import type { LogFormat } from "../messages/log-batch.js";
import { ErrorCodes, ZeekError } from "../errors.js";

export interface ZeekRun {
  bin: string;
  pcapPath: string;
  /** An empty folder: Zeek writes its logs into its working directory. */
  cwd: string;
  scripts: readonly string[];
  format: LogFormat;
  timeLimitMs: number;
  /** Aborted when the worker shuts down: the capture is handed back, not failed. */
  cancel?: AbortSignal;
}

export interface ZeekResult {
  /** Zeek's stderr on success: warnings (e.g. a missing GeoIP database) that did not stop it. */
  stderr: string;
  durationMs: number;
}

/** Zeek's own command line, as the seed ran it: `zeek -C -r <pcap> <scripts...>`. */
export function zeekArgs(run: Pick<ZeekRun, "pcapPath" | "scripts" | "format">): string[] {
  const args = ["-C", "-r", run.pcapPath, ...run.scripts];
  if (run.format === "json") args.push("LogAscii::use_json=T");
  return args;
}

const STDERR_KEEP_BYTES = 16 * 1024;

/** Keeps the end of stderr, where Zeek's fatal error is, within what a job record can hold. */
function tailOf(text: string): string {
  return text.length > STDERR_KEEP_BYTES ? `…${text.slice(-STDERR_KEEP_BYTES)}` : text;
}

/**
 * Runs Zeek on one capture. Resolves when Zeek exits 0. Rejects with a ZeekError that is
 * permanent when Zeek refused the input or overran the time limit (running it again gives the
 * same answer), and transient when Zeek was killed by a signal it did not choose (OOM, shutdown).
 */
export async function runZeek(run: ZeekRun): Promise<ZeekResult> {
  const started = performance.now();
  const result = await execa(run.bin, zeekArgs(run), {
    cwd: run.cwd,
    reject: false,
    stdin: "ignore",
    stdout: "ignore",
    timeout: run.timeLimitMs,
    forceKillAfterDelay: 5_000,
    maxBuffer: { stderr: 16 * 1024 * 1024 },
    ...(run.cancel ? { cancelSignal: run.cancel } : {}),
  });
  const durationMs = Math.round(performance.now() - started);
  const stderr = tailOf(String(result.stderr ?? "").trim());
  if (!result.failed) return { stderr, durationMs };
  if (result.timedOut) {
    throw new ZeekError(ErrorCodes.ZEEK_TIME_LIMIT, `Zeek ran longer than the time limit of ${run.timeLimitMs} ms and was killed`, {
      stderr,
      permanent: true,
      ...(result.signal ? { signal: result.signal } : {}),
    });
  }
  if (result.isCanceled || result.signal || result.exitCode === undefined) {
    throw new ZeekError(ErrorCodes.ZEEK_CRASHED, `Zeek did not finish: ${result.signal ?? result.shortMessage}`, {
      stderr,
      permanent: false,
      ...(result.signal ? { signal: result.signal } : {}),
    });
  }
  const firstLine = stderr.split("\n").find((l) => l.includes("fatal error")) ?? stderr.split("\n")[0] ?? "";
  throw new ZeekError(ErrorCodes.ZEEK_REJECTED_INPUT, `Zeek exited with ${result.exitCode}: ${firstLine}`, {
    stderr,
    exitCode: result.exitCode,
    permanent: true,
  });
}
