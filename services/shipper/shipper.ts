import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import { ConfigError } from "../../shared/errors.js";
import { resolveSinks, type ResolvedSink } from "./resolve-sinks.js";
import { startReplayRunner } from "./replay-runner.js";
import { startSinkAudit } from "./sink-audit.js";
import { planRouting } from "./routing.js";
import { startSinkRunner } from "./sink-runner.js";
import { SinkWriter } from "./sink-writer.js";

/**
 * Builds one resolved sink instance and starts its runner and its replay runner (both write
 * through the same writer) and its audit of finished jobs. `stop` drains them, then closes the
 * sink (which flushes it).
 */
export async function startSinkInstance(ctx: ServiceContext, r: ResolvedSink): Promise<RunningService> {
  const log = ctx.log.child({ subsystem: "sink", sink: r.instance.name });
  const sink = await r.factory.create(r.options, { name: r.instance.name, log, config: ctx.config });
  const writer = new SinkWriter(r.instance.name, sink, r.format, log);
  const routing = planRouting(r.instance, ctx.topology.names, ctx.nc.info?.version ?? "0.0.0");
  const runners: RunningService[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(runners.map((x) => x.stop()));
    await writer.close();
  };
  try {
    runners.push(await startSinkRunner(ctx, { writer, routing, start: r.instance.start }));
    runners.push(await startReplayRunner(ctx, writer, routing));
    // Unless the instance says otherwise, only a sink that can tell what it holds repairs by replaying: others would repeat the whole job.
    runners.push(startSinkAudit(ctx, { name: r.instance.name, routing, autoReplay: r.instance.autoReplay ?? writer.idempotent }, ctx.config.shipper.auditEveryMs));
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

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
  const running: RunningService[] = [];
  const stopAll = (): Promise<unknown> => Promise.all(running.map((r) => r.stop()));
  try {
    for (const r of resolved) running.push(await startSinkInstance(ctx, r));
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    async stop() {
      await stopAll();
    },
  };
}
