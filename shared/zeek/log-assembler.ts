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

  /** The header block to write before a batch with this header, or null when it is in force already. */
  headerBlock(header: readonly string[] | null): Buffer | null {
    const fields = header?.find((l) => l.startsWith("#fields")) ?? null;
    if (!header || fields === this.fields) return null;
    this.fields = fields;
    return Buffer.from(header.join("\n") + "\n");
  }

  parts(payload: Uint8Array, header: readonly string[] | null): Uint8Array[] {
    const block = this.headerBlock(header);
    return block ? [block, payload, LF] : [payload, LF];
  }

  /** Bytes `parts` would produce for a payload of `payloadBytes`, without the payload at hand. */
  size(payloadBytes: number, header: readonly string[] | null): number {
    return (this.headerBlock(header)?.length ?? 0) + payloadBytes + LF.length;
  }
}
