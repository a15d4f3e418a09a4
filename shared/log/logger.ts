import { pino, type Logger } from "pino";

/**
 * The root logger of a process. Services take child loggers per subsystem
 * (`log.child({ subsystem: "worker" })`) so every line says where it came from; every line
 * carries an `event` name shared by all stages (e.g. `task.done`, `sink.write_failed`).
 */
export function createLogger(level: string, service: string, to: "stdout" | "stderr" = "stdout"): Logger {
  return pino(
    {
      level,
      base: { service },
      redact: { paths: ["*.password", "*.token", "*.authorization", "nats.url"], censor: "[redacted]" },
    },
    pino.destination(to === "stderr" ? 2 : 1),
  );
}
