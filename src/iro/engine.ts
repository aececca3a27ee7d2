// The IRO engine (issue 5 items 3-4): holds the SA table (fed only by the SA event stream),
// the bindings (fed by the signalling roles) and the CoA, and keeps the data path equal to
// deriveRules(current state) with the fewest map operations. Every change goes through one
// sync(): derive, then reconcile.
//
// Incrementally: rules are derived per map key ("bucket", see derive.ts), each input marks the
// buckets it can affect (an SA: its own; a binding: those of SAs with that peer; the CoA or the
// policies: all), sync() re-derives only those and writes only the entries whose encoded value
// changed, against what this engine installed last. Only the first sync (and resync()) compares
// with the map itself, so a restart adopting pinned maps still corrects only the difference
// (L05), and a binding refresh at an HA with 100k MNs costs two bucket derivations, not 200k.
import type { PolicyInfo, SaEvent, SaInfo, SaKey } from '../ipsec/model.ts';
import { saKeyId } from '../ipsec/model.ts';
import { policyId } from '../ipsec/mirror.ts';
import { sameEntryValue, type RuleEntry } from '../datapath/rules.ts';
import {
  compareSaIds,
  deriveBucket,
  deriveRules,
  ruleBucketOf,
  type BucketMember,
  type CorrespondentBinding,
  type DerivedRules,
  type HaBinding,
  type MnBinding,
  type RuleInput,
  type TrackedSa,
} from './derive.ts';
import { classifySa, inferDirection, type ClassifyContext, type PeerConfig, type Role, type StaticClass } from './classify.ts';
import { silentLogger, type Logger } from '../obs/log.ts';

/** What the engine needs from the data path (the real one, or an in-memory one in unit tests). */
export interface RulePort {
  /** Make the map equal `desired`, comparing with what it holds (first sync, resync). */
  reconcileEntries(desired: Map<string, RuleEntry>): { put: number; deleted: number; unchanged: number };
  /**
   * Write exactly these entries and delete those keys (the engine knows the difference). Without
   * it every sync is a full reconcileEntries.
   */
  applyEntries?(put: readonly RuleEntry[], remove: readonly RuleEntry[]): { put: number; deleted: number };
  setMembers(which: 'hoas' | 'peers', addrs: Iterable<string>): void;
  /** MN away from home: the data path drops anything leaving a foreign link from a HoA */
  setHoaGuard?(on: boolean): void;
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

/** What sync() returns inside batch(): nothing was done yet. */
const HELD: SyncResult = Object.freeze({ put: 0, deleted: 0, unchanged: 0, alerts: [] });

/** One SA the rules are derived from (the kernel's, else the announced static one). */
interface SaRecord extends BucketMember {
  /** its map key, null when no end is local (then it has no rules) */
  bucket: string | null;
  /** the peer end (whose bindings its rules read), null with the bucket */
  remote: string | null;
  alerts: string[] | undefined;
}

/** One map key: the SAs whose rules live there (sorted by id) and what is installed for it. */
interface Bucket {
  members: SaRecord[];
  entry: RuleEntry | undefined;
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
  /** by mirror policyId; kept from policy events (or setPolicies) for reqid correlation (F02) */
  private readonly policies = new Map<string, PolicyInfo>();
  private coa: string | null = null;
  private coaOif = 0;
  private readonly myBindings = new Map<string, MnBinding>();
  private readonly peerBindings = new Map<string, CorrespondentBinding>();
  private readonly haBindings = new Map<string, HaBinding>();
  private reportedAlerts = new Set<string>();
  /** inside batch(): inputs change state, the one reconcile comes at the end */
  private holding = 0;
  /** the effective SAs (kernel, else pending) by saKeyId, classified */
  private readonly records = new Map<string, SaRecord>();
  private readonly buckets = new Map<string, Bucket>();
  /** SAs by their peer end, for binding changes */
  private readonly byRemote = new Map<string, SaRecord[]>();
  /** buckets to re-derive at the next sync */
  private readonly dirty = new Set<string>();
  private allDirty = false;
  /** policies changed: classify every SA again */
  private reclassify = false;
  /** the next sync compares with the map itself (first sync, resync, after a failed write) */
  private fullPush = true;
  private entryCount = 0;
  /** SAs with alerts (usually none), and the ordered list they make */
  private readonly alerting = new Set<string>();
  private alertList: string[] = [];
  private alertsDirty = false;
  private trackedCache: TrackedSa[] | null = null;
  private hoaGuard: boolean | null = null;
  /** the classification context; rebuilt after a policy change */
  private ctx: ClassifyContext | null = null;

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
        case 'sa-updated': {
          const id = saKeyId(e.sa.key);
          this.sas.set(id, e.sa);
          this.pending.delete(id);
          this.touch(id);
          changed = true;
          break;
        }
        case 'sa-deleted':
        case 'sa-expired': {
          if (e.type === 'sa-expired' && !e.hard) break;
          const id = saKeyId(e.sa.key);
          if (this.sas.delete(id)) {
            this.touch(id);
            changed = true;
          }
          break;
        }
        case 'spi-allocated': {
          // promiscuous PF_KEY saw a GETSPI reply: a larval SA we can give rules to early (D12)
          const id = saKeyId(e.key);
          if (!this.sas.has(id)) {
            this.sas.set(id, { key: e.key, saddr: e.saddr, mode: 'transport', reqid: 0, state: 'larval', sources: ['pfkey'] });
            this.touch(id);
            changed = true;
          }
          break;
        }
        case 'policy-added':
        case 'policy-updated':
          this.policies.set(policyId(e.policy), e.policy);
          this.reclassify = true;
          this.ctx = null;
          changed = true;
          break;
        case 'policy-deleted':
          if (this.policies.delete(policyId(e.policy))) {
            this.reclassify = true;
            this.ctx = null;
            changed = true;
          }
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
    this.policies.clear();
    for (const p of policies) this.policies.set(policyId(p), p);
    this.reclassify = true;
    this.ctx = null;
  }

