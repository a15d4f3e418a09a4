import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/** The CLI as a user runs it, from the built tree (dist/test/helpers → bin). */
export const BIN = fileURLToPath(new URL("../../../bin/brocapi", import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI run in progress: its output so far, and the run once it ends. */
export interface RunningCli {
  stdout(): string;
  done: Promise<Run>;
}

/** Starts `node bin/brocapi …` as a user would (stdout and stderr are pipes, not a terminal), without the caller's BROCAPI_URL. */
export function startBrocapi(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, BROCAPI_URL: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const done = once(child, "close").then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { stdout: () => stdout, done };
}

/** Runs `node bin/brocapi …` to its end (startBrocapi). */
export const brocapi = (args: string[], env: Record<string, string> = {}): Promise<Run> => startBrocapi(args, env).done;
