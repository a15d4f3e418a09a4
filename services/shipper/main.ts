import { parseArgs } from "node:util";
import { runSingleService } from "../../shared/service/run-service.js";
import { startShipper } from "./shipper.js";

// `--sink NAME` (repeatable) runs only those sink instances: one process per instance scales each on its own.
const { values } = parseArgs({ options: { sink: { type: "string", multiple: true } } });

await runSingleService("shipper", (ctx) => startShipper(ctx, values.sink), { metricsPort: true });
