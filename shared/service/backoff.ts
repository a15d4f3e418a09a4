/** Delay before retry `attempt` (0-based): doubling from `baseMs`, capped at `maxMs`, with ±20% jitter. */
export function backoffMs(attempt: number, baseMs = 250, maxMs = 10_000): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
