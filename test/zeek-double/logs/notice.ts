// notice.log: the double raises only the notice `local` produces on quiet
// captures, CaptureLoss::Too_Little_Traffic.

import { defineLog } from "../log-schema.js";
import type { LogSink } from "../log-sink.js";

export const NOTICE_LOG = defineLog(
  "notice",
  "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tfuid\tfile_mime_type\tfile_desc\tproto\tnote\tmsg\tsub\tsrc\tdst\tp\tn\tpeer_descr\tactions\temail_dest\tsuppress_for\tremote_location.country_code\tremote_location.region\tremote_location.city\tremote_location.latitude\tremote_location.longitude",
  "time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tenum\tenum\tstring\tstring\taddr\taddr\tport\tcount\tstring\tset[enum]\tset[string]\tinterval\tstring\tstring\tstring\tdouble\tdouble",
);

// Notice::default_suppression_interval.
const SUPPRESS_FOR = 3600;

export function writeTooLittleTraffic(sink: LogSink, ts: number, acks: number, minimumAcks: number): void {
  sink.write(NOTICE_LOG, {
    ts,
    note: "CaptureLoss::Too_Little_Traffic",
    msg: `Only observed ${acks} TCP ACKs and was expecting at least ${minimumAcks}.`,
    actions: ["Notice::ACTION_LOG"],
    email_dest: [],
    suppress_for: SUPPRESS_FOR,
  });
}
