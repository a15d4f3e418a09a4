import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { BrocapiError, ErrorCodes } from "../errors.js";
import { cpuSeconds } from "../process/cpu-time.js";
import { findExecutable } from "../process/find-executable.js";

export interface LocalNatsServer {
  url: string;
  port: number;
  storeDir: string;
  process: ChildProcess;
  /** Stops the server (SIGTERM, or SIGKILL to simulate a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface LocalNatsOptions {
  storeDir: string;
  /** Explicit port (a restart reuses the old one); default: a random free port chosen by the server. */
  port?: number;
  bin?: string;
  /** Give up when the server makes no progress (no log line, no CPU) for this long (default 10 s). */
  startTimeoutMs?: number;
  /** Hears what start-up waits for while the server restores its store. */
  waiting?: (what: string) => void;
  /**
   * Run in its own process group. `npm start` wants this: Ctrl-C in a terminal must reach
   * Brocapi, which drains its work and stops the server last, and not the server too, which would
   * cut the drain short. Tests leave it off, so the server dies with the test's process group.
   */
  detached?: boolean;
  /**
   * Clients must present this token. It goes to nats-server in a config file only its owner can
   * read, never on the command line, which every local user can see in /proc.
   */
  authToken?: string;
  /**
   * A nats-server config file (users, TLS, encryption) under the flags above; tests of secured
   * deployments use it. Its `store_dir` is read from `$BROCAPI_NATS_STORE_DIR` (set to `storeDir`),
   * as deploy/nats/secure.conf does: nats-server refuses `-sd` beside a `store_dir`.
   */
  configFile?: string;
  /** Environment of the server, for `$VARIABLE`s its config file reads. */
  env?: Record<string, string>;
}

/**
 * The command wrapped in `setpriv --pdeathsig KILL` (util-linux) where it exists: the kernel then
 * kills nats-server the moment its parent dies, SIGKILL included, which no exit handler can do.
 * setpriv execs the server, so the pid spawned is the server's.
 */
export function dieWithParent(command: string[]): string[] {
  const setpriv = process.platform === "linux" ? findExecutable("setpriv", undefined, ["/usr/bin/setpriv", "/bin/setpriv"]) : null;
  return setpriv ? [setpriv, "--pdeathsig", "KILL", ...command] : command;
}

/** The nats-server executable: `explicit`, else PATH, else Debian's and the usual install paths. */
export function findNatsServer(explicit?: string): string {
  const bin = findExecutable("nats-server", explicit, ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"]);
  if (!bin) {
    throw new BrocapiError(
      ErrorCodes.NATS_SERVER_START,
      "nats-server not found on PATH or in /usr/sbin: install it (Debian: apt-get install nats-server) or set NATS_URL to a running server",
      { permanent: true },
    );
  }
  return bin;
}

/** How often the wait looks at the server, and says what it is waiting for. */
const CHECK_EVERY_MS = 1_000;
export const SAY_EVERY_MS = 5_000;

/**
 * Resolves with the client port once a spawned nats-server logs "Server is ready". There is no
 * fixed deadline: a server restoring a large store (streams, thousands of consumers) takes as
 * long as it takes, so the wait goes on while the server makes progress — it logs a line, or uses
 * CPU — and gives up (killing it) only after `idleMs` without either. `waiting` hears, every few
 * seconds, what the server is doing (its last log line).
 */
export function natsServerReady(child: ChildProcess, idleMs: number, waiting?: (what: string) => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const tail: string[] = [];
    let lastProgress = Date.now();
    let lastSaid = Date.now();
    let cpu = cpuSeconds(child.pid);
    const check = setInterval(() => {
      const now = cpuSeconds(child.pid);
      if (now !== null && cpu !== null && now > cpu) lastProgress = Date.now();
      cpu = now;
      if (Date.now() - lastProgress > idleMs) {
        clearInterval(check);
        child.kill("SIGKILL");
        reject(new BrocapiError(ErrorCodes.NATS_SERVER_START, `nats-server made no progress for ${idleMs} ms (no log line, no CPU) before it was ready:\n${tail.join("\n")}`));
      } else if (waiting && Date.now() - lastSaid >= SAY_EVERY_MS) {
        lastSaid = Date.now();
        waiting(`waiting for nats-server to be ready; it is working on: ${tail.at(-1) ?? "(no output yet)"}`);
      }
    }, CHECK_EVERY_MS);
    let listening: number | undefined;
    createInterface({ input: child.stderr! }).on("line", (line) => {
      lastProgress = Date.now();
      tail.push(line);
      if (tail.length > 20) tail.shift();
      const m = LISTENING.exec(line);
      if (m) listening = Number(m[1]);
      if (line.includes("Server is ready") && listening !== undefined) {
        clearInterval(check);
        resolve(listening);
      }
    });
    child.once("exit", (code) => {
      clearInterval(check);
      reject(new BrocapiError(ErrorCodes.NATS_SERVER_START, `nats-server exited with ${code} before it was ready:\n${tail.join("\n")}`));
    });
  });
}

const LISTENING = /Listening for client connections on [^\s]+:(\d+)/;

/**
 * Starts `nats-server -js` on loopback with its store in `storeDir`. Used by `npm start` when
 * NATS_URL is unset, and by every test; the same store dir on restart keeps the streams.
 */
export async function startLocalNatsServer(opts: LocalNatsOptions): Promise<LocalNatsServer> {
  const bin = findNatsServer(opts.bin);
  mkdirSync(opts.storeDir, { recursive: true });
  const args = ["-a", "127.0.0.1", "-p", String(opts.port ?? -1), "-js", ...(opts.configFile ? [] : ["-sd", opts.storeDir])];
  if (opts.authToken !== undefined) {
    // The store holds every capture: only this user may read it.
    chmodSync(opts.storeDir, 0o700);
    const conf = join(opts.storeDir, "embedded-auth.conf");
    writeFileSync(conf, `authorization { token: ${JSON.stringify(opts.authToken)} }\n`, { mode: 0o600 });
    chmodSync(conf, 0o600);
    args.push("-c", conf);
  }
  if (opts.configFile) args.push("-c", opts.configFile);
  const [command, ...argv] = dieWithParent([bin, ...args]);
  const child = spawn(command!, argv, { stdio: ["ignore", "ignore", "pipe"], detached: opts.detached ?? false, env: { ...process.env, BROCAPI_NATS_STORE_DIR: opts.storeDir, ...opts.env } });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killOnExit = (): void => {
    child.kill("SIGTERM");
  };
  process.once("exit", killOnExit);
  void exited.then(() => process.removeListener("exit", killOnExit));
  const port = await natsServerReady(child, opts.startTimeoutMs ?? 10_000, opts.waiting);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: opts.storeDir,
    process: child,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
