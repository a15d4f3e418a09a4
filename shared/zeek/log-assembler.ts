const LF = Buffer.from("\n");

/**
 * Turns the batches of one log, in order, into the bytes of one Zeek log file: the TSV header
 * block once at the top and again only where `#fields` change (as Zeek itself does mid-file;
 * zeek-cut reads either), then the lines, each ending in LF. JSON batches are just lines. Used by
 * the directory sink and by log retrieval, so both produce the same bytes.
 */
export class ZeekLogAssembler {
  /** `fields`: the `#fields` line a file already starts with, when appending to one. */
  constructor(private fields: string | null = null) {}

  parts(payload: Uint8Array, header: readonly string[] | null): Uint8Array[] {
    const out: Uint8Array[] = [];
    const fields = header?.find((l) => l.startsWith("#fields")) ?? null;
    if (header && fields !== this.fields) {
      out.push(Buffer.from(header.join("\n") + "\n"));
      this.fields = fields;
    }
    out.push(payload, LF);
    return out;
  }
}
