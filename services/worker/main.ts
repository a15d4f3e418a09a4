import { runSingleService } from "../../shared/service/run-service.js";
import { startWorker } from "./worker.js";

await runSingleService("worker", startWorker, { metricsPort: true });
