// Proofs of CoA ownership (IRO §4.5.1: "unlimited lifetime", kept as local policy decides).
// OP-4: no protocol expiry; bounded per MN (LRU) and in all (LRU), and forgotten after an idle
// TTL. Keyed by the MN's HoA, so proofs survive SA rekeys. Map insertion order is the LRU order.
import type { Address } from '../types.ts';

export interface ProofCacheLimits {
  perMn: number;
  total: number;
  idleTtl: number;
}

export interface Eviction {
  hoa: Address;
  coa: Address;
  reason: 'per-mn' | 'total' | 'idle';
}

export class ProofCache {
  /** hoa -> (coa -> last use), least recently used first. */
  private readonly byMn = new Map<Address, Map<Address, number>>();
  /** `${hoa}|${coa}` in global LRU order. */
  private readonly global = new Map<string, { hoa: Address; coa: Address }>();

  constructor(private readonly limits: ProofCacheLimits) {}

  get size(): number {
    return this.global.size;
  }

  /** True if (hoa, coa) is proven and not idle past the TTL; a hit counts as a use. */
  use(hoa: Address, coa: Address, now: number): boolean {
    const m = this.byMn.get(hoa);
    const last = m?.get(coa);
    if (m === undefined || last === undefined) return false;
    if (now - last > this.limits.idleTtl) {
      this.remove(hoa, coa);
      return false;
    }
    this.touch(hoa, coa, now);
    return true;
  }

  /** Without counting as a use (status output, invariants). */
  has(hoa: Address, coa: Address, now: number): boolean {
    const last = this.byMn.get(hoa)?.get(coa);
    return last !== undefined && now - last <= this.limits.idleTtl;
  }

  /** Record a proof; returns what the bounds evicted. */
  record(hoa: Address, coa: Address, now: number): Eviction[] {
    this.touch(hoa, coa, now);
    const evicted: Eviction[] = [];
    const m = this.byMn.get(hoa)!;
    while (m.size > this.limits.perMn) {
      const oldest = m.keys().next().value as Address;
      this.remove(hoa, oldest);
      evicted.push({ hoa, coa: oldest, reason: 'per-mn' });
    }
    while (this.global.size > this.limits.total) {
      const oldest = this.global.values().next().value as { hoa: Address; coa: Address };
      this.remove(oldest.hoa, oldest.coa);
      evicted.push({ ...oldest, reason: 'total' });
    }
    return evicted;
  }

  /** Forget proofs idle past the TTL. */
  sweep(now: number): Eviction[] {
    const evicted: Eviction[] = [];
    for (const [hoa, m] of [...this.byMn]) {
      for (const [coa, last] of [...m]) {
        if (now - last > this.limits.idleTtl) {
          this.remove(hoa, coa);
          evicted.push({ hoa, coa, reason: 'idle' });
        }
      }
    }
    return evicted;
  }

  /** The CoAs proven for `hoa`, least recently used first. */
  list(hoa: Address): Address[] {
    return [...(this.byMn.get(hoa)?.keys() ?? [])];
  }

  /** Drop every proof of one MN (identity revoked, peer removed: OP-4). */
  flush(hoa: Address): number {
    const m = this.byMn.get(hoa);
    if (m === undefined) return 0;
    for (const coa of [...m.keys()]) this.remove(hoa, coa);
    return m.size;
  }

  private touch(hoa: Address, coa: Address, now: number): void {
    let m = this.byMn.get(hoa);
    if (m === undefined) {
      m = new Map();
      this.byMn.set(hoa, m);
    }
    m.delete(coa);
    m.set(coa, now);
    const key = `${hoa}|${coa}`;
    this.global.delete(key);
    this.global.set(key, { hoa, coa });
  }

  private remove(hoa: Address, coa: Address): void {
    const m = this.byMn.get(hoa);
    if (m === undefined) return;
    m.delete(coa);
    if (m.size === 0) this.byMn.delete(hoa);
    this.global.delete(`${hoa}|${coa}`);
  }
}
