// Classification and rule derivation (pure): F01-F05, D13, G02, G14, H02, H04, H11, I07, B05, B08.
import test from 'node:test';
import assert from 'node:assert/strict';
import { classifySa, inferDirection, type ClassifyContext, type PeerConfig } from '../../src/iro/classify.ts';
import { deriveRules, type DeriveInput, type MnBinding, type CorrespondentBinding } from '../../src/iro/derive.ts';
import type { PolicyInfo, SaInfo } from '../../src/ipsec/model.ts';
import { entryRules, type RuleEntry } from '../../src/datapath/rules.ts';

const HOA = '2001:db8:1::100';
const COA = '2001:db8:a::100';
const COA2 = '2001:db8:b::100';
const CN = '2001:db8:c::10';
const HA = '2001:db8:1::2';
const MN2 = '2001:db8:2::200';
const MN2COA = '2001:db8:d::200';

function sa(saddr: string, daddr: string, spi: number, o: Partial<SaInfo> & { selProto?: number } = {}): SaInfo {
  const s: SaInfo = {
    key: { proto: o.key?.proto ?? 'esp', spi, daddr },
    saddr,
    mode: o.mode ?? 'transport',
    reqid: o.reqid ?? 0,
    state: 'mature',
    sources: ['xfrm'],
  };
  if (o.selProto !== undefined) s.selector = { src: saddr, dst: daddr, srcLen: 128, dstLen: 128, proto: o.selProto };
  if (o.dir) s.dir = o.dir;
  return s;
}

function peers(...ps: PeerConfig[]): Map<string, PeerConfig> {
  return new Map(ps.map((p) => [p.address, p]));
}

const cnPeer: PeerConfig = { address: CN, kind: 'cn', mode: 'iro' };
const haPeer: PeerConfig = { address: HA, kind: 'ha', mode: 'iro' };
const mn2Peer: PeerConfig = { address: MN2, kind: 'mn', mode: 'iro' };

function mnCtx(extra: Partial<ClassifyContext> = {}): ClassifyContext {
  return { role: 'mn', hoas: new Set([HOA]), local: new Set([HOA, COA]), peers: peers(cnPeer, haPeer, mn2Peer), policies: [], staticClasses: [], ...extra };
}

function mnInput(sas: SaInfo[], o: Partial<DeriveInput> = {}): DeriveInput {
  return { role: 'mn', sas, ctx: mnCtx(), coa: COA, coaOif: 7, myBindings: new Map(), peerBindings: new Map(), haBindings: new Map(), ...o };
}

function texts(entries: Map<string, RuleEntry>): string[] {
  const out: string[] = [];
  for (const e of entries.values()) {
    for (const r of entryRules(e)) {
      const remap = 'address' in r.remap ? r.remap.address : r.remap.fallback ? `ancillary|${r.remap.fallback}` : 'ancillary';
      out.push(`${r.dir} ${r.spi} ${r.field} ${r.expected} -> ${remap}${r.recordAncillary ? ' (ancillary)' : ''}`);
    }
  }
  return out.sort();
}

test('F01 a transport SA {own HoA <-> peer} is MH with selector proto 135, data with proto 0/6/17', () => {
  const ctx = mnCtx();
  assert.equal(classifySa(sa(HOA, CN, 44, { selProto: 135 }), ctx).cls, 'mh');
  for (const p of [0, 6, 17]) assert.equal(classifySa(sa(HOA, CN, 42, { selProto: p }), ctx).cls, 'data', `proto ${p}`);
  assert.equal(classifySa(sa(HOA, CN, 42), ctx).cls, 'data', 'no selector at all: data');
});

test('F02 a PF_KEY-learned SA (no selector) is MH when a policy with proto 135 shares its reqid', () => {
  const pol: PolicyInfo = {
    dir: 'out',
    selector: { src: HOA, dst: CN, srcLen: 128, dstLen: 128, proto: 135 },
    priority: 100,
    index: 8,
    action: 'allow',
    templates: [{ proto: 'esp', reqid: 7, mode: 'transport' }],
  };
  const noSel = sa(HOA, CN, 44, { reqid: 7 });
  assert.equal(classifySa(noSel, mnCtx()).cls, 'data', 'without the policy it looks like data');
  const c = classifySa(noSel, mnCtx({ policies: [pol] }));
  assert.equal(c.cls, 'mh');
  assert.match(c.why, /policy with reqid 7/);
  assert.equal(classifySa(sa(HOA, CN, 45, { reqid: 8 }), mnCtx({ policies: [pol] })).cls, 'data', 'another reqid is not correlated');
});

