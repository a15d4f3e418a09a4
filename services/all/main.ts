import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { startLocalNatsServer, type LocalNatsServer } from "../../shared/nats/local-server.js";
import { createContext } from "../../shared/service/context.js";
import { runService } from "../../shared/service/run-service.js";
import { startApi } from "../api/api.js";
import { startShipper } from "../shipper/shipper.js";
import { startWorker } from "../worker/worker.js";

/**
 * Everything in one process: api, worker and the configured sinks, plus an embedded
 * `nats-server -js` (store in `<dataDir>/nats`) when NATS_URL is unset. Stops in the order that
 * loses nothing: no new uploads, then drain workers, then sinks, then NATS.
 */
await runService("brocapi", async (config, log) => {
  let server: LocalNatsServer | null = null;
  // The embedded server listens on loopback, where every local user could reach it: it takes
  // a token drawn afresh at each start, which only this process and the server's 0600 config know.
  const token = config.nats.url ? null : randomBytes(32).toString("base64url");
  if (token !== null) {
    server = await startLocalNatsServer({
      storeDir: join(config.dataDir, "nats"),
      detached: true,
      authToken: token,
      waiting: (what) => log.info({ event: "nats.embedded_waiting" }, what),
      ...(config.nats.serverBin ? { bin: config.nats.serverBin } : {}),
    });
    log.info({ event: "nats.embedded_started", url: server.url, store: server.storeDir }, "started embedded nats-server");
  }
  try {
    const ctx = await createContext(config, log, config.nats.url ?? server!.url, "brocapi", token === null ? undefined : { token });
    const worker = await startWorker(ctx);
    const shipper = await startShipper(ctx);
    const api = await startApi(ctx);
    return {
      async stop() {
        await api.stop();
        await worker.stop();
        await shipper.stop();
        await ctx.nc.drain();
        await server?.stop();
      },
    };
  } catch (err) {
    await server?.stop();
    throw err;
  }
});
