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
  if (!config.nats.url) {
    server = await startLocalNatsServer({ storeDir: join(config.dataDir, "nats"), detached: true, ...(config.nats.serverBin ? { bin: config.nats.serverBin } : {}) });
    log.info({ event: "nats.embedded_started", url: server.url, store: server.storeDir }, "started embedded nats-server");
  }
  try {
    const ctx = await createContext(config, log, config.nats.url ?? server!.url, "brocapi");
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
