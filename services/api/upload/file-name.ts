const MAX_NAME_BYTES = 200;
/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** An extension worth keeping when a long name is shortened: `.pcap`, `.pcapng`, `.cap`… */
const EXTENSION = /\.[A-Za-z0-9]{1,10}$/;

/** The longest prefix of `text` within `maxBytes` of UTF-8, cut between characters, never inside one. */
function utf8Prefix(text: string, maxBytes: number): string {
  let bytes = 0;
  let out = "";
  for (const ch of text) {
    bytes += Buffer.byteLength(ch);
    if (bytes > maxBytes) break;
    out += ch;
  }
  return out;
}

/**
 * A client's file name reduced to a safe base name: no folders (`/` or `\`), no control
 * characters, no `.`/`..`, at most 200 bytes of UTF-8 keeping the extension. What is left may be
 * empty: then `upload-<n>.pcap`. The name is for people (status, syslog); storage never uses it
 * as a path.
 */
export function safeFileName(raw: string | undefined, index: number): string {
  const base = (raw ?? "").split(/[\\/]/).pop() ?? "";
  let name = base.replace(CONTROL, "").trim();
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    const ext = EXTENSION.exec(name)?.[0] ?? "";
    name = utf8Prefix(name.slice(0, name.length - ext.length), MAX_NAME_BYTES - ext.length) + ext;
  }
  return name === "" || name === "." || name === ".." ? `upload-${index + 1}.pcap` : name;
}
