// What `brocapi submit` sends: the files named, the captures inside folders named, and the
// matches of quoted globs. Files named one by one go as they are (the server judges them and
// refuses a non-capture with its reason); files the CLI finds itself go only when their first
// bytes are a capture's, so a stray README or checksum file in a sensor's folder is skipped and
// counted instead of failing a submission of thousands.
import { open, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync, constants as zlibConstants } from "node:zlib";
import { captureFormatOf, encodingOf, MAGIC_BYTES } from "../../shared/pcap/capture-format.js";
import { UsageError } from "./errors.js";
import { byName, expandGlob, hasGlobMagic } from "./glob.js";

/** A file to upload: where it is, and its size when it was found (Content-Length is built from it). */
export interface FoundFile {
  path: string;
  size: number;
}

/** What was found and left out, and why. */
export interface FoundCaptures {
  files: FoundFile[];
  /** Files found in folders or by globs whose first bytes are not a capture's (paths). */
  notCaptures: string[];
  /** Empty files found in folders or by globs (a capture still being written, often). */
  empty: string[];
  /** Files found in folders or by globs that could not be read (a dangling link, one removed meanwhile), with why. */
  unreadable: { path: string; reason: string }[];
  /** Folders inside named folders, left out without --recursive. */
  folders: string[];
  /** Names starting with `.` inside folders (never walked into or sent, as a shell's `*` skips them). */
  hidden: number;
}

/** Bytes read to recognise a file: a capture's magic, or enough of a gzip stream to inflate its first bytes. */
const SNIFF_BYTES = 4096;

/**
 * True when the file starts as a capture Zeek reads: pcap or pcapng, or gzip whose inflated
 * start is one. zstd is taken on trust where this Node cannot inflate it (the server checks).
 */
async function looksLikeCapture(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    const bytes = head.subarray(0, bytesRead);
    const encoding = encodingOf(bytes);
    if (encoding === "zstd") return true;
    if (encoding === "gzip") {
      try {
        // Only the start of the stream is here: a sync flush inflates what it can of it.
        return captureFormatOf(gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, MAGIC_BYTES)) !== null;
      } catch {
        return false;
      }
    }
    return captureFormatOf(bytes) !== null;
  } finally {
    await handle.close();
  }
}

class Finder {
  readonly found: FoundCaptures = { files: [], notCaptures: [], empty: [], unreadable: [], folders: [], hidden: 0 };
  /** Real paths already taken: a file named twice, or reached twice through links, goes once. */
  private readonly seen = new Set<string>();

  constructor(private readonly recursive: boolean) {}

  /**
   * A file: named ones are sent as they are; found ones only when they look like captures. One
   * that cannot be read is a usage error when named, and skipped and counted when found (one
   * bad entry must not stop a submission of thousands).
   */
  async file(path: string, size: number, named: boolean): Promise<void> {
    try {
      const real = await realpath(path);
      if (this.seen.has(real)) return;
      this.seen.add(real);
      if (!named && size === 0) return void this.found.empty.push(path);
      if (!named && !(await looksLikeCapture(path))) return void this.found.notCaptures.push(path);
    } catch (err) {
      return this.unreadable(path, err as Error, named);
    }
    this.found.files.push({ path, size });
  }

  private unreadable(path: string, err: Error, named: boolean): void {
    if (named) throw new UsageError(`cannot read ${path}: ${err.message}`);
    this.found.unreadable.push({ path, reason: (err as NodeJS.ErrnoException).code ?? err.message });
  }

  /** A folder: its files by name, then (with --recursive) its folders, depth first. */
  async folder(path: string): Promise<void> {
    const real = await realpath(path).catch((err: Error) => {
      throw new UsageError(`cannot read the folder ${path}: ${err.message}`);
    });
    if (this.seen.has(real)) return; // a link back up the tree
    this.seen.add(real);
    const entries = await readdir(path).catch((err: Error) => {
      throw new UsageError(`cannot read the folder ${path}: ${err.message}`);
    });
    const folders: string[] = [];
    for (const name of entries.sort(byName)) {
      if (name.startsWith(".")) {
        this.found.hidden++;
        continue;
      }
      const child = join(path, name);
      await this.entry(child, (folder) => void folders.push(folder));
    }
    for (const child of folders) {
      if (this.recursive) await this.folder(child);
      else this.found.folders.push(child);
    }
  }

  /** A path found in a folder or by a glob: a folder goes to `onFolder`, a file is looked at, anything else passed over. */
  private async entry(path: string, onFolder: (path: string) => Promise<void> | void): Promise<void> {
    const info = await stat(path).catch((err: Error) => err);
    if (info instanceof Error) return this.unreadable(path, info, false);
    if (info.isDirectory()) await onFolder(path);
    else if (info.isFile()) await this.file(path, info.size, false);
  }

  /** One command-line argument: a file, a folder, or a glob that did not name a file itself. */
  async argument(arg: string): Promise<void> {
    const info = await stat(arg).catch((err: NodeJS.ErrnoException) => err);
    if (!(info instanceof Error)) {
      if (info.isDirectory()) return this.folder(arg);
      if (info.isFile()) return this.file(arg, info.size, true);
      throw new UsageError(`${arg} is neither a file nor a folder`);
    }
    if (info.code !== "ENOENT" || !hasGlobMagic(arg)) throw new UsageError(`cannot read ${arg}: ${info.message}`);
    const matches = await expandGlob(arg);
    if (matches.length === 0) throw new UsageError(`nothing matches ${arg}`);
    for (const match of matches) await this.entry(match, (folder) => this.folder(folder));
  }
}

/**
 * Resolves `submit`'s arguments, in order, to the files to upload. Every file is looked at
 * (stat, and the first bytes of found ones) before a byte is sent, so a typo fails at once;
 * none is kept open.
 *
 * @throws UsageError for an argument that names nothing, or a glob that matches nothing.
 */
export async function findCaptures(args: readonly string[], recursive: boolean): Promise<FoundCaptures> {
  const finder = new Finder(recursive);
  for (const arg of args) await finder.argument(arg);
  return finder.found;
}
