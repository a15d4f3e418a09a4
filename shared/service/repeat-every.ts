import type { RunningService } from "./context.js";

/**
 * Runs `round` every `everyMs`, the first `everyMs` after the start, one round at a time (the
 * pause counts from a round's end, so a slow round never overlaps the next). A round that throws
 * goes to `failed` and the next comes as usual. `stop` ends the pause at once and waits for a
 * round in progress.
 */
export function repeatEvery(everyMs: number, round: () => Promise<void>, failed: (err: Error) => void): RunningService {
  let stopping = false;
  let wake = (): void => undefined;
  const loop = (async () => {
    while (!stopping) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, everyMs);
        wake = () => (clearTimeout(timer), resolve());
      });
      if (stopping) break;
      try {
        await round();
      } catch (err) {
        failed(err as Error);
      }
    }
  })();
  return {
    async stop() {
      stopping = true;
      wake();
      await loop;
    },
  };
}
