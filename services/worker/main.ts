import { createContext } from "../../shared/service/context.js";
import { requireNatsUrl, runService } from "../../shared/service/run-service.js";
import { startWorker } from "./worker.js";

await runService("worker", async (config, log) => {
  const ctx = await createContext(config, log, requireNatsUrl(config, "worker"), "brocapi-worker");
  const worker = await startWorker(ctx);
  return {
    async stop() {
      await worker.stop();
      await ctx.nc.drain();
    },
  };
});