test('F03 a tunnel-mode SA whose end is a CoA (MN-HA tunnel) is untracked and gets no rules', () => {
  const t = sa(COA, HA, 0x700, { mode: 'tunnel' });
  assert.equal(classifySa(t, mnCtx()).cls, 'untracked');
  const d = deriveRules(mnInput([t]));
  assert.equal(d.entries.size, 0);
});

test('F04 an SA between addresses that are neither an own HoA nor an IRO peer is ignored', () => {
  assert.equal(classifySa(sa('2001:db8:99::1', '2001:db8:98::1', 9), mnCtx()).cls, 'untracked');
  assert.equal(classifySa(sa(COA, CN, 9), mnCtx()).cls, 'untracked', 'an SA on the CoA (App. H) is not ours to remap');
  const tunnelOnly = mnCtx({ peers: peers({ ...cnPeer, mode: 'tunnel-only' }) });
  assert.equal(classifySa(sa(HOA, CN, 42), tunnelOnly).cls, 'untracked', 'tunnel-only peers are not IRO-tracked');
});

test('F05 on the CN, an MH SA whose remote end is not the peer\'s HoA is not tracked and raises an alert (OP-38)', () => {
  const ctx: ClassifyContext = { role: 'cn', hoas: new Set(), local: new Set([CN]), peers: peers({ address: HOA, kind: 'mn', mode: 'iro' }), policies: [], staticClasses: [] };
  const fromCoa = sa(COA, CN, 44, { selProto: 135 });
  const c = classifySa(fromCoa, ctx);
  assert.equal(c.cls, 'untracked');
  assert.match(c.alert ?? '', /not the home address of an IRO peer/);
  const d = deriveRules({ role: 'cn', sas: [fromCoa], ctx, coa: null, coaOif: 0, myBindings: new Map(), peerBindings: new Map(), haBindings: new Map() });
  assert.equal(d.entries.size, 0);
  assert.equal(d.alerts.length, 1);
  assert.equal(classifySa(sa(HOA, CN, 44, { selProto: 135 }), ctx).cls, 'mh', 'the same SA from the HoA is tracked');
});

test('D13 direction: daddr local -> in, saddr local -> out, XFRMA_SA_DIR overrides, both local -> unknown', () => {
  const local = new Set([HOA]);
  assert.equal(inferDirection(sa(CN, HOA, 1), local), 'in');
  assert.equal(inferDirection(sa(HOA, CN, 1), local), 'out');
  assert.equal(inferDirection(sa(HOA, CN, 1, { dir: 'in' }), local), 'in');
  assert.equal(inferDirection(sa(HOA, HOA, 1), local), undefined);
  assert.match(classifySa(sa(HOA, HOA, 1), mnCtx()).why, /both ends are local/);
});

test('MN pre-binding MH rules: out src HoA -> ancillary|CoA, in dst CoA -> HoA (ancillary), with the redirect interface (IRO §3.2 rules 1 and 4)', () => {
  const d = deriveRules(mnInput([sa(HOA, CN, 44, { selProto: 135 }), sa(CN, HOA, 45, { selProto: 135 })]));
  assert.deepEqual(texts(d.entries), [`in 45 dst ${COA} -> ${HOA} (ancillary)`, `out 44 src ${HOA} -> ancillary|${COA}`]);
  assert.equal(d.entries.get(`out/esp/44/${CN}`)!.oif, 7);
  assert.deepEqual(d.hoas, [HOA]);
  assert.ok(d.peers.includes(CN));
});

test('G02 the MN installs the outgoing data rule right after emitting the BU, before any BA', () => {
  const sas = [sa(HOA, CN, 42, { selProto: 0 }), sa(CN, HOA, 43, { selProto: 0 })];
  const none = deriveRules(mnInput(sas));
  assert.deepEqual(texts(none.entries), [`in 43 dst ${COA} -> ${HOA}`], 'before the BU: only incoming data is accepted');
  assert.ok(none.entries.has(`out/esp/42/${CN}`), 'the outgoing SPI is known (tracked) so it is tunnelled, not a miss');
  assert.equal(none.entries.get(`out/esp/42/${CN}`)!.src, undefined);
  const sent = deriveRules(mnInput(sas, { myBindings: new Map<string, MnBinding>([[CN, { coa: COA, state: 'bu-sent' }]]) }));
  assert.deepEqual(texts(sent.entries), [`in 43 dst ${COA} -> ${HOA}`, `out 42 src ${HOA} -> ${COA}`]);
});

