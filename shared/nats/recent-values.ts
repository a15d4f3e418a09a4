/** A map of at most `max` entries: setting one more forgets the one set longest ago. */
export class RecentValues<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  set(key: string, value: V): void {
    this.values.delete(key);
    this.values.set(key, value);
    if (this.values.size > this.max) this.values.delete(this.values.keys().next().value!);
  }

  forget(key: string): void {
    this.values.delete(key);
  }
}
