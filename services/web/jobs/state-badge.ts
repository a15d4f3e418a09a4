import type { FileState, JobState } from "../../cli/api-types.js";
import { h } from "../dom.js";

/** A state as a word with a colour; the word carries the meaning, the colour only helps. */
export function stateBadge(state: JobState | FileState): HTMLElement {
  return h("span", { class: `badge state-${state}` }, state);
}
