import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalNatsServer, type LocalNatsServer } from "../../shared/nats/local-server.js";

export interface TestNats extends LocalNatsServer {
  /** Makes the server read its config file again (SIGHUP), as `nats-server --signal reload` does. */
  reload(): void;
  /** Starts the server again on the same port and store (after `stop`), as a NATS restart would. */
  restart(): Promise<TestNats>;
  /** Stops the server and removes its store. */
  cleanup(): Promise<void>;
}

/**
 * A real nats-server with JetStream on a free loopback port and a temp store, owned by one test;
 * `secured` adds a config file (users, TLS, encryption) and the environment it reads.
 */
export async function startTestNats(storeDir?: string, port?: number, secured?: { configFile: string; env?: Record<string, string> }): Promise<TestNats> {
  const dir = storeDir ?? (await mkdtemp(join(tmpdir(), "brocapi-nats-")));
  const server = await startLocalNatsServer({ storeDir: dir, ...(port ? { port } : {}), ...secured });
  return {
    ...server,
    reload: () => void server.process.kill("SIGHUP"),
    restart: () => startTestNats(dir, server.port, secured),
    async cleanup() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
