import assert from "node:assert/strict";
import { test } from "node:test";
import { safeFileName } from "../services/api/upload/file-name.js";
import { captureFormatOf, isGzip } from "../shared/pcap/capture-format.js";

test("all four pcap magics and pcapng are captures; text, gzip and short input are not", () => {
  const b = (...bytes: number[]) => Uint8Array.from(bytes);
  assert.equal(captureFormatOf(b(0xd4, 0xc3, 0xb2, 0xa1)), "pcap");
  assert.equal(captureFormatOf(b(0xa1, 0xb2, 0xc3, 0xd4)), "pcap");
  assert.equal(captureFormatOf(b(0x4d, 0x3c, 0xb2, 0xa1)), "pcap-ns");
  assert.equal(captureFormatOf(b(0xa1, 0xb2, 0x3c, 0x4d)), "pcap-ns");
  assert.equal(captureFormatOf(b(0x0a, 0x0d, 0x0d, 0x0a)), "pcapng");
  assert.equal(captureFormatOf(Buffer.from("this is not a pcap")), null);
  assert.equal(captureFormatOf(b(0xd4, 0xc3)), null);
  assert.equal(captureFormatOf(b(0x1f, 0x8b, 0x08, 0x00)), null);
  assert.ok(isGzip(b(0x1f, 0x8b, 0x08, 0x00)));
});

test("file names are reduced to a safe base name", () => {
  assert.equal(safeFileName("capture.pcap", 0), "capture.pcap");
  assert.equal(safeFileName("../../etc/passwd", 0), "passwd");
  assert.equal(safeFileName("C:\\Users\\x\\evil.pcap", 0), "evil.pcap");
  assert.equal(safeFileName("/abs/path/a.pcap", 0), "a.pcap");
  assert.equal(safeFileName("a\u0000b\nc.pcap", 0), "abc.pcap");
  assert.equal(safeFileName("..", 1), "upload-2.pcap");
  assert.equal(safeFileName("", 0), "upload-1.pcap");
  assert.ok(Buffer.byteLength(safeFileName("é".repeat(1000), 0)) <= 200);
});
