// conn.log: one record per connection when it is removed, filled in the way
// base/protocols/conn/main.zeek does.

import type { Flow } from "../flow-table.js";
import { defineLog, type LogRecord } from "../log-schema.js";
import { tcpConnState } from "../tcp.js";

export const CONN_LOG = defineLog(
  "conn",
  "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto",
  "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount",
);

function connState(flow: Flow): string {
  if (flow.tcp !== undefined) {
    return tcpConnState(flow.tcp.orig.state, flow.tcp.resp.state, flow.origSize, flow.respSize, flow.history);
  }
  if (flow.transport !== "udp") return "OTH";
  if (flow.origPkts > 0) return flow.respPkts > 0 ? "SF" : "S0";
  return flow.respPkts > 0 ? "SHR" : "OTH";
}

export function connRecord(flow: Flow): LogRecord {
  const duration = flow.last - flow.start;
  // Zeek only fills duration and sizes for connections that lasted some time.
  const timed = duration > 0;
  return {
    ts: flow.start,
    uid: flow.uid,
    "id.orig_h": flow.origH,
    "id.orig_p": flow.origP,
    "id.resp_h": flow.respH,
    "id.resp_p": flow.respP,
    proto: flow.transport,
    service: flow.service,
    duration: timed ? duration : undefined,
    orig_bytes: timed ? flow.origSize : undefined,
    resp_bytes: timed ? flow.respSize : undefined,
    conn_state: connState(flow),
    local_orig: flow.origLocal,
    local_resp: flow.respLocal,
    missed_bytes: flow.missedBytes,
    history: flow.history === "" ? undefined : flow.history,
    orig_pkts: flow.origPkts,
    orig_ip_bytes: flow.origIpBytes,
    resp_pkts: flow.respPkts,
    resp_ip_bytes: flow.respIpBytes,
    ip_proto: flow.ipProto,
  };
}