  /** Static keying: announce SAs before pushing them, so their rules exist first. */
  expectSas(sas: SaInfo[]): SyncResult {
    for (const sa of sas) {
      const id = saKeyId(sa.key);
      if (this.sas.has(id)) continue;
      this.pending.set(id, sa);
      this.touch(id);
    }
    return this.sync();
  }

  forgetExpected(keys: SaKey[]): SyncResult {
    for (const k of keys) {
      const id = saKeyId(k);
      if (this.pending.delete(id)) this.touch(id);
    }
    return this.sync();
  }

  setCoa(coa: string | null, oif: number): SyncResult {
    const o = coa ? oif : 0;
    if (coa !== this.coa || o !== this.coaOif) this.allDirty = true;
    this.coa = coa;
    this.coaOif = o;
    return this.sync();
  }

  setMyBinding(peer: string, b: MnBinding | null): SyncResult {
    if (b) this.myBindings.set(peer, b);
    else this.myBindings.delete(peer);
    this.touchPeer(peer);
    return this.sync();
  }

  setPeerBinding(hoa: string, b: CorrespondentBinding | null): SyncResult {
    if (b && (b.acceptedCoa || b.provenCoa)) this.peerBindings.set(hoa, b);
    else this.peerBindings.delete(hoa);
    this.touchPeer(hoa);
    return this.sync();
  }

  setHaBinding(hoa: string, b: HaBinding | null): SyncResult {
    if (b) this.haBindings.set(hoa, b);
    else this.haBindings.delete(hoa);
    this.touchPeer(hoa);
    return this.sync();
  }

  // ---- the incremental index ---------------------------------------------------------------

  private classifyContext(): ClassifyContext {
    return (this.ctx ??= { role: this.role, hoas: this.hoas, local: this.local, peers: this.peers, policies: [...this.policies.values()], staticClasses: this.staticClasses });
  }

  /** The effective SA of `id` may have changed: re-file it (its old and new buckets get re-derived). */
  private touch(id: string): void {
    const sa = this.sas.get(id) ?? this.pending.get(id);
    const rec = this.records.get(id);
    if (rec?.sa === sa) return;
    if (rec) this.unfile(rec);
    if (sa) this.file(id, sa);
    this.trackedCache = null;
  }

  private file(id: string, sa: SaInfo): void {
    const dir = inferDirection(sa, this.local);
    const bucket = ruleBucketOf(sa, this.local);
    const remote = dir === undefined ? null : dir === 'in' ? sa.saddr : sa.key.daddr;
    const cls = classifySa(sa, this.classifyContext());
    const rec: SaRecord = { id, sa, cls, bucket, remote, alerts: undefined };
    this.records.set(id, rec);
    if (cls.alert && bucket === null) this.setAlerts(rec, [cls.alert]);
    if (bucket === null || remote === null) return;
    let b = this.buckets.get(bucket);
    if (!b) this.buckets.set(bucket, (b = { members: [], entry: undefined }));
    let i = b.members.length;
    while (i > 0 && compareSaIds(b.members[i - 1]!.id, id) > 0) i--;
    b.members.splice(i, 0, rec);
    const peers = this.byRemote.get(remote);
    if (peers) peers.push(rec);
    else this.byRemote.set(remote, [rec]);
    this.dirty.add(bucket);
  }

