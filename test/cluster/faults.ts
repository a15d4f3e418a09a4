import type { ClusterNode, TestCluster } from "../helpers/nats-cluster.js";
import type { ClusterEnv } from "./cluster-env.js";

/**
 * A broker fault in three steps, so a test can place it: `prepare` reads the cluster and picks
 * the node(s) (a few round trips), `begin` only sends the signals (before its first await, so
 * the fault lands the moment it is called), `end` brings the node(s) back and waits until every
 * stream's replicas are current again.
 */
export interface Fault {
  readonly name: string;
  /** What was done, for the results table (which node, whose leader). */
  describe(): string;
  prepare(env: ClusterEnv): Promise<void>;
  /** Sends the signals at once; resolves when the node(s) exited. */
  begin(): Promise<void>;
  end(env: ClusterEnv): Promise<void>;
  /** True while no stream can have a quorum: uploads must be refused with a 503. */
  readonly quorumLost: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The running node holding the most Brocapi connections (the client picks a node at random). */
async function connectedNode(cluster: TestCluster): Promise<{ node: ClusterNode; clients: number }> {
  const counts = await Promise.all(cluster.nodes.map(async (node) => ({ node, clients: (await node.clients()).filter((n) => n.startsWith("brocapi")).length })));
  return counts.sort((a, b) => b.clients - a.clients)[0]!;
}

/** SIGKILL one node, leave it down `downMs`, start it again on the same ports and store. */
function killOne(name: string, pick: (env: ClusterEnv) => Promise<{ node: ClusterNode; why: string }>, downMs = 2_000): Fault {
  let victim: ClusterNode | undefined;
  let why = "";
  let killedAt = 0;
  return {
    name,
    quorumLost: false,
    describe: () => `${victim?.name} SIGKILLed (${why}), down ${downMs / 1000} s`,
    async prepare(env) {
      ({ node: victim, why } = await pick(env));
    },
    async begin() {
      killedAt = Date.now();
      await victim!.kill("SIGKILL");
    },
    async end(env) {
      await sleep(Math.max(0, killedAt + downMs - Date.now()));
      await victim!.start();
      await env.cluster.waitHealthy();
    },
  };
}

export const killConnectedNode = (): Fault =>
  killOne("connected node", async (env) => {
    const { node, clients } = await connectedNode(env.cluster);
    return { node, why: `${clients} of the services' connections` };
  });

export const killLeaderOf = (which: "LOGS" | "TASKS"): Fault =>
  killOne(`${which} stream leader`, async (env) => {
    const stream = which === "LOGS" ? env.names.logsStream : env.names.tasksStream;
    return { node: env.cluster.node(await env.cluster.leaderOf(stream)), why: `leader of ${stream}` };
  });

/**
 * Each node in turn stopped (SIGTERM, as `systemctl restart` does), started again, and the
 * cluster left to catch up before the next: what an operator does to upgrade nats-server.
 */
export function rollingRestart(): Fault {
  const order: string[] = [];
  let nodes: readonly ClusterNode[] = [];
  return {
    name: "rolling restart",
    quorumLost: false,
    describe: () => `${order.join(", then ")} restarted one after another (SIGTERM, start, replicas current)`,
    async prepare(env) {
      nodes = env.cluster.nodes;
    },
    async begin() {
      order.push(nodes[0]!.name);
      await nodes[0]!.kill("SIGTERM");
    },
    async end(env) {
      const [first, ...rest] = nodes;
      await first!.start();
      await env.cluster.waitHealthy();
      for (const node of rest) {
        order.push(node.name);
        await node.kill("SIGTERM");
        await node.start();
        await env.cluster.waitHealthy();
      }
    },
  };
}

/** Two of three nodes SIGKILLed (the connected one among them), back after `downMs`: no quorum meanwhile. */
export function loseQuorum(downMs = 10_000): Fault {
  let victims: ClusterNode[] = [];
  let killedAt = 0;
  return {
    name: "two of three down",
    quorumLost: true,
    describe: () => `${victims.map((v) => v.name).join(" and ")} SIGKILLed, down ${downMs / 1000} s`,
    async prepare(env) {
      const { node } = await connectedNode(env.cluster);
      victims = [node, env.cluster.nodes.find((n) => n !== node)!];
    },
    async begin() {
      killedAt = Date.now();
      await Promise.all(victims.map((v) => v.kill("SIGKILL")));
    },
    async end(env) {
      await sleep(Math.max(0, killedAt + downMs - Date.now()));
      await Promise.all(victims.map((v) => v.start()));
      await env.cluster.waitHealthy();
    },
  };
}

/**
 * Every fault of the issue, fresh (each keeps what it did for its report). Loss of quorum first:
 * the sweep that removes what its refused uploads left (after the upload time limit) then runs
 * while the other faults are tested, instead of being waited for.
 */
export const allFaults = (): Fault[] => [loseQuorum(), killConnectedNode(), killLeaderOf("LOGS"), killLeaderOf("TASKS"), rollingRestart()];
