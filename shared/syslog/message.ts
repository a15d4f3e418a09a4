const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Replaces everything outside printable US-ASCII (33–126) so no tag can add a space, a newline or
 * a second header to a syslog message: the header of other messages must never be forgeable.
 */
function printableToken(text: string, maxLength: number, extraUnsafe = ""): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += code >= 33 && code <= 126 && !extraUnsafe.includes(ch) ? ch : "_";
    if (out.length >= maxLength) break;
  }
  return out;
}

/**
 * HOSTNAME from a job's tag (the seed's convention): `brocapi` when there is none. Only letters,
 * digits, `.`, `-` and `_` are kept (others become `_`), and it ends with a letter or digit (the
 * others are dropped from the end): rsyslog's RFC 3164 parser takes any other field (`<`, `:`,
 * `/`, a trailing `_`, ...) for no hostname at all and reads it as the TAG, which would put the
 * tag where the program name belongs. A tag with no letter or digit gives `brocapi`, as none.
 */
export function syslogHostname(tag: string | null): string {
  const token = [...printableToken(tag ?? "", 255)].map((ch) => (/[A-Za-z0-9._-]/.test(ch) ? ch : "_")).join("");
  return token.replace(/[._-]+$/, "") || "brocapi";
}

/** Program (RFC 3164 TAG / RFC 5424 APP-NAME): the prefix with `%s` → log type. */
export function syslogProgram(prefix: string, logType: string, maxLength: number): string {
  // ':' and '[' end a 3164 TAG early, so they cannot appear inside it.
  return printableToken(prefix.replace("%s", logType), maxLength, ":[]") || "-";
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** RFC 3164 TIMESTAMP, local time: `Mmm dd hh:mm:ss` with a space-padded day. */
export function rfc3164Timestamp(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export type SyslogFormat = "rfc3164" | "rfc5424";

export interface SyslogHeaderFields {
  format: SyslogFormat;
  pri: number;
  date: Date;
  hostname: string;
  program: string;
  /** RFC 5424 MSGID: the log type. */
  msgId: string;
}

/** Everything of a message before the log line itself, ending with the separating space. */
export function syslogHeader(f: SyslogHeaderFields): string {
  if (f.format === "rfc3164") return `<${f.pri}>${rfc3164Timestamp(f.date)} ${f.hostname} ${f.program}: `;
  const ts = f.date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
  return `<${f.pri}>1 ${ts} ${f.hostname} ${f.program} - ${printableToken(f.msgId, 32) || "-"} - `;
}
