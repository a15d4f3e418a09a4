// Zeek's default ASCII (TSV) log format: eight header lines, one tab-separated
// line per record, and a `#close` trailer.

import type { LogFormat } from "./log-file.js";
import { containerElement, type FieldValue, type LogRecord, type LogSchema } from "./log-schema.js";
import { fixed6, logStamp, tsvDouble } from "./zeek-format.js";

const UNSET = "-";
const EMPTY = "(empty)";

/** Escapes the characters that would break the TSV structure (Zeek writes them as \xNN). */
function escapeText(s: string, inContainer: boolean): string {
  if (s === "") return EMPTY;
  if (s === UNSET) return "\\x2d";
  const pattern = inContainer ? /[\t\n\r,]/g : /[\t\n\r]/g;
  return s.replace(pattern, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function scalar(type: string, value: string | number | boolean, inContainer: boolean): string {
  switch (type) {
    case "time":
    case "interval":
      return fixed6(Number(value));
    case "double":
      return tsvDouble(Number(value));
    case "bool":
      return value ? "T" : "F";
    default:
      return typeof value === "string" ? escapeText(value, inContainer) : String(value);
  }
}

function field(type: string, value: FieldValue): string {
  if (value === undefined) return UNSET;
  const element = containerElement(type);
  if (element !== undefined && Array.isArray(value)) {
    return value.length === 0 ? EMPTY : value.map((v: string | number) => scalar(element, v, true)).join(",");
  }
  return scalar(type, value as string | number | boolean, false);
}

export const tsvFormat: LogFormat = {
  header(schema: LogSchema, opened: Date): string {
    return [
      "#separator \\x09",
      "#set_separator\t,",
      `#empty_field\t${EMPTY}`,
      `#unset_field\t${UNSET}`,
      `#path\t${schema.path}`,
      `#open\t${logStamp(opened)}`,
      `#fields\t${schema.fields.join("\t")}`,
      `#types\t${schema.types.join("\t")}`,
      "",
    ].join("\n");
  },
  record(schema: LogSchema, record: LogRecord): string {
    return `${schema.fields.map((name, i) => field(schema.types[i] ?? "string", record[name])).join("\t")}\n`;
  },
  footer(closed: Date): string {
    return `#close\t${logStamp(closed)}\n`;
  },
};
