import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { dieWithParent, findNatsServer, natsServerReady } from "../../shared/nats/local-server.js";
import { freePort } from "./rsyslog.js";
import { eventually } from "./stack.js";

/** One nats-server of a test cluster; it keeps its ports and store across kills and restarts. */
export interface ClusterNode {
  /** Server name (`n1`…): what stream info names as a leader. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly monitorUrl: string;
  running(): boolean;
  /** Its process id while it runs (its CPU time is read from /proc by benchmarks). */
  pid(): number | undefined;
  /** SIGKILL (a crash) or SIGTERM, and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and store. */
  start(): Promise<void>;
  /** Names of the client connections it holds now (Brocapi names its connections `brocapi-*`). */
  clients(): Promise<string[]>;
}

export interface TestCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client URL, comma-separated: what NATS_URL gets. */
  readonly url: string;
  node(name: string): ClusterNode;
  /**
   * Runs `fn` with a JetStream manager on a short-lived connection to a running node, the one up
   * longest first (a node just restarted answers JetStream requests only once it has caught
   * up), the next if that fails; null if it fails on every one.
   */
  withJsm<T>(fn: (jsm: JetStreamManager) => Promise<T>): Promise<T | null>;
  /** The server name of the current leader of a stream (KV buckets and object stores are streams too). */
  leaderOf(stream: string): Promise<string>;
  /** Waits until every node runs and every stream has a leader and all its replicas current. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  cleanup(): Promise<void>;
}

export interface ClusterOptions {
  size?: number;
  /** Address each node listens on (default 127.0.0.1 for all; ports then come free from the OS). */
  hosts?: readonly string[];
  /** A command each node's nats-server is started through, e.g. `["ip", "netns", "exec", "hB"]`. */
  launchers?: ReadonlyArray<readonly string[]>;
}

/**
 * A real JetStream cluster: `size` nats-server processes with routes to each other (cluster
 * `c1`), temp stores, each started under `setpriv --pdeathsig KILL` so none outlives the test.
 */
export async function startTestCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const size = opts.size ?? 3;
  const bin = findNatsServer();
  const root = await mkdtemp(join(tmpdir(), "brocapi-cluster-"));
  const hosts = Array.from({ length: size }, (_, i) => opts.hosts?.[i] ?? "127.0.0.1");
  // Nodes on distinct addresses (namespaces) can all use the standard ports.
  const distinct = new Set(hosts).size === size && hosts[0] !== "127.0.0.1";
  const ports = await Promise.all(
    hosts.map(async () => (distinct ? { client: 4222, route: 6222, monitor: 8222 } : { client: await freePort(), route: await freePort(), monitor: await freePort() })),
  );
  const routes = hosts.map((h, i) => `nats-route://${h}:${ports[i]!.route}`).join(",");
  /** When each node was last started. */
  const started = new Map<ClusterNode, () => number>();
  const nodes: ClusterNode[] = hosts.map((host, i) => {
    const name = `n${i + 1}`;
    const p = ports[i]!;
    const storeDir = join(root, name);
    let child: ChildProcess | null = null;
    let startedAt = 0;
    let exited: Promise<void> = Promise.resolve();
    const node: ClusterNode = {
      name,
      host,
      port: p.client,
      url: `nats://${host}:${p.client}`,
      monitorUrl: `http://${host}:${p.monitor}`,
      running: () => child !== null && child.exitCode === null && child.signalCode === null,
      pid: () => (node.running() ? child!.pid : undefined),
      async start() {
        // A scenario's clean-up may end a fault twice: a second process on the same ports would
        // fail and leave the node looking dead for the rest of the file.
        if (node.running()) return;
        const args = ["-n", name, "-a", host, "-p", String(p.client), "-m", String(p.monitor), "-js", "-sd", storeDir];
        args.push("--cluster_name", "c1", "--cluster", `nats://${host}:${p.route}`, "--routes", routes);
        const [command, ...argv] = dieWithParent([...(opts.launchers?.[i] ?? []), bin, ...args]);
        const c = spawn(command!, argv, { stdio: ["ignore", "ignore", "pipe"] });
        child = c;
        startedAt = Date.now();
        exited = new Promise((r) => c.once("exit", () => r()));
        await natsServerReady(c, 15_000);
      },
      async kill(signal = "SIGKILL") {
        if (node.running()) child!.kill(signal);
        await exited;
      },
      async clients() {
        const res = await fetch(`${node.monitorUrl}/connz?limit=1024`);
        const body = (await res.json()) as { connections?: Array<{ name?: string }> };
        return (body.connections ?? []).map((c) => c.name ?? "");
      },
    };
    started.set(node, () => startedAt);
    return node;
  });
  const cluster: TestCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(","),
    node: (name) => nodes.find((n) => n.name === name)!,
    async withJsm(fn) {
      const up = nodes.filter((n) => n.running()).sort((a, b) => started.get(a)!() - started.get(b)!());
      for (const node of up) {
        const nc = await connect({ servers: node.url, reconnect: false, timeout: 2_000 }).catch(() => null);
        if (!nc) continue;
        try {
          return await fn(await jetstreamManager(nc, { timeout: 3_000 }));
        } catch {
          continue;
        } finally {
          await nc.close();
        }
      }
      return null;
    },
    async leaderOf(stream) {
      let leader: string | undefined;
      await eventually(async () => {
        leader = (await cluster.withJsm(async (jsm) => (await jsm.streams.info(stream)).cluster?.leader)) ?? undefined;
        return Boolean(leader);
      }, 20_000, `a leader for ${stream}`);
      return leader!;
    },
    async waitHealthy(timeoutMs = 60_000) {
      await eventually(async () => {
        if (!nodes.every((n) => n.running())) return false;
        const ok = await cluster.withJsm(async (jsm) => {
          for await (const s of jsm.streams.list()) {
            const c = s.cluster;
            if (!c?.leader || (c.replicas ?? []).length !== size - 1 || !(c.replicas ?? []).every((r) => r.current && !r.offline)) return false;
          }
          return true;
        });
        return ok === true;
      }, timeoutMs, "every node up and every stream's replicas current");
    },
    async cleanup() {
      await Promise.all(nodes.map((n) => n.kill()));
      await rm(root, { recursive: true, force: true });
    },
  };
  await Promise.all(nodes.map((n) => n.start()));
  // JetStream is usable once the meta group elected a leader.
  await eventually(async () => (await cluster.withJsm(async (jsm) => (await jsm.getAccountInfo()) !== null)) === true, 30_000, "JetStream cluster ready");
  return cluster;
}
