import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import { startSinkRunner } from "./sink-runner.js";
import { SINKS } from "./sinks/registry.js";

/** Starts a runner for each configured sink kind (all of them in one process). */
export async function startShipper(ctx: ServiceContext, kinds: readonly string[] = ctx.config.sinks): Promise<RunningService> {
  const runners: RunningService[] = [];
  for (const kind of kinds) {
    const factory = SINKS.get(kind);
    if (!factory) throw new Error(`unknown sink ${kind}; known: ${[...SINKS.keys()].join(", ")}`);
    runners.push(await startSinkRunner(ctx, factory.create(ctx.config, ctx.log.child({ subsystem: "sink", sink: kind }))));
  }
  return {
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
    },
  };
}
