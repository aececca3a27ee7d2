// The IRO engine (issue 5 items 3-4): holds the SA table (fed only by the SA event stream),
// the bindings (fed by the signalling roles) and the CoA, and keeps the data path equal to
// deriveRules(current state) with the fewest map operations. Every change goes through one
// sync(): derive, then reconcile.
import type { PolicyInfo, SaEvent, SaInfo, SaKey } from '../ipsec/model.ts';
import { saKeyId } from '../ipsec/model.ts';
import type { RuleEntry } from '../datapath/rules.ts';
import { deriveRules, type CorrespondentBinding, type DerivedRules, type HaBinding, type MnBinding } from './derive.ts';
import type { PeerConfig, Role, StaticClass } from './classify.ts';
import { silentLogger, type Logger } from '../obs/log.ts';

/** What the engine needs from the data path (the real one, or an in-memory one in unit tests). */
export interface RulePort {
  reconcileEntries(desired: Map<string, RuleEntry>): { put: number; deleted: number; unchanged: number };
  setMembers(which: 'hoas' | 'peers', addrs: Iterable<string>): void;
}

export interface EngineOptions {
  role: Role;
  hoas: string[];
  /** other local addresses that may be SA endpoints (the CN's or HA's address) */
  localAddrs: string[];
  peers: PeerConfig[];
  staticClasses?: StaticClass[];
  datapath: RulePort;
  log?: Logger;
}

export interface SyncResult {
  put: number;
  deleted: number;
  unchanged: number;
  alerts: string[];
}

export class IroEngine {
  readonly role: Role;
  private readonly port: RulePort;
  private readonly log: Logger;
  private readonly hoas: Set<string>;
  private readonly local: Set<string>;
  private readonly peers: Map<string, PeerConfig>;
  private readonly staticClasses: StaticClass[];
  private readonly sas = new Map<string, SaInfo>();
  /** static SAs about to be pushed: their rules go in before the SA exists (OP-18 a) */
  private readonly pending = new Map<string, SaInfo>();
  private policies: PolicyInfo[] = [];
  private coa: string | null = null;
  private coaOif = 0;
  private readonly myBindings = new Map<string, MnBinding>();
  private readonly peerBindings = new Map<string, CorrespondentBinding>();
  private readonly haBindings = new Map<string, HaBinding>();
  private last: DerivedRules | null = null;
  private reportedAlerts = new Set<string>();
  private membersKey = '';

  constructor(o: EngineOptions) {
    this.role = o.role;
    this.port = o.datapath;
    this.log = o.log ?? silentLogger;
    this.hoas = new Set(o.hoas);
    this.local = new Set([...o.hoas, ...o.localAddrs]);
    this.peers = new Map(o.peers.map((p) => [p.address, p]));
    this.staticClasses = o.staticClasses ?? [];
  }

  // ---- inputs ---------------------------------------------------------------------------

  /** SA events from the one event stream (the SADB mirror). Soft expiry changes nothing (IRO §6.2.6). */
  onSaEvents(events: readonly SaEvent[]): SyncResult | null {
    let changed = false;
    for (const e of events) {
      switch (e.type) {
        case 'sa-added':
        case 'sa-updated':
          this.sas.set(saKeyId(e.sa.key), e.sa);
          this.pending.delete(saKeyId(e.sa.key));
          changed = true;
          break;
        case 'sa-deleted':
          changed = this.sas.delete(saKeyId(e.sa.key)) || changed;
          break;
        case 'sa-expired':
          if (e.hard) changed = this.sas.delete(saKeyId(e.sa.key)) || changed;
          break;
        case 'spi-allocated': {
          // promiscuous PF_KEY saw a GETSPI reply: a larval SA we can give rules to early (D12)
          const id = saKeyId(e.key);
          if (!this.sas.has(id)) {
            this.sas.set(id, { key: e.key, saddr: e.saddr, mode: 'transport', reqid: 0, state: 'larval', sources: ['pfkey'] });
            changed = true;
          }
          break;
        }
        case 'policy-added':
        case 'policy-updated':
        case 'policy-deleted':
          changed = true;
          break;
        case 'resync-needed':
        case 'acquire':
        case 'migrate':
          break;
      }
    }
    return changed ? this.sync() : null;
  }

