// A sliding one-second window of send times: RFC 6275 §11.8 MAX_UPDATE_RATE ("MUST NOT send
// Binding Updates more often than MAX_UPDATE_RATE times within a second to any node").

export class RateWindow {
  private readonly times: number[] = [];

  constructor(
    private readonly max: number,
    private readonly windowMs = 1000,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`rate window: max must be an integer >= 1, got ${max}`);
  }

  /** 0 when a send is allowed at `now`, else how long to wait. */
  delay(now: number): number {
    while (this.times.length > 0 && now - this.times[0]! >= this.windowMs) this.times.shift();
    if (this.times.length < this.max) return 0;
    return this.times[0]! + this.windowMs - now;
  }

  record(now: number): void {
    this.times.push(now);
    if (this.times.length > this.max) this.times.shift();
  }
}
