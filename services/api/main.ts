import { createContext } from "../../shared/service/context.js";
import { requireNatsUrl, runService } from "../../shared/service/run-service.js";
import { startApi } from "./api.js";

await runService("api", async (config, log) => {
  const ctx = await createContext(config, log, requireNatsUrl(config, "api"), "brocapi-api");
  const api = await startApi(ctx);
  return {
    async stop() {
      await api.stop();
      await ctx.nc.drain();
    },
  };
});
