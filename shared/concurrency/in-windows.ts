/**
 * Runs `fn` on every item with at most `window` calls in flight and returns the results in the
 * items' order. A call starts as soon as another ends, so one slow item holds back no others.
 * After a call fails no new one starts; the first failure is thrown once the calls still in
 * flight have settled (nothing is left running behind the caller's back).
 */
export async function inWindows<T, R>(items: readonly T[], window: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const failures: unknown[] = [];
  const lane = async (): Promise<void> => {
    while (failures.length === 0 && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, window), items.length) }, lane));
  if (failures.length > 0) throw failures[0];
  return out;
}
