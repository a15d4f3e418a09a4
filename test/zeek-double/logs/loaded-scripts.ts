// loaded_scripts.log (policy/misc/loaded-scripts, part of `local`): the
// scripts Zeek loaded at start-up, one per record.

import { defineLog } from "../log-schema.js";
import type { LogSink } from "../log-sink.js";
import { LOADED_SCRIPTS } from "./loaded-scripts-list.js";

export const LOADED_SCRIPTS_LOG = defineLog("loaded_scripts", "name", "string");

export function writeLoadedScripts(sink: LogSink): void {
  for (const name of LOADED_SCRIPTS) sink.write(LOADED_SCRIPTS_LOG, { name });
}
