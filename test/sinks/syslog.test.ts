import type { SinkFactory } from "../../services/shipper/sinks/sink.js";
import { syslogSinkFactory } from "../../services/shipper/sinks/syslog/syslog-sink.js";
import { startTestRsyslog } from "../helpers/rsyslog.js";
import { sinkConformance } from "./conformance.js";

/**
 * A real rsyslogd over TCP (octet counting, so nothing in a line can split a message). TCP syslog
 * cannot confirm receipt, so lines may repeat after an outage (at-least-once): the suite checks
 * that nothing is missing and the order of first arrivals. "Refused": rsyslog stopped.
 */
sinkConformance({
  name: "syslog",
  factory: syslogSinkFactory as SinkFactory,
  async start() {
    const rsyslog = await startTestRsyslog();
    return {
      options: { target: `tcp://127.0.0.1:${rsyslog.port}`, prefix: "conf_%s", framing: "octet-counting" },
      exactlyOnce: false,
      async received() {
        return (await rsyslog.received()).map((r) => ({ log: r.program.replace(/^conf_/, ""), text: r.msg }));
      },
      outages: { refuse: () => rsyslog.stop(), restore: () => rsyslog.start() },
      stop: () => rsyslog.cleanup(),
    };
  },
});
