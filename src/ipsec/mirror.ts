// The SADB mirror (issue 3 item 4): iro-ctl's copy of the kernel's SAs and policies, built by
// an initial dump and kept by events from XFRM and/or PF_KEY. Both back-ends describe the same
// kernel state, so every change is applied idempotently and only real changes go downstream:
// that is the de-duplication when both run. XFRM knows more (selector, direction, marks), so
// PF_KEY never erases what XFRM said.
import { saKeyId, type PolicyInfo, type SaEvent, type SaInfo, type SaKey, type SaSource } from './model.ts';

export type BackendChange =
  | { kind: 'sa-upsert'; sa: SaInfo; source: SaSource }
  | { kind: 'sa-remove'; key: SaKey; source: SaSource }
  | { kind: 'sa-expire'; key: SaKey; hard: boolean; source: SaSource; sa?: SaInfo }
  | { kind: 'policy-upsert'; policy: PolicyInfo; source: SaSource }
  | { kind: 'policy-remove'; policy: PolicyInfo; source: SaSource }
  | { kind: 'spi-allocated'; key: SaKey; saddr: string; source: SaSource }
  | { kind: 'acquire'; event: Extract<SaEvent, { type: 'acquire' }> }
  | { kind: 'migrate'; event: Extract<SaEvent, { type: 'migrate' }> };

export function policyId(p: Pick<PolicyInfo, 'dir' | 'selector' | 'index'>): string {
  const s = p.selector;
  return `${p.dir}/${s.src}/${s.srcLen}/${s.dst}/${s.dstLen}/${s.proto}/${s.type ?? ''}`;
}

function sameSa(a: SaInfo, b: SaInfo): boolean {
  const strip = (s: SaInfo) => ({ ...s, sources: [] as SaSource[] });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** Merge what a back-end reports into what we know: fields only XFRM has are kept. */
function merge(cur: SaInfo | undefined, next: SaInfo): SaInfo {
  const sources = [...new Set([...(cur?.sources ?? []), ...next.sources])].sort();
  if (!cur) return { ...next, sources };
  const m: SaInfo = { ...cur, ...next, sources };
  if (!next.selector && cur.selector) m.selector = cur.selector;
  if (!next.dir && cur.dir) m.dir = cur.dir;
  if (!next.mark && cur.mark) m.mark = cur.mark;
  if (next.ifId === undefined && cur.ifId !== undefined) m.ifId = cur.ifId;
  return m;
}

export class SadbMirror {
  private readonly sas = new Map<string, SaInfo>();
  private readonly softExpired = new Set<string>();
  /** SAs gone by a hard expiry, so the other back-end's report of the same expiry is a duplicate */
  private readonly hardExpired = new Set<string>();
  private readonly policies = new Map<string, PolicyInfo>();

  get size(): number {
    return this.sas.size;
  }

  allSas(): SaInfo[] {
    return [...this.sas.values()];
  }

  allPolicies(): PolicyInfo[] {
    return [...this.policies.values()];
  }

  get(key: SaKey): SaInfo | undefined {
    return this.sas.get(saKeyId(key));
  }

  /** Apply one back-end change; returns the downstream events (none for a duplicate). */
  apply(c: BackendChange): SaEvent[] {
    switch (c.kind) {
      case 'sa-upsert': {
        const id = saKeyId(c.sa.key);
        const cur = this.sas.get(id);
        this.hardExpired.delete(id);
        const next = merge(cur, { ...c.sa, sources: [c.source] });
        this.sas.set(id, next);
        if (!cur) return [{ type: 'sa-added', sa: next }];
        return sameSa(cur, next) ? [] : [{ type: 'sa-updated', sa: next, previous: cur }];
      }
      case 'sa-remove': {
        const id = saKeyId(c.key);
        const cur = this.sas.get(id);
        if (!cur) return [];
        this.sas.delete(id);
        this.softExpired.delete(id);
        return [{ type: 'sa-deleted', sa: cur }];
      }
      case 'sa-expire': {
        const id = saKeyId(c.key);
        const cur = this.sas.get(id) ?? c.sa;
        if (!cur) return [];
        if (c.hard) {
          // the kernel deletes a hard-expired SA without a separate delete notification
          const had = this.sas.delete(id);
          this.softExpired.delete(id);
          if (!had && (!c.sa || this.hardExpired.has(id))) return [];
          this.rememberHardExpired(id);
          return [{ type: 'sa-expired', sa: cur, hard: true }];
        }
        if (this.softExpired.has(id) || !this.sas.has(id)) return [];
        this.softExpired.add(id);
        return [{ type: 'sa-expired', sa: cur, hard: false }];
      }
      case 'policy-upsert': {
        const id = policyId(c.policy);
        const cur = this.policies.get(id);
        this.policies.set(id, c.policy);
        if (!cur) return [{ type: 'policy-added', policy: c.policy }];
        return JSON.stringify(cur) === JSON.stringify(c.policy) ? [] : [{ type: 'policy-updated', policy: c.policy }];
      }
      case 'policy-remove': {
        const id = policyId(c.policy);
        const cur = this.policies.get(id);
        if (!cur) return [];
        this.policies.delete(id);
        return [{ type: 'policy-deleted', policy: cur }];
      }
      case 'spi-allocated': {
        // a larval SA seen through promiscuous PF_KEY (OP-18 b): known before it is used
        const id = saKeyId(c.key);
        if (this.sas.has(id)) return [];
        return [{ type: 'spi-allocated', key: c.key, saddr: c.saddr }];
      }
      case 'acquire':
      case 'migrate':
        return [c.event];
    }
  }

  private rememberHardExpired(id: string): void {
    this.hardExpired.add(id);
    // SPIs are not reused soon; a bounded memory is enough to catch the other back-end's report
    if (this.hardExpired.size > 4096) this.hardExpired.delete(this.hardExpired.values().next().value!);
  }

  applyAll(changes: readonly BackendChange[]): SaEvent[] {
    return changes.flatMap((c) => this.apply(c));
  }

  /**
   * Replace the whole picture by a fresh dump (startup collect, resync after ENOBUFS): the
   * events are the difference, so a resync converges to the same state as event learning.
   */
  replace(snapshot: { sas: SaInfo[]; policies?: PolicyInfo[] }, source: SaSource): SaEvent[] {
    const events: SaEvent[] = [];
    const seen = new Set<string>();
    for (const sa of snapshot.sas) {
      seen.add(saKeyId(sa.key));
      events.push(...this.apply({ kind: 'sa-upsert', sa, source }));
    }
    for (const [id, sa] of [...this.sas]) {
      if (!seen.has(id)) events.push(...this.apply({ kind: 'sa-remove', key: sa.key, source }));
    }
    if (snapshot.policies) {
      const pseen = new Set<string>();
      for (const p of snapshot.policies) {
        pseen.add(policyId(p));
        events.push(...this.apply({ kind: 'policy-upsert', policy: p, source }));
      }
      for (const [id, p] of [...this.policies]) if (!pseen.has(id)) events.push(...this.apply({ kind: 'policy-remove', policy: p, source }));
    }
    return events;
  }
}
