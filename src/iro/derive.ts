// Rule derivation as a pure function (issue 5 item 2): from the SA table, the node's role, its
// addresses, peers and bindings to the complete set of rule entries the data path must hold,
// each with the reasons it exists. IRO §3.2 (pre-binding MH rules), §3.6 (post-binding data
// rules), §4.5.1 + E1 (the CN accepts from a CoA at BU time, sends to it only after proof),
// §7 + OP-21 (HA and MPD), OP-6 (keep sending to the old proven CoA until the new one is proven).
//
// Every rule of an SA lives under one map key, its "bucket" (ruleBucketOf): an outgoing SA owns
// its key alone, incoming SAs share one only on an SPI collision. The whole derivation is the
// union of independent per-bucket derivations (deriveBucket), which is what lets the engine
// re-derive only the buckets a change touches and still equal deriveRules(current state).
import type { SaInfo } from '../ipsec/model.ts';
import { saKeyId } from '../ipsec/model.ts';
import { addRule, RuleError, type RemapRule, type RemapValue, type RuleEntry } from '../datapath/rules.ts';
import { classifySa, inferDirection, type Classification, type ClassifyContext, type Role } from './classify.ts';

export interface MnBinding {
  /** the CoA registered (or being registered) at this peer */
  coa: string;
  state: 'none' | 'bu-sent' | 'effective';
}

export interface CorrespondentBinding {
  /** incoming data from this CoA is accepted (set when a BU is accepted, H02) */
  acceptedCoa?: string;
  /** outgoing data goes to this CoA (only after proof and the status-0 BA, H04/H11) */
  provenCoa?: string;
}

export interface HaBinding {
  coa: string;
}

/** What the rules of an already classified SA depend on besides the SA itself. */
export interface RuleInput {
  role: Role;
  /** MN: current primary CoA (null at home or without connectivity) */
  coa: string | null;
  /** MN: interface owning the CoA, the redirect target from the tunnel device (0 = none) */
  coaOif: number;
  /** MN role: our bindings at each peer (keyed by the peer's SA address) */
  myBindings: ReadonlyMap<string, MnBinding>;
  /** CN role (also an MN acting as correspondent of a peer MN): bindings of peers at us, by HoA */
  peerBindings: ReadonlyMap<string, CorrespondentBinding>;
  /** HA role: binding cache by HoA */
  haBindings: ReadonlyMap<string, HaBinding>;
}

export interface DeriveInput extends RuleInput {
  sas: readonly SaInfo[];
  ctx: ClassifyContext;
}

export interface TrackedSa {
  sa: SaInfo;
  cls: Classification;
}

export interface DerivedRules {
  entries: Map<string, RuleEntry>;
  reasons: Map<string, string[]>;
  alerts: string[];
  tracked: TrackedSa[];
  /** membership sets for the fail-closed miss path (OP-18) */
  hoas: string[];
  peers: string[];
}

/** One SA of a bucket, classified. */
export interface BucketMember {
  /** saKeyId(sa.key) */
  id: string;
  sa: SaInfo;
  cls: Classification;
}

export interface BucketRules {
  /** the bucket's map entry, if it needs one */
  entry: RuleEntry | undefined;
  /** why the entry exists (empty without an entry, or when not asked for) */
  reasons: string[];
  /** per member (same order): classification and rule-refusal alerts; undefined when no member has any */
  alerts: Array<string[] | undefined> | undefined;
}

/** The one order SAs are processed in (it decides which rule wins an SPI collision): code points, not locale. */
export function compareSaIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The map key (rule entry id) every rule of this SA is filed under, or null when no end of it is
 * local (then it has no rules): "out/<proto>/<spi>/<daddr>" or "in/<proto>/<spi>" (ruleKeyId).
 */
export function ruleBucketOf(sa: SaInfo, local: ReadonlySet<string>): string | null {
  const dir = inferDirection(sa, local);
  if (!dir) return null;
  return dir === 'out' ? `out/${sa.key.proto}/${sa.key.spi >>> 0}/${sa.key.daddr}` : `in/${sa.key.proto}/${sa.key.spi >>> 0}`;
}

/** Receives the rules of one SA (an object, not a closure per SA: this runs for every SA on a CoA change). */
interface RuleSink {
  emit(field: 'src' | 'dst', expected: string, remap: RemapValue, peer: string | undefined, recordAncillary: boolean, why: string): void;
}

