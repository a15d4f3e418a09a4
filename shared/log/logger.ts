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
      // Secrets are read from files and never logged on purpose; these paths catch one that strays
      // into a logged object (a request's headers, connection options, an error's context).
      redact: {
        paths: ["*.password", "*.pass", "*.token", "*.authToken", "*.seed", "*.nkey", "*.creds", "*.key", "*.authorization", "*.headers.authorization", "req.headers.authorization", "nats.url"],
        censor: "[redacted]",
      },
    },
    pino.destination(to === "stderr" ? 2 : 1),
  );
}
