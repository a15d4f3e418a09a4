/** The first records of a Zeek log as a table: column names, Zeek's types where known, rows. */
export interface LogTable {
  columns: string[];
  /** `#types` of a TSV log (`time`, `addr`, `count`, …); empty for JSON. */
  types: Record<string, string>;
  rows: Array<Record<string, string>>;
}

/**
 * Reads a Zeek log line by line, TSV (by its `#separator` and `#fields`, which may change
 * mid-file where logs of several captures meet) or JSON lines, into a table of the first
 * records. Values are shown as Zeek wrote them (`-` unset, `(empty)` empty).
 */
export class LogTableReader {
  readonly table: LogTable = { columns: [], types: {}, rows: [] };
  private separator = "\t";
  private fields: string[] = [];
  private readonly known = new Set<string>();

  /** Adds one line; header and comment lines (`#…`) are not records. */
  push(line: string): void {
    if (line === "") return;
    if (line.startsWith("{")) return this.json(line);
    if (line.startsWith("#")) return this.directive(line);
    const values = line.split(this.separator);
    const row: Record<string, string> = {};
    this.fields.forEach((field, i) => (row[field] = values[i] ?? ""));
    this.table.rows.push(row);
  }

  private directive(line: string): void {
    if (line.startsWith("#separator ")) {
      this.separator = unescapeZeek(line.slice("#separator ".length));
      return;
    }
    const [name, ...values] = line.split(this.separator);
    if (name === "#fields") {
      this.fields = values;
      for (const f of values) this.column(f);
    } else if (name === "#types") {
      this.fields.forEach((f, i) => (this.table.types[f] = values[i] ?? ""));
    }
  }

  private json(line: string): void {
    const record = JSON.parse(line) as Record<string, unknown>;
    const row: Record<string, string> = {};
    for (const [key, value] of Object.entries(record)) {
      this.column(key);
      row[key] = jsonText(value);
    }
    this.table.rows.push(row);
  }

  private column(name: string): void {
    if (this.known.has(name)) return;
    this.known.add(name);
    this.table.columns.push(name);
  }
}

/** Zeek writes the separator escaped (`\x09`). */
function unescapeZeek(text: string): string {
  return text.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function jsonText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(jsonText).join(",");
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}