/** The rules one classified SA asks for (may be none), handed to `sink`. */
function rulesFor(c: Classification, input: RuleInput, sink: RuleSink): void {
  const dir = c.dir!;
  const local = c.local!;
  const peer = c.peer!;

  if (input.role === 'mn') {
    const coa = input.coa;
    const mine = input.myBindings.get(peer.address);
    const theirs = peer.kind === 'mn' ? input.peerBindings.get(peer.address) : undefined;
    if (c.cls === 'mh' || c.cls === 'mpd') {
      if (dir === 'out') {
        if (coa) {
          const remap: RemapValue = c.cls === 'mh' ? { ancillary: true, fallback: coa } : { address: coa };
          sink.emit('src', local, remap, peer.address, false, c.cls === 'mh' ? 'pre-binding MH source, ancillary else the CoA (§3.2 rule 1, E7)' : 'MPD source HoA -> CoA (OP-21)');
        }
        if (theirs !== undefined || peer.kind === 'mn') {
          const remap: RemapValue = theirs?.provenCoa ? { ancillary: true, fallback: theirs.provenCoa } : { ancillary: true };
          sink.emit('dst', peer.address, remap, peer.address, false, 'as correspondent of a mobile peer: destination from ancillary data, else its proven CoA (§3.2 rule 3, ex. 4)');
        }
      } else {
        if (coa) sink.emit('dst', coa, { address: local }, undefined, c.cls === 'mh', 'incoming MH to the CoA restored to the HoA (§3.2 rule 4)');
        if (peer.kind === 'mn') sink.emit('src', '::', { address: peer.address }, undefined, true, 'blind source remap of a mobile peer, recorded for the MIPv6 check (§5.1.3.1, ex. 4)');
      }
    } else {
      if (dir === 'out') {
        if (coa && mine && mine.state !== 'none') sink.emit('src', local, { address: mine.coa }, peer.address, false, mine.state === 'effective' ? DATA_SRC_EFFECTIVE : DATA_SRC_BU_SENT);
        if (theirs?.provenCoa) sink.emit('dst', peer.address, { address: theirs.provenCoa }, peer.address, false, 'data to a mobile peer at its proven CoA (ex. 3)');
      } else {
        if (coa) sink.emit('dst', coa, { address: local }, undefined, false, 'incoming data to the CoA restored to the HoA (§3.6)');
        if (theirs?.acceptedCoa) sink.emit('src', theirs.acceptedCoa, { address: peer.address }, undefined, false, 'data from a mobile peer\'s accepted CoA (ex. 3)');
      }
    }
    return;
  }

  if (input.role === 'cn') {
    const b = input.peerBindings.get(peer.address);
    if (c.cls === 'mh' || c.cls === 'mpd') {
      if (dir === 'in') sink.emit('src', '::', { address: peer.address }, undefined, true, 'MH from any CoA, on-wire source recorded (§3.2 rule 2, §5.1.3.1)');
      else sink.emit('dst', peer.address, b?.provenCoa ? { ancillary: true, fallback: b.provenCoa } : { ancillary: true }, peer.address, false, 'MH to the ancillary CoA "if not null" (§3.2 rule 3, E9)');
    } else {
      if (dir === 'in' && b?.acceptedCoa) sink.emit('src', b.acceptedCoa, { address: peer.address }, undefined, false, 'accept data from the CoA once the BU is accepted (§4.5.1, H02)');
      if (dir === 'out' && b?.provenCoa) sink.emit('dst', peer.address, { address: b.provenCoa }, peer.address, false, 'send data to the CoA only after proof and BA (E1, H04, OP-6)');
    }
    return;
  }

  // HA (IRO §7, OP-21): MH and MPD SAs with each MN.
  const bce = input.haBindings.get(peer.address);
  if (dir === 'in') sink.emit('src', '::', { address: peer.address }, undefined, true, 'MN-HA signalling from any CoA, recorded (§7, OP-21)');
  else sink.emit('dst', peer.address, bce ? { ancillary: true, fallback: bce.coa } : { ancillary: true }, peer.address, false, 'MN-HA signalling to the binding\'s CoA (§7, OP-21)');
}

const DATA_SRC_EFFECTIVE = 'data source HoA -> CoA once the BU is sent (state effective, §4.5.1 G02)';
const DATA_SRC_BU_SENT = 'data source HoA -> CoA once the BU is sent (state bu-sent, §4.5.1 G02)';

function saTag(m: BucketMember): string {
  return `${m.cls.cls} SA ${m.id} ${m.cls.dir}`;
}

/**
 * The state of one deriveBucket call. One instance is reused (deriveBucket is not re-entrant):
 * a CoA change at an MN with 10k peers derives 40k buckets, and what is not allocated there is
 * not collected either.
 */
class BucketBuilder implements RuleSink {
  /** addRule's view of the bucket: every rule of it has the one key `id`, so one slot does */
  readonly entries = {
    slot: undefined as RuleEntry | undefined,
    get: (_id: string): RuleEntry | undefined => this.entries.slot,
    set: (_id: string, e: RuleEntry): void => {
      this.entries.slot = e;
    },
  };
  id = '';
  input!: RuleInput;
  member!: BucketMember;
  withReasons = true;
  reasons: string[] = [];
  memberAlerts: string[] | undefined;