test('G14 a move rewrites every rule that referenced the old CoA in one derivation', () => {
  const sas = [sa(HOA, CN, 42), sa(CN, HOA, 43), sa(HOA, CN, 44, { selProto: 135 }), sa(CN, HOA, 45, { selProto: 135 })];
  const before = deriveRules(mnInput(sas, { myBindings: new Map([[CN, { coa: COA, state: 'effective' as const }]]) }));
  const after = deriveRules(mnInput(sas, { coa: COA2, coaOif: 9, myBindings: new Map([[CN, { coa: COA2, state: 'bu-sent' as const }]]) }));
  assert.ok(texts(before.entries).every((t) => !t.includes(COA2)));
  assert.ok(texts(after.entries).every((t) => !t.includes(COA)), texts(after.entries).join('\n'));
  assert.equal(texts(after.entries).length, 4);
  assert.equal(after.entries.get(`out/esp/44/${CN}`)!.oif, 9);
});

test('MN at home: no remap rules, outgoing SAs stay known', () => {
  const d = deriveRules(mnInput([sa(HOA, CN, 42), sa(HOA, CN, 44, { selProto: 135 })], { coa: null, coaOif: 0 }));
  assert.deepEqual(texts(d.entries), []);
  assert.equal(d.entries.size, 2);
});

function cnInput(bind?: CorrespondentBinding): DeriveInput {
  const ctx: ClassifyContext = { role: 'cn', hoas: new Set(), local: new Set([CN]), peers: peers({ address: HOA, kind: 'mn', mode: 'iro' }), policies: [], staticClasses: [] };
  return {
    role: 'cn',
    sas: [sa(HOA, CN, 42), sa(CN, HOA, 43), sa(HOA, CN, 44, { selProto: 135 }), sa(CN, HOA, 45, { selProto: 135 })],
    ctx,
    coa: null,
    coaOif: 0,
    myBindings: new Map(),
    peerBindings: new Map(bind ? [[HOA, bind]] : []),
    haBindings: new Map(),
  };
}

test('CN pre-binding MH rules: in src :: -> HoA (ancillary), out dst HoA -> ancillary (rules 2 and 3)', () => {
  assert.deepEqual(texts(deriveRules(cnInput()).entries), [`in 44 src :: -> ${HOA} (ancillary)`, `out 45 dst ${HOA} -> ancillary`]);
});

test('H02 a BU from an unproven CoA: incoming data rule at once, no outgoing data rule', () => {
  const t = texts(deriveRules(cnInput({ acceptedCoa: COA })).entries);
  assert.ok(t.includes(`in 42 src ${COA} -> ${HOA}`));
  assert.ok(!t.some((x) => x.startsWith('out 43')), t.join('\n'));
});

test('H04 after proof and BA: outgoing data rule HoA -> CoA; MH destination falls back to the proven CoA', () => {
  const t = texts(deriveRules(cnInput({ acceptedCoa: COA, provenCoa: COA })).entries);
  assert.ok(t.includes(`out 43 dst ${HOA} -> ${COA}`));
  assert.ok(t.includes(`out 45 dst ${HOA} -> ancillary|${COA}`));
});

test('H11 while a new CoA is unproven the CN keeps sending to the old proven one, then switches', () => {
  const during = texts(deriveRules(cnInput({ acceptedCoa: COA2, provenCoa: COA })).entries);
  assert.ok(during.includes(`in 42 src ${COA2} -> ${HOA}`), 'incoming from the new CoA at once');
  assert.ok(during.includes(`out 43 dst ${HOA} -> ${COA}`), 'outgoing still to the old proven CoA');
  const done = texts(deriveRules(cnInput({ acceptedCoa: COA2, provenCoa: COA2 })).entries);
  assert.ok(done.includes(`out 43 dst ${HOA} -> ${COA2}`));
});

test('B05 the MN\'s and the CN\'s derived data rules are mirrors of each other (example 1)', () => {
  const mn = texts(deriveRules(mnInput([sa(HOA, CN, 42), sa(CN, HOA, 43)], { myBindings: new Map([[CN, { coa: COA, state: 'effective' as const }]]) })).entries);
  const cn = texts(deriveRules(cnInput({ acceptedCoa: COA, provenCoa: COA })).entries).filter((t) => / 4[23] /.test(t));
  assert.deepEqual(mn, [`in 43 dst ${COA} -> ${HOA}`, `out 42 src ${HOA} -> ${COA}`]);
  assert.deepEqual(cn, [`in 42 src ${COA} -> ${HOA}`, `out 43 dst ${HOA} -> ${COA}`]);
});

