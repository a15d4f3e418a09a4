// Connection uids as Zeek makes them: "C" followed by a random 64-bit and a
// random 32-bit number, each in unpadded base62 (so lengths vary, 17-18 typical).

import { randomBytes } from "node:crypto";

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function base62(value: bigint): string {
  let out = "";
  let v = value;
  do {
    out = DIGITS[Number(v % 62n)] + out;
    v /= 62n;
  } while (v > 0n);
  return out;
}

const UID_BYTES = 12;
// Random bytes are fetched in batches: one system call per uid is the slow part.
const BATCH = UID_BYTES * 4096;
let pool = Buffer.alloc(0);
let used = 0;

export function connectionUid(): string {
  if (used + UID_BYTES > pool.length) {
    pool = randomBytes(BATCH);
    used = 0;
  }
  const uid = `C${base62(pool.readBigUInt64BE(used))}${base62(BigInt(pool.readUInt32BE(used + 8)))}`;
  used += UID_BYTES;
  return uid;
}
