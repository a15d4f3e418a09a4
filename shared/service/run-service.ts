import type { Logger } from "pino";
import { TokenStore } from "../auth/token-store.js";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { BrocapiError, ConfigError } from "../errors.js";
import { createLogger } from "../log/logger.js";
import { startMetricsServer } from "../metrics/server.js";
import { createContext, type RunningService, type ServiceContext } from "./context.js";

/**
 * The whole life of a service process: validated config (or a message a person can act on and
 * exit code 2), a logger, start, and on SIGTERM/SIGINT a drain before exit.
 */
export async function runService(name: string, start: (config: Config, log: Logger) => Promise<{ stop(): Promise<void> }>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    process.exit(2);
  }
  // Standard output is the stdout sink's when one is configured: the service's own logs move aside.
  const log = createLogger(config.logLevel, name, config.sinks.some((s) => s.kind === "stdout") ? "stderr" : "stdout");
  let service: { stop(): Promise<void> };
  try {
    service = await start(config, log);
  } catch (err) {
    log.fatal({ event: "service.start_failed", err, code: err instanceof BrocapiError ? err.code : undefined }, `${name} could not start`);
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      log.warn({ event: "service.forced_exit", signal }, "second signal: exiting without draining");
      process.exit(130);
    }
    stopping = true;
    log.info({ event: "service.draining", signal }, "draining in-flight work");
    service.stop().then(
      () => {
        log.info({ event: "service.stopped" }, "stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ event: "service.stop_failed", err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

/** Single services share NATS with the others, so they need its address. */
export function requireNatsUrl(config: Config, name: string): string {
  if (!config.nats.url) {
    throw new ConfigError(`NATS_URL is not set: \`npm run ${name}\` joins a running NATS (e.g. NATS_URL=nats://127.0.0.1:4222); only \`npm start\` runs an embedded one.`);
  }
  return config.nats.url;
}

/**
 * A service run alone against NATS_URL: context, start, and on stop drain then close NATS.
 * With `metricsPort`, its Prometheus metrics are served there (the api serves its own).
 */
export async function runSingleService(name: string, start: (ctx: ServiceContext) => Promise<RunningService>, opts: { metricsPort?: boolean } = {}): Promise<void> {
  await runService(name, async (config, log) => {
    const ctx = await createContext(config, log, requireNatsUrl(config, name), `brocapi-${name}`);
    const service = await start(ctx);
    const tokens = config.auth.metrics === "token" && config.auth.tokensFile ? new TokenStore(config.auth.tokensFile, log) : null;
    const metricsServer = opts.metricsPort ? await startMetricsServer(config.http.host, config.http.metricsPort, log, tokens) : null;
    return {
      async stop() {
        await service.stop();
        await metricsServer?.stop();
        await ctx.nc.drain();
      },
    };
  });
}