  /** Policies matter for classification (reqid correlation, F02). */
  setPolicies(policies: PolicyInfo[]): void {
    this.policies = policies;
  }

  /** Static keying: announce SAs before pushing them, so their rules exist first. */
  expectSas(sas: SaInfo[]): SyncResult {
    for (const sa of sas) if (!this.sas.has(saKeyId(sa.key))) this.pending.set(saKeyId(sa.key), sa);
    return this.sync();
  }

  forgetExpected(keys: SaKey[]): SyncResult {
    for (const k of keys) this.pending.delete(saKeyId(k));
    return this.sync();
  }

  setCoa(coa: string | null, oif: number): SyncResult {
    this.coa = coa;
    this.coaOif = coa ? oif : 0;
    return this.sync();
  }

  setMyBinding(peer: string, b: MnBinding | null): SyncResult {
    if (b) this.myBindings.set(peer, b);
    else this.myBindings.delete(peer);
    return this.sync();
  }

  setPeerBinding(hoa: string, b: CorrespondentBinding | null): SyncResult {
    if (b && (b.acceptedCoa || b.provenCoa)) this.peerBindings.set(hoa, b);
    else this.peerBindings.delete(hoa);
    return this.sync();
  }

  setHaBinding(hoa: string, b: HaBinding | null): SyncResult {
    if (b) this.haBindings.set(hoa, b);
    else this.haBindings.delete(hoa);
    return this.sync();
  }

  // ---- derivation and reconciliation ----------------------------------------------------

  /** The rules the current state calls for (pure). */
  desired(): DerivedRules {
    return deriveRules({
      role: this.role,
      sas: [...this.sas.values(), ...[...this.pending.values()].filter((p) => !this.sas.has(saKeyId(p.key)))],
      ctx: { role: this.role, hoas: this.hoas, local: this.local, peers: this.peers, policies: this.policies, staticClasses: this.staticClasses },
      coa: this.coa,
      coaOif: this.coaOif,
      myBindings: this.myBindings,
      peerBindings: this.peerBindings,
      haBindings: this.haBindings,
    });
  }

  /** Make the data path equal desired(); logs each change and each new alert. */
  sync(): SyncResult {
    const d = this.desired();
    const r = this.port.reconcileEntries(d.entries);
    const mk = `${d.hoas.join(',')}|${d.peers.join(',')}`;
    if (mk !== this.membersKey) {
      this.port.setMembers('hoas', d.hoas);
      this.port.setMembers('peers', d.peers);
      this.membersKey = mk;
    }
    this.last = d;
    for (const a of d.alerts) {
      if (!this.reportedAlerts.has(a)) this.log.warn({ alert: a }, 'IRO rule alert');
    }
    this.reportedAlerts = new Set(d.alerts);
    if (r.put || r.deleted) this.log.info({ put: r.put, deleted: r.deleted, unchanged: r.unchanged, coa: this.coa }, 'rules reconciled');
    return { ...r, alerts: d.alerts };
  }

  // ---- status ---------------------------------------------------------------------------

  /** Every installed entry with the reasons it exists (for `iro-ctl status`). */
  rules(): Array<{ entry: RuleEntry; reasons: string[] }> {
    const d = this.last ?? this.desired();
    return [...d.entries.values()].map((entry) => ({ entry, reasons: d.reasons.get(entry.id) ?? [] }));
  }

  trackedSas(): DerivedRules['tracked'] {
    return (this.last ?? this.desired()).tracked;
  }

  saTable(): SaInfo[] {
    return [...this.sas.values()];
  }

  currentCoa(): string | null {
    return this.coa;
  }
}
