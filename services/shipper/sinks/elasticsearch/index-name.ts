/**
 * Index names from a pattern: `{log}` is the log type, any other `{…}` a date in the line's UTC
 * day with `yyyy`, `MM`, `dd`, `HH` (`zeek-{log}-{yyyy.MM.dd}` → `zeek-conn-2026.12.01`).
 * Elasticsearch wants them lower-case.
 */
export function indexName(pattern: string, logType: string, atMs: number): string {
  const d = new Date(atMs);
  const two = (n: number): string => String(n).padStart(2, "0");
  return pattern
    .replace(/\{([^}]+)\}/g, (_, token: string) =>
      token === "log"
        ? logType
        : token
            .replace(/yyyy/g, String(d.getUTCFullYear()))
            .replace(/MM/g, two(d.getUTCMonth() + 1))
            .replace(/dd/g, two(d.getUTCDate()))
            .replace(/HH/g, two(d.getUTCHours())),
    )
    .toLowerCase();
}
