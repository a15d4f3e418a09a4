// Shell-style globs for `brocapi submit 'captures/*.pcap'`: a quoted pattern reaches the CLI
// unexpanded (and a shell that found no match passes it on as it is), so the CLI expands it the
// way bash does. Node 20 has no fs.glob; this is the small part of one the command needs.
import { lstat, readdir } from "node:fs/promises";
import { join, sep } from "node:path";

/** True when `arg` holds a glob character: `*`, `?` or a `[…]` class. */
export function hasGlobMagic(arg: string): boolean {
  return /[*?]|\[[^\]]+\]/.test(arg);
}

/**
 * One path segment's pattern as a regular expression: `*` any run of characters, `?` one,
 * `[abc]`, `[a-z]`, `[!x]` / `[^x]` a class; everything else literal. As in a shell, a leading
 * `.` must be matched explicitly (`*` does not match hidden files).
 */
export function segmentRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${pattern.startsWith(".") ? "" : "(?!\\.)"}${out}$`);
}

const collator = new Intl.Collator(undefined, { numeric: true });

/** Names in the order a person expects: `cap2` before `cap10`. */
export function byName(a: string, b: string): number {
  return collator.compare(a, b);
}

/**
 * The paths matching `pattern` (files and folders), sorted; `**` as a whole segment matches any
 * number of folders (none included), as bash's globstar does. Unreadable folders match nothing.
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  const absolute = pattern.startsWith("/");
  const segments = pattern.split(/\/+/).filter((s) => s !== "");
  const found = new Set<string>();
  const walk = async (base: string, rest: readonly string[]): Promise<void> => {
    const [segment, ...tail] = rest;
    if (segment === undefined) {
      found.add(base);
      return;
    }
    if (!hasGlobMagic(segment) && segment !== "**") return walk(join(base, segment), tail);
    const entries = await readdir(base === "" ? "." : base, { withFileTypes: true }).catch(() => []);
    if (segment === "**") {
      await walk(base, tail);
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith(".")) await walk(join(base, e.name), rest);
      return;
    }
    const re = segmentRegExp(segment);
    for (const e of entries) {
      if (!re.test(e.name)) continue;
      // A segment that is not the last must be a folder to walk into.
      if (tail.length > 0 && !e.isDirectory() && !e.isSymbolicLink()) continue;
      await walk(join(base, e.name), tail);
    }
  };
  await walk(absolute ? sep : "", segments);
  // Literal segments after the last pattern were joined on unread: keep what exists. A link is
  // kept even when what it points to is gone, as a shell's glob keeps it: the caller says why it
  // cannot be read instead of the match vanishing.
  const exists = await Promise.all([...found].map((p) => lstat(p).then(() => p, () => null)));
  return exists.filter((p): p is string => p !== null).sort(byName);
}
