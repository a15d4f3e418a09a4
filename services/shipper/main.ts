import { parseArgs } from "node:util";
import { createContext } from "../../shared/service/context.js";
import { requireNatsUrl, runService } from "../../shared/service/run-service.js";
import { startShipper } from "./shipper.js";

// `--sink syslog` (repeatable) runs only those sinks: one process per sink scales each on its own.
const { values } = parseArgs({ options: { sink: { type: "string", multiple: true } } });

await runService("shipper", async (config, log) => {
  const ctx = await createContext(config, log, requireNatsUrl(config, "shipper"), "brocapi-shipper");
  const shipper = await startShipper(ctx, values.sink ?? config.sinks);
  return {
    async stop() {
      await shipper.stop();
      await ctx.nc.drain();
    },
  };
});
