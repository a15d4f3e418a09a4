import { open, type FileHandle } from "node:fs/promises";
import { ZeekLogAssembler } from "../../../../shared/zeek/log-assembler.js";

const HEAD_BYTES = 64 * 1024;

/**
 * One Zeek log file in the directory sink, opened for appending batches in stream order. It
 * knows its size, so the sink can record where a batch goes before writing it.
 */
export class ZeekFile {
  private constructor(
    private readonly handle: FileHandle,
    private readonly assembler: ZeekLogAssembler,
    private bytesHeld: number,
  ) {}

  /** Opens (creating if needed) and learns the header and size an existing file already has. */
  static async open(path: string): Promise<ZeekFile> {
    const handle = await open(path, "a+");
    const { size } = await handle.stat();
    let fields: string | null = null;
    if (size > 0) {
      const buf = Buffer.alloc(Math.min(size, HEAD_BYTES));
      await handle.read(buf, 0, buf.length, 0);
      fields = buf.toString("utf8").split("\n").find((l) => l.startsWith("#fields")) ?? "";
    }
    return new ZeekFile(handle, new ZeekLogAssembler(fields), size);
  }

  /** Bytes in the file: where the next batch starts. */
  get size(): number {
    return this.bytesHeld;
  }

  /**
   * The bytes of a batch (LF-joined lines, no trailing LF), preceded by the header when it is new
   * here. The file then counts that header as written: if `append` fails, close this file and
   * open it again.
   */
  bytes(payload: Uint8Array, header: readonly string[] | null): Buffer {
    return Buffer.concat(this.assembler.parts(payload, header));
  }

  async append(bytes: Buffer): Promise<void> {
    // One write call per batch: with O_APPEND the batch lands whole, after any other writer's.
    const { bytesWritten } = await this.handle.write(bytes);
    this.bytesHeld += bytesWritten;
    // A short write (disk full) leaves part of a batch: the sink's recovery cuts it off.
    if (bytesWritten !== bytes.length) throw new Error(`short write to a log file: ${bytesWritten} of ${bytes.length} bytes`);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
