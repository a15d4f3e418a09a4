import assert from "node:assert/strict";
import { test } from "node:test";
import { batchHeaders, batchLines, decodeBatch, LogHeaders, MalformedBatchError } from "../shared/messages/log-batch.js";

const meta = {
  jobId: "01900000-0000-7000-8000-000000000001",
  tag: "case 42\n<13>é",
  pcap: "a b.pcap",
  pcapIndex: 1,
  logType: "conn",
  format: "tsv" as const,
  zeekHeader: ["#separator \\x09", "#fields\tts\tuid"],
  firstLine: 257,
  lineCount: 2,
};

test("a batch's headers round-trip, whatever the tag and file name hold", () => {
  const payload = Buffer.from("1\tCa\n2\tCb");
  const b = decodeBatch(batchHeaders(meta), payload);
  assert.deepEqual({ ...b, payload: undefined }, { ...meta, payload: undefined });
  assert.deepEqual([...batchLines(b.payload)].map((l) => Buffer.from(l).toString()), ["1\tCa", "2\tCb"]);
});

test("a header that is missing or does not parse is a MalformedBatchError, never another error", () => {
  const cases: Array<[string, string]> = [
    [LogHeaders.tag, "%E0%A4%A"],
    [LogHeaders.pcap, "%"],
    [LogHeaders.zeekHeader, "[not json"],
    [LogHeaders.lineCount, "many"],
    [LogHeaders.firstLine, "0"],
    [LogHeaders.pcapIndex, "-1"],
    [LogHeaders.format, "xml"],
  ];
  for (const [name, value] of cases) {
    const h = batchHeaders(meta);
    h.set(name, value);
    assert.throws(() => decodeBatch(h, Buffer.from("x")), MalformedBatchError, `${name}: ${value}`);
  }
  assert.throws(() => decodeBatch(undefined, Buffer.from("x")), MalformedBatchError);
});
