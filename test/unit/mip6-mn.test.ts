// Mobile node state machine: DIGEST Part 3 §G unit checks (G02, G03, G05-G10, G13-G15) plus the
// unit-checkable parts of G01 and G11, RFC 6275 retransmission timing on a fake clock, refresh,
// BRR, sequence resynchronisation, fallback and rate limiting.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findOption, type AddressOwnershipTestChallenge } from '../../src/mip6/codec/index.ts';
import { MobileNode } from '../../src/mip6/mn/mobile-node.ts';
import type { MnOptions } from '../../src/mip6/mn/options.ts';
import { Mip6Runner } from '../../src/mip6/timers/driver.ts';
import type { Mip6Action, Mip6Event, SendAction } from '../../src/mip6/types.ts';
import {
  altCoaOf,
  ba,
  CAND,
  CN,
  COA1,
  COA2,
  counters,
  HA,
  HOA,
  logs,
  mnChanges,
  rx,
  sends,
} from '../lib/mip6-fixtures.ts';

const NONCE = Buffer.from('0123456789abcdef', 'hex');
const aotc = (nonce = NONCE): AddressOwnershipTestChallenge => ({ kind: 'aotc', nonce, options: [] });

function setup(opts: Partial<MnOptions> = {}) {
  const m = new MobileNode({ hoa: HOA, ha: HA, peers: [CN], initialSequence: 100, ...opts });
  const timeline: Array<{ at: number; action: Mip6Action }> = [];
  const r = new Mip6Runner(m, m.scheduler, (actions, at) => {
    for (const action of actions) timeline.push({ at, action });
  });
  const ev = (e: Mip6Event, t: number): Mip6Action[] => r.dispatch(e, t);
  const to = (t: number): Mip6Action[] => r.advanceTo(t);
  /** Registered with the CN's SA present and at COA1 from t=0. */
  const away = (coa = COA1, t = 0): Mip6Action[] => {
    ev({ type: 'peer-mh-sa', peer: CN, present: true }, t);
    return ev({ type: 'movement', coa, atHome: false }, t);
  };
  const sendTimes = (peer: string, kind: string, from = -Infinity): Array<{ at: number; send: SendAction }> =>
    timeline
      .filter((x) => x.at >= from && x.action.type === 'send' && x.action.dst === peer && x.action.msg.kind === kind)
      .map((x) => ({ at: x.at, send: x.action as SendAction }));
  const entry = (peer: string) => m.bindingsAction().bindings.find((b) => b.peer === peer)!;
  return { m, r, ev, to, away, timeline, sendTimes, entry };
}

/** BA for the newest BU sent to `peer` so far. */
function lastSeq(s: ReturnType<typeof setup>, peer: string): number {
  const all = s.sendTimes(peer, 'bu');
  const last = all.at(-1)!.send.msg;
  assert.equal(last.kind, 'bu');
  return last.sequence;
}

