/**
 * Bytes that may be in flight at once, shared by everyone holding the budget: each pipelined
 * put keeps its own window, and the budget keeps many concurrent puts together (50 uploads at
 * once) from holding 50 windows. Waiters are served first come, first served.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { bytes: number; go: () => void }[] = [];

  constructor(readonly limit: number) {}

  async take(bytes: number): Promise<void> {
    // One request larger than the whole budget still proceeds, alone.
    if (this.waiting.length === 0 && (this.used + bytes <= this.limit || this.used === 0)) {
      this.used += bytes;
      return;
    }
    await new Promise<void>((go) => this.waiting.push({ bytes, go }));
  }

  give(bytes: number): void {
    this.used -= bytes;
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (this.used + next.bytes > this.limit && this.used > 0) return;
      this.waiting.shift();
      this.used += next.bytes;
      next.go();
    }
  }
}