test('MN-MN (examples 3 and 4): each MN has the mobile peer\'s rules next to its own', () => {
  const sas = [sa(HOA, MN2, 46), sa(MN2, HOA, 47), sa(HOA, MN2, 48, { selProto: 135 }), sa(MN2, HOA, 49, { selProto: 135 })];
  const d = deriveRules(
    mnInput(sas, {
      myBindings: new Map([[MN2, { coa: COA, state: 'effective' as const }]]),
      peerBindings: new Map([[MN2, { acceptedCoa: MN2COA, provenCoa: MN2COA }]]),
    }),
  );
  assert.deepEqual(texts(d.entries), [
    `in 47 dst ${COA} -> ${HOA}`,
    `in 47 src ${MN2COA} -> ${MN2}`,
    `in 49 dst ${COA} -> ${HOA} (ancillary)`,
    `in 49 src :: -> ${MN2} (ancillary)`,
    `out 46 dst ${MN2} -> ${MN2COA}`,
    `out 46 src ${HOA} -> ${COA}`,
    `out 48 dst ${MN2} -> ancillary|${MN2COA}`,
    `out 48 src ${HOA} -> ancillary|${COA}`,
  ]);
});

test('I07 the HA\'s MN-HA MH and MPD SAs get in src :: -> HoA (ancillary) and out dst HoA -> CoA of the binding', () => {
  const ctx: ClassifyContext = { role: 'ha', hoas: new Set(), local: new Set([HA]), peers: peers({ address: HOA, kind: 'mn', mode: 'iro' }), policies: [], staticClasses: [] };
  const sas = [sa(HOA, HA, 0x1001, { selProto: 135 }), sa(HA, HOA, 0x1002, { selProto: 135 }), sa(HOA, HA, 0x1005, { selProto: 58 }), sa(HA, HOA, 0x1006, { selProto: 58 }), sa(COA, HA, 0x1007, { mode: 'tunnel' })];
  const base = { role: 'ha' as const, sas, ctx, coa: null, coaOif: 0, myBindings: new Map(), peerBindings: new Map() };
  const none = texts(deriveRules({ ...base, haBindings: new Map() }).entries);
  assert.deepEqual(none, [`in 4097 src :: -> ${HOA} (ancillary)`, `in 4101 src :: -> ${HOA} (ancillary)`, `out 4098 dst ${HOA} -> ancillary`, `out 4102 dst ${HOA} -> ancillary`]);
  const bound = texts(deriveRules({ ...base, haBindings: new Map([[HOA, { coa: COA }]]) }).entries);
  assert.ok(bound.includes(`out 4098 dst ${HOA} -> ancillary|${COA}`));
  assert.ok(bound.includes(`out 4102 dst ${HOA} -> ancillary|${COA}`));
});

test('MPD (ICMPv6) SAs with the HA on the MN: static CoA rules, not ancillary (OP-21)', () => {
  const d = deriveRules(mnInput([sa(HOA, HA, 5, { selProto: 58 }), sa(HA, HOA, 6, { selProto: 58 })]));
  assert.deepEqual(texts(d.entries), [`in 6 dst ${COA} -> ${HOA}`, `out 5 src ${HOA} -> ${COA}`]);
});

test('OP-14/B07 an incoming SPI collision across local HoAs is refused with an alert, not a crash', () => {
  const hoa2 = '2001:db8:1::101';
  const ctx = mnCtx({ hoas: new Set([HOA, hoa2]), local: new Set([HOA, hoa2, COA]) });
  const d = deriveRules(mnInput([sa(CN, HOA, 43), sa(CN, hoa2, 43)], { ctx }));
  assert.equal(d.alerts.length, 1);
  assert.match(d.alerts[0]!, /SPI collision/);
  assert.equal(texts(d.entries).length, 1);
});

test('static keying: configured classes classify SAs before any selector is known', () => {
  const ctx = mnCtx({ staticClasses: [{ spi: 44, proto: 'esp', daddr: CN, cls: 'mh' }] });
  assert.equal(classifySa(sa(HOA, CN, 44), ctx).cls, 'mh');
});