  emit(field: 'src' | 'dst', expected: string, remap: RemapValue, peer: string | undefined, recordAncillary: boolean, why: string): void {
    const m = this.member;
    const dir = m.cls.dir!;
    const { proto, spi } = m.sa.key;
    // one literal per shape (not properties added afterwards): the objects stay monomorphic
    const rule: RemapRule =
      dir === 'in'
        ? { proto, spi, dir, recordAncillary, field, expected, remap, localAddr: m.cls.local! }
        : peer !== undefined
          ? { proto, spi, dir, recordAncillary, field, expected, remap, peer }
          : { proto, spi, dir, recordAncillary, field, expected, remap };
    try {
      const oif = this.input.role === 'mn' && dir === 'out' && field === 'src' ? this.input.coaOif : 0;
      addRule(this.entries, rule, oif, this.id);
      if (this.withReasons) this.reasons.push(`${saTag(m)}: ${why}`);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      (this.memberAlerts ??= []).push(`${saTag(m)}: ${why}: rule refused: ${e.message}`);
    }
  }
}

const builder = new BucketBuilder();
/** what reasons are when not asked for (frozen: shared by every call) */
const NO_REASONS = Object.freeze([]) as unknown as string[];

/**
 * The entry of one bucket from its member SAs (sorted with compareSaIds, all with
 * ruleBucketOf(sa) === `id`), with each member's alerts and, if asked, the entry's reasons
 * (the engine asks only when `status` wants them).
 */
export function deriveBucket(id: string, members: readonly BucketMember[], input: RuleInput, withReasons = true): BucketRules {
  const b = builder;
  b.entries.slot = undefined;
  b.id = id;
  b.input = input;
  b.withReasons = withReasons;
  b.reasons = withReasons ? [] : NO_REASONS;
  let alerts: Array<string[] | undefined> | undefined;
  let outKnown: RuleEntry | undefined;
  try {
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      const c = m.cls;
      b.memberAlerts = c.alert ? [c.alert] : undefined;
      if (c.cls !== 'untracked') {
        if (c.dir === 'out' && input.role === 'mn') {
          // a tracked outgoing SPI is "known" even before its rules exist: tunnelled, not a miss
          const sa = m.sa;
          outKnown = { id, dir: 'out', proto: sa.key.proto, spi: sa.key.spi, peer: sa.key.daddr, oif: 0 };
          if (withReasons) b.reasons = [`${saTag(m)}: tracked (${c.why})`];
        }
        b.member = m;
        rulesFor(c, input, b);
      }
      if (b.memberAlerts) (alerts ??= new Array<string[] | undefined>(members.length))[i] = b.memberAlerts;
    }
    const entry = b.entries.slot ?? outKnown;
    return { entry, reasons: entry ? b.reasons : [], alerts };
  } finally {
    b.entries.slot = undefined;
  }
}

export function deriveRules(input: DeriveInput): DerivedRules {
  const alerts: string[] = [];
  const tracked: TrackedSa[] = [];
  const reasons = new Map<string, string[]>();
  const entries = new Map<string, RuleEntry>();

  const sorted = input.sas.map((sa) => ({ id: saKeyId(sa.key), sa })).sort((a, b) => compareSaIds(a.id, b.id));
  const buckets = new Map<string, BucketMember[]>();
  const saAlerts = new Map<string, string[]>();
  for (const { id, sa } of sorted) {
    const cls = classifySa(sa, input.ctx);
    if (cls.cls !== 'untracked') tracked.push({ sa, cls });
    const b = ruleBucketOf(sa, input.ctx.local);
    if (b === null) {
      if (cls.alert) saAlerts.set(id, [cls.alert]);
      continue;
    }
    const list = buckets.get(b);
    if (list) list.push({ id, sa, cls });
    else buckets.set(b, [{ id, sa, cls }]);
  }
  for (const [id, members] of buckets) {
    const r = deriveBucket(id, members, input);
    if (r.entry) {
      entries.set(id, r.entry);
      reasons.set(id, r.reasons);
    }
    r.alerts?.forEach((a, i) => a && saAlerts.set(members[i]!.id, a));
  }
  if (saAlerts.size) for (const { id } of sorted) alerts.push(...(saAlerts.get(id) ?? []));
  const hoas = input.role === 'mn' ? [...input.ctx.hoas].sort() : [];
  const peers = input.role === 'mn' ? [...input.ctx.peers.values()].filter((p) => p.mode === 'iro').map((p) => p.address).sort() : [];
  return { entries, reasons, alerts, tracked, hoas, peers };
}
