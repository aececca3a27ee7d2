// Kernel changes triggered by signalling happen one at a time, in order (a tunnel must move
// before the rules that send through it, a binding must not be removed before it was added).
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly onError: (e: Error, what: string) => void) {}

  run(what: string, fn: () => Promise<void> | void): Promise<void> {
    this.pending++;
    const next = this.tail.then(fn).catch((e: Error) => this.onError(e, what));
    this.tail = next.finally(() => {
      this.pending--;
    });
    return this.tail;
  }

  /** Resolves when everything queued so far is done. */
  idle(): Promise<void> {
    return this.tail;
  }

  get size(): number {
    return this.pending;
  }
}