  private unfile(rec: SaRecord): void {
    this.records.delete(rec.id);
    this.setAlerts(rec, undefined);
    if (rec.bucket === null || rec.remote === null) return;
    const b = this.buckets.get(rec.bucket)!;
    b.members.splice(b.members.indexOf(rec), 1);
    const peers = this.byRemote.get(rec.remote)!;
    peers.splice(peers.indexOf(rec), 1);
    if (!peers.length) this.byRemote.delete(rec.remote);
    this.dirty.add(rec.bucket);
  }

  private touchPeer(addr: string): void {
    if (this.allDirty) return;
    for (const rec of this.byRemote.get(addr) ?? []) this.dirty.add(rec.bucket!);
  }

  private setAlerts(rec: SaRecord, alerts: string[] | undefined): void {
    if (rec.alerts === undefined && alerts === undefined) return;
    rec.alerts = alerts;
    if (alerts) this.alerting.add(rec.id);
    else this.alerting.delete(rec.id);
    this.alertsDirty = true;
  }

  // ---- derivation and reconciliation ----------------------------------------------------

  /** The rules the current state calls for (pure). */
  desired(): DerivedRules {
    return deriveRules({
      role: this.role,
      sas: [...this.sas.values(), ...[...this.pending.values()].filter((p) => !this.sas.has(saKeyId(p.key)))],
      ctx: { role: this.role, hoas: this.hoas, local: this.local, peers: this.peers, policies: [...this.policies.values()], staticClasses: this.staticClasses },
      coa: this.coa,
      coaOif: this.coaOif,
      myBindings: this.myBindings,
      peerBindings: this.peerBindings,
      haBindings: this.haBindings,
    });
  }

  /**
   * Several inputs, one reconcile: the data path sees only the end state. A restart hands the
   * adopted maps its whole first picture (SA collect, CoA, bindings) at once, so rules that are
   * still right are left alone instead of being deleted by a partial intermediate state (L05).
   */
  batch(fn: () => void): SyncResult {
    this.holding++;
    try {
      fn();
    } finally {
      this.holding--;
    }
    return this.holding ? HELD : this.sync();
  }

  /**
   * Make the data path equal desired(): re-derive the buckets the inputs since the last sync
   * touched and write the entries that changed (the whole map is compared only on the first
   * sync and after resync()). Logs each change and each new alert.
   */
  sync(): SyncResult {
    if (this.holding) return HELD;
    const { put, remove } = this.rederive();
    let r: { put: number; deleted: number; unchanged: number };
    const full = this.fullPush || !this.port.applyEntries;
    // a write that throws leaves fullPush set: the next sync compares with the whole map
    if (full) {
      this.fullPush = true;
      r = this.port.reconcileEntries(this.entries());
      this.fullPush = false;
    } else if (put.length || remove.length) {
      this.fullPush = true;
      const w = this.port.applyEntries!(put, remove);
      this.fullPush = false;
      r = { put: w.put, deleted: w.deleted, unchanged: this.entryCount - put.length };
    } else {
      r = { put: 0, deleted: 0, unchanged: this.entryCount };
    }
    if (full) {
      // the membership sets follow the configuration only: written with every full comparison
      const hoas = this.role === 'mn' ? [...this.hoas].sort() : [];
      const peers = this.role === 'mn' ? [...this.peers.values()].filter((p) => p.mode === 'iro').map((p) => p.address).sort() : [];
      this.port.setMembers('hoas', hoas);
      this.port.setMembers('peers', peers);
    }
    const guard = this.role === 'mn' && this.coa !== null;
    if (guard !== this.hoaGuard || full) {
      this.port.setHoaGuard?.(guard);
      this.hoaGuard = guard;
    }
    const alerts = this.alerts();
    for (const a of alerts) {
      if (!this.reportedAlerts.has(a)) this.log.warn({ alert: a }, 'IRO rule alert');
    }
    if (this.alertsDirty) this.reportedAlerts = new Set(alerts);
    this.alertsDirty = false;
    if (r.put || r.deleted) this.log.info({ put: r.put, deleted: r.deleted, unchanged: r.unchanged, coa: this.coa }, 'rules reconciled');
    return { ...r, alerts };
  }

