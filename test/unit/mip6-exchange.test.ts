// MN, CN and HA state machines wired together in memory (test/lib/mip6-net.ts): the send actions
// of one become the mh-received events of the other with the on-wire addresses IRO would put on
// the wire, every message through the MH codec. Covers IRO §3.3-§3.5 / §4.5.1 (BU -> AOTC -> AOTR
// -> BA, then BU -> BA with a kept proof), the move to a new CoA (OP-6), home registration (§7),
// deregistration, MN-MN (OP-7) and loss.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CorrespondentNode } from '../../src/mip6/cn/correspondent-node.ts';
import { HomeAgent } from '../../src/mip6/ha/home-agent.ts';
import { MobileNode } from '../../src/mip6/mn/mobile-node.ts';
import { Mip6Node } from '../../src/mip6/node.ts';
import type { CnBindingsChanged, Mip6Action } from '../../src/mip6/types.ts';
import { CN, cnChanges, COA1, COA2, COA3, HA, HOA, HOA2 } from '../lib/mip6-fixtures.ts';
import { MemNet } from '../lib/mip6-net.ts';

function world(seed = 1) {
  const net = new MemNet(seed);
  const mn = new MobileNode({ hoa: HOA, ha: HA, peers: [CN], initialSequence: 1 });
  const cn = new CorrespondentNode();
  const ha = new HomeAgent({ address: HA, authorization: [{ hoa: HOA, spis: [0x1000] }] });
  net.addMobile('mn', mn, HOA);
  net.addFixed('cn', cn, CN);
  net.addFixed('ha', ha, HA);
  net.dispatch('mn', { type: 'peer-mh-sa', peer: CN, present: true });
  return { net, mn, cn, ha };
}

const state = (mn: MobileNode, peer: string) => mn.bindingsAction().bindings.find((b) => b.peer === peer)!;

/** Kinds and on-wire addresses of what crossed between the MN and the CN since `from` ms. */
function wire(net: MemNet, from: number): string[] {
  return net.delivered
    .filter((d) => d.at >= from && (d.from === 'mn' || d.from === 'cn') && (d.to === 'cn' || d.to === 'mn'))
    .map((d) => `${d.from}->${d.to} ${d.action.msg.kind} src=${d.onWireSrc} dst=${d.onWireDst}`);
}

function cnTimeline(net: MemNet, from = 0): Array<{ at: number; acceptedCoa: string | null; provenCoa: string | null }> {
  return net
    .node('cn')
    .actions.filter((x) => x.at >= from && x.action.type === 'binding-changed')
    .flatMap((x) =>
      (x.action as CnBindingsChanged).bindings.map((b) =>
        b.removed ? { at: x.at, acceptedCoa: null, provenCoa: null } : { at: x.at, acceptedCoa: b.acceptedCoa, provenCoa: b.provenCoa },
      ),
    );
}

