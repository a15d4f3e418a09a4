import { runSingleService } from "../../shared/service/run-service.js";
import { startApi } from "./api.js";

await runSingleService("api", startApi);
