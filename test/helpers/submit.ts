import { readFile } from "node:fs/promises";
import { basename } from "node:path";

export interface SubmitResponse {
  status: string;
  files: string[];
  tag: string | null;
  job_id: string;
  success: boolean;
  code?: string;
}

/** A seed-style `curl -F "file[]=@a.pcap" -F tag=...` submission, over real HTTP. */
export async function submit(
  url: string,
  files: ReadonlyArray<string | { name: string; data: Uint8Array }>,
  tag?: string,
  field = "file[]",
  headers: Record<string, string> = {},
): Promise<{ httpStatus: number; body: SubmitResponse }> {
  const form = new FormData();
  for (const f of files) {
    if (typeof f === "string") form.append(field, new Blob([await readFile(f)]), basename(f));
    else form.append(field, new Blob([f.data]), f.name);
  }
  if (tag !== undefined) form.append("tag", tag);
  const res = await fetch(`${url}/submit/pcap`, { method: "POST", body: form, headers });
  return { httpStatus: res.status, body: (await res.json()) as SubmitResponse };
}