describe('MN <-> CN correspondent registration', () => {
  test('BU -> AOTC -> AOTR -> BA with the CoA on the wire and the HoA never on it; effective on both sides after 2 RTT', () => {
    const { net, mn, cn } = world();
    net.move('mn', { coa: COA1 });
    net.run(1000);
    assert.deepEqual(wire(net, 0), [
      `mn->cn bu src=${COA1} dst=${CN}`,
      `cn->mn aotc src=${CN} dst=${COA1}`,
      `mn->cn aotr src=${COA1} dst=${CN}`,
      `cn->mn ba src=${CN} dst=${COA1}`,
    ]);
    const baAt = net.delivered.find((d) => d.to === 'mn' && d.action.msg.kind === 'ba' && d.from === 'cn')!.at;
    assert.equal(baAt, 40, '4 one-way delays of 10 ms');
    assert.equal(state(mn, CN).state, 'effective');
    assert.deepEqual(cn.binding(HOA), { hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: COA1 });
    // E1: the outgoing rule only came with the BA (after the AOTR).
    assert.deepEqual(cnTimeline(net), [
      { at: 10, acceptedCoa: COA1, provenCoa: null },
      { at: 30, acceptedCoa: COA1, provenCoa: COA1 },
    ]);
    // The nonce (the whole proof) never shows up in a log line, in any encoding.
    const nonce = net.delivered.find((d) => d.action.msg.kind === 'aotc')!.action.msg as { nonce: Buffer };
    const logged = JSON.stringify(['mn', 'cn', 'ha'].flatMap((n) => net.actionsOf(n).filter((a) => a.type === 'log')));
    for (const enc of ['hex', 'base64', 'base64url'] as const) assert.ok(!logged.includes(nonce.nonce.toString(enc)));
    assert.ok(!logged.includes(JSON.stringify([...nonce.nonce]).slice(1, -1)));
  });

  test('a move keeps the old proven CoA for outgoing traffic until the new one is proven (OP-6, H11); coming back is BU -> BA (proof kept)', () => {
    const { net, mn, cn } = world();
    net.move('mn', { coa: COA1 });
    net.run(1000);
    net.move('mn', { coa: COA2 });
    const t0 = net.time;
    net.run(1000);
    assert.deepEqual(cnTimeline(net, t0), [
      { at: t0 + 10, acceptedCoa: COA2, provenCoa: COA1 },
      { at: t0 + 30, acceptedCoa: COA2, provenCoa: COA2 },
    ]);
    assert.deepEqual(
      wire(net, t0).map((w) => w.split(' ')[1]),
      ['bu', 'aotc', 'aotr', 'ba'],
    );
    assert.equal(state(mn, CN).coa, COA2);
    assert.equal(state(mn, CN).state, 'effective');

    net.move('mn', { coa: COA1 });
    const t1 = net.time;
    net.run(1000);
    assert.deepEqual(
      wire(net, t1).map((w) => w.split(' ')[1]),
      ['bu', 'ba'],
    );
    assert.deepEqual(cn.binding(HOA), { hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: COA1 });
  });

  test('with 30 % loss the exchange still completes through retransmissions (BU back-off, AOTR repetition, duplicate AOTR -> same BA)', () => {
    for (const seed of [3, 4, 5, 6, 7]) {
      const { net, mn, cn } = world(seed);
      net.loss = 0.3;
      net.minDelay = 5;
      net.maxDelay = 60;
      net.move('mn', { coa: COA1 });
      net.run(200_000);
      assert.equal(state(mn, CN).state, 'effective', `seed ${seed}`);
      assert.equal(state(mn, HA).state, 'effective', `seed ${seed}`);
      const b = cn.binding(HOA);
      assert.ok(b && !b.removed && b.provenCoa === COA1, `seed ${seed}`);
    }
  });

  test('shutdown deregisters from the CN and the HA over the wire (G13); both remove the binding', () => {
    const { net, mn, cn, ha } = world();
    net.move('mn', { coa: COA1 });
    net.run(1000);
    assert.ok(ha.binding(HOA));
    net.dispatch('mn', { type: 'shutdown' });
    net.run(1000);
    assert.equal(cn.binding(HOA), undefined);
    assert.equal(ha.binding(HOA), undefined);
    assert.equal(mn.busy, false);
    assert.ok(mn.bindingsAction().bindings.every((b) => b.state === 'none' && !b.deregistering));
  });
});

describe('MN <-> HA home registration', () => {
  test('BU -> BA on the CoA with no proof; the HA binding follows every move; returning home deregisters', () => {
    const { net, mn, ha } = world();
    net.move('mn', { coa: COA1 });
    net.run(1000);
    const home = net.delivered.filter((d) => (d.from === 'mn' && d.to === 'ha') || (d.from === 'ha' && d.to === 'mn'));
    assert.deepEqual(
      home.map((d) => `${d.action.msg.kind} ${d.onWireSrc}->${d.onWireDst}`),
      [`bu ${COA1}->${HA}`, `ba ${HA}->${COA1}`],
    );
    assert.equal(state(mn, HA).state, 'effective');
    assert.deepEqual(ha.binding(HOA), { hoa: HOA, removed: false, coa: COA1, lifetime: 3600 });
    net.move('mn', { coa: COA2 });
    net.run(1000);
    assert.deepEqual(ha.binding(HOA), { hoa: HOA, removed: false, coa: COA2, lifetime: 3600 });
    net.move('mn', { coa: null, atHome: true });
    net.run(1000);
    assert.equal(ha.binding(HOA), undefined);
    assert.equal(state(mn, HA).state, 'none');
    assert.equal(state(mn, HA).deregistering, false);
    const dereg = net.delivered.filter((d) => d.from === 'mn' && d.to === 'ha').at(-1)!;
    assert.equal(dereg.onWireSrc, HOA, 'from the home link, the HoA is the on-wire source');
  });

  test('refreshes keep the home binding alive for hours', () => {
    const { net, ha } = world();
    net.move('mn', { coa: COA1 });
    net.run(10 * 3600 * 1000);
    assert.deepEqual(ha.binding(HOA), { hoa: HOA, removed: false, coa: COA1, lifetime: 3600 });
    const refreshes = net.delivered.filter((d) => d.from === 'mn' && d.to === 'ha' && d.action.msg.kind === 'bu');
    assert.ok(refreshes.length >= 12 && refreshes.length <= 14, `${refreshes.length} home BUs in 10 h`);
  });
});

