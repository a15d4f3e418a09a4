const MAX_NAME_BYTES = 200;

/**
 * A client's file name reduced to a safe base name: no folders (`/` or `\`), no control
 * characters, no `.`/`..`, at most 200 bytes of UTF-8. What is left may be empty: then
 * `upload-<n>.pcap`. The name is for people (status, syslog); storage never uses it as a path.
 */
export function safeFileName(raw: string | undefined, index: number): string {
  const base = (raw ?? "").split(/[\\/]/).pop() ?? "";
  let name = base.replace(/[\u0000-\u001f\u007f]/g, "").trim();
  while (Buffer.byteLength(name) > MAX_NAME_BYTES) name = name.slice(0, -1);
  return name === "" || name === "." || name === ".." ? `upload-${index + 1}.pcap` : name;
}
