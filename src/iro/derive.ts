// Rule derivation as a pure function (issue 5 item 2): from the SA table, the node's role, its
// addresses, peers and bindings to the complete set of rule entries the data path must hold,
// each with the reasons it exists. IRO §3.2 (pre-binding MH rules), §3.6 (post-binding data
// rules), §4.5.1 + E1 (the CN accepts from a CoA at BU time, sends to it only after proof),
// §7 + OP-21 (HA and MPD), OP-6 (keep sending to the old proven CoA until the new one is proven).
import type { SaInfo } from '../ipsec/model.ts';
import { saKeyId } from '../ipsec/model.ts';
import { addRule, RuleError, type RemapRule, type RuleEntry } from '../datapath/rules.ts';
import { classifySa, type Classification, type ClassifyContext, type Role } from './classify.ts';

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

export interface DeriveInput {
  role: Role;
  sas: readonly SaInfo[];
  ctx: ClassifyContext;
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

interface Pending {
  rule: RemapRule;
  why: string;
}

function proto(sa: SaInfo): 'esp' | 'ah' {
  return sa.key.proto;
}

/** The rules one classified SA asks for (may be none). */
function rulesFor(sa: SaInfo, c: Classification, input: DeriveInput): Pending[] {
  const out: Pending[] = [];
  const dir = c.dir!;
  const local = c.local!;
  const peer = c.peer!;
  const base = { proto: proto(sa), spi: sa.key.spi } as const;
  const tag = `${c.cls} SA ${saKeyId(sa.key)} ${dir}`;
  const add = (r: Omit<RemapRule, 'proto' | 'spi' | 'dir' | 'recordAncillary'> & { recordAncillary?: boolean }, why: string) =>
    out.push({ rule: { ...base, dir, recordAncillary: false, ...r, ...(dir === 'in' ? { localAddr: local } : {}) }, why: `${tag}: ${why}` });

  if (input.role === 'mn') {
    const coa = input.coa;
    const mine = input.myBindings.get(peer.address);
    const theirs = peer.kind === 'mn' ? input.peerBindings.get(peer.address) : undefined;
    if (c.cls === 'mh' || c.cls === 'mpd') {
      if (dir === 'out') {
        if (coa) {
          const remap = c.cls === 'mh' ? { ancillary: true as const, fallback: coa } : { address: coa };
          add({ peer: peer.address, field: 'src', expected: local, remap }, c.cls === 'mh' ? 'pre-binding MH source, ancillary else the CoA (§3.2 rule 1, E7)' : 'MPD source HoA -> CoA (OP-21)');
        }
        if (theirs !== undefined || peer.kind === 'mn') {
          const remap = theirs?.provenCoa ? { ancillary: true as const, fallback: theirs.provenCoa } : { ancillary: true as const };
          add({ peer: peer.address, field: 'dst', expected: peer.address, remap }, 'as correspondent of a mobile peer: destination from ancillary data, else its proven CoA (§3.2 rule 3, ex. 4)');
        }
      } else {
        if (coa) add({ field: 'dst', expected: coa, remap: { address: local }, recordAncillary: c.cls === 'mh' }, 'incoming MH to the CoA restored to the HoA (§3.2 rule 4)');
        if (peer.kind === 'mn') add({ field: 'src', expected: '::', remap: { address: peer.address }, recordAncillary: true }, 'blind source remap of a mobile peer, recorded for the MIPv6 check (§5.1.3.1, ex. 4)');
      }
    } else {
      if (dir === 'out') {
        if (coa && mine && mine.state !== 'none') add({ peer: peer.address, field: 'src', expected: local, remap: { address: mine.coa } }, `data source HoA -> CoA once the BU is sent (state ${mine.state}, §4.5.1 G02)`);
        if (theirs?.provenCoa) add({ peer: peer.address, field: 'dst', expected: peer.address, remap: { address: theirs.provenCoa } }, 'data to a mobile peer at its proven CoA (ex. 3)');
      } else {
        if (coa) add({ field: 'dst', expected: coa, remap: { address: local } }, 'incoming data to the CoA restored to the HoA (§3.6)');
        if (theirs?.acceptedCoa) add({ field: 'src', expected: theirs.acceptedCoa, remap: { address: peer.address } }, 'data from a mobile peer\'s accepted CoA (ex. 3)');
      }
    }
    return out;
  }

  if (input.role === 'cn') {
    const b = input.peerBindings.get(peer.address);
    if (c.cls === 'mh' || c.cls === 'mpd') {
      if (dir === 'in') add({ field: 'src', expected: '::', remap: { address: peer.address }, recordAncillary: true }, 'MH from any CoA, on-wire source recorded (§3.2 rule 2, §5.1.3.1)');
      else add({ peer: peer.address, field: 'dst', expected: peer.address, remap: b?.provenCoa ? { ancillary: true, fallback: b.provenCoa } : { ancillary: true } }, 'MH to the ancillary CoA "if not null" (§3.2 rule 3, E9)');
    } else {
      if (dir === 'in' && b?.acceptedCoa) add({ field: 'src', expected: b.acceptedCoa, remap: { address: peer.address } }, 'accept data from the CoA once the BU is accepted (§4.5.1, H02)');
      if (dir === 'out' && b?.provenCoa) add({ peer: peer.address, field: 'dst', expected: peer.address, remap: { address: b.provenCoa } }, 'send data to the CoA only after proof and BA (E1, H04, OP-6)');
    }
    return out;
  }

  // HA (IRO §7, OP-21): MH and MPD SAs with each MN.
  const bce = input.haBindings.get(peer.address);
  if (dir === 'in') add({ field: 'src', expected: '::', remap: { address: peer.address }, recordAncillary: true }, 'MN-HA signalling from any CoA, recorded (§7, OP-21)');
  else add({ peer: peer.address, field: 'dst', expected: peer.address, remap: bce ? { ancillary: true, fallback: bce.coa } : { ancillary: true } }, 'MN-HA signalling to the binding\'s CoA (§7, OP-21)');
  return out;
}

export function deriveRules(input: DeriveInput): DerivedRules {
  const alerts: string[] = [];
  const tracked: TrackedSa[] = [];
  const reasons = new Map<string, string[]>();
  const entries = new Map<string, RuleEntry>();
  const outKnown = new Map<string, RuleEntry>();

  const sorted = [...input.sas].sort((a, b) => saKeyId(a.key).localeCompare(saKeyId(b.key)));
  for (const sa of sorted) {
    const c = classifySa(sa, input.ctx);
    if (c.alert) alerts.push(c.alert);
    if (c.cls === 'untracked') continue;
    tracked.push({ sa, cls: c });
    if (c.dir === 'out' && input.role === 'mn') {
      // a tracked outgoing SPI is "known" even before its rules exist: tunnelled, not a miss
      const id = `out/${sa.key.proto}/${sa.key.spi >>> 0}/${sa.key.daddr}`;
      outKnown.set(id, { id, dir: 'out', proto: sa.key.proto, spi: sa.key.spi, peer: sa.key.daddr, oif: 0 });
      reasons.set(id, [`${c.cls} SA ${saKeyId(sa.key)} out: tracked (${c.why})`]);
    }
    for (const p of rulesFor(sa, c, input)) {
      try {
        const oif = input.role === 'mn' && p.rule.dir === 'out' && p.rule.field === 'src' ? input.coaOif : 0;
        const e = addRule(entries, p.rule, oif);
        reasons.set(e.id, [...(reasons.get(e.id) ?? []), p.why]);
      } catch (e) {
        alerts.push(`${p.why}: rule refused: ${(e as RuleError).message}`);
      }
    }
  }
  for (const [id, e] of outKnown) if (!entries.has(id)) entries.set(id, e);
  const hoas = input.role === 'mn' ? [...input.ctx.hoas].sort() : [];
  const peers = input.role === 'mn' ? [...input.ctx.peers.values()].filter((p) => p.mode === 'iro').map((p) => p.address).sort() : [];
  return { entries, reasons, alerts, tracked, hoas, peers };
}
