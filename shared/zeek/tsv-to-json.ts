/** A TSV header or line that Zeek's ASCII writer could not have written. */
export class ZeekTsvError extends Error {
  override readonly name = "ZeekTsvError";
}

/** Turns one raw TSV value (never the unset marker) into JSON text. */
type ValueToJson = (raw: string) => string;

interface Column {
  /** `"name":`, encoded once. */
  key: string;
  toJson: ValueToJson;
}

const BACKSLASH = 0x5c;

/**
 * Converts Zeek ASCII (TSV) log lines into the JSON objects Zeek itself writes with
 * `LogAscii::use_json=T`: keys in `#fields` order (record fields stay flat, `"id.orig_h"`), unset
 * fields left out, `(empty)` as `[]` (or `""` for a string), `T`/`F` as booleans, count/int/port and
 * time/interval/double as numbers, sets and vectors as arrays, Zeek's `\xHH` and `\\` escapes decoded.
 *
 * What TSV cannot give back: doubles have the 6 decimals TSV printed (Zeek's JSON prints the full
 * double), and a set holding only the empty string reads as an empty set (Zeek writes both as
 * `(empty)`). One instance per header block; `convert` is meant for every line of large logs, so the
 * per-column work is decided once here.
 */
export class TsvToJson {
  private readonly separator: string;
  private readonly columns: Column[];
  private readonly unset: string;

  /** @param header the block `#separator` … `#types` that precedes the lines (`#open`, `#path` are ignored). */
  constructor(header: readonly string[]) {
    const separatorLine = header.find((l) => l.startsWith("#separator "));
    if (separatorLine === undefined) throw new ZeekTsvError("TSV header without a #separator line");
    // Written after a space and escaped (`\x09`): this line cannot be split by what it defines.
    this.separator = decodeZeekEscapes(separatorLine.slice("#separator ".length));
    if (this.separator === "") throw new ZeekTsvError("TSV header with an empty #separator");
    const value = (name: string): string => {
      const prefix = `#${name}${this.separator}`;
      const line = header.find((l) => l.startsWith(prefix));
      if (line === undefined) throw new ZeekTsvError(`TSV header without a #${name} line`);
      return line.slice(prefix.length);
    };
    // Zeek escapes whitespace and unprintable bytes in these three markers, not in names or types.
    const setSeparator = decodeZeekEscapes(value("set_separator"));
    const empty = decodeZeekEscapes(value("empty_field"));
    this.unset = decodeZeekEscapes(value("unset_field"));
    const fields = value("fields").split(this.separator);
    const types = value("types").split(this.separator);
    if (fields.length !== types.length) {
      throw new ZeekTsvError(`TSV header with ${fields.length} #fields but ${types.length} #types`);
    }
    const markers = { setSeparator, empty, unset: this.unset };
    this.columns = fields.map((name, i) => ({ key: `${JSON.stringify(name)}:`, toJson: columnToJson(types[i]!, markers) }));
  }

  /**
   * One data line (without its LF) as one JSON object, without a newline. Throws ZeekTsvError when the
   * line does not have one value per field or a value does not read as its field's type.
   */
  convert(line: Uint8Array | string): string {
    const text = typeof line === "string" ? line : Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString("utf8");
    const values = text.split(this.separator);
    const columns = this.columns;
    if (values.length !== columns.length) {
      throw new ZeekTsvError(`TSV line with ${values.length} values for ${columns.length} fields`);
    }
    let out = "{";
    for (let i = 0; i < columns.length; i++) {
      const raw = values[i]!;
      if (raw === this.unset) continue;
      const column = columns[i]!;
      out += out.length === 1 ? column.key : `,${column.key}`;
      out += column.toJson(raw);
    }
    return `${out}}`;
  }
}

interface Markers {
  setSeparator: string;
  empty: string;
  unset: string;
}

/** Picks the conversion of a column from its `#types` entry once, so lines pay no type dispatch. */
function columnToJson(type: string, markers: Markers): ValueToJson {
  const container = /^(?:set|vector)\[(.*)\]$/.exec(type);
  if (!container) return scalarToJson(type, markers.empty);
  const element = scalarToJson(container[1]!, markers.empty);
  return (raw) => {
    if (raw === markers.empty) return "[]";
    let out = "[";
    // Zeek escapes the set separator inside elements (`\x2c`), so a plain split is exact.
    for (const item of raw.split(markers.setSeparator)) {
      if (out.length > 1) out += ",";
      // An unset element of a vector: Zeek's JSON writes null.
      out += item === markers.unset ? "null" : element(item);
    }
    return `${out}]`;
  };
}

