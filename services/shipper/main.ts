import { parseArgs } from "node:util";
import { runSingleService } from "../../shared/service/run-service.js";
import { startShipper } from "./shipper.js";

// `--sink syslog` (repeatable) runs only those sinks: one process per sink scales each on its own.
const { values } = parseArgs({ options: { sink: { type: "string", multiple: true } } });

await runSingleService("shipper", (ctx) => startShipper(ctx, values.sink ?? ctx.config.sinks), { metricsPort: true });