describe('MN-MN (OP-7)', () => {
  test('each MN runs the MN and the CN role; both end with effective bindings at each other, then survive a simultaneous move', () => {
    const net = new MemNet(11);
    const ha = new HomeAgent({
      address: HA,
      authorization: [
        { hoa: HOA, spis: [0x1000] },
        { hoa: HOA2, spis: [0x1001] },
      ],
    });
    const n1 = new Mip6Node({ mn: { hoa: HOA, ha: HA, peers: [HOA2], initialSequence: 1 }, cn: {} });
    const n2 = new Mip6Node({ mn: { hoa: HOA2, ha: HA, peers: [HOA], initialSequence: 1 }, cn: {} });
    net.addFixed('ha', ha, HA);
    net.addMobile('mn1', n1, HOA);
    net.addMobile('mn2', n2, HOA2);
    net.dispatch('mn1', { type: 'peer-mh-sa', peer: HOA2, present: true });
    net.dispatch('mn2', { type: 'peer-mh-sa', peer: HOA, present: true });
    net.move('mn1', { coa: COA1 });
    net.move('mn2', { coa: COA2 });
    net.run(2000);
    const mnState = (n: Mip6Node, peer: string) => n.mn!.bindingsAction().bindings.find((b) => b.peer === peer)!;
    assert.equal(mnState(n1, HOA2).state, 'effective');
    assert.equal(mnState(n2, HOA).state, 'effective');
    assert.deepEqual(n2.cn!.binding(HOA), { hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: COA1 });
    assert.deepEqual(n1.cn!.binding(HOA2), { hoa: HOA2, removed: false, acceptedCoa: COA2, provenCoa: COA2 });
    // The first BU from MN1 goes to MN2's HoA (App. J leak, accepted by OP-7): no on-wire dst.
    const firstBu = net.delivered.find((d) => d.from === 'mn1' && d.to === 'mn2' && d.action.msg.kind === 'bu')!;
    assert.equal(firstBu.action.dst, HOA2);
    assert.equal(firstBu.action.onWireDst, undefined);

    net.move('mn1', { coa: COA3 });
    net.move('mn2', { coa: COA1 });
    net.run(60_000);
    assert.equal(mnState(n1, HOA2).state, 'effective');
    assert.equal(mnState(n2, HOA).state, 'effective');
    assert.deepEqual(n2.cn!.binding(HOA), { hoa: HOA, removed: false, acceptedCoa: COA3, provenCoa: COA3 });
    assert.deepEqual(n1.cn!.binding(HOA2), { hoa: HOA2, removed: false, acceptedCoa: COA1, provenCoa: COA1 });
  });

  test('the node routes each MH to its role: BA/AOTC/AOTS/BRR/BE -> MN, BU/AOTO/AOTR -> CN, H-flag BU -> HA; RR and unknown types are counted', () => {
    const node = new Mip6Node({ mn: { hoa: HOA, ha: HA, peers: [CN] }, cn: {} });
    const ev = (msg: Parameters<typeof node.handle>[0] & { type: 'mh-received' }) => node.handle(msg, 0);
    const cnt = (a: Mip6Action[]) => a.filter((x) => x.type === 'counter').map((x) => (x as { name: string }).name);
    const base = { type: 'mh-received' as const, src: CN, dst: HOA, onWireSrc: '::', onWireDst: '::', sa: { proto: 'esp' as const, spi: 1 } };
    // A BA with no registration in flight reaches the MN role (which calls it stale).
    assert.deepEqual(cnt(ev({ ...base, msg: { kind: 'ba', status: 0, keyManagement: false, otherFlags: 0, sequence: 1, lifetime: 4, options: [] } })), ['mn-ba-stale']);
    // An AOTO reaches the CN role (no registration: dropped there).
    assert.deepEqual(cnt(ev({ ...base, src: HOA2, dst: HOA, msg: { kind: 'aoto' } })), ['cn-aoto-unregistered']);
    // A home registration BU reaches the CN role when there is no HA role: 131.
    const h = ev({ ...base, src: HOA2, dst: HOA, onWireSrc: COA2, msg: { kind: 'bu', sequence: 1, ack: true, home: true, linkLocal: false, keyManagement: false, otherFlags: 0, lifetime: 8, options: [] } });
    assert.ok(h.some((a) => a.type === 'send' && a.msg.kind === 'ba' && a.msg.status === 131));
    assert.deepEqual(cnt(ev({ ...base, msg: { kind: 'hoti', homeInitCookie: Buffer.alloc(8), options: [] } })), ['node-rr-unsupported']);
    const u = ev({ ...base, msg: { kind: 'unknown', mhType: 99, data: Buffer.alloc(2) } });
    assert.deepEqual(cnt(u), ['node-unknown-mh-type']);
    const be = u.find((a) => a.type === 'send')!;
    assert.ok(be.type === 'send' && be.msg.kind === 'be' && be.msg.status === 2 && be.dst === CN);
    assert.deepEqual(cnt(ev({ ...base, msg: { kind: 'unknown', mhType: 99, data: Buffer.alloc(2) } })), ['node-unknown-mh-type', 'node-be-rate-limited']);
    const cnOnly = new Mip6Node({ cn: {} });
    assert.deepEqual(cnt(cnOnly.handle({ ...base, msg: { kind: 'aots', code: 1 } }, 0)), ['node-no-role']);
    assert.throws(() => new Mip6Node({}), /at least one/);
    assert.equal(cnChanges([]).length, 0);
  });
});
