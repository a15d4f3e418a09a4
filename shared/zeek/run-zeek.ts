import type { Writable } from "node:stream";
import { execa, type ResultPromise } from "execa";
import type { LogFormat } from "../messages/log-batch.js";
import { BrocapiError, ErrorCodes, ZeekError } from "../errors.js";
import { profileArgs, type ZeekProfile } from "../config/zeek-profile.js";

export interface ZeekRun {
  bin: string;
  /** The capture's name, for Zeek's messages: Zeek reads it from stdin and would call it `-`. */
  captureName: string;
  /** An empty folder: Zeek writes its logs into its working directory. */
  cwd: string;
  /** The job's analysis profile, from the allow-list (`zeek.profiles`): all Zeek gets besides `-C -r -` and the format. */
  profile: Pick<ZeekProfile, "scripts" | "options">;
  format: LogFormat;
  timeLimitMs: number;
  /** Aborted when the worker shuts down: the capture is handed back, not failed. */
  cancel?: AbortSignal;
}

/**
 * Writes the capture into Zeek's stdin and ends it. `stop` aborts once Zeek has exited: a feed
 * still reading then gives up quietly. Rejecting for any reason of its own (the object store
 * failed or stalled) makes the run fail with that error, whatever Zeek did meanwhile.
 */
export type Feed<T> = (stdin: Writable, stop: AbortSignal) => Promise<T>;

export interface ZeekResult<T> {
  /** Zeek's stderr on success: warnings (e.g. a missing GeoIP database) that did not stop it. */
  stderr: string;
  durationMs: number;
  /** What the feed returned. */
  fed: T;
}

/** Zeek's own command line as the seed ran it, reading the capture from stdin: `zeek -C -r - <scripts...> <Name=value...>`. */
export function zeekArgs(run: Pick<ZeekRun, "profile" | "format">): string[] {
  const args = ["-C", "-r", "-", ...profileArgs(run.profile)];
  if (run.format === "json") args.push("LogAscii::use_json=T");
  return args;
}

const STDERR_KEEP_BYTES = 16 * 1024;

/** Keeps the end of stderr, where Zeek's fatal error is, within what a job record can hold. */
function tailOf(text: string): string {
  return text.length > STDERR_KEEP_BYTES ? `…${text.slice(-STDERR_KEEP_BYTES)}` : text;
}

/**
 * Zeek names its input in its messages (`problem with trace file - (…)`, `failed to read a
 * packet from -: …`); a person reading the job needs the capture's name there, and never a
 * path of the worker's.
 */
export function nameTheCapture(stderr: string, run: Pick<ZeekRun, "captureName" | "cwd">): string {
  return stderr.replace(/(problem with trace file |failed to read a packet from )-(?=[ :])/g, `$1${run.captureName}`).split(run.cwd).join(".");
}

/** Errors on Zeek's stdin that only mean Zeek stopped reading (it exited, or refused the capture). */
function zeekClosedItsInput(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "EPIPE" || code === "ECONNRESET" || code === "ERR_STREAM_DESTROYED" || code === "ERR_STREAM_PREMATURE_CLOSE";
}

/** Zeek runs in progress, killed if this process exits while they run (see killedOnExit). */
const running = new Set<ResultPromise>();
let exitHooked = false;

/**
 * What execa's `cleanup` option does for each run (a signal-exit hook added and removed per run,
 * and its signal handlers installed again whenever no run is left: ~0.5 ms of CPU per run, per
 * capture), with one 'exit' listener for the whole process: a worker that exits while Zeek runs
 * takes its runs with it. A run is killed outright (SIGKILL): nothing is left to read its logs.
 */
function killedOnExit(subprocess: ResultPromise): void {
  if (!exitHooked) {
    exitHooked = true;
    process.once("exit", () => {
      for (const s of running) s.kill("SIGKILL");
    });
  }
  running.add(subprocess);
}

/**
 * Runs Zeek on one capture fed to its stdin by `feed`. Resolves when Zeek exits 0 after the feed
 * finished. Which failure is reported:
 * - the feed failed on its own (the object store broke off or stalled): Zeek is killed at once,
 *   before it can take the cut-short input for the whole capture, and the feed's error is
 *   thrown (transient unless the feed says otherwise): it says nothing about the capture;
 * - Zeek exited non-zero (the feed then only sees its input closed): a ZeekError, permanent
 *   (running it again gives the same answer), as is overrunning the time limit;
 * - Zeek killed by a signal it did not choose (OOM, shutdown): a transient ZeekError.
 */
export async function runZeek<T>(run: ZeekRun, feed: Feed<T>): Promise<ZeekResult<T>> {
  const started = performance.now();
  const subprocess = execa(run.bin, zeekArgs(run), {
    cwd: run.cwd,
    reject: false,
    stdin: "pipe",
    stdout: "ignore",
    timeout: run.timeLimitMs,
    forceKillAfterDelay: 5_000,
    maxBuffer: { stderr: 16 * 1024 * 1024 },
    // Per-run costs with no use here (measured on a job of many small captures): the exit hook is
    // killedOnExit's, once per process; stderr is trimmed below anyway.
    cleanup: false,
    stripFinalNewline: false,
    ...(run.cancel ? { cancelSignal: run.cancel } : {}),
  });
  killedOnExit(subprocess);
  const stop = new AbortController();
  let feedFailed: { err: unknown } | null = null;
  const fed = feed(subprocess.stdin, stop.signal).then(
    (value) => ({ value }),
    (err: unknown) => {
      if (!stop.signal.aborted && !zeekClosedItsInput(err)) {
        feedFailed = { err };
        subprocess.kill("SIGKILL");
      }
      return null;
    },
  );
  // With `reject: false` this never throws.
  const result = await subprocess;
  running.delete(subprocess);
  stop.abort();
  const outcome = await fed;
  if (feedFailed) throw (feedFailed as { err: unknown }).err;
  const durationMs = Math.round(performance.now() - started);
  const stderr = nameTheCapture(tailOf(String(result.stderr ?? "").trim()), run);
  if (!result.failed) {
    if (outcome) return { stderr, durationMs, fed: outcome.value };
    // Zeek finished without reading its whole input: not an analysis of the capture.
    throw new BrocapiError(ErrorCodes.ZEEK_CRASHED, "Zeek exited 0 before it had read the whole capture");
  }
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
