// Describes one Zeek log stream: its file name, its columns and their Zeek
// types (copied verbatim from real Zeek 8.2.2 output), and what is left of
// the file when Zeek dies of a fatal read error after the file was opened.

/** A column value: unset fields are `undefined`, sets and vectors are arrays. */
export type FieldValue = string | number | boolean | readonly string[] | readonly number[] | undefined;

export type LogRecord = Readonly<Record<string, FieldValue>>;

/**
 * What a fatal read error leaves of a log that was first written while
 * packets were being processed: Zeek's writer threads lose the race with the
 * fatal exit, so such files vanish, stay empty, or keep only their header.
 */
export type CrashResidue = "absent" | "empty" | "header";

export interface LogSchema {
  /** File name without ".log". */
  readonly path: string;
  readonly fields: readonly string[];
  readonly types: readonly string[];
  readonly crashResidue: CrashResidue;
}

/**
 * `fields` and `types` are the tab-separated texts that follow `#fields\t`
 * and `#types\t` in the real log, so they can be pasted from a recording.
 */
export function defineLog(
  path: string,
  fields: string,
  types: string,
  crashResidue: CrashResidue = "absent",
): LogSchema {
  const fieldList = fields.split("\t");
  const typeList = types.split("\t");
  if (fieldList.length !== typeList.length) {
    throw new Error(`log ${path}: ${fieldList.length} fields but ${typeList.length} types`);
  }
  return { path, fields: fieldList, types: typeList, crashResidue };
}

/** The element type of `set[...]`/`vector[...]`, or undefined for scalar types. */
export function containerElement(type: string): string | undefined {
  const match = /^(?:set|vector)\[(.+)\]$/.exec(type);
  return match?.[1];
}
