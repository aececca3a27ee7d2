// One scheduler for every timer of a node: timers are named by string keys ("mn:bu:<peer>",
// "cn:test:<hoa>|<coa>" ...), setting a key again reschedules it, cancelling forgets it. Pure data:
// the shell (or the fake clock in tests) asks for the next deadline and feeds due keys back to
// the roles as `timer` events. A binary heap with lazy deletion keeps set/cancel/pop O(log n),
// which matters for an HA with a lifetime timer per binding.

interface HeapItem {
  at: number;
  /** Insertion order: timers due at the same instant fire in the order they were set. */
  order: number;
  key: string;
}

export class TimerScheduler {
  private readonly live = new Map<string, HeapItem>();
  private heap: HeapItem[] = [];
  private order = 0;

  /** Schedule `key` at time `at` (ms), replacing any earlier schedule of the same key. */
  set(key: string, at: number): void {
    if (typeof key !== 'string' || key.length === 0) throw new Error('timer key must be a non-empty string');
    if (!Number.isFinite(at)) throw new RangeError(`timer "${key}": deadline must be a finite number, got ${at}`);
    const item: HeapItem = { at, order: this.order++, key };
    this.live.set(key, item);
    this.push(item);
    this.compactIfStale();
  }

  /** Forget `key`; true if it was scheduled. */
  cancel(key: string): boolean {
    return this.live.delete(key);
  }

  has(key: string): boolean {
    return this.live.has(key);
  }

  /** The deadline of `key`, if scheduled. */
  deadline(key: string): number | undefined {
    return this.live.get(key)?.at;
  }

  get size(): number {
    return this.live.size;
  }

  /** Scheduled keys (optionally only those starting with `prefix`), in no particular order. */
  keys(prefix = ''): string[] {
    const out: string[] = [];
    for (const k of this.live.keys()) if (k.startsWith(prefix)) out.push(k);
    return out;
  }

  /** The earliest deadline, or undefined when nothing is scheduled. */
  next(): number | undefined {
    this.dropStaleTop();
    return this.heap[0]?.at;
  }

  /**
   * Remove and return the earliest timer if it is due at `now`, else undefined. Popping one at a
   * time lets a handler cancel or reschedule timers that are due at the same instant.
   */
  popDue(now: number): { key: string; at: number } | undefined {
    this.dropStaleTop();
    const top = this.heap[0];
    if (top === undefined || top.at > now) return undefined;
    this.pop();
    this.live.delete(top.key);
    return { key: top.key, at: top.at };
  }

  private isLive(item: HeapItem): boolean {
    return this.live.get(item.key) === item;
  }

  private dropStaleTop(): void {
    while (this.heap.length > 0 && !this.isLive(this.heap[0]!)) this.pop();
  }

  private compactIfStale(): void {
    if (this.heap.length > 64 && this.heap.length > 4 * this.live.size) {
      this.heap = [...this.live.values()];
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
    }
  }

  private less(a: HeapItem, b: HeapItem): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private push(item: HeapItem): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
