import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import { ConfigError } from "../../shared/errors.js";
import { resolveSinks } from "./resolve-sinks.js";
import { planRouting } from "./routing.js";
import { startSinkRunner } from "./sink-runner.js";
import { SinkWriter } from "./sink-writer.js";

/**
 * Starts every configured sink instance (or those named), each with its own durable consumer.
 * Every instance is resolved and its options validated before any starts, so a bad setting
 * stops start-up with all problems listed.
 */
export async function startShipper(ctx: ServiceContext, only?: readonly string[]): Promise<RunningService> {
  const configured = ctx.config.sinks;
  const unknown = (only ?? []).filter((n) => !configured.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new ConfigError(`--sink ${unknown.join(", ")}: no such sink instance; configured: ${configured.map((s) => s.name).join(", ") || "none"}`);
  }
  const resolved = await resolveSinks(only ? configured.filter((s) => only.includes(s.name)) : configured);
  const serverVersion = ctx.nc.info?.version ?? "0.0.0";
  const writers: SinkWriter[] = [];
  const runners: RunningService[] = [];
  try {
    for (const r of resolved) {
      const log = ctx.log.child({ subsystem: "sink", sink: r.instance.name });
      const sink = await r.factory.create(r.options, { name: r.instance.name, log, config: ctx.config });
      const writer = new SinkWriter(r.instance.name, sink, r.format, log);
      writers.push(writer);
      const routing = planRouting(r.instance, ctx.topology.names, serverVersion);
      runners.push(await startSinkRunner(ctx, { writer, routing, start: r.instance.start }));
    }
  } catch (err) {
    await Promise.all(runners.map((r) => r.stop()));
    await Promise.all(writers.map((w) => w.close()));
    throw err;
  }
  return {
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
      await Promise.all(writers.map((w) => w.close()));
    },
  };
}
