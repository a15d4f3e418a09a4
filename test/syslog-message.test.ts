import assert from "node:assert/strict";
import { test } from "node:test";
import { rfc3164Timestamp, syslogHeader, syslogHostname, syslogProgram } from "../shared/syslog/message.js";

test("RFC 3164 header as the seed: <29>, timestamp, tag as HOSTNAME, prefix_type as program", () => {
  const date = new Date(2026, 10, 8, 7, 5, 3);
  const header = syslogHeader({ format: "rfc3164", pri: 29, date, hostname: syslogHostname("case42"), program: syslogProgram("bro25_%s", "http", 32), msgId: "http" });
  assert.equal(header, "<29>Nov  8 07:05:03 case42 bro25_http: ");
  assert.equal(rfc3164Timestamp(new Date(2026, 0, 31, 23, 59, 59)), "Jan 31 23:59:59");
});

test("no tag means HOSTNAME brocapi; a tag can never forge a header", () => {
  assert.equal(syslogHostname(null), "brocapi");
  assert.equal(syslogHostname(""), "brocapi");
  assert.equal(syslogHostname("case 42\n<13>Nov  1 00:00:00 evil x: y"), "case_42__13_Nov__1_00_00_00_evil_x__y");
  assert.equal(syslogHostname("case-7.b_2"), "case-7.b_2");
  // rsyslog reads a HOSTNAME that does not end with a letter or digit as the program name.
  assert.equal(syslogHostname("Fall-Ü-事件-🦈"), "Fall");
  assert.equal(syslogHostname("事件"), "brocapi");
  assert.equal(syslogHostname("incident-é"), "incident");
  assert.equal(syslogHostname("x".repeat(10_000)).length, 255);
  for (const tag of ["a b", "a\tb", "a\r\nb", "a\u0000b"]) assert.doesNotMatch(syslogHostname(tag), /[\s\u0000]/);
});

test("program name: %s replaced, ':' and '[' removed, capped", () => {
  assert.equal(syslogProgram("bro_%s", "conn", 32), "bro_conn");
  assert.equal(syslogProgram("zeek:%s[x]", "dns", 32), "zeek_dns_x_");
  assert.equal(syslogProgram("p_%s", "x".repeat(60), 32).length, 32);
});

test("RFC 5424 header: version 1, RFC 3339 time with microseconds, MSGID = log type", () => {
  const date = new Date(Date.UTC(2026, 10, 28, 8, 38, 5, 123));
  const header = syslogHeader({ format: "rfc5424", pri: 29, date, hostname: "case42", program: "bro_conn", msgId: "conn" });
  assert.equal(header, "<29>1 2026-11-28T08:38:05.123000Z case42 bro_conn - conn - ");
});
