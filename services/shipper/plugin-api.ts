import { z } from "zod";
import { batchLines } from "../../shared/messages/log-batch.js";

/**
 * What a plugin module is handed when it exports a function rather than a factory: Brocapi's own
 * zod (for its options schema) and helpers, so a plugin in a folder of its own needs no
 * dependencies installed to be loaded (see examples/sinks/).
 */
export const pluginApi = { z, batchLines } as const;
export type PluginApi = typeof pluginApi;