function scalarToJson(type: string, empty: string): ValueToJson {
  switch (type) {
    case "bool":
      return boolToJson;
    case "count":
    case "int":
    case "port":
      return integerToJson;
    case "time":
    case "interval":
    case "double":
      return doubleToJson;
    default:
      // string, enum, addr, subnet, pattern, and any type a later Zeek adds: its text as a JSON string.
      // Zeek writes an empty string as the empty-field marker.
      return (raw) => (raw === empty ? '""' : JSON.stringify(decodeZeekEscapes(raw)));
  }
}

function boolToJson(raw: string): string {
  if (raw === "T") return "true";
  if (raw === "F") return "false";
  throw new ZeekTsvError(`not a Zeek bool: ${JSON.stringify(raw)}`);
}

/**
 * Copies the digits as they are: Zeek's counts are 64-bit and a JS number would round those above
 * 2^53. Checked by hand (no regex) because it runs on most values of most lines.
 */
function integerToJson(raw: string): string {
  const start = raw.charCodeAt(0) === 0x2d ? 1 : 0;
  const ok =
    raw.length > start &&
    // JSON allows no leading zeros; Zeek never writes them.
    (raw.charCodeAt(start) !== 0x30 || raw.length === start + 1) &&
    allDigits(raw, start);
  if (!ok) throw new ZeekTsvError(`not a Zeek integer: ${JSON.stringify(raw)}`);
  return raw;
}

function allDigits(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** TSV's non-finite doubles; Zeek's JSON writer prints null for NaN and ±Inf. */
const NON_FINITE = new Set(["nan", "-nan", "inf", "-inf"]);

/**
 * Writes the parsed double the way Zeek's JSON writer (RapidJSON) does: shortest round-trip digits,
 * `.0` on integral values (`0.0`, `528.0`), exponent without `+`.
 */
function doubleToJson(raw: string): string {
  const n = Number(raw);
  if (raw.length === 0 || !Number.isFinite(n)) {
    if (NON_FINITE.has(raw)) return "null";
    throw new ZeekTsvError(`not a Zeek double: ${JSON.stringify(raw)}`);
  }
  const text = String(n);
  if (text.includes("e")) return text.replace("e+", "e");
  return Number.isInteger(n) ? `${text}.0` : text;
}

/**
 * Undoes the ASCII writer's escaping: `\\` is a backslash and `\xHH` a byte (the separator, control
 * characters, bytes that were not valid UTF-8). The bytes are then read as Zeek's JSON writer reads
 * the original string: valid UTF-8 becomes characters, any other byte stays as the text `\xHH`.
 */
function decodeZeekEscapes(raw: string): string {
  if (!raw.includes("\\")) return raw;
  const source = Buffer.from(raw, "utf8");
  const bytes = Buffer.allocUnsafe(source.length);
  let n = 0;
  for (let i = 0; i < source.length; i++) {
    const b = source[i]!;
    if (b === BACKSLASH && source[i + 1] === BACKSLASH) {
      bytes[n++] = BACKSLASH;
      i++;
    } else if (b === BACKSLASH && source[i + 1] === 0x78 && i + 3 < source.length && isHex(source[i + 2]!) && isHex(source[i + 3]!)) {
      bytes[n++] = (hexValue(source[i + 2]!) << 4) | hexValue(source[i + 3]!);
      i += 3;
    } else {
      bytes[n++] = b;
    }
  }
  return utf8OrEscaped(bytes.subarray(0, n));
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}

/** Decodes UTF-8, writing each byte that does not start a well-formed sequence as `\xHH`. */
function utf8OrEscaped(bytes: Buffer): string {
  let out = "";
  let runStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = utf8SequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += bytes.toString("utf8", runStart, i) + `\\x${bytes[i]!.toString(16).padStart(2, "0")}`;
    i++;
    runStart = i;
  }
  return out + bytes.toString("utf8", runStart, i);
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlongs, surrogates, > U+10FFFF), or 0. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const lead = b[i]!;
  if (lead < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const c = b[i + k];
    return c !== undefined && c >= lo && c <= hi;
  };
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const lo = lead === 0xe0 ? 0xa0 : 0x80;
    const hi = lead === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const lo = lead === 0xf0 ? 0x90 : 0x80;
    const hi = lead === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
