import { open, type FileHandle } from "node:fs/promises";
import { ZeekLogAssembler } from "../../../../shared/zeek/log-assembler.js";

const HEAD_BYTES = 64 * 1024;

/** One Zeek log file in the directory sink, opened for appending batches in stream order. */
export class ZeekFile {
  private constructor(
    private readonly handle: FileHandle,
    private readonly assembler: ZeekLogAssembler,
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
    return new ZeekFile(handle, new ZeekLogAssembler(fields));
  }

  /** Appends the lines (LF-joined, no trailing LF), preceded by the header when it is new here. */
  async append(payload: Uint8Array, header: readonly string[] | null): Promise<void> {
    // One write call per batch: with O_APPEND the batch lands whole, after any other writer's.
    await this.handle.write(Buffer.concat(this.assembler.parts(payload, header)));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