describe('MN registration', () => {
  test('G01/G11 (unit part): on movement the home BU leaves first, then the CN BU; both from the HoA with on-wire source = CoA, AltCoA = CoA, A set', () => {
    const s = setup({ keyManagement: true });
    const out = sends(s.away());
    assert.deepEqual(
      out.map((a) => a.dst),
      [HA, CN],
    );
    const [home, corr] = out as [SendAction, SendAction];
    for (const a of [home, corr]) {
      assert.equal(a.src, HOA);
      assert.equal(a.onWireSrc, COA1);
      assert.equal(a.onWireDst, undefined);
      assert.equal(a.msg.kind, 'bu');
      assert.equal(altCoaOf(a.msg), COA1);
      if (a.msg.kind === 'bu') {
        assert.equal(a.msg.ack, true);
        assert.equal(a.msg.linkLocal, false);
        // IRO: nothing but the AltCoA option (no HAO exists at this layer; no Binding Authorization Data).
        assert.deepEqual(
          a.msg.options.map((o) => o.kind),
          ['alternateCoa'],
        );
      }
    }
    assert.ok(home.msg.kind === 'bu' && home.msg.home && home.msg.keyManagement && home.msg.lifetime === 3600);
    assert.ok(corr.msg.kind === 'bu' && !corr.msg.home && !corr.msg.keyManagement && corr.msg.lifetime === 1800);
  });

  test('G11 (unit part): the HA BA arriving on-wire at the CoA (no RH2) makes the home registration effective', () => {
    const s = setup();
    s.away();
    const seq = lastSeq(s, HA);
    s.ev(rx(ba(seq, 0, 3600), { src: HA, dst: HOA, onWireDst: COA1 }), 200);
    assert.equal(s.entry(HA).state, 'effective');
    assert.equal(s.entry(HA).coa, COA1);
  });

  test('G02: the outgoing data rule state is bu-sent in the very step that emits the BU, before any BA', () => {
    const s = setup();
    const out = s.away();
    const i = out.findIndex((a) => a.type === 'send' && a.dst === CN);
    const changed = mnChanges(out);
    assert.equal(changed.length, 1);
    assert.ok(i >= 0 && out.indexOf(changed[0]!) > i, 'binding-changed comes after the BU');
    const cn = changed[0]!.bindings.find((b) => b.peer === CN)!;
    assert.deepEqual(cn, { peer: CN, home: false, coa: COA1, state: 'bu-sent', deregistering: false });
    assert.equal(changed[0]!.coa, COA1);
  });

  test('a correspondent registration waits for the MH SA pair (peer-mh-sa)', () => {
    const s = setup();
    const out = s.ev({ type: 'movement', coa: COA1, atHome: false }, 0);
    assert.deepEqual(
      sends(out).map((a) => a.dst),
      [HA],
    );
    assert.equal(s.entry(CN).state, 'none');
    const later = s.ev({ type: 'peer-mh-sa', peer: CN, present: true }, 500);
    assert.deepEqual(
      sends(later).map((a) => a.dst),
      [CN],
    );
    assert.equal(s.entry(CN).state, 'bu-sent');
    const gone = s.ev({ type: 'peer-mh-sa', peer: CN, present: false }, 600);
    assert.equal(s.entry(CN).state, 'none');
    assert.equal(mnChanges(gone).length, 1);
    s.to(60_000);
    assert.equal(s.sendTimes(CN, 'bu').length, 1, 'no retransmission without the SA');
  });

  test('G03: an AOTC to on-wire X is answered in the same step by an AOTR with the identical nonce from on-wire source X', () => {
    const s = setup();
    s.away();
    const out = s.ev(rx(aotc(), { src: CN, dst: HOA, onWireDst: COA1 }), 50);
    const r = sends(out, 'aotr');
    assert.equal(r.length, 1);
    assert.equal(r[0]!.src, HOA);
    assert.equal(r[0]!.dst, CN);
    assert.equal(r[0]!.onWireSrc, COA1);
    assert.ok(r[0]!.msg.kind === 'aotr' && r[0]!.msg.nonce.equals(NONCE));
  });

  test('G05: BA status 0 makes the entry effective and stops the retransmissions', () => {
    const s = setup();
    s.away();
    s.to(1500); // one retransmission
    const seq = lastSeq(s, CN);
    s.ev(rx(ba(seq), { src: CN, dst: HOA, onWireDst: COA1 }), 1600);
    assert.equal(s.entry(CN).state, 'effective');
    const before = s.sendTimes(CN, 'bu').length;
    s.to(600_000);
    assert.equal(s.sendTimes(CN, 'bu').length, before, 'no BU until the refresh (80 % of 1800 s)');
  });

  test('G05: a BA from an earlier BU of the same attempt is accepted (every retransmission has its own sequence number)', () => {
    const s = setup();
    s.away();
    s.to(1500);
    const first = s.sendTimes(CN, 'bu')[0]!.send.msg;
    assert.ok(first.kind === 'bu');
    assert.notEqual(first.sequence, lastSeq(s, CN));
    s.ev(rx(ba(first.sequence), { src: CN, dst: HOA, onWireDst: COA1 }), 1600);
    assert.equal(s.entry(CN).state, 'effective');
  });

  test('G05: status >= 128 leaves the binding non-effective, is logged with its status text, and stops retransmission', () => {
    const s = setup({ rejectRetryMs: 0 });
    s.away();
    const seq = lastSeq(s, CN);
    const out = s.ev(rx(ba(seq, 129), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    assert.equal(s.entry(CN).state, 'none');
    assert.ok(counters(out).includes('mn-ba-rejected'));
    const warn = logs(out, 'warn');
    assert.equal(warn.length, 1);
    assert.match(warn[0]!.msg, /Administratively prohibited/);
    assert.equal(warn[0]!.fields.status, 129);
    s.to(120_000);
    assert.equal(s.sendTimes(CN, 'bu').length, 1);
  });

  test('a rejected registration is retried after rejectRetryMs', () => {
    const s = setup({ rejectRetryMs: 10_000 });
    s.away();
    s.ev(rx(ba(lastSeq(s, CN), 130), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    s.to(10_099);
    assert.equal(s.sendTimes(CN, 'bu').length, 1);
    s.to(10_100);
    assert.equal(s.sendTimes(CN, 'bu').length, 2);
    assert.equal(s.entry(CN).state, 'bu-sent');
  });

  test('stale BAs (unknown sequence number) are ignored and counted', () => {
    const s = setup();
    s.away();
    const out = s.ev(rx(ba(4242), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    assert.deepEqual(counters(out), ['mn-ba-stale']);
    assert.equal(s.entry(CN).state, 'bu-sent');
  });

  test('BA 135 (sequence number out of window): resynchronise on the peer last accepted number and send a new BU above it', () => {
    const s = setup();
    s.away();
    const out = s.ev(rx(ba(5000, 135, 0), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    const b = sends(out, 'bu');
    assert.equal(b.length, 1);
    assert.ok(b[0]!.msg.kind === 'bu' && b[0]!.msg.sequence === 5001);
    s.ev(rx(ba(5001), { src: CN, dst: HOA, onWireDst: COA1 }), 200);
    assert.equal(s.entry(CN).state, 'effective');
  });

  test('unprotected MH and MH from strangers are dropped and counted', () => {
    const s = setup();
    s.away();
    const seq = lastSeq(s, CN);
    assert.deepEqual(counters(s.ev(rx(ba(seq), { src: CN, dst: HOA, onWireDst: COA1, sa: null }), 100)), ['mn-unprotected']);
    assert.deepEqual(counters(s.ev(rx(ba(seq), { src: '2001:db8:99::1', dst: HOA }), 100)), ['mn-unknown-peer']);
    assert.equal(s.entry(CN).state, 'bu-sent');
  });
});

describe('MN retransmission (fake clock)', () => {
  test('G06: with no BA and no AOTC, CN BUs go out at 1, 2, 4, 8, 16, 32, 32 s intervals, each with a new sequence number', () => {
    const s = setup();
    s.away();
    s.to(95_000);
    const times = s.sendTimes(CN, 'bu');
    const at = times.map((x) => x.at);
    assert.deepEqual(at, [0, 1000, 3000, 7000, 15000, 31000, 63000, 95000]);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    assert.deepEqual(gaps, [1000, 2000, 4000, 8000, 16000, 32000, 32000]);
    const seqs = times.map((x) => (x.send.msg.kind === 'bu' ? x.send.msg.sequence : -1));
    assert.deepEqual(seqs, [100, 101, 102, 103, 104, 105, 106, 107]);
  });

  test('K08/OP-7: a correspondent BU takes the rule\'s way first, its retransmissions go to the peer\'s home address; home BUs always the rule\'s way', () => {
    const s = setup();
    s.away();
    s.to(7_000);
    const cn = s.sendTimes(CN, 'bu').map((x) => x.send.onWireDst ?? null);
    assert.deepEqual(cn, [null, CN, CN, CN]);
    assert.ok(s.sendTimes(HA, 'bu').every((x) => x.send.onWireDst === undefined), 'home BUs carry no on-wire destination');
  });

  test('K08/OP-7: the AOTR (and its repeats) goes back to where the AOTC came from when that is not the peer\'s address (a mobile peer\'s new CoA)', () => {
    const s = setup();
    s.away();
    const peerCoa = '2001:db8:77::5';
    s.ev(rx(aotc(), { src: CN, dst: HOA, onWireDst: COA1, onWireSrc: peerCoa }), 100);
    s.to(2_000);
    const aotrs = s.sendTimes(CN, 'aotr').map((x) => [x.send.onWireSrc, x.send.onWireDst]);
    assert.ok(aotrs.length >= 2, 'the AOTR was repeated');
    for (const a of aotrs) assert.deepEqual(a, [COA1, peerCoa]);
  });

  test('G06: a first home registration starts at InitialBindackTimeoutFirstReg (1.5 s), then doubles to 32 s', () => {
    const s = setup();
    s.away();
    s.to(80_000);
    const at = s.sendTimes(HA, 'bu').map((x) => x.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    assert.deepEqual(gaps, [1500, 3000, 6000, 12000, 24000, 32000]);
  });

  test('G06: a home re-registration (after a BA) starts at INITIAL_BINDACK_TIMEOUT (1 s)', () => {
    const s = setup();
    s.away();
    s.ev(rx(ba(lastSeq(s, HA), 0, 3600), { src: HA, dst: HOA, onWireDst: COA1 }), 100);
    s.ev({ type: 'movement', coa: COA2, atHome: false }, 10_000);
    s.to(20_000);
    const at = s.sendTimes(HA, 'bu', 10_000).map((x) => x.at);
    assert.deepEqual(at, [10_000, 11_000, 13_000, 17_000]);
  });

  test('G07: after an AOTR and no BA, the AOTR is repeated with the same nonce (1, 2, 4, 8 s: 5 tries), then a new BU with a higher sequence number', () => {
    const s = setup();
    s.away();
    const buSeq = lastSeq(s, CN);
    s.ev(rx(aotc(), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    s.to(31_099);
    const aotrs = s.sendTimes(CN, 'aotr');
    assert.deepEqual(
      aotrs.map((x) => x.at),
      [100, 1100, 3100, 7100, 15100],
    );
    for (const x of aotrs) {
      assert.ok(x.send.msg.kind === 'aotr' && x.send.msg.nonce.equals(NONCE));
      assert.equal(x.send.onWireSrc, COA1);
    }
    assert.equal(s.sendTimes(CN, 'bu').length, 1, 'no BU while the AOTRs are repeated');
    s.to(31_100);
    const bus = s.sendTimes(CN, 'bu');
    assert.equal(bus.length, 2);
    assert.equal(bus[1]!.at, 31_100);
    assert.ok(bus[1]!.send.msg.kind === 'bu' && bus[1]!.send.msg.sequence > buSeq);
  });

  test('a BA after the AOTR stops the AOTR repetition', () => {
    const s = setup();
    s.away();
    s.ev(rx(aotc(), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 150);
    s.to(60_000);
    assert.equal(s.sendTimes(CN, 'aotr').length, 1);
    assert.equal(s.entry(CN).state, 'effective');
  });

  test('MAX_UPDATE_RATE: a fourth BU to one peer within a second is held back, then sent', () => {
    const s = setup();
    s.away(COA1, 0);
    s.ev({ type: 'movement', coa: COA2, atHome: false }, 100);
    s.ev({ type: 'movement', coa: COA1, atHome: false }, 200);
    const out = s.ev({ type: 'movement', coa: COA2, atHome: false }, 300);
    assert.ok(counters(out).includes('mn-bu-rate-limited'));
    assert.equal(sends(out, 'bu').length, 0);
    s.to(1000);
    const last = s.sendTimes(CN, 'bu').at(-1)!;
    assert.equal(last.at, 1000);
    assert.equal(altCoaOf(last.send.msg), COA2);
  });
});

describe('MN binding lifetime', () => {
  test('OP-22: refresh at 80 % of the granted lifetime; the state stays effective during the refresh', () => {
    const s = setup();
    s.away();
    s.ev(rx(ba(lastSeq(s, CN), 0, 100), { src: CN, dst: HOA, onWireDst: COA1 }), 0);
    s.to(79_999);
    assert.equal(s.sendTimes(CN, 'bu').length, 1);
    s.to(80_000);
    const b = s.sendTimes(CN, 'bu');
    assert.equal(b.length, 2);
    assert.equal(altCoaOf(b[1]!.send.msg), COA1);
    assert.equal(s.entry(CN).state, 'effective');
  });

  test('a Binding Refresh Advice shorter than 80 % of the lifetime sets the refresh', () => {
    const s = setup();
    s.away();
    const ack = ba(lastSeq(s, HA), 0, 3600);
    ack.options = [{ kind: 'bindingRefreshAdvice', refreshInterval: 600 }];
    s.ev(rx(ack, { src: HA, dst: HOA, onWireDst: COA1 }), 0);
    s.to(600_000);
    assert.equal(s.sendTimes(HA, 'bu').at(-1)!.at, 600_000);
  });

  test('an unanswered refresh lets the binding expire: state none at the end of the lifetime', () => {
    const s = setup();
    s.away();
    s.ev(rx(ba(lastSeq(s, CN), 0, 100), { src: CN, dst: HOA, onWireDst: COA1 }), 0);
    s.to(99_999);
    assert.equal(s.entry(CN).state, 'effective');
    s.to(100_000);
    assert.equal(s.entry(CN).state, 'none');
  });

  test('an expired binding whose refresh never left (no MH SA then) registers again at expiry', () => {
    const s = setup();
    s.away();
    s.ev(rx(ba(lastSeq(s, CN), 0, 100), { src: CN, dst: HOA, onWireDst: COA1 }), 0);
    s.ev({ type: 'peer-mh-sa', peer: CN, present: false }, 70_000);
    s.to(80_000);
    assert.equal(s.sendTimes(CN, 'bu').length, 1, 'no refresh without the SA');
    s.ev({ type: 'peer-mh-sa', peer: CN, present: true }, 90_000);
    assert.equal(s.sendTimes(CN, 'bu').length, 1, 'still effective: nothing to do yet');
    s.to(100_000);
    assert.equal(s.sendTimes(CN, 'bu').length, 2);
    assert.equal(s.entry(CN).state, 'bu-sent');
  });

  test('BRR: an effective binding is refreshed at once; a BRR that cannot be answered is counted', () => {
    const s = setup();
    s.away();
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 0);
    const out = s.ev(rx({ kind: 'brr', options: [] }, { src: CN, dst: HOA, onWireDst: COA1 }), 5000);
    const b = sends(out, 'bu').filter((a) => a.dst === CN);
    assert.equal(b.length, 1);
    assert.equal(altCoaOf(b[0]!.msg), COA1);
    assert.deepEqual(counters(s.ev(rx({ kind: 'brr', options: [] }, { src: HA, dst: HOA }), 6000)), []);
    s.ev({ type: 'peer-mh-sa', peer: CN, present: false }, 7000);
    const ignored = s.ev(rx({ kind: 'brr', options: [] }, { src: CN, dst: HOA, onWireDst: COA1 }), 7100);
    assert.deepEqual(counters(ignored), ['mn-brr-ignored']);
  });

  test('K09 support: a CN that answers nothing drops back to none (HA tunnel) after unansweredFallbackMs while BUs go on; an AOTC brings bu-sent back', () => {
    const s = setup({ unansweredFallbackMs: 3000 });
    s.away();
    s.to(2999);
    assert.equal(s.entry(CN).state, 'bu-sent');
    s.to(3000);
    assert.equal(s.entry(CN).state, 'none');
    s.to(7000);
    assert.equal(s.sendTimes(CN, 'bu').length, 4, 'BUs continue');
    s.ev(rx(aotc(), { src: CN, dst: HOA, onWireDst: COA1 }), 7100);
    assert.equal(s.entry(CN).state, 'bu-sent');
    assert.equal(s.entry(CN).coa, COA1);
  });

  test('BE status 2 from the CN: it does not run IRO; registration stops, state none', () => {
    const s = setup({ rejectRetryMs: 0 });
    s.away();
    const out = s.ev(rx({ kind: 'be', status: 2, homeAddress: Buffer.alloc(16), options: [] }, { src: CN, dst: HOA }), 100);
    assert.ok(counters(out).includes('mn-be-received'));
    assert.equal(logs(out, 'warn').length, 1);
    assert.equal(s.entry(CN).state, 'none');
    s.to(60_000);
    assert.equal(s.sendTimes(CN, 'bu').length, 1);
  });
});

describe('MN address tests', () => {
  test('G10: an AOTC sent to the HoA (HoA test) is answered by an AOTR from the HoA, with no on-wire source', () => {
    const s = setup();
    s.away();
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    const out = s.ev(rx(aotc(), { src: CN, dst: HOA, onWireDst: '::' }), 200);
    const r = sends(out, 'aotr');
    assert.equal(r.length, 1);
    assert.equal(r[0]!.src, HOA);
    assert.equal(r[0]!.onWireSrc, undefined);
    assert.ok(r[0]!.msg.kind === 'aotr' && r[0]!.msg.nonce.equals(NONCE));
  });

  test('an AOTC for an address the MN does not own is not answered', () => {
    const s = setup();
    s.away();
    const out = s.ev(rx(aotc(), { src: CN, dst: HOA, onWireDst: COA2 }), 100);
    assert.equal(sends(out).length, 0);
    assert.deepEqual(counters(out), ['mn-aotc-not-our-address']);
  });

  test('I03 (MN side): AOT* messages from the HA are ignored', () => {
    const s = setup();
    s.away();
    const out = s.ev(rx(aotc(), { src: HA, dst: HOA, onWireDst: COA1 }), 100);
    assert.equal(sends(out).length, 0);
    assert.deepEqual(counters(out), ['mn-aot-from-ha']);
  });

  test('G08: no AOTO before the CN registration is effective, even with candidates; the first AOTO follows the BA', () => {
    const s = setup({ earlyTests: true });
    s.ev({ type: 'peer-mh-sa', peer: CN, present: true }, 0);
    const out = s.ev({ type: 'movement', coa: COA1, atHome: false, candidates: [CAND] }, 0);
    assert.equal(sends(out, 'aoto').length, 0);
    s.to(10_000);
    assert.equal(s.sendTimes(CN, 'aoto').length, 0);
    const acked = s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 10_100);
    const o = sends(acked, 'aoto');
    assert.equal(o.length, 1);
    assert.equal(o[0]!.src, HOA);
    assert.equal(o[0]!.onWireSrc, CAND);
  });

  test('G08: a move cancels early tests; no AOTO while the new registration is pending; AOTOs stop after 3 tries', () => {
    const s = setup({ earlyTests: true });
    s.ev({ type: 'peer-mh-sa', peer: CN, present: true }, 0);
    s.ev({ type: 'movement', coa: COA1, atHome: false, candidates: [CAND] }, 0);
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    s.to(2000);
    assert.equal(s.sendTimes(CN, 'aoto').length, 2);
    s.ev({ type: 'movement', coa: COA2, atHome: false, candidates: [CAND] }, 2000);
    s.to(30_000);
    assert.equal(s.sendTimes(CN, 'aoto').length, 2, 'nothing while the binding for COA2 is not effective');
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA2 }), 30_000);
    s.to(60_000);
    const after = s.sendTimes(CN, 'aoto', 30_000);
    assert.deepEqual(
      after.map((x) => x.at),
      [30_000, 31_000, 33_000],
    );
    // Invariant over the whole run: every AOTO was sent while the CN entry was effective.
    for (const x of s.timeline.filter((t) => t.action.type === 'send' && t.action.msg.kind === 'aoto')) {
      assert.ok(x.at >= 100 && (x.at < 2000 || x.at >= 30_000), `AOTO at ${x.at}`);
    }
  });

  test('G08: a binding that expires stops the AOTO retransmissions at once', () => {
    const s = setup({ earlyTests: true, aotoMaxTries: 10 });
    s.ev({ type: 'peer-mh-sa', peer: CN, present: true }, 0);
    s.ev({ type: 'movement', coa: COA1, atHome: false, candidates: [CAND] }, 0);
    s.ev(rx(ba(lastSeq(s, CN), 0, 4), { src: CN, dst: HOA, onWireDst: COA1 }), 0);
    s.to(60_000);
    assert.equal(s.entry(CN).state, 'none');
    assert.deepEqual(
      s.sendTimes(CN, 'aoto').map((x) => x.at),
      [0, 1000, 3000],
      'the refresh at 3.2 s went unanswered; the binding expired at 4 s',
    );
  });

  test('G09: early test AOTO -> AOTS code 1 ends the test', () => {
    const s = setup({ earlyTests: true });
    s.ev({ type: 'peer-mh-sa', peer: CN, present: true }, 0);
    s.ev({ type: 'movement', coa: COA1, atHome: false, candidates: [CAND] }, 0);
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    s.ev(rx({ kind: 'aots', code: 1 }, { src: CN, dst: HOA, onWireDst: CAND }), 150);
    s.to(60_000);
    assert.equal(s.sendTimes(CN, 'aoto').length, 1);
    const st = s.m.status(60_000).entries.find((e) => e.peer === CN)!;
    assert.deepEqual(st.earlyTests, [{ candidate: CAND, phase: 'proved' }]);
  });

  test('G09: early test AOTO -> AOTC -> AOTR from the candidate, repeated until the AOTS', () => {
    const s = setup({ earlyTests: true });
    s.ev({ type: 'peer-mh-sa', peer: CN, present: true }, 0);
    s.ev({ type: 'movement', coa: COA1, atHome: false, candidates: [CAND] }, 0);
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    const out = s.ev(rx(aotc(), { src: CN, dst: HOA, onWireDst: CAND }), 150);
    const r = sends(out, 'aotr');
    assert.equal(r.length, 1);
    assert.equal(r[0]!.onWireSrc, CAND);
    s.to(1150);
    assert.equal(s.sendTimes(CN, 'aotr').length, 2, 'AOTR repeated while no AOTS');
    assert.equal(s.sendTimes(CN, 'aoto').length, 1, 'no AOTO once the AOTC came');
    s.ev(rx({ kind: 'aots', code: 1 }, { src: CN, dst: HOA, onWireDst: CAND }), 1200);
    s.to(60_000);
    assert.equal(s.sendTimes(CN, 'aotr').length, 2);
  });

  test('G09: AOTS code 0 (AOTO not allowed) stops every early test with that CN', () => {
    const s = setup({ earlyTests: true });
    s.ev({ type: 'peer-mh-sa', peer: CN, present: true }, 0);
    s.ev({ type: 'movement', coa: COA1, atHome: false, candidates: [CAND, COA2] }, 0);
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    assert.equal(s.sendTimes(CN, 'aoto').length, 2);
    s.ev(rx({ kind: 'aots', code: 0 }, { src: CN, dst: HOA, onWireDst: CAND }), 150);
    s.to(60_000);
    assert.equal(s.sendTimes(CN, 'aoto').length, 2);
  });

  test('OP-45: an AOTS with an unknown code is logged and ignored', () => {
    const s = setup({ earlyTests: true });
    s.away();
    const out = s.ev(rx({ kind: 'aots', code: 7 }, { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    assert.deepEqual(counters(out), ['mn-aots-unknown-code']);
  });
});

describe('MN movement and deregistration', () => {
  test('G14: a move yields one binding-changed with every entry on the new CoA, HA BU first', () => {
    const s = setup();
    s.away();
    s.ev(rx(ba(lastSeq(s, HA), 0, 3600), { src: HA, dst: HOA, onWireDst: COA1 }), 100);
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    const out = s.ev({ type: 'movement', coa: COA2, atHome: false }, 5000);
    const c = mnChanges(out);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.coa, COA2);
    assert.deepEqual(
      c[0]!.bindings.map((b) => [b.peer, b.coa, b.state]),
      [
        [HA, COA2, 'bu-sent'],
        [CN, COA2, 'bu-sent'],
      ],
    );
    assert.deepEqual(
      sends(out, 'bu').map((a) => [a.dst, a.onWireSrc]),
      [
        [HA, COA2],
        [CN, COA2],
      ],
    );
  });

  test('G13: shutdown sends lifetime-0 BUs to every peer and the HA; rules stay (deregistering) until the BA or the timeout', () => {
    const s = setup({ deregTimeoutMs: 5000 });
    s.away();
    s.ev(rx(ba(lastSeq(s, HA), 0, 3600), { src: HA, dst: HOA, onWireDst: COA1 }), 100);
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    const out = s.ev({ type: 'shutdown' }, 1000);
    const b = sends(out, 'bu');
    assert.deepEqual(
      b.map((a) => [a.dst, a.msg.kind === 'bu' && a.msg.lifetime, a.onWireSrc]),
      [
        [HA, 0, COA1],
        [CN, 0, COA1],
      ],
    );
    assert.equal(s.m.busy, true);
    assert.deepEqual(
      mnChanges(out)[0]!.bindings.map((x) => [x.peer, x.state, x.coa, x.deregistering]),
      [
        [HA, 'effective', COA1, true],
        [CN, 'effective', COA1, true],
      ],
    );
    s.ev(rx(ba(lastSeq(s, HA), 0, 0), { src: HA, dst: HOA, onWireDst: COA1 }), 1100);
    assert.deepEqual([s.entry(HA).state, s.entry(HA).deregistering], ['none', false]);
    assert.equal(s.entry(CN).deregistering, true);
    s.to(5999);
    assert.equal(s.entry(CN).deregistering, true);
    s.to(6000);
    assert.deepEqual([s.entry(CN).state, s.entry(CN).deregistering, s.entry(CN).coa], ['none', false, null]);
    assert.equal(s.m.busy, false);
    // After shutdown nothing registers again.
    s.ev({ type: 'movement', coa: COA2, atHome: false }, 7000);
    s.to(100_000);
    assert.equal(s.sendTimes(CN, 'bu', 6001).length, 0);
  });

  test('G13: returning home deregisters from the home link: BUs from the HoA without on-wire source or AltCoA; rules for the old CoA go at once', () => {
    const s = setup();
    s.away();
    s.ev(rx(ba(lastSeq(s, HA), 0, 3600), { src: HA, dst: HOA, onWireDst: COA1 }), 100);
    s.ev(rx(ba(lastSeq(s, CN)), { src: CN, dst: HOA, onWireDst: COA1 }), 100);
    const out = s.ev({ type: 'movement', coa: null, atHome: true }, 1000);
    const b = sends(out, 'bu');
    assert.equal(b.length, 2);
    for (const a of b) {
      assert.equal(a.src, HOA);
      assert.equal(a.onWireSrc, undefined);
      assert.equal(altCoaOf(a.msg), undefined);
      assert.ok(a.msg.kind === 'bu' && a.msg.lifetime === 0 && a.msg.ack);
    }
    assert.ok(b[0]!.msg.kind === 'bu' && b[0]!.msg.home);
    const c = mnChanges(out)[0]!;
    assert.equal(c.atHome, true);
    assert.equal(c.coa, null);
    assert.ok(c.bindings.every((x) => x.coa === null && x.state === 'none' && x.deregistering));
    s.ev(rx(ba(lastSeq(s, CN), 0, 0), { src: CN, dst: HOA }), 1100);
    assert.equal(s.entry(CN).deregistering, false);
  });

  test('starting on the home link sends a home deregistration (a stale binding may exist at the HA); correspondents are left alone', () => {
    const s = setup();
    s.ev({ type: 'peer-mh-sa', peer: CN, present: true }, 0);
    const out = s.ev({ type: 'movement', coa: null, atHome: true }, 0);
    assert.deepEqual(
      sends(out, 'bu').map((a) => a.dst),
      [HA],
    );
  });

  test('losing every CoA pauses registrations (state none, no retransmissions)', () => {
    const s = setup();
    s.away();
    s.ev({ type: 'movement', coa: null, atHome: false }, 500);
    assert.ok(s.m.bindingsAction().bindings.every((b) => b.state === 'none'));
    s.to(60_000);
    assert.equal(s.sendTimes(CN, 'bu').length, 1);
  });

  test('an unchanged CoA is not re-registered', () => {
    const s = setup();
    s.away();
    const out = s.ev({ type: 'movement', coa: COA1, atHome: false }, 500);
    assert.equal(sends(out).length, 0);
  });
});

describe('MN configuration', () => {
  test('G15: one peer configured both as iro and classic route optimisation is a configuration error', () => {
    assert.throws(
      () => new MobileNode({ hoa: HOA, ha: HA, peers: [CN, { address: CN, mode: 'classic-ro' }] }),
      /both as iro and classic-ro/,
    );
    assert.throws(() => new MobileNode({ hoa: HOA, ha: HA, peers: [{ address: CN, mode: 'classic-ro' }] }), /not supported/);
    assert.throws(() => new MobileNode({ hoa: HOA, ha: HA, peers: [CN, '2001:DB8:2::1'] }), /more than once/);
    assert.throws(() => new MobileNode({ hoa: HOA, ha: HA, peers: [HA] }), /home agent/);
    assert.throws(() => new MobileNode({ hoa: HOA, ha: HA, cnLifetime: 300_000 }), /cnLifetime/);
    assert.throws(() => new MobileNode({ hoa: 'nope', ha: HA }), /hoa: not an IPv6 address/);
  });

  test('tunnel-only peers are never registered with; addresses are canonicalised', () => {
    const m = new MobileNode({ hoa: '2001:DB8:1:0::100', ha: HA, peers: [{ address: CN, mode: 'tunnel-only' }] });
    assert.equal(m.hoa, HOA);
    assert.deepEqual(
      m.bindingsAction().bindings.map((b) => b.peer),
      [HA],
    );
  });

  test('the BU lifetimes are whole 4-second units', () => {
    const m = new MobileNode({ hoa: HOA, ha: HA, homeLifetime: 1001, cnLifetime: 7 });
    assert.equal(m.config.homeLifetime, 1000);
    assert.equal(m.config.cnLifetime, 4);
    assert.equal(findOption([], 'alternateCoa'), undefined);
  });
});
