import type { Logger } from "pino";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { BrocapiError } from "../errors.js";
import { createLogger } from "../log/logger.js";

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
  const log = createLogger(config.logLevel, name);
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
    throw new Error(`${name}: set NATS_URL (e.g. nats://127.0.0.1:4222). A single service does not start its own NATS; \`npm start\` runs everything with an embedded one.`);
  }
  return config.nats.url;
}
