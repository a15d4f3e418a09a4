import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dieWithParent } from "../../shared/nats/local-server.js";
import { freePort } from "./rsyslog.js";
import { ZEEK_DOUBLE } from "./stack.js";

export type ServiceKind = "api" | "worker" | "shipper" | "all";

/** The compiled entry points, as `npm run api|worker|shipper` and `npm start` run them. */
const ENTRY = (kind: ServiceKind): string => fileURLToPath(new URL(`../../services/${kind}/main.js`, import.meta.url));

/**
 * Node's flags for the services that move capture bytes, as package.json, the compose files, the
 * Dockerfile and the systemd units start them: an old generation of at least 64 MiB before V8
 * collects it, without which these small heaps (~20 MB) fell into back-to-back full collections
 * while bytes streamed through (docs/ARCHITECTURE.md, "Capture bytes in and out").
 */
const NODE_FLAGS = (kind: ServiceKind): string[] => (kind === "shipper" ? [] : ["--initial-old-space-size=64"]);

const OUTPUT_KEEP_CHARS = 64 * 1024;

/**
 * BROCAPI_TEST_NODE_ARGS: Node options for every service process a test starts, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` (a profile is written when the service exits on its
 * own or on SIGTERM, not when it is killed: see ScaleStack.stop), or
 * `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp/snap` (a heap snapshot on `kill -USR2`).
 */
export const serviceNodeArgs = (): string[] => (process.env.BROCAPI_TEST_NODE_ARGS ?? "").split(" ").filter(Boolean);

export interface StartOptions {
  /** Added to (and overriding) the common environment of the group. */
  env?: Record<string, string>;
  /** Command-line arguments, e.g. `["--sink", "syslog"]`. */
  args?: string[];
  /** A name for failure messages (default: the kind). */
  name?: string;
  readyTimeoutMs?: number;
  /** A command the service is started through, e.g. `["ip", "netns", "exec", "hostA"]`. */
  launcher?: string[];
  /** The address its api listens on and is reached at (default 127.0.0.1). */
  host?: string;
}

export interface ServiceProcess {
  readonly name: string;
  readonly kind: ServiceKind;
  readonly pid: number;
  /** The api's base URL (`api` and `all`), from the free port it was given. */
  readonly url: string;
  /** Its own `/metrics` (worker and shipper run alone serve one; the api serves it at `url`). */
  readonly metricsUrl: string;
  /** What it printed so far on stdout and stderr (the last 64 KiB). */
  output(): string;
  /** Resolves with how it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to its whole process group: the service and its Zeek runs die at once, as when a container or host dies. */
  crash(): Promise<void>;
  /** SIGTERM to the service alone, as `docker stop` or systemd would; resolves when it exited. */
  terminate(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Services of one test as real child processes (`node dist/services/<kind>/main.js`), sharing a
 * NATS prefix, a data dir and the Zeek double. Readiness: `/healthz` for the api (and the
 * all-in-one), the `worker.started` / `sink.started` log line for the others. Every process is
 * killed by `stopAll`; `report` gives their output for a failure message.
 */
export class ServiceProcesses {
  private readonly all: ServiceProcess[] = [];
  private readonly children = new Map<ServiceProcess, ChildProcess>();

  constructor(private readonly common: Record<string, string>) {}

  async start(kind: ServiceKind, opts: StartOptions = {}): Promise<ServiceProcess> {
    const httpPort = await freePort();
    const metricsPort = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      ZEEK_BIN: ZEEK_DOUBLE,
      BROCAPI_HTTP_HOST: opts.host ?? "127.0.0.1",
      BROCAPI_HTTP_PORT: String(httpPort),
      BROCAPI_METRICS_PORT: String(metricsPort),
      // Worker and shipper readiness is their `*.started` line, logged at info; the api's request
      // log at info would drown everything else, so it logs warnings only.
      BROCAPI_LOG_LEVEL: kind === "api" || kind === "all" ? "warn" : "info",
      ...this.common,
      ...opts.env,
    };
    const name = opts.name ?? kind;
    // Its own process group, so `crash` takes Zeek down with it and nothing outlives the test.
    // Under `setpriv --pdeathsig KILL`: a test process that is killed takes its services with it.
    const [command, ...argv] = dieWithParent([...(opts.launcher ?? []), process.execPath, ...NODE_FLAGS(kind), ...serviceNodeArgs(), ENTRY(kind), ...(opts.args ?? [])]);
    const child = spawn(command!, argv, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    const keep = (chunk: Buffer): void => {
      out = (out + chunk.toString("utf8")).slice(-OUTPUT_KEEP_CHARS);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    // After its exit, once its pipes closed: everything it printed is in `out`.
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const alive = (): boolean => child.exitCode === null && child.signalCode === null;
    const proc: ServiceProcess = {
      name,
      kind,
      pid: child.pid!,
      url: `http://${opts.host ?? "127.0.0.1"}:${env.BROCAPI_HTTP_PORT}`,
      metricsUrl: `http://${opts.host ?? "127.0.0.1"}:${env.BROCAPI_METRICS_PORT}/metrics`,
      output: () => out,
      exited,
      async crash() {
        if (alive()) process.kill(-child.pid!, "SIGKILL");
        await exited;
      },
      async terminate(timeoutMs = 60_000) {
        if (alive()) child.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${name} did not exit within ${timeoutMs} ms of SIGTERM\n${out}`)), timeoutMs);
        });
        try {
          return await Promise.race([exited, late]);
        } finally {
          clearTimeout(timer);
        }
      },
    };
    this.all.push(proc);
    this.children.set(proc, child);
    await this.waitReady(proc, opts.args ?? [], opts.readyTimeoutMs ?? 20_000, closed);
    return proc;
  }

  private async waitReady(proc: ServiceProcess, args: readonly string[], timeoutMs: number, closed: Promise<void>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // A shipper logs `sink.started` once per sink it runs.
    const sinks = Math.max(1, args.filter((a) => a === "--sink").length);
    let ended = false;
    void proc.exited.then(() => {
      ended = true;
    });
    for (;;) {
      if (ended) {
        // Ready, then gone between two looks (a worker whose first task's "Zeek" kills it, as the
        // abandoned-task tests make it): it did start. Judged on all it printed.
        await closed;
        if (await this.isReady(proc, sinks)) return;
        throw new Error(`${proc.name} exited before it was ready:\n${proc.output()}`);
      }
      if (await this.isReady(proc, sinks)) return;
      if (Date.now() > deadline) throw new Error(`${proc.name} not ready within ${timeoutMs} ms:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async isReady(proc: ServiceProcess, sinks: number): Promise<boolean> {
    switch (proc.kind) {
      case "api":
      case "all":
        return fetch(`${proc.url}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      case "worker":
        return proc.output().includes(`"event":"worker.started"`);
      case "shipper":
        return proc.output().split(`"event":"sink.started"`).length - 1 >= sinks;
    }
  }

  /** Output of every process started, for a failure message. */
  report(): string {
    return this.all.map((p) => `----- ${p.name} (pid ${p.pid}) -----\n${p.output()}`).join("\n");
  }

  /** SIGTERM to whatever is still running, and waits for it to drain and exit. */
  async terminateAll(): Promise<void> {
    await Promise.all(this.all.map((p) => p.terminate()));
  }

  /** Kills whatever is still running (SIGKILL to each group). */
  async stopAll(): Promise<void> {
    await Promise.all(this.all.map((p) => p.crash()));
  }
}
