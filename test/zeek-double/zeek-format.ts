// Number and time renderings that match Zeek's ASCII and JSON log writers.

/** `time` and `interval` columns in TSV, and network time in messages: always six decimals. */
export function fixed6(x: number): string {
  return x.toFixed(6);
}

/** `double` columns in TSV: six decimals with trailing zeros dropped, integers keep ".0". */
export function tsvDouble(x: number): string {
  let s = x.toFixed(6);
  s = s.replace(/0+$/, "").replace(/\.$/, "");
  return Math.abs(x - Math.round(x)) < 1e-9 ? `${s}.0` : s;
}

function significantDigits(s: string): number {
  const mantissa = s.replace(/e.*$/, "").replace(/[-.]/g, "").replace(/^0+/, "");
  return mantissa.length;
}

/**
 * Doubles in JSON logs. Zeek's JSON writer prints the shortest round-trip
 * form like JavaScript does, except that integral values keep ".0" and, when
 * all 17 digits are needed, a tie in the last digit is rounded up rather than
 * to even (0.21162796020507813, not ...12).
 */
export function jsonDouble(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return x.toFixed(1);
  const shortest = String(x);
  if (significantDigits(shortest) < 17 || shortest.includes("e")) return shortest;
  return x.toPrecision(17).replace(/0+$/, "");
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** The `#open`/`#close` stamp: local wall-clock time, YYYY-MM-DD-HH-MM-SS. */
export function logStamp(date: Date): string {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}-` +
    `${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`
  );
}

/** Zeek's current_time(): wall-clock seconds with microsecond resolution. */
export function wallClock(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1e6;
}
