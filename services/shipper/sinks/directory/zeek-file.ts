import { open, type FileHandle } from "node:fs/promises";

const HEAD_BYTES = 64 * 1024;

/**
 * One Zeek log file in the directory sink, opened for appending. It remembers the `#fields` line
 * it was last written with, so a header block is written once at the top and again only if the
 * fields change (as Zeek itself does mid-file); zeek-cut reads either.
 */
export class ZeekFile {
  private constructor(
    private readonly handle: FileHandle,
    private fields: string | null,
  ) {}

  /** Opens (creating if needed) and learns the header an existing file already has. */
  static async open(path: string): Promise<ZeekFile> {
    const handle = await open(path, "a+");
    const { size } = await handle.stat();
    let fields: string | null = null;
    if (size > 0) {
      const buf = Buffer.alloc(Math.min(size, HEAD_BYTES));
      await handle.read(buf, 0, buf.length, 0);
      fields = buf.toString("utf8").split("\n").find((l) => l.startsWith("#fields")) ?? "";
    }
    return new ZeekFile(handle, fields);
  }

  /** Appends the lines (LF-joined, no trailing LF), preceded by the header when it is new here. */
  async append(payload: Uint8Array, header: readonly string[] | null): Promise<void> {
    const parts: Uint8Array[] = [];
    const fields = header?.find((l) => l.startsWith("#fields")) ?? null;
    if (header && fields !== this.fields) {
      parts.push(Buffer.from(header.join("\n") + "\n"));
      this.fields = fields;
    }
    parts.push(payload, Buffer.from("\n"));
    // One write call per batch: with O_APPEND the batch lands whole, after any other writer's.
    await this.handle.write(Buffer.concat(parts));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