  /** Compare the whole map with the current rules and correct it (e.g. after something else wrote to it). */
  resync(): SyncResult {
    this.fullPush = true;
    return this.sync();
  }

  /** Re-derive the dirty buckets; the entries whose encoded value changed, and the keys to delete. */
  private rederive(): { put: RuleEntry[]; remove: RuleEntry[] } {
    if (this.reclassify) {
      const ctx = this.classifyContext();
      for (const rec of this.records.values()) {
        rec.cls = classifySa(rec.sa, ctx);
        if (rec.bucket === null) this.setAlerts(rec, rec.cls.alert ? [rec.cls.alert] : undefined);
      }
      this.reclassify = false;
      this.allDirty = true;
      this.trackedCache = null;
    }
    const input = this.ruleInput();
    const out = { put: [] as RuleEntry[], remove: [] as RuleEntry[] };
    if (this.allDirty) this.buckets.forEach((b, id) => this.rederiveBucket(id, b, input, out)); // (forEach: no [id, b] pair per bucket)
    else {
      for (const id of this.dirty) {
        const b = this.buckets.get(id);
        if (b) this.rederiveBucket(id, b, input, out);
      }
    }
    this.dirty.clear();
    this.allDirty = false;
    return out;
  }

  private rederiveBucket(id: string, b: Bucket, input: RuleInput, out: { put: RuleEntry[]; remove: RuleEntry[] }): void {
    const old = b.entry;
    if (!b.members.length) {
      if (old) {
        out.remove.push(old);
        this.entryCount--;
      }
      this.buckets.delete(id);
      return;
    }
    const r = deriveBucket(id, b.members, input, false);
    for (let i = 0; i < b.members.length; i++) this.setAlerts(b.members[i]!, r.alerts?.[i]);
    b.entry = r.entry;
    if (r.entry) {
      if (!old) {
        out.put.push(r.entry);
        this.entryCount++;
      } else if (!sameEntryValue(old, r.entry)) out.put.push(r.entry);
    } else if (old) {
      out.remove.push(old);
      this.entryCount--;
    }
  }

  private ruleInput(): RuleInput {
    return { role: this.role, coa: this.coa, coaOif: this.coaOif, myBindings: this.myBindings, peerBindings: this.peerBindings, haBindings: this.haBindings };
  }

  /** The current rule entries by id (what the map holds after a successful sync). */
  private entries(): Map<string, RuleEntry> {
    const m = new Map<string, RuleEntry>();
    for (const [id, b] of this.buckets) if (b.entry) m.set(id, b.entry);
    return m;
  }

  private alerts(): string[] {
    if (this.alertsDirty) this.alertList = [...this.alerting].sort(compareSaIds).flatMap((id) => this.records.get(id)?.alerts ?? []);
    return this.alertList;
  }

  // ---- status ---------------------------------------------------------------------------

  /** Every installed entry with the reasons it exists (for `iro-ctl status`; the reasons are derived on demand). */
  rules(): Array<{ entry: RuleEntry; reasons: string[] }> {
    const input = this.ruleInput();
    const out: Array<{ entry: RuleEntry; reasons: string[] }> = [];
    for (const [id, b] of this.buckets) if (b.entry) out.push({ entry: b.entry, reasons: deriveBucket(id, b.members, input, true).reasons });
    return out;
  }

  /** The IRO-tracked SAs, sorted by SA id (after a policy change: as classified at the last sync). */
  trackedSas(): TrackedSa[] {
    if (!this.trackedCache) {
      const recs = [...this.records.values()].filter((r) => r.cls.cls !== 'untracked').sort((a, b) => compareSaIds(a.id, b.id));
      this.trackedCache = recs.map((r) => ({ sa: r.sa, cls: r.cls }));
    }
    return this.trackedCache;
  }

  /** The tracked SAs whose far end is `remote` (an index lookup, for per-packet callers). */
  trackedWith(remote: string): TrackedSa[] {
    return (this.byRemote.get(remote) ?? []).filter((r) => r.cls.cls !== 'untracked').map((r) => ({ sa: r.sa, cls: r.cls }));
  }

  saTable(): SaInfo[] {
    return [...this.sas.values()];
  }

  currentCoa(): string | null {
    return this.coa;
  }
}
