// Zeek's JSON log format (LogAscii::use_json=T): one object per line, no
// header or trailer, unset fields omitted, flat dotted keys.

import type { LogFormat } from "./log-file.js";
import { containerElement, type FieldValue, type LogRecord, type LogSchema } from "./log-schema.js";
import { jsonDouble } from "./zeek-format.js";

function scalar(type: string, value: string | number | boolean): string {
  switch (type) {
    case "time":
    case "interval":
    case "double":
      return jsonDouble(Number(value));
    case "bool":
      return value ? "true" : "false";
    default:
      return typeof value === "string" ? JSON.stringify(value) : String(value);
  }
}

function field(type: string, value: FieldValue): string {
  const element = containerElement(type);
  if (element !== undefined && Array.isArray(value)) {
    return `[${value.map((v: string | number) => scalar(element, v)).join(",")}]`;
  }
  return scalar(type, value as string | number | boolean);
}

export const jsonFormat: LogFormat = {
  header(): string {
    return "";
  },
  record(schema: LogSchema, record: LogRecord): string {
    const parts: string[] = [];
    schema.fields.forEach((name, i) => {
      const value = record[name];
      if (value !== undefined) parts.push(`${JSON.stringify(name)}:${field(schema.types[i] ?? "string", value)}`);
    });
    return `{${parts.join(",")}}\n`;
  },
  footer(): string {
    return "";
  },
};
